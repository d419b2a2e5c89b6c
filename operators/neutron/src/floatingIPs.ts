/**
 * The FloatingIP reconciler. The story of a floating IP: it gets a finalizer guarding its NAT rule; it holds a
 * Port on its external network (network:floatingip) for its address; associated with a port, it finds the
 * router that joins that port's subnet to the external network, and the mechanism writes the dnat_and_snat
 * rule there; ACTIVE then, DOWN when not associated. A fixed IP takes one floating IP per external network:
 * of two that ask for it, the one translating it already (else the older) keeps it, the other is refused.
 * Refused for any reason, it translates nothing: its port deleted takes its rule at once, as in Neutron.
 * Deleting it removes the rule, then gives the address back.
 */
import {
  findCondition,
  hasFinalizer,
  isConflict,
  isDeleting,
  markReady,
  STALLED,
  patchStatusChanges,
  type ReconcileContext,
  type Reconciler,
  type Request,
  type Result,
} from '@stratus/runtime';
import type { OvnMechanism } from './ovn/mechanism.js';
import { ensureFinalizer, madeBefore, recordStall, releaseFinalizer } from './reconcileSteps.js';
import { FIELD_MANAGER, FLOATING_IPS, FLOATING_IP_OWNER, NETWORKS, OVN_FINALIZER, PORTS, ROUTERS, floatingPortNameOf, idOf, type FixedIP, type FloatingIP, type Network, type Port, type Router } from './resources.js';

/** The fixed IP of `port` a floating IP reaches: `asked` when the port has it, else the port's first IPv4 one. Pure. */
export const fixedIPReached = (port: Port, asked: string | undefined): FixedIP | undefined =>
  (port.status?.fixedIPs ?? []).find((f) => (asked ? f.ipAddress === asked : !!f.ipAddress && !f.ipAddress.includes(':')));

/**
 * Whether floating IP `o` asks for `fixedIP` of `port` on the external network `onExternal` tells (two would be
 * two NAT rules for one address). Pure.
 */
export function asksForFixedIP(o: FloatingIP, port: Port, fixedIP: string, onExternal: (o: FloatingIP) => boolean): boolean {
  return !isDeleting(o) && o.metadata.namespace === port.metadata.namespace && o.spec.port === port.metadata.name && onExternal(o) && fixedIPReached(port, o.status?.fixedIPAddress ?? o.spec.fixedIPAddress)?.ipAddress === fixedIP;
}

/**
 * Of two floating IPs asking for one fixed IP, whether `o` keeps it before `f`: the one translating it now wins;
 * else the older, unless it is refused (for its own reason, or having lost this clash before). Pure.
 */
export function keepsFixedIPBefore(o: FloatingIP, f: FloatingIP, portId: string, fixedIP: string): boolean {
  const translating = (x: FloatingIP) => x.status?.phase === 'ACTIVE' && x.status.portId === portId && x.status.fixedIPAddress === fixedIP;
  if (translating(o) !== translating(f)) return translating(o);
  if (!translating(o) && o.status?.phase === 'ERROR') return false;
  return madeBefore(o, f);
}

/** The Stalled reason of a floating IP refused a fixed IP another one holds (Neutron's error type of the same name). */
export const PORT_ALREADY_ASSOCIATED = 'FloatingIPPortAlreadyAssociated';

/** Whether floating IP `f` lost a clash for its fixed IP and waits for the holder to go. Pure. */
export function lostFixedIPClash(f: FloatingIP): boolean {
  const stalled = findCondition(f.status?.conditions, STALLED);
  return stalled?.status === 'True' && stalled.reason === PORT_ALREADY_ASSOCIATED;
}

/** Neutron's FloatingIPPortAlreadyAssociated message. */
export const alreadyAssociatedMessage = (fip: { address?: string; id?: string }, portId: string, fixedIP: string | undefined, externalId: string) =>
  `Cannot associate floating IP ${fip.address ?? ''} (${fip.id ?? 'new'}) with port ${portId} using fixed IP ${fixedIP}, as that fixed IP already has a floating IP on external network ${externalId}.`;

/** What a floating IP that translates nothing says of its target: no rule is written for it. */
const TRANSLATING_NOTHING = { fixedIPAddress: null, router: null, routerId: null, portId: null };

/** The router joining the port's address's subnet to the external network, or undefined. Pure. */
export function translatingRouter(routers: Router[], subnetId: string, external: Network): Router | undefined {
  return routers.find(
    (r) =>
      !r.metadata.deletionTimestamp &&
      r.spec.externalGateway?.network === external.metadata.name &&
      (r.spec.externalGateway.networkNamespace ?? r.metadata.namespace) === external.metadata.namespace &&
      (r.status?.interfaces ?? []).some((i) => i.subnetId === subnetId),
  );
}

export function floatingIPReconciler(ovn: OvnMechanism): Reconciler<FloatingIP> {
  return async function reconcileFloatingIP(req: Request, ctx: ReconcileContext<FloatingIP>): Promise<Result | void> {
    const { client } = ctx;
    const fip = await client.get<FloatingIP>(FLOATING_IPS, req.namespace, req.name);
    if (!fip) return;
    const ns = fip.metadata.namespace!;
    const portName = floatingPortNameOf(fip.metadata.name);
    if (isDeleting(fip)) {
      if (!hasFinalizer(fip, OVN_FINALIZER)) return;
      await ovn.sync([fip]); // the rule goes first: the address must not be reachable after it is given back
      const own = await client.get<Port>(PORTS, ns, portName);
      if (own && !isDeleting(own)) await client.delete(PORTS, ns, portName);
      if (own) return { requeueAfterMs: 1000 };
      await releaseFinalizer(client, FLOATING_IPS, fip);
      return;
    }
    const fail = async (reason: string, message: string) => {
      await ovn.sync([await recordStall(ctx, FLOATING_IPS, fip, reason, message, TRANSLATING_NOTHING)]);
    };
    const external = await client.get<Network>(NETWORKS, fip.spec.networkNamespace ?? ns, fip.spec.network);
    if (!external || isDeleting(external) || !external.spec.external) return fail('InvalidInput', `Network ${fip.spec.network} is not a valid external network`);
    if (await ensureFinalizer(client, FLOATING_IPS, fip)) return;

    // The address, held by a port on the external network.
    let own = await client.get<Port>(PORTS, ns, portName);
    if (!own) {
      const body: Port = {
        apiVersion: 'network.stratus.io/v1alpha1',
        kind: 'Port',
        metadata: { name: portName, namespace: ns, ownerReferences: [{ apiVersion: 'network.stratus.io/v1alpha1', kind: 'FloatingIP', name: fip.metadata.name, uid: idOf(fip), controller: true }] },
        spec: { network: external.metadata.name, ...(external.metadata.namespace !== ns ? { networkNamespace: external.metadata.namespace } : {}), deviceOwner: FLOATING_IP_OWNER, deviceId: idOf(fip), portSecurityEnabled: false, ...(fip.spec.floatingIPAddress ? { fixedIPs: [{ ipAddress: fip.spec.floatingIPAddress }] } : {}) },
      };
      own = await client.create<Port>(PORTS, body, FIELD_MANAGER).catch(async (e: unknown) => {
        if (!isConflict(e)) throw e;
        return (await client.get<Port>(PORTS, ns, portName))!;
      });
    }
    const address = own.status?.fixedIPs?.[0]?.ipAddress;
    const ownRefusal = own.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
    if (ownRefusal) return fail(ownRefusal.reason ?? 'AddressRefused', ownRefusal.message ?? 'the address was refused');
    if (!address) return { requeueAfterMs: 1000 }; // its port's change brings it back here too

    const base = { id: idOf(fip), floatingIPAddress: address };
    if (!fip.spec.port) {
      const written = await patchStatusChanges(client, FLOATING_IPS, fip, { ...base, ...TRANSLATING_NOTHING, phase: 'DOWN', conditions: markReady(fip.status?.conditions, fip.metadata.generation, 'NotAssociated', `${address}, not associated with a port`) }, FIELD_MANAGER, { precondition: false });
      await ovn.sync([written]);
      return;
    }
    const target = await client.get<Port>(PORTS, ns, fip.spec.port);
    if (!target || isDeleting(target)) return fail('PortNotFound', `Port ${fip.spec.port} could not be found.`);
    const fixed = fixedIPReached(target, fip.spec.fixedIPAddress);
    if (!fixed?.subnetId) return fail('InvalidInput', fip.spec.fixedIPAddress ? `Port ${fip.spec.port} does not have fixed ip ${fip.spec.fixedIPAddress}` : `Port ${fip.spec.port} has no IPv4 address to reach`);
    const onExternal = (o: FloatingIP) => o.spec.network === external.metadata.name && (o.spec.networkNamespace ?? o.metadata.namespace) === external.metadata.namespace;
    const holder = (await client.list<FloatingIP>(FLOATING_IPS, ns)).items.find(
      (o) => o.metadata.uid !== fip.metadata.uid && asksForFixedIP(o, target, fixed.ipAddress!, onExternal) && keepsFixedIPBefore(o, fip, idOf(target), fixed.ipAddress!),
    );
    if (holder) return fail(PORT_ALREADY_ASSOCIATED, alreadyAssociatedMessage({ address, id: idOf(fip) }, idOf(target), fixed.ipAddress, idOf(external)));
    const router = translatingRouter((await client.list<Router>(ROUTERS, ns)).items, fixed.subnetId, external);
    if (!router?.status?.id)
      return fail('ExternalGatewayForFloatingIPNotFound', `External network ${idOf(external)} is not reachable from subnet ${fixed.subnetId}. Therefore, cannot associate Port ${idOf(target)} with a Floating IP.`);
    const written = await patchStatusChanges(client, FLOATING_IPS, fip, { ...base, fixedIPAddress: fixed.ipAddress!, router: router.metadata.name, routerId: idOf(router), portId: idOf(target), phase: 'ACTIVE', conditions: markReady(fip.status?.conditions, fip.metadata.generation, 'Associated', `${address} reaches ${fixed.ipAddress} through router ${router.metadata.name}`) }, FIELD_MANAGER, { precondition: false });
    await ovn.sync([written]);
  };
}
