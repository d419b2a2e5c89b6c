/**
 * Control plane with many watchers: 10 kinds, each watched by 10 client-node informers (100 watches, as ten
 * operators each caching ten kinds). Two phases: creates as fast as concurrency 32 goes (creates/s beside the
 * same run's creates with no watcher), and creates paced at 1,000/s, the aim's rate, where the watch delivery
 * latency over every informer is read (at saturation it only measures the queue the load itself builds).
 *
 * The informers run in worker threads, one per operator (--operators, 10 by default: each an event loop and a
 * heap of its own, as operators are processes of their own, each caching its own copy of the ten kinds), and
 * so does the creating client (as kubectl or an operator would): the control plane's thread serves and nothing
 * else. A delivery's latency runs from the create's 201 (the object is committed) to the informer's add callback, and
 * counts 0 when the event arrived before the response.
 *
 * Then the same creating client and informers run against a bare HTTPS fan-out server (lib/fanoutCeiling.ts), the
 * ceiling: what the sockets, the kernel and these clients allow on this machine, whatever the server does.
 *
 *   node bench/dist/watchers.bench.js [--kinds 10] [--informers 10] [--objects 5000] [--concurrency 32] [--rate 1000] [--operators 10] [--profile FILE]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { KubeConfig, makeInformer, type KubernetesObject } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { kubeconfigYaml, startServer } from '@stratus/apiserver';
import { KubeClient, type ResourceRef } from '@stratus/runtime';
import { startFanoutCeiling } from './lib/fanoutCeiling.js';
import { load, ms, pct } from './lib/load.js';
import { profiled } from './lib/profile.js';

const { values } = parseArgs({ options: { kinds: { type: 'string', default: '10' }, informers: { type: 'string', default: '10' }, objects: { type: 'string', default: '5000' }, concurrency: { type: 'string', default: '32' }, rate: { type: 'string', default: '1000' }, operators: { type: 'string', default: '10' }, profile: { type: 'string' } } });
const RATE = Number(values.rate);
const KINDS = Number(values.kinds);
const INFORMERS = Number(values.informers);
const OBJECTS = Number(values.objects);
const CONCURRENCY = Number(values.concurrency);
/** Threads the informers are spread over, as operators are processes: operator o runs the informers i ≡ o (mod OPERATORS) of every kind. */
const OPERATORS = Math.min(Number(values.operators), INFORMERS);
const TOKEN = 'bench-token';
const GROUP = 'watch.bench.stratus.io';
const plural = (k: number) => `gadget${k}s`;
const kindRef = (k: number): ResourceRef => ({ group: GROUP, version: 'v1alpha1', plural: plural(k), namespaced: true });
const at = () => performance.timeOrigin + performance.now(); // comparable across threads
const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

/** One CRD per kind, shaped like the Widget test kind. */
function crdFor(k: number, widget: { spec: { versions: unknown[] } }) {
  return { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `${plural(k)}.${GROUP}` }, spec: { ...widget.spec, group: GROUP, names: { plural: plural(k), singular: `gadget${k}`, kind: `Gadget${k}` } } };
}

async function watchers() {
  const { kubeconfig, operator } = workerData as { kubeconfig: string; operator: number };
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  const client = new KubeClient(kc);
  const seen: Array<[string, number]> = [];
  const informers: Array<ReturnType<typeof makeInformer<KubernetesObject>>> = [];
  for (let k = 0; k < KINDS; k++)
    for (let i = operator; i < INFORMERS; i += OPERATORS) {
      const path = `/apis/${GROUP}/v1alpha1/namespaces/default/${plural(k)}`;
      const inf = makeInformer<KubernetesObject>(kc, path, () => client.request('GET', path));
      inf.on('add', (o) => {
        if (/^(watched|paced)-/.test(o.metadata!.name!)) seen.push([o.metadata!.name!, at()]);
      });
      informers.push(inf);
    }
  await Promise.all(informers.map((i) => i.start()));
  parentPort!.postMessage({ ready: true });
  // What was seen stays here until the main thread collects it after a phase: sent while the phase runs, it
  // would be read on the control plane's thread and charged to it.
  const ofPhase = (prefix: string) => seen.filter(([name]) => name.startsWith(prefix));
  let since = process.threadCpuUsage();
  parentPort!.on('message', async (m: { measure?: boolean; collect?: string; stop?: boolean }) => {
    if (m.measure) since = process.threadCpuUsage();
    if (m.collect) {
      const expected = OBJECTS * Math.ceil((INFORMERS - operator) / OPERATORS);
      const deadline = Date.now() + 120_000;
      while (ofPhase(m.collect).length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      parentPort!.postMessage({ seen: ofPhase(m.collect), cpu: cpuSeconds(process.threadCpuUsage(since)) });
    }
    if (m.stop) await Promise.all(informers.map((i) => i.stop()));
  });
}

/** What the creating client is asked to run, and what it answers. */
type CreatorCall = { prefix: string; n: number; paced?: number };
interface CreatorResult {
  seconds: number;
  latencies: number[];
  /** Each object's name and when its create's 201 came back. */
  committed: Array<[string, number]>;
  cpu: number;
}

const gadget = (k: number, name: string) => ({ apiVersion: `${GROUP}/v1alpha1`, kind: `Gadget${k}`, metadata: { name, namespace: 'default' }, spec: { size: 5, color: 'red' } });

/** The creating client, in a thread of its own as kubectl or an operator is a process of its own. */
async function creator() {
  const { kubeconfig } = workerData as { kubeconfig: string };
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  const client = new KubeClient(kc);
  const create = async (i: number, name: string, committed: Array<[string, number]>) => {
    await client.create(kindRef(i % KINDS), gadget(i % KINDS, name) as never, 'bench');
    committed.push([name, at()]);
  };
  parentPort!.on('message', async ({ prefix, n, paced }: CreatorCall) => {
    const committed: Array<[string, number]> = [];
    const since = process.threadCpuUsage();
    let result: Omit<CreatorResult, 'cpu'>;
    if (paced === undefined) result = { ...(await load(n, CONCURRENCY, (i) => create(i, `${prefix}-${i}`, committed))), committed };
    else {
      // Each create sent on its tick, however many are in flight.
      const t0 = performance.now();
      const inFlight: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        const wait = t0 + (i * 1000) / paced - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        inFlight.push(create(i, `${prefix}-${i}`, committed));
      }
      await Promise.all(inFlight);
      result = { seconds: (performance.now() - t0) / 1000, latencies: [], committed };
    }
    parentPort!.postMessage({ ...result, cpu: cpuSeconds(process.threadCpuUsage(since)) } satisfies CreatorResult);
  });
  parentPort!.postMessage({ ready: true });
}

/** A creating client in a thread of its own, against the server `kubeconfig` names. */
async function startCreator(kubeconfig: string) {
  const creating = new Worker(new URL(import.meta.url), { workerData: { kubeconfig, role: 'creator' }, argv: process.argv.slice(2) });
  await new Promise((r) => creating.once('message', r));
  return {
    creates: (call: CreatorCall) => {
      creating.postMessage(call);
      return new Promise<CreatorResult>((resolve, reject) => {
        creating.once('message', resolve);
        creating.once('error', reject);
      });
    },
    stop: () => creating.terminate(),
  };
}

/** What the watched phases measured against one server. */
interface WatchedRun {
  /** Creates/s as fast as concurrency goes, watched. */
  perSecond: number;
  createP99: number;
  fast: number[];
  pacedPerSecond: number;
  pacedSeconds: number;
  /** Committed → informer latencies (ms) of the paced phase. */
  steady: number[];
  serverCpu: number;
  /** The server thread's event-loop delay over the paced phase (ms): p99 and max. A stall here delays every delivery behind it. */
  loopDelay: { p99: number; max: number };
  creatorCpu: number;
  informersCpu: number;
}

/**
 * The informers' operator threads against the server `kubeconfig` names, and the two watched phases: creates as
 * fast as they go, then paced at RATE. The server runs on this (the main) thread: its CPU is this thread's.
 */
async function watchedPhases(kubeconfig: string, creates: (call: CreatorCall) => Promise<CreatorResult>, profile?: string): Promise<WatchedRun> {
  const operators = Array.from({ length: OPERATORS }, (_, operator) => new Worker(new URL(import.meta.url), { workerData: { kubeconfig, role: 'informers', operator }, argv: process.argv.slice(2) }));
  const deliveries = new Map<string, number[]>();
  const reply = (w: Worker) => new Promise<{ ready?: boolean; seen?: Array<[string, number]>; cpu?: number }>((resolve, reject) => (w.once('message', resolve), w.once('error', reject)));
  try {
    await Promise.all(operators.map(reply));
    /** Every operator's deliveries of one phase, once each has seen them all (or after 120 s); their CPU so far. */
    const collect = async (prefix: string) => {
      const replies = await Promise.all(operators.map((w) => (w.postMessage({ collect: prefix }), reply(w))));
      for (const [name, t] of replies.flatMap((r) => r.seen ?? [])) (deliveries.get(name) ?? deliveries.set(name, []).get(name)!).push(t);
      return replies.reduce((cpu, r) => cpu + (r.cpu ?? 0), 0);
    };
    const latenciesOf = (committed: Array<[string, number]>) => committed.flatMap(([name, t0]) => (deliveries.get(name) ?? []).map((t) => Math.max(0, t - t0)));

    // As fast as it goes, watched.
    const watched = await creates({ prefix: 'watched', n: OBJECTS });
    await collect('watched-');

    // Paced at RATE creates/s. What each thread spends on it: the server's against the phase's length says how
    // close to saturation it runs, and so how long its queues; the informers' what reading costs.
    for (const w of operators) w.postMessage({ measure: true });
    const mainSince = process.threadCpuUsage();
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const paced = await profiled(profile, () => creates({ prefix: 'paced', n: OBJECTS, paced: RATE }));
    const serverCpu = cpuSeconds(process.threadCpuUsage(mainSince));
    loop.disable();
    const informersCpu = await collect('paced-');
    for (const w of operators) w.postMessage({ stop: true });
    return {
      perSecond: OBJECTS / watched.seconds,
      createP99: pct(watched.latencies, 99),
      fast: latenciesOf(watched.committed),
      pacedPerSecond: OBJECTS / paced.seconds,
      pacedSeconds: paced.seconds,
      steady: latenciesOf(paced.committed),
      serverCpu,
      loopDelay: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
      creatorCpu: paced.cpu,
      informersCpu,
    };
  } finally {
    await Promise.all(operators.map((w) => w.terminate()));
  }
}

const pacedLine = (r: WatchedRun, server: string) =>
  `paced at ${RATE}/s (reached ${Math.round(r.pacedPerSecond)}/s): committed → informer p50 ${ms(pct(r.steady, 50))} ms, p99 ${ms(pct(r.steady, 99))} ms (${r.steady.length}/${OBJECTS * INFORMERS} delivered); CPU s over its ${ms(r.pacedSeconds)} s: ${server} ${ms(r.serverCpu)}, creating client ${ms(r.creatorCpu)}, informers (all threads) ${ms(r.informersCpu)}; ${server}'s event-loop delay p99 ${ms(r.loopDelay.p99)} ms, max ${ms(r.loopDelay.max)} ms`;

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
  const creator = await startCreator(kubeconfig);
  let run: WatchedRun, basePerSecond: number;
  try {
    await creator.creates({ prefix: 'warm', n: 1000 });
    // Baseline: the same creates, nobody watching.
    const base = await creator.creates({ prefix: 'base', n: OBJECTS });
    basePerSecond = OBJECTS / base.seconds;
    run = await watchedPhases(kubeconfig, creator.creates, values.profile);
  } finally {
    await creator.stop();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }

  // The same clients against a server that does nothing but the fan-out's I/O.
  const bare = await startFanoutCeiling();
  const bareKubeconfig = kubeconfigYaml(bare.url, TOKEN, bare.caCert);
  const bareCreator = await startCreator(bareKubeconfig);
  let ceiling: WatchedRun;
  try {
    await bareCreator.creates({ prefix: 'warm', n: 1000 });
    ceiling = await watchedPhases(bareKubeconfig, bareCreator.creates);
  } finally {
    await bareCreator.stop();
    await bare.close();
  }

  const expected = OBJECTS * INFORMERS;
  const p99 = pct(run.steady, 99);
  console.log(`Control plane with ${KINDS * INFORMERS} watches (${KINDS} kinds × ${INFORMERS} informers, in ${OPERATORS} operator threads), ${OBJECTS} creates per phase`);
  console.log(`as fast as concurrency ${CONCURRENCY} goes: creates/s ${Math.round(run.perSecond)} watched, ${Math.round(basePerSecond)} unwatched (ratio ${ms(run.perSecond / basePerSecond)}); create p99 ${ms(run.createP99)} ms; committed → informer p50 ${ms(pct(run.fast, 50))} ms, p99 ${ms(pct(run.fast, 99))} ms (${run.fast.length}/${expected} delivered)`);
  console.log(pacedLine(run, 'control plane'));
  console.log(`ceiling, a bare HTTPS fan-out server (no store, no checks), the same clients: creates/s ${Math.round(ceiling.perSecond)} watched (control plane ${ms(run.perSecond / ceiling.perSecond)} of it); ${pacedLine(ceiling, 'bare server')}`);
  console.log(`goals (>= 1000 creates/s watched; p99 < 10 ms at 1,000/s): ${run.perSecond >= 1000 && p99 < 10 && run.steady.length === expected && run.fast.length === expected ? 'met' : 'NOT met'}`);
}

if (isMainThread) await main();
else if ((workerData as { role: string }).role === 'creator') await creator();
else await watchers();
