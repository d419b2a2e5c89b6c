/**
 * OVN's own daemons, from Debian's ovn-central, ovn-host and openvswitch-switch packages, as the processes a
 * supervisor runs (in the foreground, each ending when its parent dies):
 *   central: the northbound and southbound ovsdb-servers and ovn-northd (the chart's ovn-central);
 *   host: a node's ovsdb-server, ovs-vswitchd on the userspace datapath and ovn-controller (the chart's
 *   ovn-host DaemonSet), all inside the node's own network namespace, so every bridge, tap and guest link
 *   stays out of the machine's namespace.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DaemonSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
}

/** Where one cloud's OVN keeps its databases, sockets and logs. */
export interface OvnLayout {
  dir: string;
  nbRemote: string;
  sbRemote: string;
  /** The node's Open_vSwitch database. */
  ovsRemote: string;
  /** The network namespace the node's switch and guest links live in. */
  netns: string;
  /**
   * The namespace standing for the provider network (physnet1) on this machine: external networks, router
   * gateways and floating IPs are reached from there, over a veth (ext0 there, phy0 on br-ex), never from the
   * machine's own namespace.
   */
  externalNetns: string;
}

const UNIX_PATH_MAX = 107;

/** The layout under `<dataDir>/ovn`, its namespace named after the folder so clouds on one machine differ. */
export function ovnLayout(dataDir: string): OvnLayout {
  const dir = join(dataDir, 'ovn');
  const sock = (name: string) => {
    const path = join(dir, `${name}.sock`);
    if (path.length > UNIX_PATH_MAX) throw new Error(`${path}: longer than a unix socket path may be (${UNIX_PATH_MAX}); use a shorter state folder`);
    return `unix:${path}`;
  };
  const netns = `stratus-${createHash('sha256').update(dataDir).digest('hex').slice(0, 8)}`;
  return { dir, nbRemote: sock('nb'), sbRemote: sock('sb'), ovsRemote: sock('ovs'), netns, externalNetns: `${netns}-ext` };
}

/** Each daemon dies with the process that started it (the parent-death signal), so none outlives a killed supervisor. */
function daemon(name: string, command: string, args: string[], layout: OvnLayout, netns?: string): DaemonSpec {
  const d = layout.dir;
  const common = ['-vconsole:off', `--pidfile=${join(d, `${name}.pid`)}`, `--log-file=${join(d, `${name}.log`)}`];
  const env = { OVS_RUNDIR: d, OVS_LOGDIR: d, OVS_DBDIR: d, OVN_RUNDIR: d, OVN_LOGDIR: d, OVN_DBDIR: d };
  const inner = ['setpriv', '--pdeathsig', 'KILL', command, ...args, ...common];
  return netns ? { name, command: 'ip', args: ['netns', 'exec', netns, ...inner], env } : { name, command: inner[0], args: inner.slice(1), env };
}

const path = (remote: string) => remote.replace(/^unix:/, '');

export function centralDaemons(l: OvnLayout): DaemonSpec[] {
  const db = (name: 'nb' | 'sb', remote: string) =>
    daemon(`ovsdb-${name}`, 'ovsdb-server', [join(l.dir, `${name}.db`), `--remote=p${remote}`, `--unixctl=${join(l.dir, `ovsdb-${name}.ctl`)}`], l);
  return [db('nb', l.nbRemote), db('sb', l.sbRemote), daemon('ovn-northd', 'ovn-northd', [`--ovnnb-db=${l.nbRemote}`, `--ovnsb-db=${l.sbRemote}`, `--unixctl=${join(l.dir, 'ovn-northd.ctl')}`], l)];
}

/** The node's switch: its ovsdb-server and ovs-vswitchd. */
export function switchDaemons(l: OvnLayout): DaemonSpec[] {
  return [
    daemon('ovsdb-ovs', 'ovsdb-server', [join(l.dir, 'conf.db'), `--remote=p${l.ovsRemote}`, `--unixctl=${join(l.dir, 'ovsdb-ovs.ctl')}`], l, l.netns),
    daemon('ovs-vswitchd', 'ovs-vswitchd', [l.ovsRemote, `--unixctl=${join(l.dir, 'ovs-vswitchd.ctl')}`], l, l.netns),
  ];
}

/**
 * The node's ovn-controller, to start once the switch's database holds the chassis settings (configureChassis):
 * ovn-controller 23.03 that finds the database without a system-id dies of SIGSEGV.
 */
export function controllerDaemon(l: OvnLayout): DaemonSpec {
  // ovn-controller 23.03 takes no --unixctl: its control socket goes to OVN_RUNDIR.
  return daemon('ovn-controller', 'ovn-controller', [l.ovsRemote], l, l.netns);
}

async function createDatabases(l: OvnLayout, schemas: Array<[string, string]>): Promise<void> {
  mkdirSync(l.dir, { recursive: true });
  for (const [file, schema] of schemas) if (!existsSync(join(l.dir, file))) await run('ovsdb-tool', ['create', join(l.dir, file), schema]);
}

/** The northbound and southbound databases, created once. */
export const prepareCentral = (l: OvnLayout) =>
  createDatabases(l, [
    ['nb.db', '/usr/share/ovn/ovn-nb.ovsschema'],
    ['sb.db', '/usr/share/ovn/ovn-sb.ovsschema'],
  ]);

/** The node's Open_vSwitch database (created once) and its namespace (made if missing, loopback up). */
export async function prepareHost(l: OvnLayout): Promise<void> {
  await createDatabases(l, [['conf.db', '/usr/share/openvswitch/vswitch.ovsschema']]);
  await ensureNetns(l.netns);
}

export async function ensureNetns(netns: string): Promise<void> {
  if (!existsSync(`/run/netns/${netns}`)) await run('ip', ['netns', 'add', netns]);
  await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
}

/** The provider network's namespace, linked by a veth to the node's namespace (ext0 there, phy0 here, for br-ex). Idempotent. */
export async function ensureProviderLink(l: OvnLayout): Promise<void> {
  await ensureNetns(l.externalNetns);
  const has = await run('ip', ['-n', l.netns, 'link', 'show', 'dev', 'phy0']).then(
    () => true,
    () => false,
  );
  if (!has) await run('ip', ['-n', l.netns, 'link', 'add', 'phy0', 'type', 'veth', 'peer', 'name', 'ext0', 'netns', l.externalNetns]);
  for (const [ns, dev] of [[l.netns, 'phy0'], [l.externalNetns, 'ext0']]) {
    await run('ip', ['-n', ns, 'link', 'set', 'dev', dev, 'up']);
    // The userspace datapath drops TCP whose checksum the veth left to offload.
    await run('ip', ['netns', 'exec', ns, 'ethtool', '-K', dev, 'tx', 'off']).catch(() => {});
  }
}

/** Removes the node's namespace (once its daemons are gone). */
export async function removeNetns(netns: string): Promise<void> {
  if (existsSync(`/run/netns/${netns}`)) await run('ip', ['netns', 'delete', netns]);
}

export { path as socketPathOf };
