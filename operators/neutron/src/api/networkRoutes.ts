/** Networks and subnets: /v2.0/networks and /v2.0/subnets. */
import { isDeleting } from '@stratus/runtime';
import { IpamError, allocationPoolsOf, firstFreeBlock, gatewayOf, hostRoutesProblem, parseCidr } from '../ipam.js';
import { KeyedLock, isNotFound } from '@stratus/runtime';
import { visiblePool } from './subnetPoolRoutes.js';

/** One allocation from a subnet pool at a time in this process, so two subnets cannot take one block. */
const poolLock = new KeyedLock();
import { FLOATING_IPS, FLOATING_IP_OWNER, NETWORKS, SUBNETS, idOf, type Network, type Subnet } from '../resources.js';
import { subnetProblem } from '../reconcilers.js';
import { API_FIELD_MANAGER, withBulk, bool, createAndSettle, fromKubernetes, listFilter, newObjectName, onlyKnown, modifiable, owns, refusal, resourceBody, str, targetNamespace, type NetApi, type NetAuth, type NetRouter } from './context.js';
import { withinQuota } from './quotaRoutes.js';
import { badRequest, conflict, forbidden, invalidInput, notFound } from './errors.js';
import { networkView, pick, subnetView } from './views.js';

const NETWORK_FIELDS = ['name', 'description', 'admin_state_up', 'shared', 'router:external', 'mtu', 'tenant_id', 'project_id', 'port_security_enabled', 'availability_zone_hints', 'provider:network_type', 'provider:physical_network', 'provider:segmentation_id', 'dns_domain', 'qos_policy_id', 'is_default'];
const SUBNET_FIELDS = ['name', 'description', 'network_id', 'ip_version', 'cidr', 'gateway_ip', 'allocation_pools', 'dns_nameservers', 'host_routes', 'enable_dhcp', 'tenant_id', 'project_id', 'ipv6_ra_mode', 'ipv6_address_mode', 'subnetpool_id', 'prefixlen', 'service_types', 'segment_id', 'use_default_subnetpool', 'dns_publish_fixed_ip'];

/** A network the caller may see: its own, a shared or external one, or any for admins. */
export function visibleNetwork(api: NetApi, auth: NetAuth, id: string): Network {
  const n = api.dir.networks.byId(id);
  if (!n || !(owns(auth, n) || n.spec.shared || n.spec.external)) throw notFound('NetworkNotFound', `Network ${id} could not be found.`);
  return n;
}

export function visibleSubnet(api: NetApi, auth: NetAuth, id: string): Subnet {
  const s = api.dir.subnets.byId(id);
  const net = s && api.dir.networkOfSubnet(s);
  // An external network is visible to all, its subnets only to its owner (unless it is shared), as in Neutron.
  if (!s || !(owns(auth, s) || net?.spec.shared)) throw notFound('SubnetNotFound', `Subnet ${id} could not be found.`);
  return s;
}

const ownedNetwork = (api: NetApi, auth: NetAuth, id: string): Network => modifiable(auth, visibleNetwork(api, auth, id), 'network', id);

/** Host routes from the API's body, checked. */
function hostRoutesOf(raw: unknown[]): Array<{ destination: string; nexthop: string }> {
  const problem = hostRoutesProblem(raw as Array<{ destination?: unknown; nexthop?: unknown }>);
  if (problem) throw badRequest(`Invalid input for host_routes. Reason: ${problem}.`);
  return (raw as Array<{ destination: string; nexthop: string }>).map((r) => ({ destination: String(r.destination), nexthop: String(r.nexthop) }));
}

const settled = (o: Network | Subnet) => {
  const r = refusal(o);
  if (r) return r.reason === 'OverlappingSubnet' ? invalidInput(r.message) : badRequest(r.message);
  return o.status?.phase === 'ACTIVE' || o.status?.phase === 'DOWN' ? ('ok' as const) : undefined;
};

export function networkRoutes(r: NetRouter, api: NetApi): void {
  r.on('GET', '/v2.0/networks', ({ auth, query }) => {
    const { matches, fields } = listFilter(query);
    const views = api.dir.networks.list().filter((n) => owns(auth, n) || n.spec.shared || n.spec.external).map((n) => networkView(n, api.dir));
    return { status: 200, body: { networks: views.filter(matches).map((v) => pick(v, fields)) } };
  });
  r.on('GET', '/v2.0/networks/:id', ({ auth, params, query }) => ({ status: 200, body: { network: pick(networkView(visibleNetwork(api, auth, params.id), api.dir), query.getAll('fields')) } }));

  const removeNetwork = async (id: string) => {
    const n = api.dir.networks.byId(id);
    if (n) await api.client.delete(NETWORKS, n.metadata.namespace, n.metadata.name);
  };
  r.on('POST', '/v2.0/networks', withBulk('network', 'networks', removeNetwork, async ({ auth, body }) => {
    const n = resourceBody(body, 'network');
    onlyKnown(n, NETWORK_FIELDS, 'network');
    const ns = targetNamespace(api, auth, n);
    const external = bool(n['router:external'], 'router:external');
    const shared = bool(n.shared, 'shared');
    if ((external || shared) && !auth.admin) throw forbidden(`(rule:create_network:${external ? 'router:external' : 'shared'}) is disallowed by policy`);
    const mtu = n.mtu === undefined ? undefined : Number(n.mtu);
    if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < 68 || mtu > 1442)) throw invalidInput(`Requested MTU is too big, maximum is 1442.`);
    const name = str(n.name, 'name');
    const made = await withinQuota(api, ns, 'network', 1, () =>
      createAndSettle<Network>(
        api,
        NETWORKS,
        api.dir.networks,
        {
          apiVersion: 'network.stratus.io/v1alpha1',
          kind: 'Network',
          metadata: { name: newObjectName(api.dir.networks, ns, name, 'network'), namespace: ns },
          spec: { displayName: name ?? '', ...(str(n.description, 'description') ? { description: String(n.description) } : {}), ...(shared !== undefined ? { shared } : {}), ...(external !== undefined ? { external } : {}), ...(mtu ? { mtu } : {}), ...(n.admin_state_up !== undefined ? { adminStateUp: bool(n.admin_state_up, 'admin_state_up') } : {}) },
        } as Network,
        settled,
        'network',
      ),
    );
    return { status: 201, body: { network: networkView(made, api.dir) } };
  }));

  r.on('PUT', '/v2.0/networks/:id', async ({ auth, params, body }) => {
    const n = ownedNetwork(api, auth, params.id);
    const u = resourceBody(body, 'network');
    onlyKnown(u, ['name', 'description', 'admin_state_up', 'shared', 'router:external', 'mtu', 'port_security_enabled', 'qos_policy_id', 'dns_domain', 'is_default'], 'network');
    if ((u.shared !== undefined || u['router:external'] !== undefined) && !auth.admin) throw forbidden('(rule:update_network:shared) is disallowed by policy');
    const spec: Record<string, unknown> = {};
    if (u.name !== undefined) spec.displayName = str(u.name, 'name') ?? '';
    if (u.description !== undefined) spec.description = str(u.description, 'description') ?? '';
    if (u.admin_state_up !== undefined) spec.adminStateUp = bool(u.admin_state_up, 'admin_state_up');
    if (u.shared !== undefined) spec.shared = bool(u.shared, 'shared');
    if (u['router:external'] !== undefined) spec.external = bool(u['router:external'], 'router:external');
    const written = await api.client.patch<Network>(NETWORKS, n.metadata.namespace, n.metadata.name, { spec }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'network'));
    await api.dir.networks.seen(written);
    return { status: 200, body: { network: networkView(api.dir.networks.get(n.metadata.name, n.metadata.namespace) ?? written, api.dir) } };
  });

  r.on('DELETE', '/v2.0/networks/:id', async ({ auth, params }) => {
    const n = ownedNetwork(api, auth, params.id);
    // Floating IPs of it that no port holds go with it, as Neutron deletes them (their own ports too).
    const freeFloatingIPs = api.dir.floatingIPs.list().filter((f) => !f.spec.port && api.dir.networkOfFloatingIP(f) === n);
    const goingWith = new Set(freeFloatingIPs.map(idOf));
    // Its own DHCP ports go with it; a server's port, a router's interface or a held floating IP keeps it in use.
    const inUse = api.dir.ports.list().filter((p) => api.dir.networkOfPort(p) === n && p.spec.deviceOwner !== 'network:dhcp' && !(p.spec.deviceOwner === FLOATING_IP_OWNER && goingWith.has(p.spec.deviceId ?? '')));
    if (inUse.length) throw conflict('NetworkInUse', `Unable to complete operation on network ${params.id}. There are one or more ports still in use on the network.`);
    for (const f of freeFloatingIPs)
      await api.client.delete(FLOATING_IPS, f.metadata.namespace, f.metadata.name).catch((e) => {
        if (!isNotFound(e)) fromKubernetes(e, 'floating IP');
      });
    for (const f of freeFloatingIPs) await api.dir.floatingIPs.until(f, (o) => !o || isDeleting(o));
    // Its subnets go with it at once, as Neutron deletes them in the same call.
    const subnets = api.dir.subnetsOf(n);
    for (const sub of subnets)
      await api.client.delete(SUBNETS, sub.metadata.namespace, sub.metadata.name).catch((e) => {
        if (!isNotFound(e)) fromKubernetes(e, 'subnet');
      });
    await api.client.delete(NETWORKS, n.metadata.namespace, n.metadata.name).catch((e) => fromKubernetes(e, 'network'));
    await api.dir.networks.until(n, (o) => !o || isDeleting(o));
    for (const sub of subnets) await api.dir.subnets.until(sub, (o) => !o || isDeleting(o));
    return { status: 204 };
  });

  r.on('GET', '/v2.0/subnets', ({ auth, query }) => {
    const { matches, fields } = listFilter(query);
    const views = api.dir.subnets
      .list()
      .filter((s) => owns(auth, s) || api.dir.networkOfSubnet(s)?.spec.shared)
      .map((s) => subnetView(s, api.dir));
    return { status: 200, body: { subnets: views.filter(matches).map((v) => pick(v, fields)) } };
  });
  r.on('GET', '/v2.0/subnets/:id', ({ auth, params, query }) => ({ status: 200, body: { subnet: pick(subnetView(visibleSubnet(api, auth, params.id), api.dir), query.getAll('fields')) } }));

  const removeSubnet = async (id: string) => {
    const sub = api.dir.subnets.byId(id);
    if (sub) await api.client.delete(SUBNETS, sub.metadata.namespace, sub.metadata.name);
  };
  r.on('POST', '/v2.0/subnets', withBulk('subnet', 'subnets', removeSubnet, async ({ auth, body }) => {
    const s = resourceBody(body, 'subnet');
    onlyKnown(s, SUBNET_FIELDS, 'subnet');
    if (typeof s.network_id !== 'string') throw badRequest("Failed to parse request. Required attribute 'network_id' not specified");
    if (s.cidr === undefined && !s.subnetpool_id) throw badRequest('Bad subnets request: a cidr must be specified in the absence of a subnet pool');
    const net = visibleNetwork(api, auth, s.network_id);
    if (!owns(auth, net)) throw forbidden(`Tenant ${auth.projectId} not allowed to create subnet on this network`);
    // From a pool: the first free block of the length asked for (or the pool's default), one allocation at a time.
    const pool = typeof s.subnetpool_id === 'string' ? visiblePool(api, auth, s.subnetpool_id) : undefined;
    const releasePool = pool ? await poolLock.acquire(`${pool.metadata.namespace}/${pool.metadata.name}`) : undefined;
    try {
      if (pool && s.cidr === undefined) {
        const length = s.prefixlen !== undefined ? Number(s.prefixlen) : (pool.spec.defaultPrefixLength ?? pool.spec.minPrefixLength);
        if (length === undefined || !Number.isInteger(length)) throw badRequest('Bad subnets request: prefixlen is required for this subnet pool.');
        if ((pool.spec.minPrefixLength !== undefined && length < pool.spec.minPrefixLength) || (pool.spec.maxPrefixLength !== undefined && length > pool.spec.maxPrefixLength)) throw badRequest(`Invalid input for operation: Illegal prefix bounds: prefixlen=${length}, min_prefixlen=${pool.spec.minPrefixLength}, max_prefixlen=${pool.spec.maxPrefixLength}.`);
        const taken = api.dir.subnets.list().filter((x) => (x.spec.subnetPool === pool.metadata.name && x.metadata.namespace === pool.metadata.namespace) || (x.metadata.namespace === net.metadata.namespace && x.spec.network === net.metadata.name)).map((x) => x.spec.cidr);
        const block = firstFreeBlock(pool.spec.prefixes, length, taken);
        if (!block) throw conflict('SubnetAllocationError', `Failed to allocate subnet: Insufficient prefix space to allocate subnet size /${length}.`);
        s.cidr = block;
      }
      const ipVersion = s.ip_version === undefined ? 4 : Number(s.ip_version);
      if (ipVersion !== 4 && ipVersion !== 6) throw badRequest(`Invalid input for ip_version. Reason: '${String(s.ip_version)}' is not in [4, 6].`);
      const name = str(s.name, 'name');
      const spec: Subnet['spec'] = {
        network: net.metadata.name,
        cidr: String(s.cidr),
        ipVersion: ipVersion as 4 | 6,
        ...(name !== undefined ? { displayName: name } : {}),
        ...(s.description !== undefined ? { description: str(s.description, 'description') } : {}),
        ...(s.gateway_ip === null ? { gatewayIP: 'none' } : s.gateway_ip !== undefined ? { gatewayIP: String(s.gateway_ip) } : {}),
        ...(Array.isArray(s.allocation_pools) && s.allocation_pools.length ? { allocationPools: s.allocation_pools as Subnet['spec']['allocationPools'] } : {}),
        ...(Array.isArray(s.dns_nameservers) ? { dnsNameservers: s.dns_nameservers.map(String) } : {}),
        ...(Array.isArray(s.host_routes) && s.host_routes.length ? { hostRoutes: hostRoutesOf(s.host_routes) } : {}),
        ...(s.enable_dhcp !== undefined ? { enableDHCP: bool(s.enable_dhcp, 'enable_dhcp') } : {}),
        ...(pool ? { subnetPool: pool.metadata.name } : {}),
      };
      // Checked here as the reconciler checks it, so that a refusal is a 400 and nothing is made.
      try {
        parseCidr(spec.cidr);
        gatewayOf(spec);
        allocationPoolsOf(spec);
      } catch (e) {
        if (e instanceof IpamError) throw invalidInput(e.message);
        throw e;
      }
      const draft = { metadata: { name: '', namespace: net.metadata.namespace, uid: 'new', creationTimestamp: new Date(Date.now() + 1000) }, spec } as Subnet;
      const problem = subnetProblem(draft, api.dir.subnets.list(net.metadata.namespace));
      if (problem?.reason === 'OverlappingSubnet') throw invalidInput(`Requested subnet with cidr: ${spec.cidr} for network: ${idOf(net)} overlaps with another subnet`);
      if (problem) throw invalidInput(problem.message);
      const made = await withinQuota(api, net.metadata.namespace!, 'subnet', 1, () =>
        createAndSettle<Subnet>(
          api,
          SUBNETS,
          api.dir.subnets,
          { apiVersion: 'network.stratus.io/v1alpha1', kind: 'Subnet', metadata: { name: newObjectName(api.dir.subnets, net.metadata.namespace!, name, 'subnet'), namespace: net.metadata.namespace }, spec } as Subnet,
          settled,
          'subnet',
        ),
      );
      return { status: 201, body: { subnet: subnetView(made, api.dir) } };
    } finally {
      releasePool?.();
    }
  }));

  r.on('PUT', '/v2.0/subnets/:id', async ({ auth, params, body }) => {
    const s = modifiable(auth, visibleSubnet(api, auth, params.id), 'subnet', params.id);
    const u = resourceBody(body, 'subnet');
    onlyKnown(u, ['name', 'description', 'gateway_ip', 'dns_nameservers', 'enable_dhcp', 'allocation_pools', 'host_routes', 'service_types', 'segment_id', 'dns_publish_fixed_ip'], 'subnet');
    const spec: Record<string, unknown> = {};
    if (u.name !== undefined) spec.displayName = str(u.name, 'name') ?? '';
    if (u.description !== undefined) spec.description = str(u.description, 'description') ?? '';
    if (u.gateway_ip !== undefined) spec.gatewayIP = u.gateway_ip === null ? 'none' : String(u.gateway_ip);
    if (u.dns_nameservers !== undefined) spec.dnsNameservers = (u.dns_nameservers as unknown[]).map(String);
    if (u.host_routes !== undefined) spec.hostRoutes = Array.isArray(u.host_routes) ? hostRoutesOf(u.host_routes) : null;
    if (u.enable_dhcp !== undefined) spec.enableDHCP = bool(u.enable_dhcp, 'enable_dhcp');
    if (u.allocation_pools !== undefined) spec.allocationPools = u.allocation_pools;
    try {
      gatewayOf({ ...s.spec, ...spec } as Subnet['spec']);
      allocationPoolsOf({ ...s.spec, ...spec } as Subnet['spec']);
    } catch (e) {
      if (e instanceof IpamError) throw invalidInput(e.message);
      throw e;
    }
    const written = await api.client.patch<Subnet>(SUBNETS, s.metadata.namespace, s.metadata.name, { spec }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'subnet'));
    await api.dir.subnets.seen(written);
    return { status: 200, body: { subnet: subnetView(api.dir.subnets.get(s.metadata.name, s.metadata.namespace) ?? written, api.dir) } };
  });

  r.on('DELETE', '/v2.0/subnets/:id', async ({ auth, params }) => {
    const s = visibleSubnet(api, auth, params.id);
    if (!owns(auth, s)) throw forbidden(`Tenant ${auth.projectId} not allowed to delete subnet ${params.id}`);
    // A port being deleted gives its address back on its way out: only live ones keep the subnet in use.
    const holders = Object.values(s.status?.allocations ?? {}).filter((key) => {
      const [ns, name] = key.split('/');
      const holder = api.dir.ports.get(name, ns);
      return holder && !isDeleting(holder) && holder.spec.deviceOwner !== 'network:dhcp';
    });
    if (holders.length) throw conflict('SubnetInUse', `Unable to complete operation on subnet ${params.id}: One or more ports have an IP allocation from this subnet (${holders.slice(0, 3).join(', ')}).`);
    await api.client.delete(SUBNETS, s.metadata.namespace, s.metadata.name).catch((e) => fromKubernetes(e, 'subnet'));
    await api.dir.subnets.until(s, (o) => !o || isDeleting(o));
    return { status: 204 };
  });
}
