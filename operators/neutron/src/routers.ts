/**
 * The Router reconciler. The story of a router: it gets a finalizer guarding its logical router; the subnets
 * it joins must exist and must not overlap; for each it holds a Port (network:router_interface) at the
 * subnet's gateway address, made and removed as spec.interfaces changes; the OVN mechanism makes the logical
 * router with a router port per interface; Ready once every interface has its address and NB the router.
 * Deleting it removes its interface ports, then its logical router.
 */
import {
  hasFinalizer,
  isConflict,
  isDeleting,
  markReady,
  markReconciling,
  patchStatusChanges,
  type ReconcileContext,
  type Reconciler,
  type Request,
  type Result,
} from '@stratus/runtime';
import { gatewayOf, overlaps } from './ipam.js';
import { routerNameOf } from './ovn/northbound.js';
import { ensureFinalizer, releaseFinalizer, stall } from './reconcileSteps.js';
import type { OvnMechanism } from './ovn/mechanism.js';
import { FIELD_MANAGER, NETWORKS, OVN_FINALIZER, PORTS, ROUTERS, ROUTER_GATEWAY_OWNER, ROUTER_INTERFACE_OWNER, SUBNETS, gatewayPortNameOf, idOf, routerPortNameOf, sameFixedIPs, type Network, type Port, type Router, type RouterInterfaceStatus, type Subnet } from './resources.js';

export const ROUTER_LABEL = 'network.stratus.io/router';

/** Why the router cannot join these subnets (Neutron's words), or undefined. Pure. */
export function interfacesProblem(subnets: Subnet[]): string | undefined {
  for (let i = 0; i < subnets.length; i++)
    for (let j = i + 1; j < subnets.length; j++)
      if (overlaps(subnets[i].spec.cidr, subnets[j].spec.cidr))
        return `Bad router request: Cidr ${subnets[j].spec.cidr} of subnet ${subnets[j].metadata.name} overlaps with cidr ${subnets[i].spec.cidr} of subnet ${subnets[i].metadata.name}.`;
  const noGateway = subnets.find((s) => !gatewayOf(s.spec));
  if (noGateway) return `Bad router request: Subnet ${noGateway.metadata.name} has no gateway IP.`;
  return undefined;
}

export function routerReconciler(ovn: OvnMechanism): Reconciler<Router> {
  return async function reconcileRouter(req: Request, ctx: ReconcileContext<Router>): Promise<Result | void> {
    const { client } = ctx;
    const router = await client.get<Router>(ROUTERS, req.namespace, req.name);
    if (!router) return;
    const ns = router.metadata.namespace!;
    const lr = routerNameOf(idOf(router));
    const mine = (await client.list<Port>(PORTS, ns, `${ROUTER_LABEL}=${router.metadata.name}`)).items.filter((p) => p.spec.deviceId === idOf(router));
    if (isDeleting(router)) {
      if (!hasFinalizer(router, OVN_FINALIZER)) return;
      for (const p of mine) if (!isDeleting(p)) await client.delete(PORTS, ns, p.metadata.name);
      if (mine.length) return { requeueAfterMs: 1000 };
      await ovn.sync([router]);
      if (ovn.hasRouter(lr)) return { requeueAfterMs: 1000 };
      await releaseFinalizer(client, ROUTERS, router);
      return;
    }
    const fail = (reason: string, message: string) => stall(ctx, ROUTERS, router, reason, message);
    // Its legs: a subnet it joins at the gateway (a port it makes), or a port of the tenant's it takes over.
    const legs: Array<{ subnet: Subnet; port: string; given?: Port }> = [];
    for (const want of router.spec.interfaces ?? []) {
      let given: Port | undefined;
      let subnetName = want.subnet;
      if (want.port) {
        given = await client.get<Port>(PORTS, ns, want.port);
        if (!given || isDeleting(given)) return fail('PortNotFound', `Port ${want.port} could not be found in namespace ${ns}.`);
        if (given.spec.deviceId && given.spec.deviceId !== idOf(router)) return fail('PortInUse', `Port ${want.port} is in use by ${given.spec.deviceId}.`);
        subnetName = given.status?.fixedIPs?.[0]?.subnet;
        if (!subnetName) return fail('InvalidInput', `Bad router request: Router port must have at least one fixed IP (port ${want.port} has none yet).`);
      }
      const s = subnetName ? await client.get<Subnet>(SUBNETS, given?.spec.networkNamespace ?? ns, subnetName) : undefined;
      if (!s || isDeleting(s) || s.status?.phase !== 'ACTIVE') return fail('SubnetNotFound', `Subnet ${subnetName} could not be found (or is not ready) in namespace ${ns}.`);
      if (!legs.some((l) => l.subnet.metadata.uid === s.metadata.uid)) legs.push({ subnet: s, port: want.port ?? routerPortNameOf(router.metadata.name, s.metadata.name), ...(given ? { given } : {}) });
    }
    const subnets = legs.map((l) => l.subnet);
    const problem = interfacesProblem(subnets);
    if (problem) return fail('InvalidInput', problem);
    const gw = router.spec.externalGateway;
    const external = gw ? await client.get<Network>(NETWORKS, gw.networkNamespace ?? ns, gw.network) : undefined;
    if (gw && (!external || isDeleting(external) || !external.spec.external)) return fail('InvalidInput', `Bad router request: Network ${gw.network} is not a valid external network.`);
    if (await ensureFinalizer(client, ROUTERS, router)) return;

    // One port per joined subnet, at its gateway; a given port is taken over; the ports of legs it no longer has go.
    for (const leg of legs) {
      if (leg.given) {
        const p = leg.given;
        if (p.spec.deviceOwner !== ROUTER_INTERFACE_OWNER || p.spec.deviceId !== idOf(router) || p.spec.portSecurityEnabled !== false || p.metadata.labels?.[ROUTER_LABEL] !== router.metadata.name)
          await client.patch(PORTS, ns, p.metadata.name, { metadata: { labels: { [ROUTER_LABEL]: router.metadata.name } }, spec: { deviceOwner: ROUTER_INTERFACE_OWNER, deviceId: idOf(router), portSecurityEnabled: false, securityGroups: null } }, FIELD_MANAGER);
        continue;
      }
      if (mine.some((p) => p.metadata.name === leg.port)) continue;
      const s = leg.subnet;
      const body: Port = {
        apiVersion: 'network.stratus.io/v1alpha1',
        kind: 'Port',
        metadata: { name: leg.port, namespace: ns, labels: { [ROUTER_LABEL]: router.metadata.name }, ownerReferences: [{ apiVersion: 'network.stratus.io/v1alpha1', kind: 'Router', name: router.metadata.name, uid: idOf(router), controller: true }] },
        spec: { network: s.spec.network, fixedIPs: [{ subnet: s.metadata.name, ipAddress: gatewayOf(s.spec)! }], deviceOwner: ROUTER_INTERFACE_OWNER, deviceId: idOf(router), portSecurityEnabled: false },
      };
      await client.create(PORTS, body, FIELD_MANAGER).catch((e: unknown) => {
        if (!isConflict(e)) throw e;
      });
    }
    // A leg removed goes with its port, the one the router made or the one it was given, as in Neutron.
    for (const p of mine) if (p.spec.deviceOwner === ROUTER_INTERFACE_OWNER && !legs.some((l) => l.port === p.metadata.name) && !isDeleting(p)) await client.delete(PORTS, ns, p.metadata.name);
    // Its gateway: a port on the external network (an address from its first subnet), or none.
    const gatewayPort = mine.find((p) => p.spec.deviceOwner === ROUTER_GATEWAY_OWNER);
    const wantedGatewayIPs = router.spec.externalGateway?.fixedIPs?.length ? router.spec.externalGateway.fixedIPs : undefined;
    if (external && !gatewayPort) {
      const body: Port = {
        apiVersion: 'network.stratus.io/v1alpha1',
        kind: 'Port',
        metadata: { name: gatewayPortNameOf(router.metadata.name), namespace: ns, labels: { [ROUTER_LABEL]: router.metadata.name }, ownerReferences: [{ apiVersion: 'network.stratus.io/v1alpha1', kind: 'Router', name: router.metadata.name, uid: idOf(router), controller: true }] },
        spec: { network: external.metadata.name, ...(external.metadata.namespace !== ns ? { networkNamespace: external.metadata.namespace } : {}), deviceOwner: ROUTER_GATEWAY_OWNER, deviceId: idOf(router), portSecurityEnabled: false, ...(wantedGatewayIPs ? { fixedIPs: wantedGatewayIPs } : {}) },
      };
      await client.create(PORTS, body, FIELD_MANAGER).catch((e: unknown) => {
        if (!isConflict(e)) throw e;
      });
    }
    if (!external && gatewayPort && !isDeleting(gatewayPort)) await client.delete(PORTS, ns, gatewayPort.metadata.name);
    // Addresses asked for later move the gateway port to them (its reconciler claims them, or refuses).
    if (external && gatewayPort && wantedGatewayIPs && !sameFixedIPs(gatewayPort.spec.fixedIPs ?? [], wantedGatewayIPs)) await client.patch(PORTS, ns, gatewayPort.metadata.name, { spec: { fixedIPs: wantedGatewayIPs } }, FIELD_MANAGER);
    // A gateway whose port has yet to take the addresses asked for is still on its way.
    const gatewayMoving = !!wantedGatewayIPs && !wantedGatewayIPs.every((w) => !w.ipAddress || gatewayPort?.status?.fixedIPs?.some((f) => f.ipAddress === w.ipAddress));
    const gatewayIP = external && !gatewayMoving ? gatewayPort?.status?.fixedIPs?.[0]?.ipAddress : undefined;

    const interfaces: RouterInterfaceStatus[] = legs.map((leg) => {
      const p = leg.given ?? mine.find((x) => x.metadata.name === leg.port);
      const ip = p?.status?.fixedIPs?.find((f) => f.subnet === leg.subnet.metadata.name)?.ipAddress;
      return { subnet: leg.subnet.metadata.name, subnetId: idOf(leg.subnet), port: leg.port, ...(p ? { portId: idOf(p) } : {}), ...(ip ? { ipAddress: ip } : {}) };
    });
    const stalledPort = mine.find((p) => p.status?.phase === 'ERROR');
    const portRefused = stalledPort?.status?.conditions?.find((c) => c.type === 'Stalled');
    // An address taken or none left keeps the port's reason (the API answers them 409), anything else is the interface's.
    if (stalledPort) return fail(portRefused?.reason === 'AddressInUse' || portRefused?.reason === 'SubnetFull' ? portRefused.reason : 'InterfaceFailed', `${stalledPort.spec.deviceOwner === ROUTER_GATEWAY_OWNER ? 'gateway' : 'interface'} port ${stalledPort.metadata.name}: ${portRefused?.message ?? 'refused'}`);
    let written = await patchStatusChanges(client, ROUTERS, router, { id: idOf(router), logicalRouter: lr, interfaces, gatewayIP: gatewayIP ?? null, phase: router.spec.adminStateUp === false ? 'DOWN' : 'ACTIVE' }, FIELD_MANAGER, { precondition: false });
    await ovn.sync([written]);
    const pending = [...interfaces.filter((i) => !i.ipAddress), ...(external && !gatewayIP ? [{ subnet: `external network ${external.metadata.name}` }] : [])];
    if (!ovn.hasRouter(lr) || pending.length) {
      written = await patchStatusChanges(client, ROUTERS, written, { conditions: markReconciling(router.status?.conditions, router.metadata.generation, 'AwaitingInterfaces', pending.length ? `waiting for the interface port(s) on ${pending.map((i) => i.subnet).join(', ')}` : `waiting for OVN's northbound database to hold logical router ${lr}`) }, FIELD_MANAGER, { precondition: false });
      return { requeueAfterMs: 2000 };
    }
    await patchStatusChanges(client, ROUTERS, written, { conditions: markReady(router.status?.conditions, router.metadata.generation, 'LogicalRouterReady', `OVN logical router ${lr} joining ${interfaces.map((i) => `${i.subnet} at ${i.ipAddress}`).join(', ') || 'no subnet'}`) }, FIELD_MANAGER, { precondition: false });
  };
}
