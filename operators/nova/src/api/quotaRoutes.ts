/**
 * /os-quota-sets and /os-quota-class-sets: a tenant's compute quota as Nova shows and changes it. The limits
 * are the Tenant's spec.quota (instances, cores, ramMiB), which the API and the scheduler enforce; absent is
 * unlimited (-1), which is also the default. The other keys Nova shows are fixed here and say so by value.
 */
import { TENANTS, type Tenant } from '@stratus/keystone';
import { MERGE_PATCH } from '@stratus/runtime';
import { API_FIELD_MANAGER, requireAdmin, tenantUsage, type ComputeApiContext, type ComputeRequest, type ComputeRouter } from './context.js';
import { badRequest, forbidden, notFound } from './errors.js';

/** The quotas that can be set: Nova's key, and the Tenant's spec.quota field. */
const SETTABLE = { instances: 'instances', cores: 'cores', ram: 'ramMiB' } as const;
type Settable = keyof typeof SETTABLE;
/** Server metadata items a server may have (enforced on create and update). */
const METADATA_ITEMS = 128;

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
    return {
      instances: limits.instances ?? -1,
      cores: limits.cores ?? -1,
      ram: limits.ram ?? -1,
      key_pairs: -1,
      metadata_items: METADATA_ITEMS,
      server_groups: -1,
      server_group_members: -1,
      ...(v.atLeast('2.57') ? {} : { injected_files: 5, injected_file_content_bytes: 10240, injected_file_path_bytes: 255 }),
      ...(v.atLeast('2.36') ? {} : { fixed_ips: -1, floating_ips: -1, security_groups: -1, security_group_rules: -1 }),
    };
  };
  const limitsOf = (t: Tenant): Partial<Record<Settable, number>> =>
    Object.fromEntries(Object.entries(SETTABLE).filter(([, field]) => t.spec.quota?.[field] !== undefined).map(([key, field]) => [key, t.spec.quota![field]]));

  router.on('GET', '/os-quota-sets/:project', (req) => {
    const t = tenantFor(req, req.params.project);
    return { status: 200, body: { quota_set: { id: req.params.project, ...quotaSet(req, limitsOf(t)) } } };
  });
  router.on('GET', '/os-quota-sets/:project/defaults', (req) => {
    tenantFor(req, req.params.project);
    return { status: 200, body: { quota_set: { id: req.params.project, ...quotaSet(req, {}) } } };
  });
  router.on('GET', '/os-quota-sets/:project/detail', (req) => {
    const t = tenantFor(req, req.params.project);
    const used = tenantUsage(api, t.metadata.name);
    const inUse: Record<string, number> = { instances: used.instances, cores: used.cores, ram: used.ramMiB, server_groups: dir.groups.list(t.metadata.name).length };
    const detail = Object.fromEntries(Object.entries(quotaSet(req, limitsOf(t))).map(([k, limit]) => [k, { limit, in_use: inUse[k] ?? 0, reserved: 0 }]));
    return { status: 200, body: { quota_set: { id: req.params.project, ...detail } } };
  });

  router.on('PUT', '/os-quota-sets/:project', async (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-quota-sets:update');
    const t = tenantFor(req, req.params.project);
    const asked = req.body?.quota_set;
    if (!asked || typeof asked !== 'object') throw badRequest("Invalid input for field/attribute quota_set. 'quota_set' is a required property");
    const change: Record<string, number | null> = {};
    for (const [key, value] of Object.entries(asked as Record<string, unknown>)) {
      if (key === 'force') continue;
      if (!(key in SETTABLE)) throw badRequest(`Quota ${key} cannot be set here: only ${Object.keys(SETTABLE).join(', ')} are enforced.`);
      const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < -1 || n > 0x7fffffff) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(value)}. It must be an integer from -1 to 2147483647.`);
      change[SETTABLE[key as Settable]] = n === -1 ? null : n; // unlimited: no limit at all
    }
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

  // The default class: what a tenant without a quota gets (unlimited); defaults are not changed here.
  router.on('GET', '/os-quota-class-sets/:class', (req) => {
    if (req.params.class !== 'default') throw notFound(`Quota class ${req.params.class} could not be found.`);
    return { status: 200, body: { quota_class_set: { id: 'default', ...quotaSet(req, {}) } } };
  });
  router.on('PUT', '/os-quota-class-sets/:class', (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-quota-class-sets:update');
    throw forbidden('The default quotas are fixed here (unlimited); set a tenant\'s with PUT /os-quota-sets/{project_id} or its Tenant\'s spec.quota.');
  });
}
