/** Routers: /v2.0/routers, with add_router_interface and remove_router_interface. */
import { isConflict, isDeleting } from '@stratus/runtime';
import { interfacesProblem } from '../routers.js';
import { cidrContains, prefixVersion } from '../ipam.js';
import { ROUTERS, gatewayPortNameOf, idOf, routerPortNameOf, type Port, type Router, type Subnet } from '../resources.js';
import { API_FIELD_MANAGER, bool, createAndSettle, fromKubernetes, listFilter, newObjectName, onlyKnown, owns, refusal, resourceBody, str, targetNamespace, type NetApi, type NetAuth, type NetRouter } from './context.js';
import { withinQuota } from './quotaRoutes.js';
import { badRequest, conflict, forbidden, notFound } from './errors.js';
import { visibleNetwork, visibleSubnet } from './networkRoutes.js';
import { fixedIPsOf, visiblePort } from './portRoutes.js';
import { NETWORK_AVAILABILITY_ZONE, common, pick } from './views.js';

const ROUTER_FIELDS = ['name', 'description', 'admin_state_up', 'tenant_id', 'project_id', 'external_gateway_info', 'distributed', 'ha', 'availability_zone_hints', 'flavor_id', 'routes'];

export function visibleRouter(api: NetApi, auth: NetAuth, id: string): Router {
  const r = api.dir.routers.byId(id);
  if (!r || !owns(auth, r)) throw notFound('RouterNotFound', `Router ${id} could not be found`);
  return r;
}

export function routerView(r: Router, api: NetApi) {
  return {
    id: idOf(r),
    name: r.spec.displayName ?? '',
    description: r.spec.description ?? '',
    status: r.status?.phase === 'ERROR' ? 'ERROR' : r.spec.adminStateUp === false ? 'DOWN' : 'ACTIVE',
    admin_state_up: r.spec.adminStateUp !== false,
    external_gateway_info: gatewayInfo(r, api),
    routes: (r.spec.routes ?? []).map((x) => ({ destination: x.destination, nexthop: x.nexthop })),
    distributed: false,
    ha: false,
    availability_zone_hints: [],
    availability_zones: [NETWORK_AVAILABILITY_ZONE],
    flavor_id: null,
    ...common(r, api.dir),
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
function gatewayFrom(api: NetApi, auth: NetAuth, info: unknown, action: 'create' | 'update', gatewayPort: string): Router['spec']['externalGateway'] | null {
  if (!info || typeof info !== 'object' || !Object.keys(info).length) return null;
  const i = info as Record<string, unknown>;
  // Neutron's policy: only an admin chooses whether a gateway translates (ext-gw-mode's enable_snat).
  if (i.enable_snat !== undefined && !auth.admin) throw forbidden(`(rule:${action}_router:external_gateway_info:enable_snat) is disallowed by policy`);
  if (typeof i.network_id !== 'string') throw badRequest('Invalid input for external_gateway_info: network_id is required.');
  const net = visibleNetwork(api, auth, i.network_id);
  if (!net.spec.external) throw badRequest(`Bad router request: Network ${i.network_id} is not a valid external network.`);
  // Choosing the gateway's addresses is the admin's too; they are checked as a port's are (409 when taken).
  const wanted = i.external_fixed_ips === undefined || i.external_fixed_ips === null || (Array.isArray(i.external_fixed_ips) && !i.external_fixed_ips.length) ? undefined : i.external_fixed_ips;
  if (wanted !== undefined && !auth.admin) throw forbidden(`(rule:${action}_router:external_gateway_info:external_fixed_ips) is disallowed by policy`);
  const fixedIPs = wanted !== undefined ? fixedIPsOf(api, net.metadata.namespace!, net.metadata.name, idOf(net), wanted, gatewayPort) : undefined;
  // Unsaid is the default (SNAT on, addresses chosen), not the last value: the whole gateway is replaced, as in Neutron.
  return { network: net.metadata.name, networkNamespace: net.metadata.namespace, enableSNAT: i.enable_snat !== undefined ? bool(i.enable_snat, 'enable_snat') : true, ...(fixedIPs ? { fixedIPs } : {}) };
}

const settled = (r: Router) => {
  const refused = refusal(r);
  if (refused) return refused.reason === 'AddressInUse' ? conflict('IpAddressAlreadyAllocated', refused.message) : badRequest(refused.message);
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
    const gateway = gatewayFrom(api, auth, r.external_gateway_info, 'create', '');
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
    const spec: Record<string, unknown> = {};
    if (u.name !== undefined) spec.displayName = str(u.name, 'name') ?? '';
    if (u.description !== undefined) spec.description = str(u.description, 'description') ?? '';
    if (u.admin_state_up !== undefined) spec.adminStateUp = bool(u.admin_state_up, 'admin_state_up');
    if (u.external_gateway_info !== undefined) {
      const gateway = gatewayFrom(api, auth, u.external_gateway_info, 'update', `${router.metadata.namespace}/${gatewayPortNameOf(router.metadata.name)}`);
      // A merge patch keeps what it does not name: addresses no longer asked for are said to go.
      spec.externalGateway = gateway ? { ...gateway, fixedIPs: gateway.fixedIPs ?? null } : null;
    }
    if (u.routes !== undefined) {
      if (u.routes !== null && !Array.isArray(u.routes)) throw badRequest(`Invalid input for routes. Reason: '${JSON.stringify(u.routes)}' is not a list.`);
      // Each next hop must be on a subnet the router joins, as Neutron checks.
      const joined = (router.spec.interfaces ?? []).map((i) => (i.subnet ?? api.dir.ports.get(i.port!, router.metadata.namespace)?.status?.fixedIPs?.[0]?.subnet)).map((n) => (n ? api.dir.subnets.get(n, router.metadata.namespace) : undefined)).filter((x): x is Subnet => !!x);
      spec.routes = ((u.routes ?? []) as Array<{ destination?: unknown; nexthop?: unknown }>).map((x) => {
        const destination = String(x.destination ?? '');
        const nexthop = String(x.nexthop ?? '');
        try {
          prefixVersion(destination);
        } catch {
          throw badRequest(`Invalid input for routes. Reason: '${destination}' is not a valid IP subnet.`);
        }
        if (!joined.some((sn) => cidrContains(sn.spec.cidr, nexthop))) throw badRequest(`Invalid format for routes: ${JSON.stringify(x)}, the nexthop ${nexthop} is not connected with router ${params.id}.`);
        return { destination, nexthop };
      });
    }
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

  type Interface = { subnet?: string; port?: string };
  /** The subnet (object name) a leg of the router joins: its own, or its given port's. */
  const subnetOfLeg = (router: Router, i: Interface) => i.subnet ?? api.dir.ports.get(i.port!, router.metadata.namespace)?.status?.fixedIPs?.[0]?.subnet;
  /** The Port a leg is: the router's own at the subnet's gateway, or the one it was given. */
  const portOfLeg = (router: Router, i: Interface) => api.dir.ports.get(i.port ?? routerPortNameOf(router.metadata.name, i.subnet!), router.metadata.namespace);

  /** The interface answer Neutron gives to add/remove_router_interface. */
  const interfaceInfo = (router: Router, subnet: Subnet, port?: Port) => {
    const s = api.dir.routers.get(router.metadata.name, router.metadata.namespace)?.status?.interfaces?.find((i) => i.subnet === subnet.metadata.name);
    const net = api.dir.networkOfSubnet(subnet);
    const project = api.dir.projectIdOf(router.metadata.namespace);
    return { id: idOf(router), subnet_id: idOf(subnet), subnet_ids: [idOf(subnet)], port_id: port ? idOf(port) : (s?.portId ?? ''), network_id: net ? idOf(net) : '', tenant_id: project, project_id: project, tags: [] };
  };
  /** The leg the body names: a subnet_id, or a port_id (exactly one). */
  const legOf = (auth: NetAuth, router: Router, b: Record<string, unknown>): { subnet: Subnet; port?: Port } => {
    if (b.port_id && b.subnet_id) throw badRequest('Bad router request: Cannot specify both subnet-id and port-id.');
    if (typeof b.port_id === 'string') {
      const port = visiblePort(api, auth, b.port_id);
      if (port.metadata.namespace !== router.metadata.namespace) throw notFound('PortNotFound', `Port ${b.port_id} could not be found.`);
      const fixed = port.status?.fixedIPs?.[0];
      const subnet = fixed?.subnet ? api.dir.subnets.get(fixed.subnet, port.spec.networkNamespace ?? port.metadata.namespace) : undefined;
      if (!subnet) throw badRequest('Bad router request: Router port must have at least one fixed IP.');
      return { subnet, port };
    }
    if (typeof b.subnet_id !== 'string') throw badRequest('Bad router request: Either subnet_id or port_id must be specified.');
    return { subnet: visibleSubnet(api, auth, b.subnet_id) };
  };
  const settleWrite = async (written: Router) => {
    let outcome: ReturnType<typeof settled>;
    // The cached router counts once it is this write or later: an older Ready says nothing of the new interface.
    await api.dir.routers.untilWritten(written, (o) => (outcome = settled(o)) !== undefined, 30_000);
    if (outcome instanceof Error) throw outcome;
  };
  /**
   * Writes the router's interfaces as `change` makes them from its current ones, under its resourceVersion:
   * a status write or another interface change meanwhile makes it read the router again and decide anew.
   */
  const writeInterfaces = async (router: Router, change: (current: Interface[]) => Interface[]): Promise<Router> => {
    let current = router;
    for (let attempt = 0; ; attempt++) {
      try {
        return await api.client.patch<Router>(ROUTERS, current.metadata.namespace, current.metadata.name, { metadata: { resourceVersion: current.metadata.resourceVersion }, spec: { interfaces: change(current.spec.interfaces ?? []) } }, API_FIELD_MANAGER);
      } catch (e) {
        if (!isConflict(e) || attempt >= 10) fromKubernetes(e, 'router');
        current = (await api.client.get<Router>(ROUTERS, router.metadata.namespace, router.metadata.name)) ?? current;
      }
    }
  };

  rt.on('PUT', '/v2.0/routers/:id/add_router_interface', async ({ auth, params, body }) => {
    const router = visibleRouter(api, auth, params.id);
    const { subnet, port } = legOf(auth, router, (body ?? {}) as Record<string, unknown>);
    if (subnet.metadata.namespace !== router.metadata.namespace) throw notFound('SubnetNotFound', `Subnet ${idOf(subnet)} could not be found.`);
    const legs: Interface[] = router.spec.interfaces ?? [];
    const joined = legs.map((i) => subnetOfLeg(router, i));
    if (joined.includes(subnet.metadata.name)) throw badRequest(`Bad router request: Router already has a port on subnet ${idOf(subnet)}.`);
    const problem = interfacesProblem([...joined.map((n) => (n ? api.dir.subnets.get(n, router.metadata.namespace) : undefined)).filter((s): s is Subnet => !!s), subnet]);
    if (problem) throw badRequest(problem);
    if (port?.spec.deviceId) throw conflict('PortInUse', `Unable to complete operation on port ${idOf(port)} for network ${port.status?.networkId ?? ''}. Port already has an attached device ${port.spec.deviceId}.`);
    if (!port) {
      const holder = Object.entries(subnet.status?.allocations ?? {}).find(([ip]) => ip === subnet.status?.gatewayIP);
      if (holder) throw conflict('IpAddressInUse', `Unable to complete operation for network ${api.dir.networkOfSubnet(subnet) ? idOf(api.dir.networkOfSubnet(subnet)!) : ''}. The IP address ${holder[0]} is in use.`);
    }
    const written = await writeInterfaces(router, (current) => [...current, port ? { port: port.metadata.name } : { subnet: subnet.metadata.name }]);
    await settleWrite(written);
    return { status: 200, body: interfaceInfo(written, subnet, port) };
  });

  rt.on('PUT', '/v2.0/routers/:id/remove_router_interface', async ({ auth, params, body }) => {
    const router = visibleRouter(api, auth, params.id);
    const b = (body ?? {}) as Record<string, unknown>;
    const legs: Interface[] = router.spec.interfaces ?? [];
    const leg = typeof b.port_id === 'string' ? legs.find((i) => portOfLeg(router, i)?.metadata.uid === b.port_id) : typeof b.subnet_id === 'string' ? legs.find((i) => { const sn = subnetOfLeg(router, i); return !!sn && api.dir.subnets.get(sn, router.metadata.namespace)?.metadata.uid === b.subnet_id; }) : undefined;
    if (!b.port_id && !b.subnet_id) throw badRequest('Bad router request: Either subnet_id or port_id must be specified.');
    if (!leg) throw notFound(b.port_id ? 'RouterInterfaceNotFound' : 'RouterInterfaceNotFoundForSubnet', b.port_id ? `Router ${params.id} does not have an interface with id ${String(b.port_id)}` : `Router ${params.id} has no interface on subnet ${String(b.subnet_id)}`);
    const subnetName = subnetOfLeg(router, leg);
    const subnet = subnetName ? api.dir.subnets.get(subnetName, router.metadata.namespace) : undefined;
    const port = portOfLeg(router, leg);
    const info = subnet ? interfaceInfo(router, subnet, port) : { id: idOf(router), port_id: port ? idOf(port) : '' };
    const written = await writeInterfaces(router, (current) => current.filter((i) => !(i.subnet === leg.subnet && i.port === leg.port)));
    await api.dir.routers.seen(written);
    // Answered once the interface's port is on its way out, as Neutron answers once it is gone: the subnet is then free.
    if (port) await api.dir.ports.until(port, (o) => !o || isDeleting(o), 30_000);
    return { status: 200, body: info };
  });
}
