/**
 * Control plane with many watchers: 10 kinds, each watched by 10 client-node informers (100 watches, as ten
 * operators each caching ten kinds), while creates run at concurrency 32 across the kinds. Prints creates/s
 * beside the same run's creates with no watcher, and the watch delivery latency over every informer.
 *
 * The informers run in a worker thread (their own event loop, as operators run in their own processes); a
 * delivery's latency runs from the create's 201 (the object is committed) to the informer's add callback, and
 * counts 0 when the event arrived before the response.
 *
 *   node bench/dist/watchers.bench.js [--kinds 10] [--informers 10] [--objects 5000] [--concurrency 32]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { KubeConfig, makeInformer, type KubernetesObject } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { kubeconfigYaml, startServer } from '@stratus/apiserver';
import { KubeClient, type ResourceRef } from '@stratus/runtime';
import { load, ms, pct } from './lib/load.js';

const { values } = parseArgs({ options: { kinds: { type: 'string', default: '10' }, informers: { type: 'string', default: '10' }, objects: { type: 'string', default: '5000' }, concurrency: { type: 'string', default: '32' } } });
const KINDS = Number(values.kinds);
const INFORMERS = Number(values.informers);
const OBJECTS = Number(values.objects);
const CONCURRENCY = Number(values.concurrency);
const TOKEN = 'bench-token';
const GROUP = 'watch.bench.stratus.io';
const plural = (k: number) => `gadget${k}s`;
const kindRef = (k: number): ResourceRef => ({ group: GROUP, version: 'v1alpha1', plural: plural(k), namespaced: true });
const at = () => performance.timeOrigin + performance.now(); // comparable across threads

/** One CRD per kind, shaped like the Widget test kind. */
function crdFor(k: number, widget: { spec: { versions: unknown[] } }) {
  return { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `${plural(k)}.${GROUP}` }, spec: { ...widget.spec, group: GROUP, names: { plural: plural(k), singular: `gadget${k}`, kind: `Gadget${k}` } } };
}

async function watchers() {
  const { kubeconfig } = workerData as { kubeconfig: string };
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  const client = new KubeClient(kc);
  const seen: Array<[string, number]> = [];
  const informers: Array<ReturnType<typeof makeInformer<KubernetesObject>>> = [];
  for (let k = 0; k < KINDS; k++)
    for (let i = 0; i < INFORMERS; i++) {
      const path = `/apis/${GROUP}/v1alpha1/namespaces/default/${plural(k)}`;
      const inf = makeInformer<KubernetesObject>(kc, path, () => client.request('GET', path));
      inf.on('add', (o) => seen.push([o.metadata!.name!, at()]));
      informers.push(inf);
    }
  await Promise.all(informers.map((i) => i.start()));
  const flush = setInterval(() => parentPort!.postMessage({ seen: seen.splice(0) }), 50);
  parentPort!.postMessage({ ready: true });
  parentPort!.on('message', async (m: { stop?: boolean }) => {
    if (!m.stop) return;
    clearInterval(flush);
    parentPort!.postMessage({ seen: seen.splice(0), done: true });
    await Promise.all(informers.map((i) => i.stop()));
  });
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'stratus-bench-'));
  const server = await startServer({ dataDir, token: TOKEN });
  const kubeconfig = kubeconfigYaml(server.url, TOKEN, server.caCert!);
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  const client = new KubeClient(kc);
  const widget = parse(readFileSync(new URL('../../e2e/fixtures/widget-crd.yaml', import.meta.url), 'utf8'));
  for (let k = 0; k < KINDS; k++) await client.create({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false }, crdFor(k, widget) as never, 'bench');
  await server.controllers.idle();
  const gadget = (k: number, name: string) => ({ apiVersion: `${GROUP}/v1alpha1`, kind: `Gadget${k}`, metadata: { name, namespace: 'default' }, spec: { size: 5, color: 'red' } });
  const creates = (prefix: string, n: number, committed?: Map<string, number>) =>
    load(n, CONCURRENCY, async (i) => {
      const name = `${prefix}-${i}`;
      await client.create(kindRef(i % KINDS), gadget(i % KINDS, name) as never, 'bench');
      committed?.set(name, at());
    });
  try {
    await creates('warm', 1000);
    // Baseline: the same creates, nobody watching.
    const base = await creates('base', OBJECTS);

    const worker = new Worker(new URL(import.meta.url), { workerData: { kubeconfig } });
    const deliveries = new Map<string, number[]>();
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    worker.on('message', (m: { ready?: boolean; seen?: Array<[string, number]>; done?: boolean }) => {
      if (m.ready) ready();
      for (const [name, t] of m.seen ?? []) (deliveries.get(name) ?? deliveries.set(name, []).get(name)!).push(t);
      if (m.done) done();
    });
    await started;
    const committed = new Map<string, number>();
    const watched = await creates('watched', OBJECTS, committed);
    const deadline = Date.now() + 120_000;
    const expected = OBJECTS * INFORMERS;
    const count = () => [...deliveries.values()].reduce((n, d) => n + d.length, 0);
    while (count() < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    worker.postMessage({ stop: true });
    await finished;
    await worker.terminate();

    const latencies: number[] = [];
    for (const [name, t0] of committed) for (const t of deliveries.get(name) ?? []) latencies.push(Math.max(0, t - t0));
    const perSecond = OBJECTS / watched.seconds;
    const basePerSecond = OBJECTS / base.seconds;
    const p99 = pct(latencies, 99);
    console.log(`Control plane with ${KINDS * INFORMERS} watches (${KINDS} kinds × ${INFORMERS} informers), ${OBJECTS} creates at concurrency ${CONCURRENCY}`);
    console.log(`creates/s ${Math.round(perSecond)} watched, ${Math.round(basePerSecond)} unwatched (ratio ${ms(perSecond / basePerSecond)}); create p99 ${ms(pct(watched.latencies, 99))} ms`);
    console.log(`deliveries ${latencies.length}/${expected}; committed → informer p50 ${ms(pct(latencies, 50))} ms, p99 ${ms(p99)} ms — goals (>= 1000 creates/s, p99 < 10 ms) ${perSecond >= 1000 && p99 < 10 && latencies.length === expected ? 'met' : 'NOT met'}`);
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (isMainThread) await main();
else await watchers();
