/**
 * An instance's NICs on this node (nova-compute's network side, with os-vif's ovs plugin): the Ports it asks
 * for are made (owned by the instance) or bound to it; once each has its MAC and addresses the guest gets a
 * virtio NIC on a tap; after libvirt made the tap, it is moved into the node's switch namespace, set up
 * (TX checksum offload off: the userspace datapath drops TCP otherwise) and plugged into br-int with the
 * port's iface-id, which OVN binds.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { isConflict, type KubeClient, type Logger } from '@stratus/runtime';
import { NETWORKS, PORTS, SUBNETS, openVswitch, plugPort, tapNameOf, unplugPort, type Network, type OvsdbClient, type Port, type Subnet } from '@stratus/neutron';
import type { GuestNic } from '../driver/types.js';
import type { Instance, InstanceAddress } from '../resources.js';
import { NIC_OWNER, madePortName, wantedPortNames } from '../nics.js';

export { NIC_OWNER, madePortName, wantedPortNames };

const run = promisify(execFile);
export const INSTANCE_LABEL = 'compute.stratus.io/instance';

/** The node's switch: its OVSDB and, where it is not the agent's own (one machine), the namespace its devices live in. */
export interface VifHost {
  ovs: OvsdbClient;
  netns?: string;
}

/** The node's switch as the environment names it (OVS_REMOTE, and OVS_NETNS when the switch is in a namespace of its own); undefined on a node without networking. */
export function vifHostFromEnv(env: NodeJS.ProcessEnv, log: Logger): VifHost | undefined {
  if (!env.OVS_REMOTE) return undefined;
  return { ovs: openVswitch(env.OVS_REMOTE, log), ...(env.OVS_NETNS ? { netns: env.OVS_NETNS } : {}) };
}

/** What the guest's config drive says of one NIC (its network_data.json and network-config). */
export interface NicNetwork {
  portId: string;
  networkId: string;
  mac: string;
  mtu: number;
  device: string;
  addresses: Array<{ ip: string; cidr: string; gateway?: string; dhcp: boolean; dns: string[] }>;
}

export type NicsOutcome = { ready: true; nics: GuestNic[]; addresses: InstanceAddress[]; networkData: NicNetwork[] } | { ready: false; message: string } | { refused: string; reason: string };


/** Makes or binds the instance's Ports; its NICs once every port has its MAC and addresses. */
export async function instanceNics(client: KubeClient, inst: Instance, host: string, fieldManager: string): Promise<NicsOutcome> {
  const ns = inst.metadata.namespace!;
  const uid = inst.metadata.uid!;
  const nics: GuestNic[] = [];
  const addresses: InstanceAddress[] = [];
  const networkData: NicNetwork[] = [];
  const waiting: string[] = [];
  for (const [i, want] of (inst.spec.networks ?? []).entries()) {
    const name = want.port ?? madePortName(inst, i);
    let port = await client.get<Port>(PORTS, ns, name);
    if (want.port) {
      if (!port) return { refused: `Port ${want.port} could not be found.`, reason: 'PortNotFound' };
      if (port.spec.deviceId && port.spec.deviceId !== uid) return { refused: `Port ${want.port} is still in use by ${port.spec.deviceId}.`, reason: 'PortInUse' };
    } else if (!port) {
      if (!want.network) return { refused: `NIC ${i} names neither a port nor a network.`, reason: 'InvalidNetwork' };
      port = await createPort(client, inst, i, want.network, want.networkNamespace, want.fixedIP, host, fieldManager);
    }
    if (port.spec.deviceId !== uid || port.spec.bindingHost !== host || port.spec.deviceOwner !== NIC_OWNER)
      port = await client.patch<Port>(PORTS, ns, name, { spec: { deviceId: uid, deviceOwner: NIC_OWNER, bindingHost: host } }, fieldManager);
    const stalled = port.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
    if (stalled && port.status?.observedGeneration === port.metadata.generation) return { refused: `Port ${name}: ${stalled.message}`, reason: stalled.reason ?? 'PortFailed' };
    if (!port.status?.macAddress || !port.status.id) {
      waiting.push(name);
      continue;
    }
    nics.push({ mac: port.status.macAddress, device: tapNameOf(port.status.id), mtu: port.status.mtu ?? 1442, portId: port.status.id, port: name });
    const netNs = port.spec.networkNamespace ?? ns;
    const subnets = await Promise.all((port.status.fixedIPs ?? []).map(async (f) => ({ f, s: f.subnet ? await client.get<Subnet>(SUBNETS, netNs, f.subnet) : undefined })));
    networkData.push({
      portId: port.status.id,
      networkId: port.status.networkId ?? '',
      mac: port.status.macAddress,
      mtu: port.status.mtu ?? 1442,
      device: tapNameOf(port.status.id),
      addresses: subnets.filter(({ f, s }) => f.ipAddress && s).map(({ f, s }) => ({ ip: f.ipAddress!, cidr: s!.spec.cidr, ...(s!.status?.gatewayIP ? { gateway: s!.status.gatewayIP } : {}), dhcp: s!.spec.enableDHCP !== false, dns: s!.spec.dnsNameservers ?? [] })),
    });
    const network = await client.get<Network>(NETWORKS, port.spec.networkNamespace ?? ns, port.spec.network);
    addresses.push({ port: name, network: port.spec.network, networkName: network?.spec.displayName || port.spec.network, ...(port.status.networkId ? { networkId: port.status.networkId } : {}), mac: port.status.macAddress, ips: (port.status.fixedIPs ?? []).map((f) => f.ipAddress!).filter(Boolean) });
  }
  return waiting.length ? { ready: false, message: `waiting for port(s) ${waiting.join(', ')} to get their addresses` } : { ready: true, nics, addresses, networkData };
}

async function createPort(client: KubeClient, inst: Instance, i: number, network: string, networkNamespace: string | undefined, fixedIP: string | undefined, host: string, fieldManager: string): Promise<Port> {
  const ns = inst.metadata.namespace!;
  const body: Port = {
    apiVersion: 'network.stratus.io/v1alpha1',
    kind: 'Port',
    metadata: {
      name: madePortName(inst, i),
      namespace: ns,
      labels: { [INSTANCE_LABEL]: inst.metadata.name },
      // Made for the instance, it goes with it (Nova deletes the ports it made when the server goes).
      ownerReferences: [{ apiVersion: inst.apiVersion ?? 'compute.stratus.io/v1alpha1', kind: 'Instance', name: inst.metadata.name, uid: inst.metadata.uid!, controller: true }],
    },
    spec: { network, ...(networkNamespace ? { networkNamespace } : {}), ...(inst.spec.securityGroups ? { securityGroups: inst.spec.securityGroups } : {}), ...(fixedIP ? { fixedIPs: [{ ipAddress: fixedIP }] } : {}), deviceOwner: NIC_OWNER, deviceId: inst.metadata.uid!, bindingHost: host },
  };
  try {
    return await client.create<Port>(PORTS, body, fieldManager);
  } catch (e) {
    if (!isConflict(e)) throw e;
    return (await client.get<Port>(PORTS, ns, body.metadata.name))!;
  }
}

const linkExists = (device: string, netns?: string) =>
  run('ip', [...(netns ? ['-n', netns] : []), 'link', 'show', 'dev', device]).then(
    () => true,
    () => false,
  );

/** `ip` in the switch's namespace (or the agent's own, when the switch shares it). */
const ipIn = (netns: string | undefined, ...args: string[]) => run('ip', [...(netns ? ['-n', netns] : []), ...args]);

/** Moves each NIC's tap into the switch's namespace (a fresh one, made by libvirt at start), sets it up and plugs it. Idempotent. */
export async function plugNics(vif: VifHost, nics: GuestNic[], vmId: string): Promise<void> {
  for (const nic of nics) {
    if (vif.netns && (await linkExists(nic.device))) {
      // A tap left in the namespace by the guest's last run is stale: the fresh one takes its place and port.
      if (await linkExists(nic.device, vif.netns)) await ipIn(vif.netns, 'link', 'delete', 'dev', nic.device).catch(() => {});
      await unplugPort(vif.ovs, nic.device);
      await run('ip', ['link', 'set', 'dev', nic.device, 'netns', vif.netns]);
    }
    if (!(await linkExists(nic.device, vif.netns))) throw new Error(`tap ${nic.device} is not there${vif.netns ? ` (neither on the host nor in namespace ${vif.netns})` : ''}: is the guest running?`);
    await ipIn(vif.netns, 'link', 'set', 'dev', nic.device, 'mtu', String(nic.mtu), 'up');
    await run(vif.netns ? 'ip' : 'ethtool', vif.netns ? ['netns', 'exec', vif.netns, 'ethtool', '-K', nic.device, 'tx', 'off'] : ['-K', nic.device, 'tx', 'off']).catch(() => {});
    await plugPort(vif.ovs, { device: nic.device, ifaceId: nic.portId, mac: nic.mac, vmId });
  }
}

/** Takes the NICs off the switch and removes any tap of theirs left in the namespace. Idempotent. */
export async function unplugNics(vif: VifHost, nics: GuestNic[]): Promise<void> {
  for (const nic of nics) {
    await unplugPort(vif.ovs, nic.device);
    // In a namespace of its own a tap outlives its guest; on the host, libvirt removes the taps it made.
    if (vif.netns && (await linkExists(nic.device, vif.netns))) await ipIn(vif.netns, 'link', 'delete', 'dev', nic.device).catch(() => {});
  }
}


/**
 * An offloaded instance's Ports stay its own but bound to no host (Nova's shelve offload clears their
 * binding:host_id): OVN then binds them nowhere, and an unshelve binds them where the guest spawns.
 */
export async function unbindPorts(client: KubeClient, inst: Instance, fieldManager: string): Promise<void> {
  const ns = inst.metadata.namespace!;
  for (const name of wantedPortNames(inst)) {
    const port = await client.get<Port>(PORTS, ns, name);
    if (port && port.spec.deviceId === inst.metadata.uid && port.spec.bindingHost) await client.patch(PORTS, ns, name, { spec: { bindingHost: null } }, fieldManager);
  }
}
