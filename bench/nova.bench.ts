/**
 * Nova scheduler benchmark: 1,000 Instances onto 100 simulated Hypervisors (driver `fake`: resources only, no
 * VMs) through the scheduling controller on the embedded control plane. Prints instances scheduled per second
 * and the create→bound latency (p50/p99), checks no hypervisor is booked past capacity, and compares with a
 * baseline measured in the same run: the same number of Instances created and given a status write by a plain
 * client with no scheduler, the least any scheduler must do per instance. Both are timed by the same informer
 * (create started → last instance seen bound), so the instrument costs both the same.
 *
 * The scheduler runs in a worker thread, its own event loop beside the control plane's, as it runs in its own
 * process under `stratus up` and in its own pod in the chart (`--in-process` shares the control plane's thread).
 *
 *   node bench/dist/nova.bench.js [--instances 1000] [--hypervisors 100] [--workers 16] [--in-process] [--profile FILE]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startTestControlPlane } from '@stratus/apiserver';
import { KubeClient, MERGE_PATCH, SYSTEM_NAMESPACE, createLogger, now, selfHealingInformer, type ResourceRef } from '@stratus/runtime';
import { FLAVORS, HYPERVISORS, IMAGES, INSTANCES, SCHEDULER_WORKERS, free, hostStateOf, novaManager, type Hypervisor, type Instance } from '@stratus/nova';
import { load, ms, pct } from './lib/load.js';
import { profiled } from './lib/profile.js';
import { serveInWorker, startWorker } from './lib/workerThread.js';

const { values } = parseArgs({ options: { instances: { type: 'string', default: '1000' }, hypervisors: { type: 'string', default: '100' }, workers: { type: 'string', default: String(SCHEDULER_WORKERS) }, concurrency: { type: 'string', default: '32' }, profile: { type: 'string' }, 'in-process': { type: 'boolean', default: false } } });
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
    // The system namespace too: the flavor controller keeps its name claims there, as in a cloud.
    for (const ns of ['bench', 'baseline', SYSTEM_NAMESPACE]) await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, 'bench');
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

    // Both phases are timed by the same instrument: an informer on Instances in every namespace, noting when
    // each one is first seen bound.
    const created = new Map<string, number>();
    const bound = { baseline: new Map<string, number>(), bench: new Map<string, number>() };
    const watch = selfHealingInformer<Instance>(kc, client, { ...INSTANCES }, {
      log,
      onChange: (i) => {
        const seen = bound[i.metadata.namespace as keyof typeof bound];
        if (seen && i.status?.host && !seen.has(i.metadata.name)) seen.set(i.metadata.name, performance.now());
      },
    });
    await watch.start();
    const lastBound = async (seen: Map<string, number>, what: string) => {
      const deadline = Date.now() + 300_000;
      while (seen.size < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (seen.size < N) throw new Error(`timed out waiting for ${what}: ${seen.size}/${N} seen bound`);
      return Math.max(...seen.values());
    };

    // Baseline: create and one status write per instance, no scheduler.
    const baseStarted = performance.now();
    await load(N, CONCURRENCY, async (i) => {
      await client.create(INSTANCES, instance('baseline', i) as never, 'bench');
      await client.patch(INSTANCES, 'baseline', `vm-${i}`, { status: { phase: 'BUILD', host: 'hv-000' } }, 'bench', MERGE_PATCH, 'status');
    });
    const basePerSecond = N / ((await lastBound(bound.baseline, 'the baseline’s status writes')) - baseStarted) * 1000;

    // The scheduler: creates at the same concurrency.
    const manager = values['in-process'] ? await inProcessScheduler(kc) : await startWorker(new URL(import.meta.url), { kubeconfig: plane.kubeconfig() });
    const started = performance.now();
    await profiled(values.profile, async () => {
      await load(N, CONCURRENCY, async (i) => {
        created.set(`vm-${i}`, performance.now());
        await client.create(INSTANCES, instance('bench', i) as never, 'bench');
      });
      await lastBound(bound.bench, 'the scheduler’s bindings');
    });
    const seconds = (Math.max(...bound.bench.values()) - started) / 1000;
    await manager.stop();
    await watch.stop();

    const latencies = [...bound.bench].map(([name, t]) => t - created.get(name)!);
    const hvs = (await client.list<Hypervisor>(HYPERVISORS)).items;
    const over = hvs.filter((h) => Object.values(free(hostStateOf(h))).some((v) => v < 0)).map((h) => h.metadata.name);
    const booked = hvs.reduce((n, h) => n + Object.keys(h.status?.allocations ?? {}).length, 0);
    const errors = (await client.list<Instance>(INSTANCES, 'bench')).items.filter((i) => i.status?.phase === 'ERROR').length;
    const perHost = hvs.map((h) => Object.keys(h.status?.allocations ?? {}).length);

    console.log(`Nova scheduler benchmark: ${N} instances, ${HOSTS} fake hypervisors, ${values.workers} scheduling workers ${values['in-process'] ? 'on the control plane’s thread' : 'in a thread of their own'}, creates at concurrency ${CONCURRENCY}`);
    console.log(`baseline (create + status write, no scheduler) ${Math.round(basePerSecond)}/s`);
    console.log(`scheduled ${bound.bench.size}/${N} in ${seconds.toFixed(2)} s: ${Math.round(bound.bench.size / seconds)} instances/s, ratio to baseline ${(bound.bench.size / seconds / basePerSecond).toFixed(2)} (aim >= 0.5)`);
    console.log(`create → bound p50 ${ms(pct(latencies, 50))} ms, p99 ${ms(pct(latencies, 99))} ms`);
    console.log(`ledger entries ${booked}, instances in ERROR ${errors}, per hypervisor ${Math.min(...perHost)}..${Math.max(...perHost)}, over capacity: ${over.length ? over.join(', ') : 'none'}`);
    if (over.length || booked !== bound.bench.size) process.exitCode = 1;
  } finally {
    await plane.stop();
  }
}

/** The scheduler on the bench's own event loop. */
async function inProcessScheduler(kc: KubeConfig): Promise<{ stop(): Promise<void> }> {
  const manager = novaManager({ kubeConfig: kc, logger: createLogger('nova-bench', 'error'), workers: Number(values.workers) });
  await manager.start();
  return manager;
}

if (isMainThread) await main();
else
  await serveInWorker(async ({ kubeconfig }: { kubeconfig: string }) => {
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfig);
    return inProcessScheduler(kc);
  });
