/** Subnet pools: /v2.0/subnetpools (Neutron's subnet_allocation extension). */
import { isDeleting } from '@stratus/runtime';
import { prefixVersion } from '../ipam.js';
import { SUBNET_POOLS, idOf, type SubnetPool } from '../resources.js';
import { API_FIELD_MANAGER, bool, createAndSettle, fromKubernetes, listFilter, newObjectName, onlyKnown, modifiable, owns, refusal, resourceBody, str, targetNamespace, type NetApi, type NetAuth, type NetRouter } from './context.js';
import { badRequest, conflict, forbidden, notFound } from './errors.js';
import { common, pick } from './views.js';

export function visiblePool(api: NetApi, auth: NetAuth, id: string): SubnetPool {
  const p = api.dir.pools.byId(id);
  if (!p || !(owns(auth, p) || p.spec.shared)) throw notFound('SubnetPoolNotFound', `Subnet pool ${id} could not be found.`);
  return p;
}

export function poolView(p: SubnetPool, api: NetApi) {
  const version = p.status?.ipVersion ?? (p.spec.prefixes[0]?.includes(':') ? 6 : 4);
  return {
    id: idOf(p),
    name: p.spec.displayName ?? '',
    description: p.spec.description ?? '',
    prefixes: p.spec.prefixes,
    default_prefixlen: p.spec.defaultPrefixLength ?? p.spec.minPrefixLength ?? (version === 4 ? 8 : 64),
    min_prefixlen: p.spec.minPrefixLength ?? (version === 4 ? 8 : 64),
    max_prefixlen: p.spec.maxPrefixLength ?? (version === 4 ? 32 : 128),
    shared: !!p.spec.shared,
    is_default: !!p.spec.isDefault,
    ip_version: version,
    address_scope_id: null,
    default_quota: null,
    ...common(p, api.dir),
  };
}

const lengthOf = (v: unknown, field: string) => {
  if (v === undefined || v === null) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 128) throw badRequest(`Invalid input for ${field}. Reason: '${String(v)}' is not a valid prefix length.`);
  return n;
};

export function subnetPoolRoutes(r: NetRouter, api: NetApi): void {
  r.on('GET', '/v2.0/subnetpools', ({ auth, query }) => {
    const { matches, fields } = listFilter(query);
    const views = api.dir.pools
      .list()
      .filter((p) => owns(auth, p) || p.spec.shared)
      .map((p) => poolView(p, api));
    return { status: 200, body: { subnetpools: views.filter(matches).map((v) => pick(v, fields)) } };
  });
  r.on('GET', '/v2.0/subnetpools/:id', ({ auth, params, query }) => ({ status: 200, body: { subnetpool: pick(poolView(visiblePool(api, auth, params.id), api), query.getAll('fields')) } }));

  r.on('POST', '/v2.0/subnetpools', async ({ auth, body }) => {
    const p = resourceBody(body, 'subnetpool');
    onlyKnown(p, ['name', 'description', 'prefixes', 'default_prefixlen', 'min_prefixlen', 'max_prefixlen', 'shared', 'is_default', 'tenant_id', 'project_id', 'address_scope_id', 'default_quota'], 'subnetpool');
    if (!Array.isArray(p.prefixes) || !p.prefixes.length) throw badRequest("Failed to parse request. Required attribute 'prefixes' not specified");
    const versions = new Set(
      p.prefixes.map((x) => {
        try {
          return prefixVersion(String(x));
        } catch {
          throw badRequest(`Invalid input for prefixes. Reason: '${String(x)}' is not a valid IP subnet.`);
        }
      }),
    );
    if (versions.size > 1) throw badRequest('Illegal subnetpool association: Cannot mix IPv4 and IPv6 prefixes in a subnet pool.');
    const shared = bool(p.shared, 'shared');
    if (shared && !auth.admin) throw forbidden('(rule:create_subnetpool:shared) is disallowed by policy');
    const ns = targetNamespace(api, auth, p);
    const name = str(p.name, 'name');
    const made = await createAndSettle<SubnetPool>(
      api,
      SUBNET_POOLS,
      api.dir.pools,
      {
        apiVersion: 'network.stratus.io/v1alpha1',
        kind: 'SubnetPool',
        metadata: { name: newObjectName(api.dir.pools, ns, name, 'subnetpool'), namespace: ns },
        spec: {
          displayName: name ?? '',
          ...(p.description !== undefined ? { description: str(p.description, 'description') } : {}),
          prefixes: p.prefixes.map(String),
          ...(lengthOf(p.default_prefixlen, 'default_prefixlen') !== undefined ? { defaultPrefixLength: lengthOf(p.default_prefixlen, 'default_prefixlen') } : {}),
          ...(lengthOf(p.min_prefixlen, 'min_prefixlen') !== undefined ? { minPrefixLength: lengthOf(p.min_prefixlen, 'min_prefixlen') } : {}),
          ...(lengthOf(p.max_prefixlen, 'max_prefixlen') !== undefined ? { maxPrefixLength: lengthOf(p.max_prefixlen, 'max_prefixlen') } : {}),
          ...(shared !== undefined ? { shared } : {}),
          ...(p.is_default !== undefined ? { isDefault: bool(p.is_default, 'is_default') } : {}),
        },
      } as SubnetPool,
      (o) => (refusal(o) ? badRequest(refusal(o)!.message) : o.status?.phase === 'ACTIVE' ? 'ok' : undefined),
      'subnet pool',
    );
    return { status: 201, body: { subnetpool: poolView(made, api) } };
  });

  r.on('PUT', '/v2.0/subnetpools/:id', async ({ auth, params, body }) => {
    const pool = modifiable(auth, visiblePool(api, auth, params.id), 'subnet pool', params.id);
    const u = resourceBody(body, 'subnetpool');
    onlyKnown(u, ['name', 'description', 'prefixes', 'default_prefixlen', 'min_prefixlen', 'max_prefixlen', 'is_default', 'address_scope_id', 'default_quota'], 'subnetpool');
    const spec: Record<string, unknown> = {};
    if (u.name !== undefined) spec.displayName = str(u.name, 'name') ?? '';
    if (u.description !== undefined) spec.description = str(u.description, 'description') ?? '';
    if (Array.isArray(u.prefixes)) spec.prefixes = [...new Set([...pool.spec.prefixes, ...u.prefixes.map(String)])];
    for (const [k, f] of [['default_prefixlen', 'defaultPrefixLength'], ['min_prefixlen', 'minPrefixLength'], ['max_prefixlen', 'maxPrefixLength']] as const) if (u[k] !== undefined) spec[f] = lengthOf(u[k], k);
    const written = await api.client.patch<SubnetPool>(SUBNET_POOLS, pool.metadata.namespace, pool.metadata.name, { spec }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'subnet pool'));
    await api.dir.pools.seen(written);
    return { status: 200, body: { subnetpool: poolView(api.dir.pools.get(pool.metadata.name, pool.metadata.namespace) ?? written, api) } };
  });

  r.on('DELETE', '/v2.0/subnetpools/:id', async ({ auth, params }) => {
    const pool = visiblePool(api, auth, params.id);
    if (!owns(auth, pool)) throw forbidden(`Tenant ${auth.projectId} not allowed to delete subnet pool ${params.id}`);
    if (api.dir.subnets.list().some((s) => s.spec.subnetPool === pool.metadata.name && s.metadata.namespace === pool.metadata.namespace)) throw conflict('SubnetPoolInUse', `Unable to complete operation on subnet pool ${params.id}. Subnets are allocated from it.`);
    await api.client.delete(SUBNET_POOLS, pool.metadata.namespace, pool.metadata.name).catch((e) => fromKubernetes(e, 'subnet pool'));
    await api.dir.pools.until(pool, (o) => !o || isDeleting(o));
    return { status: 204 };
  });
}
