/**
 * Networking quotas (Neutron's quotas extension): limits from the Tenant's spec.quota (absent: unlimited,
 * shown as -1), usage counted from the resources, checked on every create under a per-project lock so that
 * concurrent creates in this process cannot all pass one check. /v2.0/quotas.
 */
import { KeyedLock, MERGE_PATCH } from '@stratus/runtime';
import { TENANTS, type Tenant } from '@stratus/keystone';
import type { NetApi, NetAuth, NetRouter } from './context.js';
import { API_FIELD_MANAGER, fromKubernetes } from './context.js';
import { badRequest, conflict, forbidden, notFound } from './errors.js';

/** Neutron's quota names, and the Tenant quota field each reads. */
export const NETWORK_QUOTAS: Array<[string, string]> = [
  ['network', 'networks'],
  ['subnet', 'subnets'],
  ['port', 'ports'],
  ['router', 'routers'],
  ['floatingip', 'floatingIps'],
  ['security_group', 'securityGroups'],
  ['security_group_rule', 'securityGroupRules'],
];

const admission = new KeyedLock();

/** What a namespace uses of each quota'd resource. */
export function usageOf(api: NetApi, ns: string): Record<string, number> {
  const groups = api.dir.groups.list(ns);
  return {
    network: api.dir.networks.list(ns).length,
    subnet: api.dir.subnets.list(ns).length,
    port: api.dir.ports.list(ns).length,
    router: api.dir.routers.list(ns).length,
    floatingip: api.dir.floatingIPs.list(ns).length,
    security_group: groups.length,
    security_group_rule: groups.reduce((n, g) => n + (g.spec.rules?.length ?? 0), 0),
  };
}

export function limitsOf(t: Tenant | undefined): Record<string, number> {
  const q = (t?.spec as { quota?: Record<string, number> } | undefined)?.quota ?? {};
  return Object.fromEntries(NETWORK_QUOTAS.map(([name, field]) => [name, q[field] ?? -1]));
}

/** Neutron's words when `count` more of `resource` do not fit the namespace's quota; nothing when they do. */
export function quotaExceeded(api: NetApi, ns: string, resource: string, count: number): string | undefined {
  const limit = limitsOf(api.dir.tenant(ns))[resource];
  return limit >= 0 && count > 0 && usageOf(api, ns)[resource] + count > limit ? `Quota exceeded for resources: ['${resource}'].` : undefined;
}

/**
 * Runs `create` if `count` more of `resource` fit the namespace's quota, holding the namespace's lock until
 * the create is in the cache (so the next check counts it); 409 OverQuota otherwise, as Neutron answers.
 */
export async function withinQuota<T>(api: NetApi, ns: string, resource: string, count: number, create: () => Promise<T>): Promise<T> {
  const release = await admission.acquire(ns);
  try {
    const over = quotaExceeded(api, ns, resource, count);
    if (over) throw conflict('OverQuota', over);
    return await create();
  } finally {
    release();
  }
}

function projectTenant(api: NetApi, auth: NetAuth, projectId: string): Tenant {
  const t = api.dir.tenantByProjectId(projectId);
  if (!t || (!auth.admin && t.metadata.name !== auth.tenant)) throw notFound('ProjectNotFound', `Project ${projectId} could not be found.`);
  return t;
}

export function quotaRoutes(r: NetRouter, api: NetApi): void {
  r.on('GET', '/v2.0/quotas', ({ auth }) => {
    if (!auth.admin) throw forbidden('(rule:get_quota) is disallowed by policy');
    const quotas = api.dir
      .allTenants()
      .filter((t) => NETWORK_QUOTAS.some(([, f]) => (t.spec as { quota?: Record<string, number> }).quota?.[f] !== undefined))
      .map((t) => ({ ...limitsOf(t), project_id: api.dir.projectIdOf(t.metadata.name), tenant_id: api.dir.projectIdOf(t.metadata.name) }));
    return { status: 200, body: { quotas } };
  });
  r.on('GET', '/v2.0/quotas/:project/default', ({ auth, params }) => {
    projectTenant(api, auth, params.project);
    return { status: 200, body: { quota: limitsOf(undefined) } };
  });
  r.on('GET', '/v2.0/quotas/:project/details', ({ auth, params }) => {
    const t = projectTenant(api, auth, params.project);
    const limits = limitsOf(t);
    const used = usageOf(api, t.metadata.name);
    return { status: 200, body: { quota: Object.fromEntries(Object.keys(limits).map((k) => [k, { limit: limits[k], used: used[k], reserved: 0 }])) } };
  });
  r.on('GET', '/v2.0/quotas/:project', ({ auth, params }) => ({ status: 200, body: { quota: limitsOf(projectTenant(api, auth, params.project)) } }));
  r.on('PUT', '/v2.0/quotas/:project', async ({ auth, params, body }) => {
    if (!auth.admin) throw forbidden('(rule:update_quota) is disallowed by policy');
    const t = projectTenant(api, auth, params.project);
    const q = (body as { quota?: Record<string, unknown> } | undefined)?.quota;
    if (!q || typeof q !== 'object') throw badRequest("Resource body required: 'quota' is missing from the request body.");
    const patch: Record<string, number | null> = {};
    for (const [k, v] of Object.entries(q)) {
      const field = NETWORK_QUOTAS.find(([name]) => name === k)?.[1];
      if (!field) throw badRequest(`Unrecognized attribute(s) '${k}'`);
      const n = Number(v);
      if (!Number.isInteger(n) || n < -1) throw badRequest(`Invalid input for ${k}. Reason: '${String(v)}' is not an integer >= -1.`);
      patch[field] = n === -1 ? null : n;
    }
    const written = await api.client.patch<Tenant>(TENANTS, undefined, t.metadata.name, { spec: { quota: patch } }, API_FIELD_MANAGER, MERGE_PATCH).catch((e) => fromKubernetes(e, 'quota'));
    return { status: 200, body: { quota: limitsOf(written) } };
  });
  r.on('DELETE', '/v2.0/quotas/:project', async ({ auth, params }) => {
    if (!auth.admin) throw forbidden('(rule:delete_quota) is disallowed by policy');
    const t = projectTenant(api, auth, params.project);
    await api.client.patch(TENANTS, undefined, t.metadata.name, { spec: { quota: Object.fromEntries(NETWORK_QUOTAS.map(([, f]) => [f, null])) } }, API_FIELD_MANAGER, MERGE_PATCH).catch((e) => fromKubernetes(e, 'quota'));
    return { status: 204 };
  });
}
