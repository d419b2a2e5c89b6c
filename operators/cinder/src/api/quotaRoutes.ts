/**
 * /v3/os-quota-sets, /v3/os-quota-class-sets and /v3/limits: a tenant's block storage limits and what it uses.
 * A tenant's own limits are its Tenant's spec.quota; where it sets none, the default quota class's (the
 * block-storage-default-quotas ConfigMap); absent from both is unlimited (-1). Cinder names a volume type's own
 * limits volumes_<type name> (and gigabytes_, snapshots_): kept by the type's object name, so a rename keeps them.
 */
import { CONFIGMAPS, TENANTS, type Tenant } from '@stratus/keystone';
import { MERGE_PATCH, defaultQuotasOf, defaultQuotasWrite, displayNameOf, releaseNamespace } from '@stratus/runtime';
import { BLOCK_QUOTAS, DEFAULT_QUOTAS_CONFIGMAP, NO_USAGE, TYPE_QUOTAS, limitsOf, perVolumeLimitOf, typeQuotaKey, type BlockUsage, type TypedUsage } from '../quota.js';
import type { VolumeType } from '../resources.js';
import { defaultQuotas, quotaOf, tenantLimits, usageOf } from '../volumes.js';
import { API_FIELD_MANAGER, fromKubernetes, on, type VolApi, type VolAuth, type VolRouter } from './context.js';
import { badRequest, forbidden, notFound } from './errors.js';
import { mayUse } from './typeRoutes.js';

/** Cinder's quota keys, each beside the flat key its limit is kept under: the fixed ones, then each type's own. */
export function quotaKeys(types: VolumeType[]): Array<[string, string]> {
  return [
    ...BLOCK_QUOTAS.map(([field, name]): [string, string] => [name, field]),
    ['per_volume_gigabytes', 'perVolumeGigabytes'],
    ...types.flatMap((t) => TYPE_QUOTAS.map((q): [string, string] => [`${q}_${displayNameOf(t)}`, typeQuotaKey(q, t.metadata.name)])),
  ];
}

/**
 * A quota_set or quota_class_set body as the flat limits it sets (null: back to the default, Cinder's -1 on a
 * tenant, or unlimited on the class). 400 naming the keys Cinder does not know, or the value it refuses. Pure.
 */
export function quotaChange(body: unknown, element: string, types: VolumeType[]): Record<string, number | null> {
  const asked = (body as Record<string, unknown> | undefined)?.[element];
  if (!asked || typeof asked !== 'object' || Array.isArray(asked)) throw badRequest(`Missing required element '${element}' in request body.`);
  const keys = new Map(quotaKeys(types));
  const bad = Object.keys(asked).filter((k) => !keys.has(k) && !['tenant_id', 'id'].includes(k));
  if (bad.length) throw badRequest(`Bad key(s) in quota set: ${bad.join(',')}`);
  const change: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(asked)) {
    const flat = keys.get(k);
    if (!flat) continue;
    const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < -1) throw badRequest(`Invalid input received: Quota limit ${String(v)} for ${k} must be an integer of -1 or more.`);
    change[flat] = n === -1 ? null : n;
  }
  return change;
}

/** The Tenant spec.quota patch that sets a flat change: each type's own limits under volumeTypes. Pure. */
export function tenantQuotaPatch(change: Record<string, number | null>): Record<string, unknown> {
  const quota: Record<string, unknown> = {};
  const types: Record<string, Record<string, number | null>> = {};
  for (const [k, v] of Object.entries(change)) {
    const dot = k.indexOf('.');
    if (dot < 0) quota[k] = v;
    else (types[k.slice(dot + 1)] ??= {})[k.slice(0, dot)] = v;
  }
  return Object.keys(types).length ? { ...quota, volumeTypes: types } : quota;
}

export function quotaRoutes(router: VolRouter, api: VolApi): void {
  const tenantOf = (auth: VolAuth, projectId: string): Tenant => {
    if (!auth.admin && projectId !== auth.projectId) throw forbidden(`Policy doesn't allow volume_extension:quotas:show to be performed.`);
    const t = api.dir.tenantByProjectId(projectId);
    if (!t) throw notFound(`Project ${projectId} could not be found.`);
    return t;
  };
  const typesFor = (auth: VolAuth) => api.dir.types.list().filter((t) => mayUse(t, auth));
  /** Limits (and with `used`, what is used) under Cinder's keys. */
  const shown = (limits: Record<string, number> | undefined, types: VolumeType[], used?: TypedUsage) => {
    const fixed = limitsOf(limits);
    const usedOf = (flat: string) => (flat in fixed ? used![flat as keyof BlockUsage] : (used!.byType?.[flat] ?? 0));
    const entry = (flat: string, limit: number) => (used ? { limit, in_use: flat === 'perVolumeGigabytes' ? 0 : usedOf(flat), reserved: 0, allocated: 0 } : limit);
    return Object.fromEntries(quotaKeys(types).map(([name, flat]) => [name, entry(flat, flat === 'perVolumeGigabytes' ? perVolumeLimitOf(limits) : (limits?.[flat] ?? -1))]));
  };
  on(router, 'GET', '/os-quota-sets/:tenant', async (req) => {
    const t = tenantOf(req.auth, req.params.tenant);
    const usage = req.query.get('usage') === 'true' || req.query.get('usage') === 'True';
    const limits = tenantLimits(t, await defaultQuotas(api.client));
    return { status: 200, body: { quota_set: { id: req.params.tenant, ...shown(limits, typesFor(req.auth), usage ? await usageOf(api.client, t.metadata.name) : undefined) } } };
  });
  on(router, 'GET', '/os-quota-sets/:tenant/defaults', async (req) => ({
    status: 200,
    body: { quota_set: { id: req.params.tenant, ...shown(await defaultQuotas(api.client), typesFor(req.auth)) } },
  }));
  on(router, 'PUT', '/os-quota-sets/:tenant', async (req) => {
    if (!req.auth.admin) throw forbidden(`Policy doesn't allow volume_extension:quotas:update to be performed.`);
    const t = tenantOf(req.auth, req.params.tenant);
    const change = quotaChange(req.body, 'quota_set', typesFor(req.auth));
    const fresh = await api.client
      .patch<Tenant>(TENANTS, undefined, t.metadata.name, { spec: { quota: tenantQuotaPatch(change) } }, API_FIELD_MANAGER, MERGE_PATCH)
      .catch((e) => fromKubernetes(e, `Project ${req.params.tenant}`));
    return { status: 200, body: { quota_set: shown(tenantLimits(fresh, await defaultQuotas(api.client)), typesFor(req.auth)) } };
  });
  on(router, 'DELETE', '/os-quota-sets/:tenant', async (req) => {
    if (!req.auth.admin) throw forbidden(`Policy doesn't allow volume_extension:quotas:delete to be performed.`);
    const t = tenantOf(req.auth, req.params.tenant);
    const reset = { ...Object.fromEntries(BLOCK_QUOTAS.map(([k]) => [k, null])), perVolumeGigabytes: null, volumeTypes: null };
    await api.client.patch(TENANTS, undefined, t.metadata.name, { spec: { quota: reset } }, API_FIELD_MANAGER, MERGE_PATCH).catch((e) => fromKubernetes(e, `Project ${req.params.tenant}`));
    return { status: 200 };
  });

  // The default class: the limits of every tenant that sets none of its own. Cinder shows any other class
  // name as the defaults; only the default class is kept here, so only it can be changed.
  on(router, 'GET', '/os-quota-class-sets/:class', async (req) => {
    if (!req.auth.admin) throw forbidden(`Policy doesn't allow volume_extension:quota_classes to be performed.`);
    return { status: 200, body: { quota_class_set: { id: req.params.class, ...shown(await defaultQuotas(api.client), typesFor(req.auth)) } } };
  });
  on(router, 'PUT', '/os-quota-class-sets/:class', async (req) => {
    if (!req.auth.admin) throw forbidden(`Policy doesn't allow volume_extension:quota_classes:update to be performed.`);
    if (req.params.class !== 'default') throw badRequest(`Invalid input received: only the default quota class is kept here, not ${req.params.class}.`);
    const change = quotaChange(req.body, 'quota_class_set', typesFor(req.auth));
    const { patch, data } = defaultQuotasWrite(change);
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: DEFAULT_QUOTAS_CONFIGMAP, namespace: releaseNamespace() }, data };
    const written = await api.client.patchOrCreate<{ metadata: { name: string }; data?: Record<string, string> }>(CONFIGMAPS, cm, patch, API_FIELD_MANAGER);
    // The class as written (the write answers it), not read back.
    return { status: 200, body: { quota_class_set: shown(defaultQuotasOf(written.data), typesFor(req.auth)) } };
  });
  on(router, 'GET', '/limits', async (req) => {
    const ns = req.auth.tenant;
    const limits = limitsOf(ns ? await quotaOf(api.client, ns) : undefined);
    const used = ns ? await usageOf(api.client, ns) : NO_USAGE;
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
