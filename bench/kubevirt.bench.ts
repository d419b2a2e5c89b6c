/**
 * The kubevirt compute driver at scale: 500 Instances onto the KubeVirt hypervisor through Nova's scheduler and
 * the driver, on the embedded control plane with KubeVirt's and CDI's CRDs, KubeVirt played by
 * kubevirt-simulator (a stand-in: no guest boots; each root disk's import really reads the image from S3).
 * Prints Instance→VirtualMachine objects per second (create started → last VirtualMachine seen, every object
 * of each instance made), Instances ACTIVE per second through the stand-in, and the same run's baseline: the
 * same number of Instances created and given one status write by a plain client, timed by the same kind of
 * informer.
 *
 * The cloud's controllers (Nova's scheduler, the driver, the stand-in) run in a worker thread, their own event
 * loop beside the control plane's, as they run in their own processes under `stratus up`.
 *
 *   node bench/dist/kubevirt.bench.js [--instances 500] [--concurrency 32] [--workers 8]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startTestControlPlane } from '@stratus/apiserver';
import { IMAGES, ImageStore, startEmbeddedS3, type Image } from '@stratus/glance';
import { KubeClient, MERGE_PATCH, SYSTEM_NAMESPACE, createLogger, selfHealingInformer, type ResourceRef } from '@stratus/runtime';
import { FLAVORS, INSTANCES, kubevirtCrds, kubevirtRefs, novaManager, startKubevirtCompute, startKubevirtSimulator, type Instance } from '@stratus/nova';
import { load, ms, pct } from './lib/load.js';
import { serveInWorker, startWorker } from './lib/workerThread.js';

const { values } = parseArgs({ options: { instances: { type: 'string', default: '500' }, concurrency: { type: 'string', default: '32' }, workers: { type: 'string', default: '8' } } });
const N = Number(values.instances);
const CONCURRENCY = Number(values.concurrency);
const CRDS: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };
const NAMESPACES: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };
const api = 'compute.stratus.io/v1alpha1';
const HOST = 'kubevirt';

interface CloudSettings {
  kubeconfig: string;
  s3: { endpoint: string; accessKeyId: string; secretAccessKey: string };
  workers: number;
}

async function main() {
  const plane = await startTestControlPlane();
  const kc = new KubeConfig();
  kc.loadFromString(plane.kubeconfig());
  const client = new KubeClient(kc);
  const log = createLogger('kubevirt-bench', 'error');
  const work = mkdtempSync(join(tmpdir(), 'kubevirt-bench-'));
  const s3 = await startEmbeddedS3({ directory: join(work, 's3') });
  const store = new ImageStore({ endpoint: s3.endpoint, bucket: 'bench-images', accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
  try {
    const crdDir = new URL('../../crds/', import.meta.url);
    for (const crd of [...readdirSync(crdDir).filter((f) => f.endsWith('.yaml')).map((f) => parse(readFileSync(new URL(f, crdDir), 'utf8'))), ...kubevirtCrds(new URL('../../vendor/kubevirt/', import.meta.url).pathname)])
      await client.create(CRDS, crd, 'bench');
    await plane.server.controllers.idle();
    for (const ns of ['bench', 'baseline', SYSTEM_NAMESPACE]) await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, 'bench');
    await client.create(FLAVORS, { apiVersion: api, kind: 'Flavor', metadata: { name: 'm1.small' }, spec: { vcpus: 1, ramMiB: 512, diskGiB: 1 } }, 'bench');
    await store.ensureBucket();
    const stored = await store.put('images/bench/tiny', Readable.from([Buffer.alloc(256 * 1024, 1)]));
    await client.create(IMAGES, { apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name: 'tiny', namespace: 'bench' }, spec: { diskFormat: 'raw' } } as Image, 'bench');
    await client.patch(IMAGES, 'bench', 'tiny', { status: { phase: 'active', size: stored.size, virtualSize: stored.size, checksum: stored.checksum, location: stored.location } }, 'bench', MERGE_PATCH, 'status');

    // One instrument for every phase: informers noting when each object is first seen as the phase asks.
    const seen = { baseline: new Map<string, number>(), vm: new Map<string, number>(), active: new Map<string, number>() };
    const instances = selfHealingInformer<Instance>(kc, client, { ...INSTANCES }, {
      log,
      onChange: (i) => {
        const name = i.metadata.name;
        if (i.metadata.namespace === 'baseline' && i.status?.host && !seen.baseline.has(name)) seen.baseline.set(name, performance.now());
        if (i.metadata.namespace === 'bench' && i.status?.phase === 'ACTIVE' && !seen.active.has(name)) seen.active.set(name, performance.now());
      },
    });
    const vms = selfHealingInformer<KubernetesObject>(kc, client, { ...kubevirtRefs.VIRTUAL_MACHINES }, {
      log,
      onChange: (vm) => {
        if (vm.metadata?.namespace === 'bench' && !seen.vm.has(vm.metadata.name!)) seen.vm.set(vm.metadata.name!, performance.now());
      },
    });
    await instances.start();
    await vms.start();
    const last = async (m: Map<string, number>, what: string) => {
      const deadline = Date.now() + 600_000;
      while (m.size < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (m.size < N) throw new Error(`timed out waiting for ${what}: ${m.size}/${N}`);
      return Math.max(...m.values());
    };
    const instance = (ns: string, i: number) => ({ apiVersion: api, kind: 'Instance', metadata: { name: `vm-${i}`, namespace: ns }, spec: { flavor: 'm1.small', image: { name: 'tiny' } } });

    const baseStarted = performance.now();
    await load(N, CONCURRENCY, async (i) => {
      await client.create(INSTANCES, instance('baseline', i) as never, 'bench');
      await client.patch(INSTANCES, 'baseline', `vm-${i}`, { status: { phase: 'BUILD', host: 'elsewhere' } }, 'bench', MERGE_PATCH, 'status');
    });
    const basePerSecond = (N / ((await last(seen.baseline, 'the baseline’s status writes')) - baseStarted)) * 1000;

    const cloud = await startWorker(new URL(import.meta.url), { kubeconfig: plane.kubeconfig(), s3: { endpoint: s3.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, workers: Number(values.workers) } satisfies CloudSettings);
    const created = new Map<string, number>();
    const started = performance.now();
    await load(N, CONCURRENCY, async (i) => {
      created.set(`vm-${i}`, performance.now());
      await client.create(INSTANCES, instance('bench', i) as never, 'bench');
    });
    const vmSeconds = ((await last(seen.vm, 'the VirtualMachines')) - started) / 1000;
    const activeSeconds = ((await last(seen.active, 'the instances to be ACTIVE')) - started) / 1000;
    await cloud.stop();
    await instances.stop();
    await vms.stop();

    const errors = (await client.list<Instance>(INSTANCES, 'bench')).items.filter((i) => i.status?.phase === 'ERROR').length;
    const dvs = (await client.list<KubernetesObject & { status?: { phase?: string } }>(kubevirtRefs.DATA_VOLUMES, 'bench')).items;
    const vmLatency = [...seen.vm].map(([n, t]) => t - created.get(n)!);
    const activeLatency = [...seen.active].map(([n, t]) => t - created.get(n)!);
    console.log(`kubevirt driver benchmark: ${N} instances through Nova's scheduler and the kubevirt driver (KubeVirt played by kubevirt-simulator, a stand-in), creates at concurrency ${CONCURRENCY}, ${values.workers} driver workers in a thread of their own`);
    console.log(`baseline (create + status write, no controllers) ${Math.round(basePerSecond)}/s`);
    console.log(`Instance → VirtualMachine: ${N} in ${vmSeconds.toFixed(2)} s, ${Math.round(N / vmSeconds)}/s, ratio to baseline ${(N / vmSeconds / basePerSecond).toFixed(2)}; create → VM p50 ${ms(pct(vmLatency, 50))} ms, p99 ${ms(pct(vmLatency, 99))} ms`);
    console.log(`Instance → ACTIVE (import from S3, VMI through its phases): ${N} in ${activeSeconds.toFixed(2)} s, ${Math.round(N / activeSeconds)}/s, ratio to baseline ${(N / activeSeconds / basePerSecond).toFixed(2)}; p50 ${ms(pct(activeLatency, 50))} ms, p99 ${ms(pct(activeLatency, 99))} ms`);
    console.log(`DataVolumes Succeeded ${dvs.filter((d) => d.status?.phase === 'Succeeded').length}/${N}, instances in ERROR ${errors}`);
    if (errors) process.exitCode = 1;
  } finally {
    store.destroy();
    await s3.close();
    await plane.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Nova's scheduler, the kubevirt driver and the stand-in, started together. */
async function startCloud(s: CloudSettings): Promise<{ stop(): Promise<void> }> {
  const kc = new KubeConfig();
  kc.loadFromString(s.kubeconfig);
  const logger = createLogger('kubevirt-bench', 'error');
  const nova = novaManager({ kubeConfig: kc, logger });
  await nova.start();
  const simulator = await startKubevirtSimulator({ kubeConfig: kc, logger });
  const store = new ImageStore({ ...s.s3, bucket: 'bench-images' });
  const driver = await startKubevirtCompute({ kubeConfig: kc, logger, workers: s.workers, store, config: { host: HOST, imageSource: s.s3, capacity: { vcpus: 100_000, ramMiB: 100_000_000, diskGiB: 100_000 }, heartbeatSeconds: 10 } });
  return {
    async stop() {
      await driver.stop();
      await simulator.stop();
      await nova.stop();
      store.destroy();
    },
  };
}

if (isMainThread) await main();
else await serveInWorker(startCloud);
