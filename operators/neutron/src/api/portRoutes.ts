/** Ports: /v2.0/ports. */
import { isDeleting } from '@stratus/runtime';
import { IpamError, checkWantedAddress, cidrContains } from '../ipam.js';
import { parseAddressPairs, type AddressPair } from '../addressPairs.js';
import { mergeDhcpOptions, parseDhcpOptions, type ExtraDhcpOption } from '../dhcpOptions.js';
import { PORTS, idOf, keyOf, macOf, type FixedIP, type Network, type Port } from '../resources.js';
import { API_FIELD_MANAGER, withBulk, bool, createAndSettle, fromKubernetes, listFilter, newObjectName, onlyKnown, owns, refusal, resourceBody, str, targetNamespace, type NetApi, type NetAuth, type NetRouter } from './context.js';
import { withinQuota } from './quotaRoutes.js';
import { NeutronError, badRequest, conflict, forbidden, notFound } from './errors.js';
import { visibleNetwork } from './networkRoutes.js';
import { pick, portView } from './views.js';

const PORT_FIELDS = ['name', 'description', 'network_id', 'admin_state_up', 'mac_address', 'fixed_ips', 'device_id', 'device_owner', 'security_groups', 'port_security_enabled', 'tenant_id', 'project_id', 'binding:host_id', 'binding:vnic_type', 'binding:profile', 'allowed_address_pairs', 'extra_dhcp_opts', 'dns_name', 'qos_policy_id', 'propagate_uplink_status'];
const MAC = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/;

/** A request's allowed_address_pairs, or the 400 Neutron gives for them. */
function addressPairsOf(value: unknown): AddressPair[] {
  const parsed = parseAddressPairs(value);
  if (!parsed.ok) throw new NeutronError(400, parsed.type, parsed.message);
  return parsed.pairs;
}
/** A request's extra_dhcp_opts, or Neutron's 400 for them. */
function dhcpOptionsOf(value: unknown, update: boolean): ExtraDhcpOption[] {
  const parsed = parseDhcpOptions(value, update);
  if (!parsed.ok) throw badRequest(parsed.message);
  return parsed.options;
}
const pairsNeedPortSecurity = () => conflict('AddressPairAndPortSecurityRequired', 'Port Security must be enabled in order to have allowed address pairs on a port.');

export function visiblePort(api: NetApi, auth: NetAuth, id: string): Port {
  const p = api.dir.ports.byId(id);
  if (!p || !owns(auth, p)) throw notFound('PortNotFound', `Port ${id} could not be found.`);
  return p;
}

/**
 * The `fixed_ips` filter of a port list (`?fixed_ips=ip_address=10.0.0.5&fixed_ips=subnet_id=…`): each value a
 * key=value pair; a port matches when one of its addresses is among the ip_address values asked for and one of
 * its subnets among the subnet_id values, and one of its addresses holds an ip_address_substr value (Neutron's
 * ip-substring-filtering; each only when asked for), as Neutron's query does.
 */
export function fixedIPsFilter(values: string[]): (fixedIPs: Array<{ subnet_id?: string; ip_address?: string }>) => boolean {
  const wanted: Record<string, string[]> = {};
  for (const v of values) {
    const at = v.indexOf('=');
    if (at < 0) throw badRequest(`Invalid input for operation: '${v}' is not of the form <key>=[value].`);
    (wanted[v.slice(0, at)] ??= []).push(v.slice(at + 1));
  }
  const { ip_address: ips, subnet_id: subnets, ip_address_substr: parts } = wanted;
  return (fixedIPs) =>
    (!ips || fixedIPs.some((f) => ips.includes(f.ip_address ?? ''))) &&
    (!subnets || fixedIPs.some((f) => subnets.includes(f.subnet_id ?? ''))) &&
    (!parts || fixedIPs.some((f) => f.ip_address !== undefined && parts.some((part) => f.ip_address!.includes(part))));
}

/** Security group IDs as the object names of the groups in `namespace`; 404 for one that is not there. */
function groupNames(api: NetApi, namespace: string, ids: unknown): string[] {
  if (!Array.isArray(ids)) throw badRequest(`Invalid input for security_groups. Reason: '${JSON.stringify(ids)}' is not a list.`);
  return ids.map((id) => {
    const g = api.dir.groups.byId(String(id));
    if (!g || g.metadata.namespace !== namespace) throw notFound('SecurityGroupNotFound', `Security group ${String(id)} does not exist`);
    return g.metadata.name;
  });
}

/** The wanted fixed IPs as the Port's spec has them, each checked as Neutron checks it before anything is made. */
export function fixedIPsOf(api: NetApi, networkNs: string, networkName: string, networkId: string, raw: unknown, holder: string): FixedIP[] {
  if (!Array.isArray(raw)) throw badRequest(`Invalid input for fixed_ips. Reason: Invalid data format for fixed IP: '${JSON.stringify(raw)}'.`);
  const subnets = api.dir.subnets.list(networkNs).filter((s) => s.spec.network === networkName);
  return raw.map((f: { subnet_id?: string; ip_address?: string }) => {
    const subnet = f.subnet_id ? subnets.find((s) => idOf(s) === f.subnet_id) : f.ip_address ? subnets.find((s) => cidrContains(s.spec.cidr, String(f.ip_address))) : undefined;
    if (f.subnet_id && !subnet) throw badRequest(`Invalid input for operation: Failed to create port on network ${networkId}, because fixed_ips included invalid subnet ${f.subnet_id}.`);
    if (!subnet) throw badRequest(`Invalid input for operation: IP address ${f.ip_address} is not a valid IP for any of the subnets on the specified network.`);
    if (f.ip_address !== undefined) {
      try {
        checkWantedAddress(subnet.spec, String(f.ip_address), subnet.status?.allocations ?? {}, holder);
      } catch (e) {
        if (e instanceof IpamError && e.reason === 'AddressInUse') throw conflict('IpAddressAlreadyAllocated', `IP address ${f.ip_address} already allocated in subnet ${idOf(subnet)}`);
        if (e instanceof IpamError) throw badRequest(`Invalid input for operation: IP address ${f.ip_address} is not a valid IP for the specified subnet.`);
        throw e;
      }
    }
    return { subnet: subnet.metadata.name, ...(f.ip_address !== undefined ? { ipAddress: String(f.ip_address) } : {}) };
  });
}

/** A port's reconciler refusal, as Neutron's error. */
function portRefusal(p: Port, networkId: string): NeutronError | undefined {
  const r = refusal(p);
  if (!r) return undefined;
  if (r.reason === 'SubnetFull') return conflict('IpAddressGenerationFailure', `No more IP addresses available on network ${networkId}.`);
  if (r.reason === 'AddressInUse') return conflict('IpAddressAlreadyAllocated', r.message);
  if (r.reason === 'SecurityGroupNotFound') return notFound('SecurityGroupNotFound', r.message);
  return badRequest(`Invalid input for operation: ${r.message}`);
}

/**
 * Where a new port lives: with the caller's project (or the project an admin names), but an admin's port on
 * another project's unshared network (external ones too), for no project named, lives with its network. Ports reach no unshared
 * network of another namespace (the reconciler's isolation, which kubectl writes cannot get around), and
 * Neutron lets a network's owner see and delete every port on it, as this owner may.
 */
function portNamespace(api: NetApi, auth: NetAuth, p: Record<string, unknown>, net: Network): string {
  const named = p.project_id ?? p.tenant_id;
  if (auth.admin && named === undefined && net.metadata.namespace !== auth.tenant && !net.spec.shared) return net.metadata.namespace!;
  return targetNamespace(api, auth, p);
}

export function portRoutes(r: NetRouter, api: NetApi): void {
  r.on('GET', '/v2.0/ports', ({ auth, query }) => {
    const { matches, fields } = listFilter(query, ['fixed_ips']);
    const hasFixedIPs = fixedIPsFilter(query.getAll('fixed_ips'));
    const views = api.dir.ports
      .list()
      .filter((p) => owns(auth, p))
      .map((p) => portView(p, api.dir));
    return { status: 200, body: { ports: views.filter((v) => matches(v) && hasFixedIPs(v.fixed_ips as Array<{ subnet_id: string; ip_address: string }>)).map((v) => pick(v, fields)) } };
  });
  r.on('GET', '/v2.0/ports/:id', ({ auth, params, query }) => ({ status: 200, body: { port: pick(portView(visiblePort(api, auth, params.id), api.dir), query.getAll('fields')) } }));

  const removePort = async (id: string) => {
    const port = api.dir.ports.byId(id);
    if (port) await api.client.delete(PORTS, port.metadata.namespace, port.metadata.name);
  };
  r.on('POST', '/v2.0/ports', withBulk('port', 'ports', removePort, async ({ auth, body }) => {
    const p = resourceBody(body, 'port');
    onlyKnown(p, PORT_FIELDS, 'port');
    if (typeof p.network_id !== 'string') throw badRequest("Failed to parse request. Required attribute 'network_id' not specified");
    const net = visibleNetwork(api, auth, p.network_id);
    if (net.spec.external && !auth.admin && !owns(auth, net)) throw forbidden(`Tenant ${auth.projectId} not allowed to create port on this network`);
    const ns = portNamespace(api, auth, p, net);
    const name = newObjectName(api.dir.ports, ns, str(p.name, 'name'), 'port');
    const portSecurity = bool(p.port_security_enabled, 'port_security_enabled');
    const groups = p.security_groups !== undefined ? groupNames(api, ns, p.security_groups) : undefined;
    if (portSecurity === false && groups?.length) throw conflict('PortSecurityAndIPRequiredForSecurityGroups', 'Port security must be enabled and port must have an IP address in order to use security groups.');
    const pairs = p.allowed_address_pairs !== undefined ? addressPairsOf(p.allowed_address_pairs) : undefined;
    if (portSecurity === false && pairs?.length) throw pairsNeedPortSecurity();
    const dhcpOptions = p.extra_dhcp_opts !== undefined ? dhcpOptionsOf(p.extra_dhcp_opts, false) : undefined;
    if (p.mac_address !== undefined) {
      if (typeof p.mac_address !== 'string' || !MAC.test(p.mac_address)) throw badRequest(`Invalid input for mac_address. Reason: '${String(p.mac_address)}' is not a valid MAC address.`);
      const taken = api.dir.ports.list().some((o) => api.dir.networkOfPort(o) === net && macOf(o) === String(p.mac_address).toLowerCase());
      if (taken) throw conflict('MacAddressInUse', `Unable to complete operation for network ${idOf(net)}. The mac address ${p.mac_address} is in use.`);
    }
    const fixedIPs = p.fixed_ips !== undefined ? fixedIPsOf(api, net.metadata.namespace!, net.metadata.name, idOf(net), p.fixed_ips, `${ns}/${name}`) : undefined;
    const spec: Port['spec'] = {
      network: net.metadata.name,
      ...(net.metadata.namespace !== ns ? { networkNamespace: net.metadata.namespace } : {}),
      ...(p.name !== undefined ? { displayName: str(p.name, 'name') } : {}),
      ...(p.description !== undefined ? { description: str(p.description, 'description') } : {}),
      ...(p.mac_address !== undefined ? { macAddress: String(p.mac_address).toLowerCase() } : {}),
      ...(fixedIPs ? { fixedIPs } : {}),
      ...(p.device_id !== undefined ? { deviceId: str(p.device_id, 'device_id') } : {}),
      ...(p.device_owner !== undefined ? { deviceOwner: str(p.device_owner, 'device_owner') } : {}),
      ...(p['binding:host_id'] !== undefined ? { bindingHost: str(p['binding:host_id'], 'binding:host_id') } : {}),
      ...(portSecurity !== undefined ? { portSecurityEnabled: portSecurity } : {}),
      ...(groups ? { securityGroups: groups } : {}),
      ...(p.admin_state_up !== undefined ? { adminStateUp: bool(p.admin_state_up, 'admin_state_up') } : {}),
      ...(pairs?.length ? { allowedAddressPairs: pairs } : {}),
      ...(dhcpOptions?.length ? { extraDHCPOptions: dhcpOptions } : {}),
    };
    const made = await withinQuota(api, ns, 'port', 1, () =>
      createAndSettle<Port>(
        api,
        PORTS,
        api.dir.ports,
        { apiVersion: 'network.stratus.io/v1alpha1', kind: 'Port', metadata: { name, namespace: ns }, spec } as Port,
        (o) => portRefusal(o, idOf(net)) ?? (o.status?.macAddress && o.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? 'ok' : undefined),
        'port',
      ),
    );
    return { status: 201, body: { port: portView(made, api.dir) } };
  }));

  r.on('PUT', '/v2.0/ports/:id', async ({ auth, params, body }) => {
    const port = visiblePort(api, auth, params.id);
    const u = resourceBody(body, 'port');
    onlyKnown(u, PORT_FIELDS.filter((f) => !['network_id', 'tenant_id', 'project_id'].includes(f)), 'port');
    const ns = port.metadata.namespace!;
    const spec: Record<string, unknown> = {};
    if (u.name !== undefined) spec.displayName = str(u.name, 'name') ?? '';
    if (u.description !== undefined) spec.description = str(u.description, 'description') ?? '';
    if (u.admin_state_up !== undefined) spec.adminStateUp = bool(u.admin_state_up, 'admin_state_up');
    if (u.device_id !== undefined) spec.deviceId = u.device_id === '' ? null : str(u.device_id, 'device_id');
    if (u.device_owner !== undefined) spec.deviceOwner = u.device_owner === '' ? null : str(u.device_owner, 'device_owner');
    if (u['binding:host_id'] !== undefined) spec.bindingHost = u['binding:host_id'] === '' ? null : str(u['binding:host_id'], 'binding:host_id');
    if (u.security_groups !== undefined) spec.securityGroups = groupNames(api, ns, u.security_groups);
    if (u.port_security_enabled !== undefined) spec.portSecurityEnabled = bool(u.port_security_enabled, 'port_security_enabled');
    const groupsAfter = (spec.securityGroups as string[] | undefined) ?? port.spec.securityGroups;
    if (spec.portSecurityEnabled === false && (groupsAfter === undefined || groupsAfter.length)) throw conflict('PortSecurityPortHasSecurityGroup', 'Port has security group associated. Cannot disable port security or ip address until security group is removed');
    if (u.allowed_address_pairs !== undefined) {
      const pairs = addressPairsOf(u.allowed_address_pairs);
      spec.allowedAddressPairs = pairs.length ? pairs : null;
    }
    const pairsAfter = spec.allowedAddressPairs !== undefined ? (spec.allowedAddressPairs as AddressPair[] | null) : port.spec.allowedAddressPairs;
    if ((spec.portSecurityEnabled ?? port.spec.portSecurityEnabled) === false && pairsAfter?.length) throw pairsNeedPortSecurity();
    // Neutron merges the options an update names into the port's: a null value removes one.
    if (u.extra_dhcp_opts !== undefined) {
      const changes = dhcpOptionsOf(u.extra_dhcp_opts, true);
      if (changes.length) {
        const merged = mergeDhcpOptions(port.spec.extraDHCPOptions, changes);
        spec.extraDHCPOptions = merged.length ? merged : null;
      }
    }
    const net = api.dir.networkOfPort(port);
    if (u.fixed_ips !== undefined && net) spec.fixedIPs = fixedIPsOf(api, net.metadata.namespace!, net.metadata.name, idOf(net), u.fixed_ips, `${ns}/${port.metadata.name}`);
    if (u.mac_address !== undefined && String(u.mac_address).toLowerCase() !== macOf(port)) throw conflict('PortBound', `Unable to complete operation on port ${params.id}: the MAC address of a port cannot be changed here.`);
    const written = await api.client.patch<Port>(PORTS, ns, port.metadata.name, { spec }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'port'));
    // Changed addresses are claimed by the reconciler: the answer waits for its verdict.
    let latest = written;
    await api.dir.ports.until(written, (o) => {
      if (o) latest = o;
      return !!o && o.status?.observedGeneration === written.metadata.generation;
    }, 30_000);
    const refused = spec.fixedIPs ? portRefusal(latest, net ? idOf(net) : '') : undefined;
    if (refused) {
      await api.client.patch(PORTS, ns, port.metadata.name, { spec: { fixedIPs: port.spec.fixedIPs ?? null } }, API_FIELD_MANAGER).catch(() => {});
      throw refused;
    }
    return { status: 200, body: { port: portView(latest, api.dir) } };
  });

  r.on('DELETE', '/v2.0/ports/:id', async ({ auth, params }) => {
    const port = visiblePort(api, auth, params.id);
    if (port.spec.deviceOwner === 'network:router_interface' && !auth.admin) throw conflict('PortInUse', `Port ${params.id} cannot be deleted directly via the port API: has device owner network:router_interface.`);
    await api.client.delete(PORTS, port.metadata.namespace, port.metadata.name).catch((e) => fromKubernetes(e, 'port'));
    // Neutron's delete frees the port's addresses before it answers, and Tempest takes one again at once (a
    // router's gateway at the address a deleted port had): wait, within a bound, until the reconciler has taken
    // the port out of OVN and given its addresses back. Past the bound the deletion stands and finishes later.
    if (!(await api.dir.ports.until(port, (o) => !o, 30_000))) return { status: 204 };
    const holder = keyOf(port);
    const netNs = port.spec.networkNamespace ?? port.metadata.namespace!;
    for (const f of port.status?.fixedIPs ?? []) {
      const subnet = f.subnet ? api.dir.subnets.get(f.subnet, netNs) : undefined;
      if (subnet) await api.dir.subnets.until(subnet, (o) => !Object.values(o?.status?.allocations ?? {}).includes(holder), 10_000);
    }
    return { status: 204 };
  });
}

