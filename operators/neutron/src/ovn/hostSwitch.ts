/**
 * A node's Open vSwitch, through its OVSDB (never ovs-vsctl per change): the chassis settings ovn-controller
 * reads, the integration bridge on the userspace datapath, and guest ports plugged into it with the
 * iface-id that binds them to their logical port (os-vif's ovs plugin does the same for Nova).
 */
import { OvsdbClient } from '../ovsdb/client.js';
import { asList, asMap, map, namedUuid, set, uuid, type Row } from '../ovsdb/values.js';

export const INTEGRATION_BRIDGE = 'br-int';
/** The provider bridge: external networks' localnet ports reach the outside through it. */
export const PROVIDER_BRIDGE = 'br-ex';

export const OVS_TABLES = {
  Open_vSwitch: ['bridges', 'external_ids'],
  Bridge: ['name', 'ports', 'datapath_type', 'fail_mode'],
  Port: ['name', 'interfaces'],
  Interface: ['name', 'type', 'external_ids', 'ofport', 'error'],
};

export function openVswitch(remote: string, log?: import('@stratus/runtime').Logger): OvsdbClient {
  return new OvsdbClient({ remote, database: 'Open_vSwitch', monitor: OVS_TABLES, log }).start();
}

const rowNamed = (ovs: OvsdbClient, table: string, name: string): Row | undefined => ovs.rows(table).find((r) => r.name === name);

/** The chassis settings ovn-controller reads from Open_vSwitch.external_ids, and br-int on the userspace datapath. */
export async function configureChassis(ovs: OvsdbClient, o: { systemId: string; sbRemote: string; encapIp?: string }): Promise<void> {
  await ovs.ready();
  const root = ovs.rows('Open_vSwitch')[0];
  const externalIds = {
    ...asMap(root?.external_ids),
    'system-id': o.systemId,
    'ovn-remote': o.sbRemote,
    'ovn-encap-type': 'geneve',
    'ovn-encap-ip': o.encapIp ?? '127.0.0.1',
    // The kernel here has no OVS datapath: ovn-controller must make its bridges on the userspace one.
    'ovn-bridge-datapath-type': 'netdev',
    // External networks (provider network physnet1) leave through br-ex.
    'ovn-bridge-mappings': `physnet1:${PROVIDER_BRIDGE}`,
  };
  const ops: object[] = [];
  if (!root) ops.push({ op: 'insert', table: 'Open_vSwitch', row: { external_ids: map(externalIds) }, 'uuid-name': 'root' });
  else ops.push({ op: 'update', table: 'Open_vSwitch', where: [['_uuid', '==', uuid(root._uuid as string)]], row: { external_ids: map(externalIds) } });
  const rootRef = root ? uuid(root._uuid as string) : namedUuid('root');
  for (const [i, [name, failMode]] of ([[INTEGRATION_BRIDGE, 'secure'], [PROVIDER_BRIDGE, 'standalone']] as const).entries()) {
    if (rowNamed(ovs, 'Bridge', name)) continue;
    ops.push(
      { op: 'insert', table: 'Interface', row: { name, type: 'internal' }, 'uuid-name': `brif${i}` },
      { op: 'insert', table: 'Port', row: { name, interfaces: set([namedUuid(`brif${i}`)]) }, 'uuid-name': `brport${i}` },
      { op: 'insert', table: 'Bridge', row: { name, ports: set([namedUuid(`brport${i}`)]), datapath_type: 'netdev', fail_mode: failMode }, 'uuid-name': `br${i}` },
      { op: 'mutate', table: 'Open_vSwitch', where: root ? [['_uuid', '==', rootRef]] : [], mutations: [['bridges', 'insert', set([namedUuid(`br${i}`)])]] },
    );
  }
  await ovs.transact(ops);
}

/** Whether br-int really exists: `add-br` on a datapath the kernel lacks "succeeds" and leaves an error on the interface. */
export function bridgeProblem(ovs: OvsdbClient): string | undefined {
  const iface = rowNamed(ovs, 'Interface', INTEGRATION_BRIDGE);
  if (!iface) return `${INTEGRATION_BRIDGE} is not in the switch's database yet`;
  const err = asList(iface.error)[0];
  if (err) return `${INTEGRATION_BRIDGE}: ${err}`;
  const ofport = Number(asList(iface.ofport)[0] ?? -1);
  return ofport < 0 ? `${INTEGRATION_BRIDGE} has no OpenFlow port yet` : undefined;
}

export interface PlugSpec {
  /** The device's name in the node's namespace (tap…). */
  device: string;
  /** The logical port it carries: OVN binds it by this. */
  ifaceId: string;
  mac: string;
  /** The instance it belongs to (Nova's vm-uuid). */
  vmId: string;
  /** 'internal': a device the switch makes itself (a benchmark's stand-in for a guest's NIC); unset: an existing one (a tap). */
  type?: 'internal';
}

/** Adds (or corrects) the device's port on br-int with the iface-id OVN binds. Idempotent. */
export async function plugPort(ovs: OvsdbClient, p: PlugSpec): Promise<void> {
  await ovs.ready();
  const ids = { 'iface-id': p.ifaceId, 'attached-mac': p.mac, 'iface-status': 'active', 'vm-uuid': p.vmId };
  const iface = rowNamed(ovs, 'Interface', p.device);
  if (iface) {
    const have = asMap(iface.external_ids);
    if (Object.entries(ids).every(([k, v]) => have[k] === v)) return;
    await ovs.transact([{ op: 'update', table: 'Interface', where: [['_uuid', '==', uuid(iface._uuid as string)]], row: { external_ids: map({ ...have, ...ids }) } }]);
    return;
  }
  const bridge = rowNamed(ovs, 'Bridge', INTEGRATION_BRIDGE);
  if (!bridge) throw new Error(`${INTEGRATION_BRIDGE} does not exist on this node`);
  await ovs.transact([
    { op: 'insert', table: 'Interface', row: { name: p.device, external_ids: map(ids), ...(p.type ? { type: p.type } : {}) }, 'uuid-name': 'iface' },
    { op: 'insert', table: 'Port', row: { name: p.device, interfaces: set([namedUuid('iface')]) }, 'uuid-name': 'port' },
    { op: 'mutate', table: 'Bridge', where: [['_uuid', '==', uuid(bridge._uuid as string)]], mutations: [['ports', 'insert', set([namedUuid('port')])]] },
  ]);
}

/** Adds a device (the provider network's link) to a bridge. Idempotent. */
export async function addBridgePort(ovs: OvsdbClient, bridgeName: string, device: string): Promise<void> {
  await ovs.ready();
  if (rowNamed(ovs, 'Port', device)) return;
  const bridge = rowNamed(ovs, 'Bridge', bridgeName);
  if (!bridge) throw new Error(`${bridgeName} does not exist on this node`);
  await ovs.transact([
    { op: 'insert', table: 'Interface', row: { name: device }, 'uuid-name': 'iface' },
    { op: 'insert', table: 'Port', row: { name: device, interfaces: set([namedUuid('iface')]) }, 'uuid-name': 'port' },
    { op: 'mutate', table: 'Bridge', where: [['_uuid', '==', uuid(bridge._uuid as string)]], mutations: [['ports', 'insert', set([namedUuid('port')])]] },
  ]);
}

/** Takes the device's port off br-int (the Port row; its Interface goes with it). Idempotent. */
export async function unplugPort(ovs: OvsdbClient, device: string): Promise<void> {
  await ovs.ready();
  const port = rowNamed(ovs, 'Port', device);
  const bridge = rowNamed(ovs, 'Bridge', INTEGRATION_BRIDGE);
  if (!port || !bridge) return;
  await ovs.transact([{ op: 'mutate', table: 'Bridge', where: [['_uuid', '==', uuid(bridge._uuid as string)]], mutations: [['ports', 'delete', set([uuid(port._uuid as string)])]] }]);
}

/** The names of the ports on br-int other than the bridge's own. */
export function pluggedDevices(ovs: OvsdbClient): string[] {
  const bridge = rowNamed(ovs, 'Bridge', INTEGRATION_BRIDGE);
  const ids = new Set(asList(bridge?.ports));
  return ovs.rows('Port').filter((p) => ids.has(p._uuid as string) && p.name !== INTEGRATION_BRIDGE && !String(p.name).startsWith('patch-')).map((p) => String(p.name));
}
