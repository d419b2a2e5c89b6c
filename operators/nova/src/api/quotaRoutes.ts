/**
 * /os-quota-sets and /os-quota-class-sets: a tenant's compute quota as Nova shows and changes it. The limits
 * are the Tenant's spec.quota; where a tenant sets none, the default quota class's (a ConfigMap); absent from
 * both is unlimited (-1), but for Nova's fixed caps on metadata items and injected files.
 */
import { TENANTS, type Tenant } from '@stratus/keystone';
import { MERGE_PATCH, SYSTEM_NAMESPACE, defaultQuotasWrite } from '@stratus/runtime';
import { CONFIGMAPS } from '../resources.js';
import { DEFAULT_QUOTAS_CONFIGMAP, METADATA_ITEMS_DEFAULT, effectiveQuota } from '../quota.js';

import { API_FIELD_MANAGER, requireAdmin, tenantUsage, type ComputeApiContext, type ComputeRequest, type ComputeRouter } from './context.js';
import { badRequest, forbidden, notFound } from './errors.js';

/**
 * Nova's quota keys and the Tenant's spec.quota field each is kept in. Enforced here: instances, cores and ram
 * (by the API and the scheduler), key_pairs, metadata_items, server_groups and server_group_members (by the
 * API). The injected-file keys (personality is not taken) and the network keys Nova shows before 2.36 (which
 * Nova with Neutron keeps without enforcing) are kept and shown only.
 */
const SETTABLE = {
  instances: 'instances',
  cores: 'cores',
  ram: 'ramMiB',
  key_pairs: 'keypairs',
  metadata_items: 'metadataItems',
  server_groups: 'serverGroups',
  server_group_members: 'serverGroupMembers',
  injected_files: 'injectedFiles',
  injected_file_content_bytes: 'injectedFileContentBytes',
  injected_file_path_bytes: 'injectedFilePathBytes',
  fixed_ips: 'fixedIps',
  floating_ips: 'floatingIps',
  security_groups: 'securityGroups',
  security_group_rules: 'securityGroupRules',
} as const;
type Settable = keyof typeof SETTABLE;
/** What a key is when neither the tenant nor the default class sets it: unlimited, but Nova's fixed caps. */
const BUILT_IN: Partial<Record<Settable, number>> = { metadata_items: METADATA_ITEMS_DEFAULT, injected_files: 5, injected_file_content_bytes: 10240, injected_file_path_bytes: 255 };
const SINCE_2_57_GONE: Settable[] = ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'];
const SINCE_2_36_GONE: Settable[] = ['fixed_ips', 'floating_ips', 'security_groups', 'security_group_rules'];

/** A quota set as Nova's schema takes it, as Tenant quota fields (null: unlimited); keys not enforced here are refused. */
function settableChange(asked: unknown, field: string): Record<string, number | null> {
  if (!asked || typeof asked !== 'object') throw badRequest(`Invalid input for field/attribute ${field}. '${field}' is a required property`);
  const change: Record<string, number | null> = {};
  for (const [key, value] of Object.entries(asked as Record<string, unknown>)) {
    if (key === 'force') continue;
    if (!(key in SETTABLE)) throw badRequest(`Invalid input for field/attribute ${field}. Additional properties are not allowed ('${key}' was unexpected)`);
    const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < -1 || n > 0x7fffffff) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(value)}. It must be an integer from -1 to 2147483647.`);
    change[SETTABLE[key as Settable]] = n === -1 ? null : n; // unlimited: no limit at all
  }
  return change;
}

export function quotaRoutes(router: ComputeRouter, api: ComputeApiContext) {
  const { dir } = api;
  /** The project's Tenant: one's own, or any for an admin (Nova: 403 for another project's). */
  const tenantFor = (req: ComputeRequest, projectId: string): Tenant => {
    if (!req.auth.admin && projectId !== req.auth.projectId) throw forbidden(`Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.`);
    const t = dir.tenants.byId(projectId);
    if (!t) throw notFound(`Project ${projectId} could not be found.`);
    return t;
  };

  /** Every key Nova shows at this microversion, from the limits given (-1: unlimited). */
  const quotaSet = (req: ComputeRequest, limits: Partial<Record<Settable, number>>) => {
    const v = req.auth.version;
    const shown = (Object.keys(SETTABLE) as Settable[]).filter((k) => !(v.atLeast('2.57') && SINCE_2_57_GONE.includes(k)) && !(v.atLeast('2.36') && SINCE_2_36_GONE.includes(k)));
    return Object.fromEntries(shown.map((k) => [k, limits[k] ?? BUILT_IN[k] ?? -1]));
  };
  const asLimits = (quota: Record<string, number> | undefined): Partial<Record<Settable, number>> =>
    Object.fromEntries(Object.entries(SETTABLE).filter(([, field]) => quota?.[field] !== undefined && quota[field] !== null).map(([key, field]) => [key, quota![field]]));
  /** A tenant's limits: its own, else the default class's. */
  const limitsOf = (t: Tenant) => asLimits(effectiveQuota(t.spec.quota, dir.defaultQuota()));
  const defaultLimits = () => asLimits(dir.defaultQuota());

  router.on('GET', '/os-quota-sets/:project', (req) => {
    const t = tenantFor(req, req.params.project);
    return { status: 200, body: { quota_set: { id: req.params.project, ...quotaSet(req, limitsOf(t)) } } };
  });
  router.on('GET', '/os-quota-sets/:project/defaults', (req) => {
    tenantFor(req, req.params.project);
    return { status: 200, body: { quota_set: { id: req.params.project, ...quotaSet(req, defaultLimits()) } } };
  });
  router.on('GET', '/os-quota-sets/:project/detail', (req) => {
    const t = tenantFor(req, req.params.project);
    const used = tenantUsage(api, t.metadata.name);
    const inUse: Record<string, number> = { instances: used.instances, cores: used.cores, ram: used.ramMiB, server_groups: dir.groups.list(t.metadata.name).length, key_pairs: dir.keypairs.list(t.metadata.name).filter((k) => !k.spec.user || k.spec.user === req.auth.userId).length };
    const detail = Object.fromEntries(Object.entries(quotaSet(req, limitsOf(t))).map(([k, limit]) => [k, { limit, in_use: inUse[k] ?? 0, reserved: 0 }]));
    return { status: 200, body: { quota_set: { id: req.params.project, ...detail } } };
  });

  router.on('PUT', '/os-quota-sets/:project', async (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-quota-sets:update');
    const t = tenantFor(req, req.params.project);
    const change = settableChange(req.body?.quota_set, 'quota_set');
    const written = await api.client.patch<Tenant>(TENANTS, undefined, t.metadata.name, { spec: { quota: change } }, API_FIELD_MANAGER, MERGE_PATCH);
    await dir.tenants.seen(written);
    return { status: 200, body: { quota_set: quotaSet(req, limitsOf(written)) } };
  });
  router.on('DELETE', '/os-quota-sets/:project', async (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-quota-sets:delete');
    const t = tenantFor(req, req.params.project);
    const reset = Object.fromEntries(Object.values(SETTABLE).map((field) => [field, null]));
    await dir.tenants.seen(await api.client.patch<Tenant>(TENANTS, undefined, t.metadata.name, { spec: { quota: reset } }, API_FIELD_MANAGER, MERGE_PATCH));
    return { status: 202 };
  });

  // The default class: the limits of tenants that set none of their own (the compute-default-quotas
  // ConfigMap in stratus-system, which the scheduler reads too); unset is unlimited.
  router.on('GET', '/os-quota-class-sets/:class', (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-quota-class-sets:show');
    if (req.params.class !== 'default') throw notFound(`Quota class ${req.params.class} could not be found.`);
    return { status: 200, body: { quota_class_set: { id: 'default', ...quotaSet(req, defaultLimits()) } } };
  });
  router.on('PUT', '/os-quota-class-sets/:class', async (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-quota-class-sets:update');
    if (req.params.class !== 'default') throw badRequest('Only the default quota class is used here.');
    const change = settableChange(req.body?.quota_class_set, 'quota_class_set');
    const { patch, data } = defaultQuotasWrite(change);
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: DEFAULT_QUOTAS_CONFIGMAP, namespace: SYSTEM_NAMESPACE }, data };
    const written = await api.client.patchOrCreate(CONFIGMAPS, cm, patch, API_FIELD_MANAGER);
    await dir.untilDefaultQuota(written);
    return { status: 200, body: { quota_class_set: quotaSet(req, defaultLimits()) } };
  });
}
