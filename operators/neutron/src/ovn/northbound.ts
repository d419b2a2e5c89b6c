/**
 * The OVN mechanism, pure part (Neutron's ML2/OVN driver and its maintenance task in one shape): the
 * northbound rows the resources call for, and the OVSDB operations that turn what NB holds into them.
 * Networks become Logical_Switches, ports Logical_Switch_Ports with addresses and port security, subnets
 * with DHCP on DHCP_Options. Rows Stratus made carry `stratus:owner` in external_ids; those the resources no
 * longer call for are removed, and rows without the mark are never touched.
 */
import { asList, asMap, asOptional, map, namedUuid, set, uuid, type Row } from '../ovsdb/values.js';
import { portSecurityOf } from '../addressPairs.js';
import { ovnDhcpOptionsOf, portDhcpOptions } from '../dhcpOptions.js';
import { gatewayOf, networkOfPrefix } from '../ipam.js';
import { FLOATING_IP_OWNER, PHYSICAL_NETWORK, ROUTER_GATEWAY_OWNER, idOf, isRouterLeg, keyOf, macOf, mtuOf, portNetworkNamespace, securityGroupsOf, type FloatingIP, type Network, type Port, type Router, type SecurityGroup, type Subnet } from '../resources.js';
import { ALLOW_PRIORITY, DROP_PORT_GROUP, DROP_PRIORITY, aclMatch, portGroupNameOf, ruleIdOf } from '../securityGroups.js';

export const OWNER_KEY = 'stratus:owner';
export const NB_TABLES = {
  Logical_Switch: ['name', 'ports', 'external_ids', 'other_config'],
  Logical_Switch_Port: ['name', 'addresses', 'port_security', 'dhcpv4_options', 'enabled', 'external_ids', 'up', 'type', 'options'],
  DHCP_Options: ['cidr', 'options', 'external_ids'],
  Port_Group: ['name', 'ports', 'acls', 'external_ids'],
  ACL: ['direction', 'priority', 'match', 'action', 'external_ids'],
  Logical_Router: ['name', 'ports', 'external_ids', 'enabled', 'static_routes', 'nat'],
  Logical_Router_Port: ['name', 'mac', 'networks', 'external_ids', 'gateway_chassis'],
  Logical_Router_Static_Route: ['ip_prefix', 'nexthop'],
  NAT: ['type', 'logical_ip', 'external_ip', 'external_ids'],
  Gateway_Chassis: ['name', 'chassis_name', 'priority'],
};

export interface DesiredSwitch {
  name: string;
  external_ids: Record<string, string>;
  other_config: Record<string, string>;
}
export interface DesiredSwitchPort {
  name: string;
  switch: string;
  addresses: string[];
  port_security: string[];
  enabled: boolean;
  /** The DHCP_Options row (its key) the port answers with: its subnet's, or its own with extra options. */
  dhcp?: string;
  /** 'router' for a router's port on the switch (patched to its router port); '' for a guest's. */
  type?: string;
  options?: Record<string, string>;
  external_ids: Record<string, string>;
}
export interface DesiredRouterPort {
  name: string;
  mac: string;
  networks: string[];
  /** The chassis that carries a gateway port (its NAT and its address on the external network). */
  gatewayChassis?: string;
  external_ids: Record<string, string>;
}
export interface DesiredNat {
  type: 'snat' | 'dnat_and_snat';
  logical_ip: string;
  external_ip: string;
  external_ids: Record<string, string>;
}
export interface DesiredRouter {
  name: string;
  ports: DesiredRouterPort[];
  enabled: boolean;
  routes: Array<{ ip_prefix: string; nexthop: string }>;
  nat: DesiredNat[];
  external_ids: Record<string, string>;
}
export interface DesiredDhcp {
  /** The subnet's ID; `<subnet ID>/<port ID>` for a port's own row (its extra DHCP options). */
  key: string;
  cidr: string;
  options: Record<string, string>;
  external_ids: Record<string, string>;
}
export interface DesiredAcl {
  direction: 'to-lport' | 'from-lport';
  priority: number;
  match: string;
  action: 'allow-related' | 'drop';
  external_ids: Record<string, string>;
}
export interface DesiredPortGroup {
  name: string;
  /** Member ports, by their logical switch port names (port IDs). */
  ports: string[];
  /** 'keep': the group's rules were refused (a bad edit): the ACLs last made stay as they are. */
  acls: DesiredAcl[] | 'keep';
  external_ids: Record<string, string>;
}
export interface DesiredNorthbound {
  switches: DesiredSwitch[];
  ports: DesiredSwitchPort[];
  dhcp: DesiredDhcp[];
  portGroups: DesiredPortGroup[];
  routers: DesiredRouter[];
}

export const switchNameOf = (networkId: string) => `neutron-${networkId}`;
export const routerNameOf = (routerId: string) => `neutron-${routerId}`;
export const routerPortNameOf = (portId: string) => `lrp-${portId}`;
const live = <T extends { metadata: { deletionTimestamp?: unknown } }>(items: T[]) => items.filter((i) => !i.metadata.deletionTimestamp);

/** A MAC for a subnet's DHCP server, made from its ID: the same on every sync. */
function serverMacOf(subnetId: string): string {
  const hex = subnetId.replace(/-/g, '');
  return ['fa', '16', '3e', hex.slice(0, 2), hex.slice(2, 4), hex.slice(4, 6)].join(':');
}

/**
 * The DHCP_Options row a port answers with: none with dhcp_disabled; its first DHCP subnet's, or, with extra
 * options of its own, a row of its own made from that subnet's (added to `rows`), as Neutron's OVN driver does.
 */
function dhcpRowOf(p: Port, bySubnet: Map<string, DesiredDhcp>, rows: DesiredDhcp[]): string | undefined {
  const subnet = (p.status?.fixedIPs ?? []).map((f) => f.subnetId && bySubnet.get(f.subnetId)).find((d): d is DesiredDhcp => !!d);
  const own = ovnDhcpOptionsOf(p.spec.extraDHCPOptions);
  if (!subnet || own === 'disabled') return undefined;
  const options = portDhcpOptions(subnet.options, own);
  if (!options) return subnet.key;
  const key = `${subnet.key}/${idOf(p)}`;
  rows.push({ key, cidr: subnet.cidr, options, external_ids: { [OWNER_KEY]: keyOf(p), subnet_id: subnet.key, port_id: idOf(p) } });
  return key;
}

/** The NB rows the live resources call for. */
export function desiredNorthbound(networks: Network[], subnets: Subnet[], ports: Port[], securityGroups: SecurityGroup[] = [], routers: Router[] = [], floatingIPs: FloatingIP[] = [], gatewayChassis?: string): DesiredNorthbound {
  const nets = new Map(live(networks).map((n) => [keyOf(n), n]));
  const switches = [...nets.values()].map((n) => ({
    name: switchNameOf(idOf(n)),
    external_ids: { [OWNER_KEY]: keyOf(n), 'neutron:network_name': n.spec.displayName ?? n.metadata.name, 'neutron:mtu': String(mtuOf(n)) },
    other_config: { mcast_snoop: 'false' },
  }));
  const dhcp: DesiredDhcp[] = [];
  const subnetsById = new Map<string, Subnet>();
  for (const s of live(subnets)) {
    const net = nets.get(`${s.metadata.namespace}/${s.spec.network}`);
    if (!net || !s.status?.id) continue; // not accepted (yet) by its reconciler
    subnetsById.set(idOf(s), s);
    if (s.spec.enableDHCP === false || (s.spec.ipVersion ?? 4) !== 4) continue;
    const gw = gatewayOf(s.spec);
    const options: Record<string, string> = { lease_time: '43200', mtu: String(mtuOf(net)), server_mac: serverMacOf(idOf(s)) };
    // OVN's DHCP server speaks from the gateway's address; a subnet without one answers from its last address.
    options.server_id = gw ?? s.status.gatewayIP ?? '';
    if (gw) options.router = gw;
    if (s.spec.dnsNameservers?.length) options.dns_server = `{${s.spec.dnsNameservers.join(', ')}}`;
    // Host routes as option 121; a client that takes it ignores the router option, so the default route goes with them.
    if (s.spec.hostRoutes?.length) options.classless_static_route = `{${[...s.spec.hostRoutes.map((r) => `${r.destination},${r.nexthop}`), ...(gw ? [`0.0.0.0/0,${gw}`] : [])].join(', ')}}`;
    if (!options.server_id) continue;
    dhcp.push({ key: idOf(s), cidr: s.spec.cidr, options, external_ids: { [OWNER_KEY]: keyOf(s), subnet_id: idOf(s) } });
  }
  const dhcpBySubnet = new Map(dhcp.map((d) => [d.key, d]));
  const out: DesiredSwitchPort[] = [];
  for (const p of live(ports)) {
    const net = nets.get(`${portNetworkNamespace(p)}/${p.spec.network}`);
    if (!net || !p.status?.macAddress || p.spec.deviceOwner === FLOATING_IP_OWNER) continue; // a floating IP's port only holds its address
    const ips = (p.status.fixedIPs ?? []).map((f) => f.ipAddress).filter((ip): ip is string => !!ip);
    const address = [macOf(p), ...ips].join(' ');
    const v4Dhcp = dhcpRowOf(p, dhcpBySubnet, dhcp);
    if (isRouterLeg(p)) {
      // A router's leg on the switch: patched to its router port, no addresses of its own to secure.
      out.push({ name: idOf(p), switch: switchNameOf(idOf(net)), addresses: ['router'], port_security: [], enabled: true, type: 'router', options: { 'router-port': routerPortNameOf(idOf(p)) }, external_ids: { [OWNER_KEY]: keyOf(p), 'neutron:device_owner': p.spec.deviceOwner!, 'neutron:device_id': p.spec.deviceId ?? '' } });
      continue;
    }
    const secured = p.spec.portSecurityEnabled !== false ? portSecurityOf(macOf(p), ips, p.spec.allowedAddressPairs) : undefined;
    out.push({
      name: idOf(p),
      switch: switchNameOf(idOf(net)),
      addresses: [address, ...(secured?.extraMacs ?? [])],
      port_security: secured?.portSecurity ?? [],
      enabled: p.spec.adminStateUp !== false,
      ...(v4Dhcp ? { dhcp: v4Dhcp } : {}),
      external_ids: { [OWNER_KEY]: keyOf(p), 'neutron:device_owner': p.spec.deviceOwner ?? '', 'neutron:device_id': p.spec.deviceId ?? '', 'neutron:port_name': p.spec.displayName ?? '' },
    });
  }
  // An external network reaches the node's provider bridge through a localnet port.
  for (const n of nets.values())
    if (n.spec.external) out.push({ name: `provnet-${idOf(n)}`, switch: switchNameOf(idOf(n)), addresses: ['unknown'], port_security: [], enabled: true, type: 'localnet', options: { network_name: PHYSICAL_NETWORK }, external_ids: { [OWNER_KEY]: keyOf(n) } });
  const switchPortNames = new Set(out.map((o) => o.name));
  const guestPorts = live(ports).filter((p) => !isRouterLeg(p) && switchPortNames.has(idOf(p)));
  return { switches, ports: out, dhcp, portGroups: desiredPortGroups(guestPorts, live(securityGroups)), routers: desiredRouters(live(routers), live(ports), subnetsById, live(floatingIPs), gatewayChassis) };
}

/**
 * A logical router per accepted Router: a router port for each of its legs that has its address (the gateway's
 * on the gateway chassis), a default route out through the external subnet's gateway, SNAT for the subnets it
 * joins, and DNAT/SNAT for the floating IPs it translates.
 */
function desiredRouters(routers: Router[], ports: Port[], subnetsById: Map<string, Subnet>, floatingIPs: FloatingIP[], gatewayChassis?: string): DesiredRouter[] {
  const cidrOf = (subnetId?: string) => (subnetId ? subnetsById.get(subnetId)?.spec.cidr : undefined);
  return routers
    .filter((r) => r.status?.id)
    .map((r) => {
      const legs = ports.filter((p) => isRouterLeg(p) && p.spec.deviceId === idOf(r) && p.status?.macAddress && p.status.fixedIPs?.length);
      const gateway = legs.find((p) => p.spec.deviceOwner === ROUTER_GATEWAY_OWNER);
      const gatewayIP = gateway?.status?.fixedIPs?.[0];
      const gatewaySubnet = gatewayIP?.subnetId ? subnetsById.get(gatewayIP.subnetId) : undefined;
      const nextHop = gatewaySubnet?.status?.gatewayIP;
      const nat: DesiredNat[] = [];
      if (gatewayIP?.ipAddress && r.spec.externalGateway?.enableSNAT !== false)
        for (const leg of legs.filter((p) => p !== gateway))
          for (const f of leg.status!.fixedIPs!) {
            const cidr = cidrOf(f.subnetId);
            if (cidr && !cidr.includes(':')) nat.push({ type: 'snat', logical_ip: cidr, external_ip: gatewayIP.ipAddress, external_ids: { [OWNER_KEY]: keyOf(r) } });
          }
      if (gateway)
        for (const fip of floatingIPs.filter((f) => f.status?.routerId === idOf(r) && f.status.floatingIPAddress && f.status.fixedIPAddress))
          nat.push({ type: 'dnat_and_snat', logical_ip: fip.status!.fixedIPAddress!, external_ip: fip.status!.floatingIPAddress!, external_ids: { [OWNER_KEY]: keyOf(fip), 'neutron:fip_id': idOf(fip) } });
      return {
        name: routerNameOf(idOf(r)),
        enabled: r.spec.adminStateUp !== false,
        external_ids: { [OWNER_KEY]: keyOf(r), 'neutron:router_name': r.spec.displayName ?? r.metadata.name },
        routes: [...(gateway && nextHop ? [{ ip_prefix: '0.0.0.0/0', nexthop: nextHop }] : []), ...(r.spec.routes ?? []).map((x) => ({ ip_prefix: networkOfPrefix(x.destination), nexthop: x.nexthop }))],
        nat,
        ports: legs.map((p) => ({
          name: routerPortNameOf(idOf(p)),
          mac: macOf(p),
          networks: p.status!.fixedIPs!.filter((f) => f.ipAddress && cidrOf(f.subnetId)).map((f) => `${f.ipAddress}/${cidrOf(f.subnetId)!.split('/')[1]}`),
          ...(p === gateway && gatewayChassis ? { gatewayChassis } : {}),
          external_ids: { [OWNER_KEY]: keyOf(p), 'neutron:subnet_ids': p.status!.fixedIPs!.map((f) => f.subnetId).join(' ') },
        })),
      };
    });
}

/**
 * The port groups: one per accepted security group, its rules as allow-related ACLs, its members the ports
 * naming it; and the drop group every port with port security is in, so that what no rule allows is dropped.
 */
function desiredPortGroups(ports: Port[], groups: SecurityGroup[]): DesiredPortGroup[] {
  const accepted = groups.filter((g) => g.status?.id);
  const pgOf = new Map(accepted.map((g) => [keyOf(g), portGroupNameOf(idOf(g))]));
  const drop: DesiredPortGroup = {
    name: DROP_PORT_GROUP,
    ports: ports.filter((p) => p.spec.portSecurityEnabled !== false).map(idOf),
    acls: (['from-lport', 'to-lport'] as const).map((direction) => ({ direction, priority: DROP_PRIORITY, match: `${direction === 'from-lport' ? 'inport' : 'outport'} == @${DROP_PORT_GROUP} && ip`, action: 'drop', external_ids: {} })),
    external_ids: { [OWNER_KEY]: 'stratus' },
  };
  const byGroup = accepted.map((g) => {
    const pg = pgOf.get(keyOf(g))!;
    const acls: DesiredAcl[] | 'keep' = g.status?.phase !== 'ACTIVE' ? 'keep' : (g.spec.rules ?? []).flatMap((rule) => {
      const remote = rule.remoteGroup ? pgOf.get(`${g.metadata.namespace}/${rule.remoteGroup}`) : undefined;
      // A rule whose remote group is gone (or not accepted yet) lets nothing in: without its group it would match everyone.
      if (rule.remoteGroup && !remote) return [];
      return [{ direction: rule.direction === 'ingress' ? 'to-lport' : 'from-lport', priority: ALLOW_PRIORITY, match: aclMatch(pg, rule, remote), action: 'allow-related', external_ids: { 'neutron:security_group_rule_id': ruleIdOf(idOf(g), rule) } }] as DesiredAcl[];
    });
    const members = ports.filter((p) => p.metadata.namespace === g.metadata.namespace && securityGroupsOf(p).includes(g.metadata.name)).map(idOf);
    return { name: pg, ports: members, acls, external_ids: { [OWNER_KEY]: keyOf(g), 'neutron:security_group_id': idOf(g) } };
  });
  return [drop, ...byGroup];
}

/** What NB holds now, as the monitor copied it. */
export interface NorthboundRows {
  switches: Row[];
  switchPorts: Row[];
  dhcp: Row[];
  portGroups?: Row[];
  acls?: Row[];
  routers?: Row[];
  routerPorts?: Row[];
  staticRoutes?: Row[];
  nats?: Row[];
}

// Every sync compares each row NB holds with the one wanted, so these stay cheap: no sorting or JSON where a
// length and a lookup tell.
function sameSet(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const sortedB = [...b].sort();
  return [...a].sort().every((x, i) => x === sortedB[i]);
}
function sameMap(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}
const where = (id: string) => [['_uuid', '==', uuid(id)]];
const ours = (r: Row) => OWNER_KEY in asMap(r.external_ids);

/** The operations (one transaction) that make NB hold `want`, touching only what differs. [] when in sync. */
export function planNorthbound(want: DesiredNorthbound, have: NorthboundRows): object[] {
  const ops: object[] = [];
  // DHCP options, by subnet ID (and port ID, for a port's own).
  const dhcpRef = new Map<string, unknown>();
  const dhcpKeyOf = (r: Row) => {
    const ids = asMap(r.external_ids);
    return ids.port_id ? `${ids.subnet_id}/${ids.port_id}` : ids.subnet_id;
  };
  const haveDhcp = new Map(have.dhcp.filter(ours).map((r) => [dhcpKeyOf(r), r]));
  want.dhcp.forEach((d, i) => {
    const row = { cidr: d.cidr, options: map(d.options), external_ids: map(d.external_ids) };
    const cur = haveDhcp.get(d.key);
    haveDhcp.delete(d.key);
    if (!cur) {
      ops.push({ op: 'insert', table: 'DHCP_Options', row, 'uuid-name': `dhcp${i}` });
      dhcpRef.set(d.key, namedUuid(`dhcp${i}`));
      return;
    }
    dhcpRef.set(d.key, uuid(cur._uuid as string));
    if (cur.cidr !== d.cidr || !sameMap(asMap(cur.options), d.options) || !sameMap(asMap(cur.external_ids), d.external_ids)) ops.push({ op: 'update', table: 'DHCP_Options', where: where(cur._uuid as string), row });
  });

  // Which switch holds each existing port.

  const holder = new Map<string, Row>();
  for (const sw of have.switches) for (const id of asList(sw.ports)) holder.set(id, sw);
  const haveSwitches = new Map(have.switches.filter(ours).map((r) => [String(r.name), r]));
  const havePorts = new Map(have.switchPorts.filter((r) => ours(r) && holder.has(r._uuid as string)).map((r) => [String(r.name), r]));

  const lspRow = (p: DesiredSwitchPort) => ({
    name: p.name,
    addresses: set(p.addresses),
    port_security: set(p.port_security),
    enabled: p.enabled,
    dhcpv4_options: set(p.dhcp && dhcpRef.has(p.dhcp) ? [dhcpRef.get(p.dhcp)] : []),
    type: p.type ?? '',
    options: map(p.options ?? {}),
    external_ids: map(p.external_ids),
  });
  const newPorts = new Map<string, unknown[]>(); // switch name → named UUIDs of ports to add
  const lspRef = new Map<string, unknown>(); // port name → its row (uuid, or named-uuid when inserted now)
  want.ports.forEach((p, i) => {
    const cur = havePorts.get(p.name);
    const curSwitch = cur ? holder.get(cur._uuid as string) : undefined;
    if (cur && curSwitch?.name === p.switch) {
      havePorts.delete(p.name);
      lspRef.set(p.name, uuid(cur._uuid as string));
      const dhcpNow = asOptional(cur.dhcpv4_options);
      const dhcpWant = p.dhcp ? dhcpRef.get(p.dhcp) : undefined;
      const dhcpSame = dhcpWant === undefined ? dhcpNow === undefined : Array.isArray(dhcpWant) && dhcpWant[0] === 'uuid' && dhcpWant[1] === dhcpNow;
      const enabledNow = asList(cur.enabled)[0];
      if (!sameSet(asList(cur.addresses), p.addresses) || !sameSet(asList(cur.port_security), p.port_security) || !dhcpSame || String(enabledNow ?? 'true') !== String(p.enabled) || !sameMap(asMap(cur.external_ids), p.external_ids) || String(cur.type ?? '') !== (p.type ?? '') || !sameMap(asMap(cur.options), p.options ?? {}))
        ops.push({ op: 'update', table: 'Logical_Switch_Port', where: where(cur._uuid as string), row: lspRow(p) });
      return;
    }
    ops.push({ op: 'insert', table: 'Logical_Switch_Port', row: lspRow(p), 'uuid-name': `lsp${i}` });
    lspRef.set(p.name, namedUuid(`lsp${i}`));
    newPorts.set(p.switch, [...(newPorts.get(p.switch) ?? []), namedUuid(`lsp${i}`)]);
  });
  // Ports no resource calls for (or on the wrong switch) leave their switch; OVN drops the unreferenced row.
  const dropFrom = new Map<string, string[]>();
  for (const r of havePorts.values()) {
    const sw = holder.get(r._uuid as string)!;
    dropFrom.set(sw._uuid as string, [...(dropFrom.get(sw._uuid as string) ?? []), r._uuid as string]);
  }
  for (const s of want.switches) {
    const cur = haveSwitches.get(s.name);
    haveSwitches.delete(s.name);
    const adding = newPorts.get(s.name) ?? [];
    if (!cur) {
      ops.push({ op: 'insert', table: 'Logical_Switch', row: { name: s.name, ports: set(adding), external_ids: map(s.external_ids), other_config: map(s.other_config) } });
      continue;
    }
    if (!sameMap(asMap(cur.external_ids), s.external_ids) || !sameMap(asMap(cur.other_config), s.other_config))
      ops.push({ op: 'update', table: 'Logical_Switch', where: where(cur._uuid as string), row: { external_ids: map(s.external_ids), other_config: map(s.other_config) } });
    if (adding.length) ops.push({ op: 'mutate', table: 'Logical_Switch', where: where(cur._uuid as string), mutations: [['ports', 'insert', set(adding)]] });
  }
  for (const [swId, ids] of dropFrom) if (!haveSwitches.has(String([...have.switches].find((s) => s._uuid === swId)?.name))) ops.push({ op: 'mutate', table: 'Logical_Switch', where: where(swId), mutations: [['ports', 'delete', set(ids.map(uuid))]] });
  for (const r of haveSwitches.values()) ops.push({ op: 'delete', table: 'Logical_Switch', where: where(r._uuid as string) });
  for (const r of haveDhcp.values()) ops.push({ op: 'delete', table: 'DHCP_Options', where: where(r._uuid as string) });
  ops.push(...planPortGroups(want.portGroups, have, lspRef));
  ops.push(...planRouters(want.routers, have));
  return ops;
}

function planRouters(want: DesiredRouter[], have: NorthboundRows): object[] {
  const ops: object[] = [];
  const lrps = new Map((have.routerPorts ?? []).map((p) => [p._uuid as string, p]));
  const haveRouters = new Map((have.routers ?? []).filter(ours).map((r) => [String(r.name), r]));
  const lrpRow = (p: DesiredRouterPort) => ({ name: p.name, mac: p.mac, networks: set(p.networks), external_ids: map(p.external_ids) });
  const insertLrp = (p: DesiredRouterPort, named: string) => {
    if (p.gatewayChassis) ops.push({ op: 'insert', table: 'Gateway_Chassis', row: { name: `${p.name}_${p.gatewayChassis}`, chassis_name: p.gatewayChassis, priority: 1 }, 'uuid-name': `${named}_gw` });
    ops.push({ op: 'insert', table: 'Logical_Router_Port', row: { ...lrpRow(p), ...(p.gatewayChassis ? { gateway_chassis: set([namedUuid(`${named}_gw`)]) } : {}) }, 'uuid-name': named });
  };
  const routeKey = (x: Record<string, unknown>) => `${x.ip_prefix}|${x.nexthop}`;
  const natKey = (x: Record<string, unknown>) => `${x.type}|${x.logical_ip}|${x.external_ip}`;
  const routes = new Map((have.staticRoutes ?? []).map((x) => [x._uuid as string, x]));
  const nats = new Map((have.nats ?? []).map((x) => [x._uuid as string, x]));
  want.forEach((r, ri) => {
    const cur = haveRouters.get(r.name);
    haveRouters.delete(r.name);
    if (!cur) {
      r.ports.forEach((p, pi) => insertLrp(p, `lrp${ri}_${pi}`));
      r.routes.forEach((x, xi) => ops.push({ op: 'insert', table: 'Logical_Router_Static_Route', row: x, 'uuid-name': `route${ri}_${xi}` }));
      r.nat.forEach((x, xi) => ops.push({ op: 'insert', table: 'NAT', row: { ...x, external_ids: map(x.external_ids) }, 'uuid-name': `nat${ri}_${xi}` }));
      ops.push({
        op: 'insert',
        table: 'Logical_Router',
        row: { name: r.name, enabled: r.enabled, ports: set(r.ports.map((_, pi) => namedUuid(`lrp${ri}_${pi}`))), static_routes: set(r.routes.map((_, xi) => namedUuid(`route${ri}_${xi}`))), nat: set(r.nat.map((_, xi) => namedUuid(`nat${ri}_${xi}`))), external_ids: map(r.external_ids) },
      });
      return;
    }
    const id = cur._uuid as string;
    if (!sameMap(asMap(cur.external_ids), r.external_ids) || String(asList(cur.enabled)[0] ?? 'true') !== String(r.enabled)) ops.push({ op: 'update', table: 'Logical_Router', where: where(id), row: { enabled: r.enabled, external_ids: map(r.external_ids) } });
    const mine = new Map(asList(cur.ports).map((u) => [String(lrps.get(u)?.name), u]));
    const adding: unknown[] = [];
    r.ports.forEach((p, pi) => {
      const u = mine.get(p.name);
      mine.delete(p.name);
      if (!u) {
        insertLrp(p, `lrp${ri}_${pi}`);
        adding.push(namedUuid(`lrp${ri}_${pi}`));
        return;
      }
      const row = lrps.get(u)!;
      if (row.mac !== p.mac || !sameSet(asList(row.networks), p.networks) || !sameMap(asMap(row.external_ids), p.external_ids)) ops.push({ op: 'update', table: 'Logical_Router_Port', where: where(u), row: lrpRow(p) });
    });
    if (adding.length) ops.push({ op: 'mutate', table: 'Logical_Router', where: where(id), mutations: [['ports', 'insert', set(adding)]] });
    if (mine.size) ops.push({ op: 'mutate', table: 'Logical_Router', where: where(id), mutations: [['ports', 'delete', set([...mine.values()].map(uuid))]] });
    // Routes and NAT rules, compared by what they do.
    for (const [column, table, have1, want1, key, named] of [
      ['static_routes', 'Logical_Router_Static_Route', routes, r.routes, routeKey, `route${ri}`],
      ['nat', 'NAT', nats, r.nat, natKey, `nat${ri}`],
    ] as const) {
      const present = new Map(asList(cur[column]).map((u) => [key(have1.get(u) ?? {}), u]));
      const fresh: unknown[] = [];
      (want1 as Array<Record<string, unknown>>).forEach((x, xi) => {
        if (present.delete(key(x))) return;
        ops.push({ op: 'insert', table, row: 'external_ids' in x ? { ...x, external_ids: map(x.external_ids as Record<string, string>) } : x, 'uuid-name': `${named}_${xi}` });
        fresh.push(namedUuid(`${named}_${xi}`));
      });
      if (fresh.length) ops.push({ op: 'mutate', table: 'Logical_Router', where: where(id), mutations: [[column, 'insert', set(fresh)]] });
      if (present.size) ops.push({ op: 'mutate', table: 'Logical_Router', where: where(id), mutations: [[column, 'delete', set([...present.values()].map(uuid))]] });
    }
  });
  for (const r of haveRouters.values()) ops.push({ op: 'delete', table: 'Logical_Router', where: where(r._uuid as string) });
  return ops;
}

/** An ACL by what it does (two ACLs alike in these are the same rule). */
function aclKey(a: object): string {
  const x = a as Record<string, unknown>;
  return `${x.direction}|${x.priority}|${x.action}|${x.match}`;
}

function planPortGroups(want: DesiredPortGroup[], have: NorthboundRows, lspRef: Map<string, unknown>): object[] {
  const ops: object[] = [];
  const acls = new Map((have.acls ?? []).map((a) => [a._uuid as string, a]));
  const haveGroups = new Map((have.portGroups ?? []).filter(ours).map((r) => [String(r.name), r]));
  want.forEach((g, gi) => {
    const refs = g.ports.map((p) => lspRef.get(p)).filter((r): r is unknown[] => Array.isArray(r));
    const aclRow = (a: DesiredAcl) => ({ direction: a.direction, priority: a.priority, match: a.match, action: a.action, external_ids: map(a.external_ids) });
    const cur = haveGroups.get(g.name);
    haveGroups.delete(g.name);
    const wantAcls = g.acls === 'keep' ? undefined : g.acls;
    if (!cur) {
      wantAcls?.forEach((a, ai) => ops.push({ op: 'insert', table: 'ACL', row: aclRow(a), 'uuid-name': `acl${gi}_${ai}` }));
      ops.push({ op: 'insert', table: 'Port_Group', row: { name: g.name, ports: set(refs), acls: set((wantAcls ?? []).map((_, ai) => namedUuid(`acl${gi}_${ai}`))), external_ids: map(g.external_ids) } });
      return;
    }
    const id = cur._uuid as string;
    // Members: add the missing, drop the extra.
    const current = new Set(asList(cur.ports));
    const wanted = new Set(refs.filter((r) => r[0] === 'uuid').map((r) => String(r[1])));
    const add = refs.filter((r) => r[0] === 'named-uuid' || !current.has(String(r[1])));
    const drop = [...current].filter((u) => !wanted.has(u));
    if (add.length) ops.push({ op: 'mutate', table: 'Port_Group', where: where(id), mutations: [['ports', 'insert', set(add)]] });
    if (drop.length) ops.push({ op: 'mutate', table: 'Port_Group', where: where(id), mutations: [['ports', 'delete', set(drop.map(uuid))]] });
    // ACLs: compared by what they do; the ones no rule calls for go, the missing are made.
    if (!wantAcls) return;
    const haveAcls = new Map(asList(cur.acls).map((u) => [aclKey(acls.get(u) ?? {}), u]));
    const newAcls: unknown[] = [];
    wantAcls.forEach((a, ai) => {
      if (haveAcls.delete(aclKey(a))) return;
      ops.push({ op: 'insert', table: 'ACL', row: aclRow(a), 'uuid-name': `acl${gi}_${ai}` });
      newAcls.push(namedUuid(`acl${gi}_${ai}`));
    });
    if (newAcls.length) ops.push({ op: 'mutate', table: 'Port_Group', where: where(id), mutations: [['acls', 'insert', set(newAcls)]] });
    if (haveAcls.size) ops.push({ op: 'mutate', table: 'Port_Group', where: where(id), mutations: [['acls', 'delete', set([...haveAcls.values()].map(uuid))]] });
  });
  for (const r of haveGroups.values()) ops.push({ op: 'delete', table: 'Port_Group', where: where(r._uuid as string) });
  return ops;
}
