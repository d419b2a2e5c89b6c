/**
 * OVN for the cloud `stratus up` runs: the central daemons (northbound and southbound databases, ovn-northd)
 * and this machine's node (its Open vSwitch on the userspace datapath and ovn-controller, inside the node's
 * own network namespace), each a supervised child. Nothing is added to the machine's own namespace.
 */
import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import type { Logger } from '@stratus/runtime';
import { PROVIDER_BRIDGE, addBridgePort, bridgeProblem, centralDaemons, configureChassis, controllerDaemon, ensureProviderLink, switchDaemons, openVswitch, ovnLayout, prepareCentral, prepareHost, removeNetns, type DaemonSpec, type OvnLayout } from '@stratus/neutron';
import type { Supervisor } from './supervisor.js';

const run = promisify(execFile);

export async function startOvn(supervisor: Supervisor, dataDir: string, log: Logger, timeoutMs = 60_000): Promise<OvnLayout> {
  const layout = ovnLayout(dataDir);
  await prepareCentral(layout);
  await prepareHost(layout);
  const supervise = (d: DaemonSpec) => supervisor.run({ name: d.name, command: d.command, args: d.args, env: { ...process.env, ...d.env } });
  for (const d of [...centralDaemons(layout), ...switchDaemons(layout)]) supervise(d);
  // Once the daemons are stopped, the namespace goes too, unless a guest's link is still in it (guests outlive `stratus up`).
  supervisor.onStop('OVN node namespace', async () => {
    const { stdout } = await run('ip', ['-n', layout.netns, '-o', 'link', 'show']).catch(() => ({ stdout: '' }));
    if (/: tap/.test(stdout)) log.warn('guest links remain in the node namespace; it stays', { netns: layout.netns });
    else {
      await removeNetns(layout.netns);
      await removeNetns(layout.externalNetns);
    }
  });
  const ovs = openVswitch(layout.ovsRemote, log);
  try {
    await ovs.ready(timeoutMs);
    await configureChassis(ovs, { systemId: (process.env.NOVA_HOST ?? hostname()).toLowerCase(), sbRemote: layout.sbRemote });
    supervise(controllerDaemon(layout));
    await ensureProviderLink(layout);
    await addBridgePort(ovs, PROVIDER_BRIDGE, 'phy0');
    const deadline = Date.now() + timeoutMs;
    for (let problem = bridgeProblem(ovs); problem; problem = bridgeProblem(ovs)) {
      if (Date.now() > deadline) throw new Error(`the node's Open vSwitch did not make its integration bridge within ${timeoutMs / 1000} s: ${problem} (see ${layout.dir}/ovs-vswitchd.log)`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    ovs.close();
  }
  log.info('OVN is up', { dir: layout.dir, netns: layout.netns, provider: layout.externalNetns, northbound: layout.nbRemote });
  return layout;
}
