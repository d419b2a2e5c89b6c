/** Resources as the Networking API v2.0 shows them (Neutron's field names and defaults). */
import { displayNameOf } from '@stratus/runtime';
import { addressPairsView } from '../addressPairs.js';
import { dhcpOptionsView } from '../dhcpOptions.js';
import { allocationPoolsOf, gatewayOf } from '../ipam.js';
import { DEFAULT_SECURITY_GROUP, idOf, macOf, mtuOf, securityGroupsOf, type Network, type Port, type SecurityGroup, type SecurityGroupRule, type Subnet } from '../resources.js';
import { normalizedProtocol, ruleIdOf } from '../securityGroups.js';
import type { NetworkDirectory } from './directory.js';

/** The availability zone every network and router is in (this cloud has one). */
export const NETWORK_AVAILABILITY_ZONE = 'nova';

const time = (t: unknown) => (t ? new Date(String(t)).toISOString().replace(/\.\d{3}Z$/, 'Z') : null);
/** The fields every Neutron resource shows: its project, times, revision and tags. */
export const common = (o: { metadata: { creationTimestamp?: Date; generation?: number; namespace?: string }; spec?: { tags?: string[] } }, dir: NetworkDirectory) => {
  const project = dir.projectIdOf(o.metadata.namespace);
  return { tenant_id: project, project_id: project, created_at: time(o.metadata.creationTimestamp), updated_at: time(o.metadata.creationTimestamp), revision_number: o.metadata.generation ?? 1, tags: [...(o.spec?.tags ?? [])] };
};

/** Keeps only the fields asked for (`?fields=id&fields=name`), as Neutron does. */
export function pick<T extends Record<string, unknown>>(view: T, fields: string[]): Partial<T> {
  return fields.length ? (Object.fromEntries(Object.entries(view).filter(([k]) => fields.includes(k))) as Partial<T>) : view;
}

export function networkView(n: Network, dir: NetworkDirectory) {
  return {
    id: idOf(n),
    name: displayNameOf(n),
    description: n.spec.description ?? '',
    admin_state_up: n.spec.adminStateUp !== false,
    status: n.status?.phase ?? 'BUILD',
    shared: !!n.spec.shared,
    'router:external': !!n.spec.external,
    mtu: mtuOf(n),
    subnets: dir.subnetsOf(n).map(idOf),
    port_security_enabled: true,
    availability_zone_hints: [],
    availability_zones: [NETWORK_AVAILABILITY_ZONE],
    ipv4_address_scope: null,
    ipv6_address_scope: null,
    is_default: false,
    'provider:network_type': n.spec.external ? 'flat' : 'geneve',
    'provider:physical_network': n.spec.external ? 'physnet1' : null,
    'provider:segmentation_id': null,
    ...common(n, dir),
  };
}

export function subnetView(s: Subnet, dir: NetworkDirectory) {
  const net = dir.networkOfSubnet(s);
  let pools: Array<{ start: string; end: string }> = [];
  let gateway: string | null = null;
  try {
    gateway = gatewayOf(s.spec) ?? null;
    pools = allocationPoolsOf(s.spec);
  } catch {
    // a refused subnet shows what it was asked for
  }
  return {
    id: idOf(s),
    name: displayNameOf(s),
    description: s.spec.description ?? '',
    network_id: net ? idOf(net) : '',
    ip_version: s.spec.ipVersion ?? 4,
    cidr: s.spec.cidr,
    gateway_ip: gateway,
    allocation_pools: pools,
    dns_nameservers: s.spec.dnsNameservers ?? [],
    host_routes: s.spec.hostRoutes ?? [],
    enable_dhcp: s.spec.enableDHCP !== false,
    ipv6_ra_mode: null,
    ipv6_address_mode: null,
    subnetpool_id: s.spec.subnetPool ? (dir.pools.get(s.spec.subnetPool, s.metadata.namespace)?.metadata.uid ?? null) : null,
    service_types: [],
    segment_id: null,
    ...common(s, dir),
  };
}

export function portView(p: Port, dir: NetworkDirectory) {
  const net = dir.networkOfPort(p);
  const groups = securityGroupsOf(p)
    .map((name) => dir.groups.get(name, p.metadata.namespace))
    .filter((g): g is SecurityGroup => !!g)
    .map(idOf);
  return {
    id: idOf(p),
    name: displayNameOf(p) === p.metadata.name && !p.spec.displayName ? '' : displayNameOf(p),
    description: p.spec.description ?? '',
    network_id: net ? idOf(net) : '',
    mac_address: p.status?.macAddress ?? macOf(p),
    admin_state_up: p.spec.adminStateUp !== false,
    status: p.status?.phase === 'ACTIVE' ? 'ACTIVE' : p.status?.phase === 'ERROR' ? 'ERROR' : 'DOWN',
    device_id: p.spec.deviceId ?? '',
    device_owner: p.spec.deviceOwner ?? '',
    fixed_ips: (p.status?.fixedIPs ?? []).map((f) => ({ subnet_id: f.subnetId, ip_address: f.ipAddress })),
    security_groups: groups,
    port_security_enabled: p.spec.portSecurityEnabled !== false,
    allowed_address_pairs: addressPairsView(p.spec.allowedAddressPairs, p.status?.macAddress ?? macOf(p)),
    extra_dhcp_opts: dhcpOptionsView(p.spec.extraDHCPOptions),
    'binding:host_id': p.spec.bindingHost ?? '',
    'binding:vif_type': p.spec.bindingHost ? 'ovs' : 'unbound',
    'binding:vnic_type': 'normal',
    'binding:vif_details': p.spec.bindingHost ? { port_filter: true, connectivity: 'l2', bridge_name: 'br-int', datapath_type: 'netdev' } : {},
    'binding:profile': {},
    dns_name: '',
    dns_assignment: [],
    ...common(p, dir),
  };
}

export function ruleView(g: SecurityGroup, rule: SecurityGroupRule, dir: NetworkDirectory) {
  const remote = rule.remoteGroup ? dir.groups.get(rule.remoteGroup, g.metadata.namespace) : undefined;
  const proto = normalizedProtocol(rule.protocol);
  return {
    id: ruleIdOf(idOf(g), rule),
    security_group_id: idOf(g),
    direction: rule.direction,
    ethertype: rule.ethertype ?? 'IPv4',
    protocol: proto ? (rule.protocol ?? proto) : null,
    port_range_min: rule.portRangeMin ?? null,
    port_range_max: rule.portRangeMax ?? null,
    remote_ip_prefix: rule.remoteIPPrefix ?? null,
    remote_group_id: remote ? idOf(remote) : null,
    remote_address_group_id: null,
    normalized_cidr: rule.remoteIPPrefix ?? null,
    description: rule.description ?? '',
    ...common(g, dir),
    tags: [] as string[], // a rule is not tagged; its group's tags are the group's
  };
}

export function securityGroupView(g: SecurityGroup, dir: NetworkDirectory) {
  return {
    id: idOf(g),
    name: g.metadata.name === DEFAULT_SECURITY_GROUP && !g.spec.displayName ? 'default' : displayNameOf(g),
    description: g.spec.description ?? '',
    stateful: true,
    shared: false,
    security_group_rules: (g.spec.rules ?? []).map((r) => ruleView(g, r, dir)),
    ...common(g, dir),
  };
}
