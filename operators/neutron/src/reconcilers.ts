/**
 * The Network, Subnet and Port reconcilers. The story of each: it gets a finalizer guarding its northbound
 * rows; its facts are checked (a subnet's range, a port's network and addresses); a port claims its
 * addresses; the OVN mechanism brings NB in line; the status says what holds, with Neutron's status word.
 * Deleting one removes its rows first (a network waits for its ports, and takes its subnets with it; a
 * subnet waits for the ports holding its addresses; a port gives its addresses back).
 */
import {
  hasFinalizer,
  isConflict,
  isDeleting,
  markReady,
  markReconciling,
  patchStatusChanges,
  type KubeClient,
  type ReconcileContext,
  type Reconciler,
  type Request,
  type Result,
} from '@stratus/runtime';
import { claimAddress, releaseAddresses } from './claims.js';
import { IpamError, cidrContains, gatewayOf, overlaps, parseCidr, poolsOf, prefixVersion } from './ipam.js';
import { switchNameOf } from './ovn/northbound.js';
import type { OvnMechanism } from './ovn/mechanism.js';
import {
  DEFAULT_SECURITY_GROUP,
  FIELD_MANAGER,
  NETWORKS,
  OVN_FINALIZER,
  PORTS,
  ROUTER_GATEWAY_OWNER,
  FLOATING_IP_OWNER,
  ROUTER_INTERFACE_OWNER,
  SECURITY_GROUPS,
  SUBNETS,
  SUBNET_POOLS,
  idOf,
  keyOf,
  macOf,
  mtuOf,
  portNetworkNamespace,
  securityGroupsOf,
  type FixedIP,
  type Network,
  type Port,
  type SecurityGroup,
  type Subnet,
  type SubnetPool,
} from './resources.js';
import { defaultRules, groupProblem, portGroupNameOf, ruleIdOf } from './securityGroups.js';
import { ensureFinalizer, madeBefore, projectIdOf, releaseFinalizer, stall } from './reconcileSteps.js';

const WAIT_MS = 5000;

const portsOnNetwork = (ports: Port[], n: Network) => ports.filter((p) => portNetworkNamespace(p) === n.metadata.namespace && p.spec.network === n.metadata.name);

export function networkReconciler(ovn: OvnMechanism): Reconciler<Network> {
  return async function reconcileNetwork(req: Request, ctx: ReconcileContext<Network>): Promise<Result | void> {
    const { client } = ctx;
    const net = await client.get<Network>(NETWORKS, req.namespace, req.name);
    if (!net) return;
    if (isDeleting(net)) {
      if (!hasFinalizer(net, OVN_FINALIZER)) return;
      const ports = portsOnNetwork((await client.list<Port>(PORTS)).items, net);
      if (ports.length) {
        const message = `the network has ${ports.length} port(s) (${ports.slice(0, 3).map(keyOf).join(', ')}): delete them first`;
        await stall(ctx, NETWORKS, net, 'NetworkInUse', message);
        return; // a port's deletion brings the network back here
      }
      const subnets = (await client.list<Subnet>(SUBNETS, net.metadata.namespace)).items.filter((s) => s.spec.network === net.metadata.name);
      for (const s of subnets) if (!isDeleting(s)) await client.delete(SUBNETS, s.metadata.namespace, s.metadata.name);
      if (subnets.length) return { requeueAfterMs: 1000 };
      await ovn.sync([net]);
      if (ovn.hasSwitch(switchNameOf(idOf(net)))) return { requeueAfterMs: 1000 };
      await releaseFinalizer(client, NETWORKS, net);
      ctx.log.info('network deleted from OVN', { logicalSwitch: switchNameOf(idOf(net)) });
      return;
    }
    if (await ensureFinalizer(client, NETWORKS, net)) return;
    await ovn.sync([net]);
    const ls = switchNameOf(idOf(net));
    const base = { id: idOf(net), projectId: await projectIdOf(client, net.metadata.namespace!), mtu: mtuOf(net), logicalSwitch: ls };
    if (!ovn.hasSwitch(ls)) {
      await patchStatusChanges(client, NETWORKS, net, { ...base, phase: 'BUILD', conditions: markReconciling(net.status?.conditions, net.metadata.generation, 'AwaitingNorthbound', `waiting for OVN's northbound database to hold logical switch ${ls}`) }, FIELD_MANAGER, { precondition: false });
      return { requeueAfterMs: 2000 };
    }
    const phase = net.spec.adminStateUp === false ? 'DOWN' : 'ACTIVE';
    if (net.status?.phase !== phase) await ctx.events.record(net, 'Normal', 'Created', `Logical switch ${ls} holds the network`);
    await patchStatusChanges(client, NETWORKS, net, { ...base, phase, conditions: markReady(net.status?.conditions, net.metadata.generation, 'LogicalSwitchReady', `OVN logical switch ${ls}`) }, FIELD_MANAGER, { precondition: false });
  };
}

/** Why the subnet cannot be made as it is, or undefined. Pure but for the list of its siblings. */
export function subnetProblem(s: Subnet, siblings: Subnet[]): { reason: string; message: string } | undefined {
  try {
    const range = parseCidr(s.spec.cidr);
    if (range.version !== (s.spec.ipVersion ?? 4)) return { reason: 'InvalidInput', message: `cidr ${s.spec.cidr} is not an IPv${s.spec.ipVersion ?? 4} range (ip_version)` };
    gatewayOf(s.spec);
    poolsOf(s.spec);
  } catch (e) {
    if (e instanceof IpamError) return { reason: 'InvalidInput', message: e.message };
    throw e;
  }
  // The first subnet made keeps its range: one accepted earlier, or older and not refused, wins the clash.
  const before = (o: Subnet) => o.status?.phase === 'ACTIVE' || (o.status?.phase !== 'ERROR' && madeBefore(o, s));
  const clash = siblings.find((o) => o.metadata.uid !== s.metadata.uid && !isDeleting(o) && o.spec.network === s.spec.network && before(o) && safeOverlaps(o.spec.cidr, s.spec.cidr));
  if (clash) return { reason: 'OverlappingSubnet', message: `cidr ${s.spec.cidr} overlaps with subnet ${clash.metadata.name} (${clash.spec.cidr}) on the same network` };
  return undefined;
}
const safeOverlaps = (a: string, b: string) => {
  try {
    return overlaps(a, b);
  } catch {
    return false;
  }
};

export function subnetReconciler(ovn: OvnMechanism): Reconciler<Subnet> {
  return async function reconcileSubnet(req: Request, ctx: ReconcileContext<Subnet>): Promise<Result | void> {
    const { client } = ctx;
    const subnet = await client.get<Subnet>(SUBNETS, req.namespace, req.name);
    if (!subnet) return;
    if (isDeleting(subnet)) {
      if (!hasFinalizer(subnet, OVN_FINALIZER)) return;
      const holders = [...new Set(Object.values(subnet.status?.allocations ?? {}))];
      if (holders.length) {
        await stall(ctx, SUBNETS, subnet, 'SubnetInUse', `ports still hold addresses on the subnet: ${holders.slice(0, 3).join(', ')}`);
        return { requeueAfterMs: WAIT_MS };
      }
      await ovn.sync([subnet]);
      await releaseFinalizer(client, SUBNETS, subnet);
      return;
    }
    const siblings = (await client.list<Subnet>(SUBNETS, subnet.metadata.namespace)).items;
    const problem = subnetProblem(subnet, siblings);
    if (problem) return stall(ctx, SUBNETS, subnet, problem.reason, problem.message);
    const net = await client.get<Network>(NETWORKS, subnet.metadata.namespace, subnet.spec.network);
    if (!net || isDeleting(net)) return stall(ctx, SUBNETS, subnet, 'NetworkNotFound', `network ${subnet.spec.network} does not exist in namespace ${subnet.metadata.namespace}`);
    if (await ensureFinalizer(client, SUBNETS, subnet)) return;
    const gateway = gatewayOf(subnet.spec) ?? '';
    const written = await patchStatusChanges(client, SUBNETS, subnet, { id: idOf(subnet), projectId: await projectIdOf(client, subnet.metadata.namespace!), gatewayIP: gateway }, FIELD_MANAGER, { precondition: false });
    await ovn.sync([written]);
    await patchStatusChanges(client, SUBNETS, written, { phase: 'ACTIVE', conditions: markReady(subnet.status?.conditions, subnet.metadata.generation, 'Allocating', `${subnet.spec.cidr}${gateway ? `, gateway ${gateway}` : ''}${subnet.spec.enableDHCP === false ? '' : ', DHCP by OVN'}`) }, FIELD_MANAGER, { precondition: false });
  };
}

/** The subnets (object names) and addresses a port wants: spec's, else the network's first IPv4 subnet. */
export function wantedAddresses(p: Port, subnets: Subnet[]): Array<{ subnet: Subnet; ipAddress?: string }> | { problem: string } | { waitFor: string } {
  const ready = subnets.filter((s) => !isDeleting(s) && s.status?.id && s.status.phase === 'ACTIVE');
  // A subnet made with the port (one kubectl apply) is waited for, not taken for missing.
  const coming = subnets.filter((s) => !isDeleting(s) && s.status?.phase !== 'ACTIVE' && s.status?.phase !== 'ERROR');
  if (coming.length && !p.status?.macAddress) return { waitFor: `subnet(s) ${coming.map((s) => s.metadata.name).join(', ')} of network ${p.spec.network} to be ready` };
  if (!p.spec.fixedIPs?.length) {
    // Addresses are chosen once, when the port is made (as in Neutron): a subnet added later gives none to it.
    if (p.status?.macAddress) return (p.status.fixedIPs ?? []).flatMap((f) => ready.filter((s) => s.metadata.name === f.subnet).map((subnet) => ({ subnet, ...(f.ipAddress ? { ipAddress: f.ipAddress } : {}) })));
    const first = ready.find((s) => (s.spec.ipVersion ?? 4) === 4) ?? ready[0];
    return first ? [{ subnet: first }] : [];
  }
  const out: Array<{ subnet: Subnet; ipAddress?: string }> = [];
  for (const f of p.spec.fixedIPs) {
    const subnet = f.subnet ? ready.find((s) => s.metadata.name === f.subnet || s.status?.id === f.subnet) : f.ipAddress ? ready.find((s) => cidrContains(s.spec.cidr, f.ipAddress!)) : undefined;
    if (!subnet) return { problem: f.subnet ? `subnet ${f.subnet} is not on network ${p.spec.network}` : `no subnet of network ${p.spec.network} holds ${f.ipAddress}` };
    out.push({ subnet, ...(f.ipAddress ? { ipAddress: f.ipAddress } : {}) });
  }
  return out;
}

export function portReconciler(ovn: OvnMechanism): Reconciler<Port> {
  return async function reconcilePort(req: Request, ctx: ReconcileContext<Port>): Promise<Result | void> {
    const { client } = ctx;
    const port = await client.get<Port>(PORTS, req.namespace, req.name);
    if (!port) return;
    const holder = keyOf(port);
    const netNs = portNetworkNamespace(port);
    if (isDeleting(port)) {
      if (!hasFinalizer(port, OVN_FINALIZER)) return;
      await ovn.sync([port]);
      if (ovn.hasSwitchPort(idOf(port))) return { requeueAfterMs: 1000 };
      // Every address it holds on its network's subnets, not only those its status says: a claim made by a
      // reconcile that a deletion overtook is given back too.
      const held = (await client.list<Subnet>(SUBNETS, netNs)).items.filter((sn) => Object.values(sn.status?.allocations ?? {}).includes(holder));
      for (const sn of held) await releaseAddresses(client, netNs, sn.metadata.name, holder);
      await releaseFinalizer(client, PORTS, port);
      ctx.log.info('port deleted from OVN and its addresses released', { addresses: (port.status?.fixedIPs ?? []).map((f) => f.ipAddress) });
      return;
    }
    const net = await client.get<Network>(NETWORKS, netNs, port.spec.network);
    if (!net || isDeleting(net)) return stall(ctx, PORTS, port, 'NetworkNotFound', `network ${netNs}/${port.spec.network} does not exist`);
    // Another tenant's network takes the port if it is shared, or external and the port a router's gateway or a floating IP's.
    const externalUse = net.spec.external && (port.spec.deviceOwner === ROUTER_GATEWAY_OWNER || port.spec.deviceOwner === FLOATING_IP_OWNER);
    if (netNs !== port.metadata.namespace && !net.spec.shared && !externalUse) return stall(ctx, PORTS, port, 'NetworkNotShared', `network ${netNs}/${port.spec.network} belongs to another tenant and is not shared`);
    const missing = await missingSecurityGroups(client, port);
    if (missing.length) return stall(ctx, PORTS, port, 'SecurityGroupNotFound', `Security group ${missing.join(', ')} does not exist`);
    if (await ensureFinalizer(client, PORTS, port)) return;
    const subnets = (await client.list<Subnet>(SUBNETS, netNs)).items.filter((s) => s.spec.network === net.metadata.name);
    const wanted = wantedAddresses(port, subnets);
    if ('problem' in wanted) return stall(ctx, PORTS, port, 'InvalidInput', wanted.problem);
    if ('waitFor' in wanted) {
      await patchStatusChanges(client, PORTS, port, { phase: 'BUILD', conditions: markReconciling(port.status?.conditions, port.metadata.generation, 'AwaitingSubnet', `waiting for ${wanted.waitFor}`) }, FIELD_MANAGER, { precondition: false });
      return; // the subnet's change brings the port back here
    }
    const fixedIPs: FixedIP[] = [];
    try {
      for (const w of wanted) fixedIPs.push({ subnet: w.subnet.metadata.name, subnetId: idOf(w.subnet), ipAddress: await claimAddress(client, netNs, w.subnet.metadata.name, holder, w.ipAddress, port.spec.deviceOwner === ROUTER_INTERFACE_OWNER) });
    } catch (e) {
      if (e instanceof IpamError) return stall(ctx, PORTS, port, e.reason, e.message);
      throw e;
    }
    // Addresses it had and no longer wants go back to their subnets.
    for (const s of subnets) await releaseAddresses(client, netNs, s.metadata.name, holder, fixedIPs.filter((f) => f.subnet === s.metadata.name).map((f) => f.ipAddress!));
    let written = await patchStatusChanges(client, PORTS, port, { id: idOf(port), projectId: await projectIdOf(client, port.metadata.namespace!), macAddress: macOf(port), fixedIPs, networkId: idOf(net), mtu: mtuOf(net) }, FIELD_MANAGER, { precondition: false });
    await ovn.sync([written]);
    const binding = ovn.bindingOf(idOf(port));
    // A floating IP's port only holds its address: OVN has no switch port for it (its NAT rule is the router's).
    const inNb = port.spec.deviceOwner === FLOATING_IP_OWNER || ovn.hasSwitchPort(idOf(port));
    const phase = !inNb ? 'BUILD' : binding.up && port.spec.adminStateUp !== false ? 'ACTIVE' : 'DOWN';
    if (phase === 'ACTIVE' && port.status?.phase !== 'ACTIVE') await ctx.events.record(port, 'Normal', 'Up', `Bound and up on chassis ${binding.chassis}`);
    const conditions = inNb
      ? markReady(port.status?.conditions, port.metadata.generation, phase === 'ACTIVE' ? 'Up' : 'Unbound', phase === 'ACTIVE' ? `bound on chassis ${binding.chassis}` : `OVN logical switch port ${idOf(port)} is ready; no guest is plugged into it yet`)
      : markReconciling(port.status?.conditions, port.metadata.generation, 'AwaitingNorthbound', `waiting for OVN's northbound database to hold the logical switch port`);
    written = await patchStatusChanges(client, PORTS, written, { phase, conditions, chassis: binding.chassis ?? null }, FIELD_MANAGER, { precondition: false });
    if (!inNb) return { requeueAfterMs: 2000 };
  };
}

/** The security groups the port names that do not exist; the namespace's default group is made when it is named and missing, as Neutron makes it on first use. */
async function missingSecurityGroups(client: KubeClient, port: Port): Promise<string[]> {
  const ns = port.metadata.namespace!;
  const missing: string[] = [];
  for (const name of securityGroupsOf(port)) {
    const sg = await client.get<SecurityGroup>(SECURITY_GROUPS, ns, name);
    if (sg && !isDeleting(sg)) continue;
    if (!sg && name === DEFAULT_SECURITY_GROUP) {
      await ensureDefaultSecurityGroup(client, ns);
      continue;
    }
    missing.push(name);
  }
  return missing;
}

/** The namespace's default security group, with Neutron's default rules; made once (a race to make it is fine). */
export async function ensureDefaultSecurityGroup(client: KubeClient, namespace: string): Promise<void> {
  if (await client.get(SECURITY_GROUPS, namespace, DEFAULT_SECURITY_GROUP)) return;
  const body = { apiVersion: 'network.stratus.io/v1alpha1', kind: 'SecurityGroup', metadata: { name: DEFAULT_SECURITY_GROUP, namespace }, spec: { displayName: 'default', description: 'Default security group', rules: defaultRules() } };
  await client.create(SECURITY_GROUPS, body as never, FIELD_MANAGER).catch((e: unknown) => {
    if (!isConflict(e)) throw e;
  });
}

export function securityGroupReconciler(ovn: OvnMechanism): Reconciler<SecurityGroup> {
  return async function reconcileSecurityGroup(req: Request, ctx: ReconcileContext<SecurityGroup>): Promise<Result | void> {
    const { client } = ctx;
    const sg = await client.get<SecurityGroup>(SECURITY_GROUPS, req.namespace, req.name);
    if (!sg) return;
    const pg = portGroupNameOf(idOf(sg));
    if (isDeleting(sg)) {
      if (!hasFinalizer(sg, OVN_FINALIZER)) return;
      const users = (await client.list<Port>(PORTS, sg.metadata.namespace)).items.filter((p) => securityGroupsOf(p).includes(sg.metadata.name));
      if (users.length) {
        await stall(ctx, SECURITY_GROUPS, sg, 'SecurityGroupInUse', `Security Group ${idOf(sg)} in use by port(s) ${users.slice(0, 3).map((p) => p.metadata.name).join(', ')}.`);
        return; // a port's change brings it back here
      }
      await ovn.sync([sg]);
      if (ovn.hasPortGroup(pg)) return { requeueAfterMs: 1000 };
      await releaseFinalizer(client, SECURITY_GROUPS, sg);
      return;
    }
    const names = (await client.list<SecurityGroup>(SECURITY_GROUPS, sg.metadata.namespace)).items.filter((g) => !isDeleting(g)).map((g) => g.metadata.name);
    const problem = groupProblem(sg, names);
    if (problem) return stall(ctx, SECURITY_GROUPS, sg, 'InvalidInput', problem);
    if (await ensureFinalizer(client, SECURITY_GROUPS, sg)) return;
    const rules = sg.spec.rules ?? [];
    const facts = { id: idOf(sg), projectId: await projectIdOf(client, sg.metadata.namespace!), portGroup: pg, ruleIds: rules.map((r) => ruleIdOf(idOf(sg), r)), ruleCount: rules.length, phase: 'ACTIVE' };
    let written = await patchStatusChanges(client, SECURITY_GROUPS, sg, facts, FIELD_MANAGER, { precondition: false });
    await ovn.sync([written]);
    if (!ovn.hasPortGroup(pg)) {
      await patchStatusChanges(client, SECURITY_GROUPS, written, { conditions: markReconciling(sg.status?.conditions, sg.metadata.generation, 'AwaitingNorthbound', `waiting for OVN's northbound database to hold port group ${pg}`) }, FIELD_MANAGER, { precondition: false });
      return { requeueAfterMs: 2000 };
    }
    written = await patchStatusChanges(client, SECURITY_GROUPS, written, { conditions: markReady(sg.status?.conditions, sg.metadata.generation, 'PortGroupReady', `OVN port group ${pg} with ${rules.length} rule(s)`) }, FIELD_MANAGER, { precondition: false });
  };
}

/** A subnet pool has no OVN rows: its reconciler checks its prefixes and says it is ACTIVE. */
export function subnetPoolReconciler(): Reconciler<SubnetPool> {
  return async function reconcileSubnetPool(req: Request, ctx: ReconcileContext<SubnetPool>): Promise<Result | void> {
    const pool = await ctx.client.get<SubnetPool>(SUBNET_POOLS, req.namespace, req.name);
    if (!pool || isDeleting(pool)) return;
    let version: number | undefined;
    for (const prefix of pool.spec.prefixes) {
      let v: number;
      try {
        v = prefixVersion(prefix);
      } catch {
        return stall(ctx, SUBNET_POOLS, pool, 'InvalidInput', `'${prefix}' is not a valid prefix`);
      }
      if (version !== undefined && v !== version) return stall(ctx, SUBNET_POOLS, pool, 'InvalidInput', 'Cannot mix IPv4 and IPv6 prefixes in a subnet pool.');
      version = v;
    }
    await patchStatusChanges(ctx.client, SUBNET_POOLS, pool, { id: idOf(pool), projectId: await projectIdOf(ctx.client, pool.metadata.namespace!), ipVersion: version, phase: 'ACTIVE', conditions: markReady(pool.status?.conditions, pool.metadata.generation, 'Accepted', pool.spec.prefixes.join(', ')) }, FIELD_MANAGER, { precondition: false });
  };
}
