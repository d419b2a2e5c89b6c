/** Routers: /v2.0/routers, with add_router_interface and remove_router_interface. */
import { isDeleting } from '@stratus/runtime';
import { interfacesProblem } from '../routers.js';
import { ROUTERS, gatewayPortNameOf, idOf, routerPortNameOf, type Router, type Subnet } from '../resources.js';
import { API_FIELD_MANAGER, bool, createAndSettle, fromKubernetes, listFilter, newObjectName, onlyKnown, owns, refusal, resourceBody, str, targetNamespace, type NetApi, type NetAuth, type NetRouter } from './context.js';
import { withinQuota } from './quotaRoutes.js';
import { badRequest, conflict, notFound } from './errors.js';
import { visibleNetwork, visibleSubnet } from './networkRoutes.js';
import { pick } from './views.js';

const ROUTER_FIELDS = ['name', 'description', 'admin_state_up', 'tenant_id', 'project_id', 'external_gateway_info', 'distributed', 'ha', 'availability_zone_hints', 'flavor_id', 'routes'];

export function visibleRouter(api: NetApi, auth: NetAuth, id: string): Router {
  const r = api.dir.routers.byId(id);
  if (!r || !owns(auth, r)) throw notFound('RouterNotFound', `Router ${id} could not be found`);
  return r;
}

export function routerView(r: Router, api: NetApi) {
  const project = api.dir.projectIdOf(r.metadata.namespace);
  const t = (x: unknown) => (x ? new Date(String(x)).toISOString().replace(/\.\d{3}Z$/, 'Z') : null);
  return {
    id: idOf(r),
    name: r.spec.displayName ?? '',
    description: r.spec.description ?? '',
    status: r.status?.phase === 'ERROR' ? 'ERROR' : r.spec.adminStateUp === false ? 'DOWN' : 'ACTIVE',
    admin_state_up: r.spec.adminStateUp !== false,
    external_gateway_info: gatewayInfo(r, api),
    routes: [],
    distributed: false,
    ha: false,
    availability_zone_hints: [],
    availability_zones: ['nova'],
    flavor_id: null,
    tenant_id: project,
    project_id: project,
    tags: [],
    created_at: t(r.metadata.creationTimestamp),
    updated_at: t(r.metadata.creationTimestamp),
    revision_number: r.metadata.generation ?? 1,
  };
}

/** Neutron's external_gateway_info of a router: its external network, SNAT, and its address there. */
function gatewayInfo(r: Router, api: NetApi) {
  const gw = r.spec.externalGateway;
  if (!gw) return null;
  const net = api.dir.networks.get(gw.network, gw.networkNamespace ?? r.metadata.namespace);
  const port = api.dir.ports.get(gatewayPortNameOf(r.metadata.name), r.metadata.namespace);
  return { network_id: net ? idOf(net) : '', enable_snat: gw.enableSNAT !== false, external_fixed_ips: (port?.status?.fixedIPs ?? []).map((f) => ({ subnet_id: f.subnetId, ip_address: f.ipAddress })) };
}

/** A router's externalGateway from the API's external_gateway_info ({} or null: none). */
function gatewayFrom(api: NetApi, auth: NetAuth, info: unknown): Router['spec']['externalGateway'] | null {
  if (!info || typeof info !== 'object' || !Object.keys(info).length) return null;
  const i = info as Record<string, unknown>;
  if (typeof i.network_id !== 'string') throw badRequest('Invalid input for external_gateway_info: network_id is required.');
  const net = visibleNetwork(api, auth, i.network_id);
  if (!net.spec.external) throw badRequest(`Bad router request: Network ${i.network_id} is not a valid external network.`);
  if (Array.isArray(i.external_fixed_ips) && i.external_fixed_ips.length) throw badRequest('Choosing the gateway address (external_fixed_ips) is not offered by this cloud yet.');
  return { network: net.metadata.name, networkNamespace: net.metadata.namespace, ...(i.enable_snat !== undefined ? { enableSNAT: bool(i.enable_snat, 'enable_snat') } : {}) };
}

const settled = (r: Router) => {
  const refused = refusal(r);
  if (refused) return badRequest(refused.message);
  return r.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True' && c.observedGeneration === r.metadata.generation) ? ('ok' as const) : undefined;
};

export function routerRoutes(rt: NetRouter, api: NetApi): void {
  rt.on('GET', '/v2.0/routers', ({ auth, query }) => {
    const { matches, fields } = listFilter(query);
    const views = api.dir.routers
      .list()
      .filter((r) => owns(auth, r))
      .map((r) => routerView(r, api));
    return { status: 200, body: { routers: views.filter(matches).map((v) => pick(v, fields)) } };
  });
  rt.on('GET', '/v2.0/routers/:id', ({ auth, params, query }) => ({ status: 200, body: { router: pick(routerView(visibleRouter(api, auth, params.id), api), query.getAll('fields')) } }));

  rt.on('POST', '/v2.0/routers', async ({ auth, body }) => {
    const r = resourceBody(body, 'router');
    onlyKnown(r, ROUTER_FIELDS, 'router');
    const ns = targetNamespace(api, auth, r);
    const gateway = gatewayFrom(api, auth, r.external_gateway_info);
    const name = str(r.name, 'name');
    const made = await withinQuota(api, ns, 'router', 1, () =>
      createAndSettle<Router>(
        api,
        ROUTERS,
        api.dir.routers,
        {
          apiVersion: 'network.stratus.io/v1alpha1',
          kind: 'Router',
          metadata: { name: newObjectName(api.dir.routers, ns, name, 'router'), namespace: ns },
          spec: { displayName: name ?? '', ...(r.description !== undefined ? { description: str(r.description, 'description') } : {}), ...(r.admin_state_up !== undefined ? { adminStateUp: bool(r.admin_state_up, 'admin_state_up') } : {}), ...(gateway ? { externalGateway: gateway } : {}) },
        } as Router,
        settled,
        'router',
      ),
    );
    return { status: 201, body: { router: routerView(made, api) } };
  });

  rt.on('PUT', '/v2.0/routers/:id', async ({ auth, params, body }) => {
    const router = visibleRouter(api, auth, params.id);
    const u = resourceBody(body, 'router');
    onlyKnown(u, ['name', 'description', 'admin_state_up', 'external_gateway_info', 'routes', 'distributed', 'ha'], 'router');
    if (Array.isArray(u.routes) && u.routes.length) throw badRequest('Extra routes are not offered by this cloud yet.');
    const spec: Record<string, unknown> = {};
    if (u.name !== undefined) spec.displayName = str(u.name, 'name') ?? '';
    if (u.description !== undefined) spec.description = str(u.description, 'description') ?? '';
    if (u.admin_state_up !== undefined) spec.adminStateUp = bool(u.admin_state_up, 'admin_state_up');
    if (u.external_gateway_info !== undefined) spec.externalGateway = gatewayFrom(api, auth, u.external_gateway_info);
    const written = await api.client.patch<Router>(ROUTERS, router.metadata.namespace, router.metadata.name, { spec }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'router'));
    // A new gateway is answered with its address, once the reconciler has it.
    await api.dir.routers.until(written, (o) => !!o && o.status?.observedGeneration === written.metadata.generation && (!spec.externalGateway || !!o.status?.gatewayIP || !!refusal(o)), 30_000);
    return { status: 200, body: { router: routerView(api.dir.routers.get(router.metadata.name, router.metadata.namespace) ?? written, api) } };
  });

  rt.on('DELETE', '/v2.0/routers/:id', async ({ auth, params }) => {
    const router = visibleRouter(api, auth, params.id);
    if ((router.spec.interfaces ?? []).length) throw conflict('RouterInUse', `Router ${params.id} still has ports`);
    await api.client.delete(ROUTERS, router.metadata.namespace, router.metadata.name).catch((e) => fromKubernetes(e, 'router'));
    await api.dir.routers.until(router, (o) => !o || isDeleting(o));
    return { status: 204 };
  });

  /** The interface answer Neutron gives to add/remove_router_interface. */
  const interfaceInfo = (router: Router, subnet: Subnet) => {
    const s = api.dir.routers.get(router.metadata.name, router.metadata.namespace)?.status?.interfaces?.find((i) => i.subnet === subnet.metadata.name);
    const net = api.dir.networkOfSubnet(subnet);
    const project = api.dir.projectIdOf(router.metadata.namespace);
    return { id: idOf(router), subnet_id: idOf(subnet), subnet_ids: [idOf(subnet)], port_id: s?.portId ?? '', network_id: net ? idOf(net) : '', tenant_id: project, project_id: project, tags: [] };
  };
  const subnetOf = (auth: NetAuth, b: Record<string, unknown>) => {
    if (b.port_id) throw badRequest('Router interfaces by port are not offered by this cloud yet: add the interface by subnet_id.');
    if (typeof b.subnet_id !== 'string') throw badRequest('Bad router request: Either subnet_id or port_id must be specified.');
    return visibleSubnet(api, auth, b.subnet_id);
  };

  rt.on('PUT', '/v2.0/routers/:id/add_router_interface', async ({ auth, params, body }) => {
    const router = visibleRouter(api, auth, params.id);
    const subnet = subnetOf(auth, (body ?? {}) as Record<string, unknown>);
    if (subnet.metadata.namespace !== router.metadata.namespace) throw notFound('SubnetNotFound', `Subnet ${idOf(subnet)} could not be found.`);
    const joined = (router.spec.interfaces ?? []).map((i) => i.subnet);
    if (joined.includes(subnet.metadata.name)) throw badRequest(`Bad router request: Router already has a port on subnet ${idOf(subnet)}.`);
    const all = [...joined.map((n) => api.dir.subnets.get(n, router.metadata.namespace)).filter((s): s is Subnet => !!s), subnet];
    const problem = interfacesProblem(all);
    if (problem) throw badRequest(problem);
    const holder = Object.entries(subnet.status?.allocations ?? {}).find(([ip]) => ip === subnet.status?.gatewayIP);
    if (holder) throw conflict('IpAddressInUse', `Unable to complete operation for network ${api.dir.networkOfSubnet(subnet) ? idOf(api.dir.networkOfSubnet(subnet)!) : ''}. The IP address ${holder[0]} is in use.`);
    const written = await api.client.patch<Router>(ROUTERS, router.metadata.namespace, router.metadata.name, { metadata: { resourceVersion: router.metadata.resourceVersion }, spec: { interfaces: [...joined, subnet.metadata.name].map((s) => ({ subnet: s })) } }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'router'));
    let outcome: ReturnType<typeof settled>;
    // The cached router counts once it is this write or later: an older Ready says nothing of the new interface.
    await api.dir.routers.until(written, (o) => (outcome = o && (o.metadata.generation ?? 0) >= (written.metadata.generation ?? 0) ? settled(o) : undefined) !== undefined, 30_000);
    if (outcome instanceof Error) throw outcome;
    return { status: 200, body: interfaceInfo(written, subnet) };
  });

  rt.on('PUT', '/v2.0/routers/:id/remove_router_interface', async ({ auth, params, body }) => {
    const router = visibleRouter(api, auth, params.id);
    const subnet = subnetOf(auth, (body ?? {}) as Record<string, unknown>);
    const joined = (router.spec.interfaces ?? []).map((i) => i.subnet);
    if (!joined.includes(subnet.metadata.name)) throw notFound('RouterInterfaceNotFoundForSubnet', `Router ${params.id} has no interface on subnet ${idOf(subnet)}`);
    const info = interfaceInfo(router, subnet);
    const written = await api.client.patch<Router>(ROUTERS, router.metadata.namespace, router.metadata.name, { metadata: { resourceVersion: router.metadata.resourceVersion }, spec: { interfaces: joined.filter((s) => s !== subnet.metadata.name).map((s) => ({ subnet: s })) } }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'router'));
    await api.dir.routers.seen(written);
    // Answered once the interface's port is on its way out, as Neutron answers once it is gone: the subnet is then free.
    const leg = api.dir.ports.get(routerPortNameOf(router.metadata.name, subnet.metadata.name), router.metadata.namespace);
    if (leg) await api.dir.ports.until(leg, (o) => !o || isDeleting(o), 30_000);
    return { status: 200, body: info };
  });
}
