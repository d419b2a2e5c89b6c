/**
 * Nova scheduler benchmark: 1,000 Instances onto 100 simulated Hypervisors (driver `fake`: resources only, no
 * VMs) through the scheduling controller on the embedded control plane. Prints instances scheduled per second
 * and the create→bound latency (p50/p99), checks no hypervisor is booked past capacity, and compares with a
 * baseline measured in the same run: the same number of Instances created and given a status write by a plain
 * client with no scheduler, the least any scheduler must do per instance.
 *
 *   node bench/dist/nova.bench.js [--instances 1000] [--hypervisors 100] [--workers 4]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startTestControlPlane } from '@stratus/apiserver';
import { KubeClient, MERGE_PATCH, createLogger, now, selfHealingInformer, type ResourceRef } from '@stratus/runtime';
import { FLAVORS, HYPERVISORS, IMAGES, INSTANCES, free, hostStateOf, novaManager, type Hypervisor, type Instance } from '@stratus/nova';
import { load, ms, pct } from './lib/load.js';

const { values } = parseArgs({ options: { instances: { type: 'string', default: '1000' }, hypervisors: { type: 'string', default: '100' }, workers: { type: 'string', default: '4' }, concurrency: { type: 'string', default: '32' } } });
const N = Number(values.instances);
const HOSTS = Number(values.hypervisors);
const CONCURRENCY = Number(values.concurrency);
const CRDS: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };
const NAMESPACES: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };
const api = 'compute.stratus.io/v1alpha1';
const FLAVOR_NAMES = ['m1.small', 'm1.medium', 'm1.large'];

async function main() {
  const plane = await startTestControlPlane();
  const kc = new KubeConfig();
  kc.loadFromString(plane.kubeconfig());
  const client = new KubeClient(kc);
  const log = createLogger('nova-bench', 'error');
  try {
    const crdDir = new URL('../../crds/', import.meta.url);
    for (const f of readdirSync(crdDir).filter((f) => f.endsWith('.yaml'))) await client.create(CRDS, parse(readFileSync(new URL(f, crdDir), 'utf8')), 'bench');
    await plane.server.controllers.idle();
    for (const ns of ['bench', 'baseline']) await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, 'bench');
    const sizes = [{ vcpus: 1, ramMiB: 2048, diskGiB: 10 }, { vcpus: 2, ramMiB: 4096, diskGiB: 20 }, { vcpus: 4, ramMiB: 8192, diskGiB: 40 }];
    for (const [i, name] of FLAVOR_NAMES.entries()) await client.create(FLAVORS, { apiVersion: api, kind: 'Flavor', metadata: { name }, spec: sizes[i] }, 'bench');
    await client.create(IMAGES, { apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name: 'cirros', namespace: 'bench' }, spec: { diskFormat: 'qcow2' } }, 'bench');
    await client.patch(IMAGES, 'bench', 'cirros', { status: { phase: 'active', size: 20 << 20, virtualSize: 1 << 30 } }, 'bench', MERGE_PATCH, 'status');
    await load(HOSTS, 16, async (i) => {
      const name = `hv-${String(i).padStart(3, '0')}`;
      await client.create(HYPERVISORS, { apiVersion: api, kind: 'Hypervisor', metadata: { name }, spec: { driver: 'fake', capacity: { vcpus: 16, ramMiB: 65536, diskGiB: 1000 }, cpuAllocationRatio: 4, ramAllocationRatio: 1 } }, 'bench');
      await client.patch(HYPERVISORS, undefined, name, { status: { state: 'up', lastHeartbeat: now() } }, 'bench', MERGE_PATCH, 'status');
    });
    const instance = (ns: string, i: number) => ({ apiVersion: api, kind: 'Instance', metadata: { name: `vm-${i}`, namespace: ns }, spec: { flavor: FLAVOR_NAMES[i % 3], image: { name: 'cirros' } } });

    // Baseline: create and one status write per instance, no scheduler.
    const base = await load(N, CONCURRENCY, async (i) => {
      await client.create(INSTANCES, instance('baseline', i) as never, 'bench');
      await client.patch(INSTANCES, 'baseline', `vm-${i}`, { status: { phase: 'BUILD', host: 'hv-000' } }, 'bench', MERGE_PATCH, 'status');
    });
    const basePerSecond = N / base.seconds;

    // The scheduler: creates at the same concurrency, bound times seen through an informer.
    const created = new Map<string, number>();
    const bound = new Map<string, number>();
    const watch = selfHealingInformer<Instance>(kc, client, { ...INSTANCES }, {
      namespace: 'bench',
      log,
      onChange: (i) => {
        if (i.status?.host && !bound.has(i.metadata.name)) bound.set(i.metadata.name, performance.now());
      },
    });
    await watch.start();
    const manager = novaManager({ kubeConfig: kc, logger: log, workers: Number(values.workers) });
    await manager.start();
    const started = performance.now();
    await load(N, CONCURRENCY, async (i) => {
      created.set(`vm-${i}`, performance.now());
      await client.create(INSTANCES, instance('bench', i) as never, 'bench');
    });
    const deadline = Date.now() + 300_000;
    while (bound.size < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const seconds = (Math.max(...bound.values()) - started) / 1000;
    await manager.stop();
    await watch.stop();

    const latencies = [...bound].map(([name, t]) => t - created.get(name)!);
    const hvs = (await client.list<Hypervisor>(HYPERVISORS)).items;
    const over = hvs.filter((h) => Object.values(free(hostStateOf(h))).some((v) => v < 0)).map((h) => h.metadata.name);
    const booked = hvs.reduce((n, h) => n + Object.keys(h.status?.allocations ?? {}).length, 0);
    const errors = (await client.list<Instance>(INSTANCES, 'bench')).items.filter((i) => i.status?.phase === 'ERROR').length;
    const perHost = hvs.map((h) => Object.keys(h.status?.allocations ?? {}).length);

    console.log(`Nova scheduler benchmark: ${N} instances, ${HOSTS} fake hypervisors, ${values.workers} scheduling workers, creates at concurrency ${CONCURRENCY}`);
    console.log(`baseline (create + status write, no scheduler) ${Math.round(basePerSecond)}/s`);
    console.log(`scheduled ${bound.size}/${N} in ${seconds.toFixed(2)} s: ${Math.round(bound.size / seconds)} instances/s, ratio to baseline ${(bound.size / seconds / basePerSecond).toFixed(2)}`);
    console.log(`create → bound p50 ${ms(pct(latencies, 50))} ms, p99 ${ms(pct(latencies, 99))} ms`);
    console.log(`ledger entries ${booked}, instances in ERROR ${errors}, per hypervisor ${Math.min(...perHost)}..${Math.max(...perHost)}, over capacity: ${over.length ? over.join(', ') : 'none'}`);
    if (over.length || booked !== bound.size) process.exitCode = 1;
  } finally {
    await plane.stop();
  }
}

await main();
