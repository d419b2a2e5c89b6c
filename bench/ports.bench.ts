/**
 * Networking benchmark: 200 Ports created and bound. On the embedded control plane with OVN's real daemons
 * (central and one node, in a network namespace of the benchmark's own), the networking operator claims each
 * port's address and makes its switch port; each port is then bound as a guest's NIC is, by an OVS interface
 * with its iface-id (an internal one: no VM), and counts once the southbound Port_Binding says it is up and
 * the Port is ACTIVE. Prints ports per second and create→ACTIVE latency (p50/p99), beside a baseline measured
 * in the same run: the same number of Ports created and given one status write by a plain client with no
 * operator, the least any operator must do per port.
 *
 *   node bench/dist/ports.bench.js [--ports 200] [--concurrency 16] [--keep (OVN's logs)]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startTestControlPlane } from '@stratus/apiserver';
import { KubeClient, MERGE_PATCH, createLogger, selfHealingInformer, type ResourceRef } from '@stratus/runtime';
import { NETWORKS, PORTS, SUBNETS, neutronManager, openVswitch, plugPort, type Port } from '@stratus/neutron';
import { startOvn } from '@stratus/cli/ovn';
import { Supervisor } from '@stratus/cli/supervisor';
import { load, ms, pct } from './lib/load.js';

const { values } = parseArgs({ options: { ports: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '16' }, keep: { type: 'boolean', default: false } } });
const N = Number(values.ports);
const CONCURRENCY = Number(values.concurrency);
const CRDS: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };
const NAMESPACES: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };
const api = 'network.stratus.io/v1alpha1';

async function main() {
  const log = createLogger('ports-bench', 'error');
  const plane = await startTestControlPlane();
  const dir = mkdtempSync(join(tmpdir(), 'ports-bench-'));
  const supervisor = new Supervisor(log);
  try {
    const kc = new KubeConfig();
    kc.loadFromString(plane.kubeconfig());
    const client = new KubeClient(kc);
    const crdDir = new URL('../../crds/', import.meta.url);
    for (const f of readdirSync(crdDir).filter((f) => f.endsWith('.yaml'))) await client.create(CRDS, parse(readFileSync(new URL(f, crdDir), 'utf8')), 'bench');
    await plane.server.controllers.idle();
    for (const ns of ['bench', 'baseline', 'stratus-system']) await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, 'bench');
    const port = (ns: string, i: number) => ({ apiVersion: api, kind: 'Port', metadata: { name: `p-${i}`, namespace: ns }, spec: { network: 'net' } });

    // Baseline: create and one status write per port, no operator.
    const base = await load(N, CONCURRENCY, async (i) => {
      await client.create(PORTS, port('baseline', i) as never, 'bench');
      await client.patch(PORTS, 'baseline', `p-${i}`, { status: { phase: 'DOWN', macAddress: 'fa:16:3e:00:00:00' } }, 'bench', MERGE_PATCH, 'status');
    });
    const basePerSecond = N / base.seconds;

    const ovn = await startOvn(supervisor, dir, log);
    const ovs = openVswitch(ovn.ovsRemote, log);
    const { manager } = neutronManager({ nbRemote: ovn.nbRemote, sbRemote: ovn.sbRemote }, { kubeConfig: kc, logger: log });
    await manager.start();
    await client.create(NETWORKS, { apiVersion: api, kind: 'Network', metadata: { name: 'net', namespace: 'bench' }, spec: {} } as never, 'bench');
    await client.create(SUBNETS, { apiVersion: api, kind: 'Subnet', metadata: { name: 'sub', namespace: 'bench' }, spec: { network: 'net', cidr: '10.100.0.0/22' } } as never, 'bench');
    const watch = selfHealingInformer<Port>(kc, client, PORTS, { namespace: 'bench', log });
    await watch.start();
    const until = (name: string, check: (p: Port) => boolean) =>
      new Promise<Port>((resolve, reject) => {
        const deadline = Date.now() + 300_000;
        const tick = () => {
          const p = watch.informer.get(name, 'bench');
          if (p && check(p)) return resolve(p);
          if (Date.now() > deadline) return reject(new Error(`port ${name} did not get there in 300 s`));
          setTimeout(tick, 5);
        };
        tick();
      });
    await new Promise((r) => setTimeout(r, 1000));

    // Created, addressed, in OVN, bound (an OVS interface with its iface-id), and ACTIVE from the southbound database.
    // Each port's time split in its two halves: the operator's (create → Ready: address claimed, switch port in
    // OVN) and the binding's (plugged → ACTIVE: ovn-controller claims it, the southbound says up, the status follows).
    const toReady: number[] = [];
    const toActive: number[] = [];
    const run = await load(N, CONCURRENCY, async (i) => {
      const created = performance.now();
      await client.create(PORTS, port('bench', i) as never, 'bench');
      const ready = await until(`p-${i}`, (p) => !!p.status?.fixedIPs?.length && !!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      const plugged = performance.now();
      toReady.push(plugged - created);
      await plugPort(ovs, { device: `bp${i}`, ifaceId: ready.metadata.uid!, mac: ready.status!.macAddress!, vmId: 'bench', type: 'internal' });
      await until(`p-${i}`, (p) => p.status?.phase === 'ACTIVE');
      toActive.push(performance.now() - plugged);
    });
    const perSecond = N / run.seconds;
    const addresses = new Set(watch.informer.list('bench').map((p) => p.status?.fixedIPs?.[0]?.ipAddress));
    if (addresses.size !== N) throw new Error(`${N} ports got ${addresses.size} distinct addresses`);
    console.log(`ports created and bound: ${N} at concurrency ${CONCURRENCY}`);
    console.log(`  baseline (create + one status write, no operator): ${basePerSecond.toFixed(1)} ports/s`);
    console.log(`  networking operator on OVN (address, switch port, binding, ACTIVE): ${perSecond.toFixed(1)} ports/s, create→ACTIVE p50 ${ms(pct(run.latencies, 50))} ms, p99 ${ms(pct(run.latencies, 99))} ms`);
    console.log(`    of which create→Ready (the operator: address, switch port) p50 ${ms(pct(toReady, 50))} ms, p99 ${ms(pct(toReady, 99))} ms; plugged→ACTIVE (the binding) p50 ${ms(pct(toActive, 50))} ms, p99 ${ms(pct(toActive, 99))} ms`);
    console.log(`  ratio to baseline: ${(perSecond / basePerSecond).toFixed(2)}`);
    await watch.stop();
    await manager.stop();
    ovs.close();
  } finally {
    await supervisor.stopAll();
    await plane.stop();
    if (values.keep) console.log(`OVN's state and logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
