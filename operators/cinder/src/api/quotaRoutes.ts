/** /v3/os-quota-sets and /v3/limits: the tenant's block storage limits and what it uses, from its Tenant. */
import { TENANTS, type Tenant } from '@stratus/keystone';
import { BLOCK_QUOTAS, limitsOf, perVolumeLimitOf, type BlockUsage } from '../quota.js';
import { usageOf } from '../volumes.js';
import { API_FIELD_MANAGER, fromKubernetes, on, type VolApi, type VolAuth, type VolRouter } from './context.js';
import { badRequest, forbidden, notFound } from './errors.js';

const quotaOfTenant = (t: Tenant | undefined) => (t?.spec as { quota?: Record<string, number> } | undefined)?.quota;

export function quotaRoutes(router: VolRouter, api: VolApi): void {
  const tenantOf = (auth: VolAuth, projectId: string): Tenant => {
    if (!auth.admin && projectId !== auth.projectId) throw forbidden(`Policy doesn't allow volume_extension:quotas:show to be performed.`);
    const t = api.dir.tenantByProjectId(projectId);
    if (!t) throw notFound(`Project ${projectId} could not be found.`);
    return t;
  };
  const quotaSet = async (t: Tenant, projectId: string, usage: boolean) => {
    const limits = limitsOf(quotaOfTenant(t));
    const used: BlockUsage | undefined = usage ? await usageOf(api.client, t.metadata.name) : undefined;
    const entry = (k: keyof BlockUsage) => (used ? { limit: limits[k], in_use: used[k], reserved: 0, allocated: 0 } : limits[k]);
    return {
      id: projectId,
      ...Object.fromEntries(BLOCK_QUOTAS.map(([k, name]) => [name, entry(k)])),
      per_volume_gigabytes: used ? { limit: perVolumeLimitOf(quotaOfTenant(t)), in_use: 0, reserved: 0, allocated: 0 } : perVolumeLimitOf(quotaOfTenant(t)),
      groups: used ? { limit: -1, in_use: 0, reserved: 0, allocated: 0 } : -1,
    };
  };
  on(router, 'GET', '/os-quota-sets/:tenant', async (req) => {
    const t = tenantOf(req.auth, req.params.tenant);
    return { status: 200, body: { quota_set: await quotaSet(t, req.params.tenant, req.query.get('usage') === 'true' || req.query.get('usage') === 'True') } };
  });
  on(router, 'GET', '/os-quota-sets/:tenant/defaults', (req) => ({
    status: 200,
    body: { quota_set: { id: req.params.tenant, ...Object.fromEntries(BLOCK_QUOTAS.map(([, name]) => [name, -1])), per_volume_gigabytes: -1, groups: -1 } },
  }));
  on(router, 'PUT', '/os-quota-sets/:tenant', async (req) => {
    if (!req.auth.admin) throw forbidden(`Policy doesn't allow volume_extension:quotas:update to be performed.`);
    const t = tenantOf(req.auth, req.params.tenant);
    const asked = (req.body as { quota_set?: Record<string, unknown> } | undefined)?.quota_set;
    if (!asked || typeof asked !== 'object') throw badRequest("Missing required element 'quota_set' in request body.");
    const quota: Record<string, number | null> = {};
    for (const [k, v] of Object.entries(asked)) {
      const field = k === 'per_volume_gigabytes' ? 'perVolumeGigabytes' : BLOCK_QUOTAS.find(([, name]) => name === k)?.[0];
      if (!field) {
        if (['tenant_id', 'id', 'groups'].includes(k) || k.includes('_')) continue;
        throw badRequest(`Bad key(s) in quota set: ${k}`);
      }
      const n = Number(v);
      if (!Number.isInteger(n) || n < -1) throw badRequest(`Invalid input received: Quota limit ${String(v)} for ${k} must be an integer of -1 or more.`);
      quota[field] = n === -1 ? null : n;
    }
    await api.client.patch(TENANTS, undefined, t.metadata.name, { spec: { quota } }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, `Project ${req.params.tenant}`));
    const fresh = await api.client.get<Tenant>(TENANTS, undefined, t.metadata.name);
    return { status: 200, body: { quota_set: await quotaSet(fresh ?? t, req.params.tenant, false) } };
  });
  on(router, 'DELETE', '/os-quota-sets/:tenant', async (req) => {
    if (!req.auth.admin) throw forbidden(`Policy doesn't allow volume_extension:quotas:delete to be performed.`);
    const t = tenantOf(req.auth, req.params.tenant);
    await api.client.patch(TENANTS, undefined, t.metadata.name, { spec: { quota: { ...Object.fromEntries(BLOCK_QUOTAS.map(([k]) => [k, null])), perVolumeGigabytes: null } } }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, `Project ${req.params.tenant}`));
    return { status: 200 };
  });
  on(router, 'GET', '/limits', async (req) => {
    const ns = req.auth.tenant;
    const t = ns ? api.dir.tenant(ns) : undefined;
    const limits = limitsOf(quotaOfTenant(t));
    const used = ns ? await usageOf(api.client, ns) : { volumes: 0, gigabytes: 0, snapshots: 0, backups: 0, backupGigabytes: 0 };
    return {
      status: 200,
      body: {
        limits: {
          rate: [],
          absolute: {
            maxTotalVolumes: limits.volumes,
            maxTotalSnapshots: limits.snapshots,
            maxTotalVolumeGigabytes: limits.gigabytes,
            maxTotalBackups: limits.backups,
            maxTotalBackupGigabytes: limits.backupGigabytes,
            totalVolumesUsed: used.volumes,
            totalGigabytesUsed: used.gigabytes,
            totalSnapshotsUsed: used.snapshots,
            totalBackupsUsed: used.backups,
            totalBackupGigabytesUsed: used.backupGigabytes,
          },
        },
      },
    };
  });
}
