/** The networking operator: the Network, Subnet and Port controllers on one Manager, and the OVN mechanism they share. */
import type { KubernetesObject } from '@kubernetes/client-node';
import { Manager, type ManagerOptions } from '@stratus/runtime';
import { OvnMechanism } from './ovn/mechanism.js';
import { NetworkingCache } from './ovn/stateCache.js';
import { networkReconciler, portReconciler, securityGroupReconciler, subnetPoolReconciler, subnetReconciler } from './reconcilers.js';
import { routerReconciler } from './routers.js';
import { floatingIPReconciler, lostFixedIPClash } from './floatingIPs.js';
import { SUBNET_POOLS, type SubnetPool, FIELD_MANAGER, FLOATING_IPS, NETWORKS, PORTS, ROUTERS, SECURITY_GROUPS, SUBNETS, type FloatingIP, type Router, keyOf, portNetworkNamespace, securityGroupsOf, type Network, type Port, type SecurityGroup, type Subnet } from './resources.js';

export interface NeutronOptions {
  nbRemote: string;
  sbRemote: string;
  repairEveryMs?: number;
}

const at = (o: KubernetesObject) => ({ namespace: o.metadata?.namespace, name: o.metadata?.name ?? '' });

export function neutronManager(o: NeutronOptions, opts: Partial<ManagerOptions> = {}): { manager: Manager; ovn: OvnMechanism } {
  const m = new Manager({ name: FIELD_MANAGER, ...opts });
  const cache = new NetworkingCache(m.kc, m.client, m.log);
  const ovn = new OvnMechanism({
    nbRemote: o.nbRemote,
    sbRemote: o.sbRemote,
    log: m.log,
    repairEveryMs: o.repairEveryMs,
    state: () => cache.state(),
    seen: (written) => cache.seen(written),
  });
  const networkOf = (ns: string | undefined, name: string) => [{ namespace: ns, name }];
  m.add<Network>({
    name: 'network',
    resource: NETWORKS,
    reconcile: networkReconciler(ovn),
    watches: [
      { resource: PORTS, map: (p) => networkOf(portNetworkNamespace(p as Port), (p as Port).spec.network) },
      { resource: SUBNETS, map: (s) => networkOf(s.metadata?.namespace, (s as Subnet).spec.network) },
    ],
  });
  m.add<Subnet>({
    name: 'subnet',
    resource: SUBNETS,
    reconcile: subnetReconciler(ovn),
    watches: [{ resource: NETWORKS, map: (n, subnets) => subnets.list().filter((s) => s.metadata.namespace === n.metadata?.namespace && s.spec.network === n.metadata?.name).map(at) }],
  });
  const ports = m.add<Port>({
    name: 'port',
    resource: PORTS,
    reconcile: portReconciler(ovn),
    workers: 4,
    watches: [
      // A subnet arriving (or going) changes which addresses the ports on its network get.
      { resource: SUBNETS, map: (s, all) => all.list().filter((p) => portNetworkNamespace(p) === s.metadata?.namespace && p.spec.network === (s as Subnet).spec.network).map(at) },
      { resource: NETWORKS, map: (n, all) => all.list().filter((p) => portNetworkNamespace(p) === n.metadata?.namespace && p.spec.network === n.metadata?.name).map(at) },
      // A group made (or gone) matters to the ports naming it.
      { resource: SECURITY_GROUPS, map: (g, all) => all.list().filter((p) => p.metadata.namespace === g.metadata?.namespace && securityGroupsOf(p).includes(g.metadata?.name ?? '')).map(at) },
    ],
  });
  m.add<SecurityGroup>({
    name: 'securitygroup',
    resource: SECURITY_GROUPS,
    reconcile: securityGroupReconciler(ovn),
    watches: [
      // A port leaving a group lets a deleting group go.
      { resource: PORTS, map: (p, all) => all.list().filter((g) => g.metadata.namespace === p.metadata?.namespace && (g.metadata.deletionTimestamp || g.status?.phase === 'ERROR')).map(at) },
      // A group appearing or going: groups refused for want of it, and groups whose rules name it as remote.
      { resource: SECURITY_GROUPS, map: (changed, all) => all.list().filter((g) => g.metadata.namespace === changed.metadata?.namespace && (g.status?.phase === 'ERROR' || (g.spec.rules ?? []).some((r) => r.remoteGroup === changed.metadata?.name))).map(at) },
    ],
  });
  m.add<Router>({
    name: 'router',
    resource: ROUTERS,
    reconcile: routerReconciler(ovn),
    watches: [
      // Its interface ports getting their addresses (or going), and the subnets it joins.
      { resource: PORTS, map: (p, all) => all.list().filter((r) => r.metadata.uid === (p as Port).spec.deviceId).map(at) },
      { resource: SUBNETS, map: (s, all) => all.list().filter((r) => r.metadata.namespace === s.metadata?.namespace && (r.spec.interfaces ?? []).some((i) => i.subnet === s.metadata?.name)).map(at) },
    ],
  });
  m.add<FloatingIP>({
    name: 'floatingip',
    resource: FLOATING_IPS,
    reconcile: floatingIPReconciler(ovn),
    watches: [
      // Its own port getting its address, the port it reaches changing, and the routers that may translate it.
      { resource: PORTS, map: (p, all) => all.list().filter((f) => f.metadata.uid === (p as Port).spec.deviceId || (f.metadata.namespace === p.metadata?.namespace && f.spec.port === p.metadata?.name)).map(at) },
      { resource: ROUTERS, map: (r, all) => all.list().filter((f) => f.metadata.namespace === r.metadata?.namespace && f.spec.port).map(at) },
      // Another floating IP taking, moving off or letting go a fixed IP: those asking for its port, and those refused for a clash.
      { resource: FLOATING_IPS, map: (changed, all) => all.list().filter((f) => f.metadata.namespace === changed.metadata?.namespace && f.metadata.name !== changed.metadata?.name && f.spec.port && (f.spec.port === (changed as FloatingIP).spec.port || lostFixedIPClash(f))).map(at) },
    ],
  });
  m.add<SubnetPool>({ name: 'subnetpool', resource: SUBNET_POOLS, reconcile: subnetPoolReconciler() });
  // A binding that changes in the southbound database (a guest plugged in, or gone) is the port's status.
  ovn.onBindingChange((ids) => {
    const wanted = new Set(ids);
    for (const p of ports.cachedObjects()) if (wanted.has(p.metadata.uid!)) ports.queue.add(keyOf(p));
  });
  m.onStart(async () => {
    await cache.start();
    ovn.start();
  });
  m.onStop(async () => {
    ovn.stop();
    await cache.stop();
  });
  return { manager: m, ovn };
}
