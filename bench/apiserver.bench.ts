/**
 * Control-plane benchmark. Prints creates/s and create latency of a custom resource, watch delivery latency
 * to a client-node informer, and LIST time for 10,000 objects, each beside a baseline measured in the same
 * run on the same machine: a bare HTTPS echo server for requests, an in-process JSON round trip for LIST.
 *
 *   node bench/dist/apiserver.bench.js [--objects 10000] [--concurrency 32]
 */
import { Agent, createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig, makeInformer, type KubernetesObject } from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { kubeconfigYaml, startServer } from '@stratus/apiserver';
import { KubeClient } from '@stratus/runtime';
import { load, ms, pct, median } from './lib/load.js';

const { values } = parseArgs({ options: { objects: { type: 'string', default: '10000' }, concurrency: { type: 'string', default: '32' } } });
const OBJECTS = Number(values.objects);
const CONCURRENCY = Number(values.concurrency);
const TOKEN = 'bench-token';
/** A project member's token: the stand-in authenticator below answers for it at once, as the webhook's cache does after the first call. */
const MEMBER_TOKEN = 'bench-member-token';

/** POSTs JSON over one keep-alive agent; resolves with the status code and body. */
function post(agent: Agent, url: string, body: string, ca: string, token = TOKEN): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, ca, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const widget = (name: string) =>
  JSON.stringify({ apiVersion: 'test.stratus.io/v1alpha1', kind: 'Widget', metadata: { name, namespace: 'default', labels: { bench: 'yes' } }, spec: { size: 5, color: 'red' } });

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'stratus-bench-'));
  const server = await startServer({ dataDir, token: TOKEN, authenticator: { authenticate: async (t) => (t === MEMBER_TOKEN ? { username: 'bench-member', groups: ['bench-team', 'system:authenticated'] } : undefined) } });
  const ca = server.caCert!;
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(server.url, TOKEN, ca));
  const client = new KubeClient(kc);
  const crd = parse(readFileSync(new URL('../../e2e/fixtures/widget-crd.yaml', import.meta.url), 'utf8'));
  await client.create({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false }, crd, 'bench');
  const crdApply = await applyKubevirtCrds(client, crd);
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const collection = `${server.url}/apis/test.stratus.io/v1alpha1/namespaces/default/widgets`;

  // Baseline: an HTTPS server that does nothing but answer, reached by the same client.
  const echo = createServer(await echoKey(dataDir), (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => res.writeHead(201, { 'Content-Type': 'application/json' }).end(Buffer.concat(chunks)));
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const echoUrl = `https://127.0.0.1:${(echo.address() as AddressInfo).port}/`;
  // Warm-up: connections open and JIT settled before either measurement.
  await load(500, CONCURRENCY, async (i) => void (await post(agent, echoUrl, widget(`warm-${i}`), ca)));
  const baseline = await load(5000, CONCURRENCY, async (i) => void (await post(agent, echoUrl, widget(`echo-${i}`), ca)));

  // Creates of a custom resource: validation, defaulting, SQLite write, watch fan-out.
  const creates = await load(5000, CONCURRENCY, async (i) => {
    const r = await post(agent, collection, widget(`w-${i}`), ca);
    if (r.code !== 201) throw new Error(`create failed: ${r.code} ${r.body}`);
  });

  // Watch delivery: time from sending a create to a client-node informer's add callback.
  const sentAt = new Map<string, number>();
  const delivery: number[] = [];
  const informer = makeInformer<KubernetesObject>(kc, '/apis/test.stratus.io/v1alpha1/namespaces/default/widgets', () => client.request('GET', '/apis/test.stratus.io/v1alpha1/namespaces/default/widgets?labelSelector=watch%3Dyes'), 'watch=yes');
  informer.on('add', (o) => {
    const t = sentAt.get(o.metadata!.name!);
    if (t !== undefined) delivery.push(performance.now() - t);
  });
  await informer.start();
  await new Promise((r) => setTimeout(r, 300));
  await load(1000, 4, async (i) => {
    const name = `watched-${i}`;
    sentAt.set(name, performance.now());
    const body = JSON.parse(widget(name));
    body.metadata.labels = { watch: 'yes' };
    await post(agent, collection, JSON.stringify(body), ca);
  });
  const deadline = Date.now() + 5000;
  while (delivery.length < 1000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await informer.stop();

  // LIST of OBJECTS objects, against an in-process JSON round trip of the same items.
  const existing = 6000;
  await load(Math.max(0, OBJECTS - existing), CONCURRENCY, async (i) => void (await post(agent, collection, widget(`fill-${i}`), ca)));
  const listTimes: number[] = [];
  let listed = 0;
  let items: unknown[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const list = await client.request('GET', '/apis/test.stratus.io/v1alpha1/namespaces/default/widgets');
    listTimes.push(performance.now() - t);
    listed = list.items.length;
    items = list.items;
  }
  const jsonTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    JSON.parse(JSON.stringify({ items }));
    jsonTimes.push(performance.now() - t);
  }

  // RBAC enforced: creates with a member's token (a RoleBinding to a ClusterRole, among 500 other tenants'
  // bindings, as Keystone writes them) beside the admin token's (system:masters, no RBAC), alternating.
  const RBAC = (plural: string) => ({ group: 'rbac.authorization.k8s.io', version: 'v1', plural, namespaced: plural.startsWith('role') });
  await client.create(RBAC('clusterroles'), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'bench-widgets' }, rules: [{ apiGroups: ['test.stratus.io'], resources: ['widgets'], verbs: ['get', 'list', 'create'] }] } as never, 'bench');
  for (let i = 0; i < 500; i++) {
    const ns = i === 0 ? 'default' : `tenant-${i}`;
    if (i) await client.create({ group: '', version: 'v1', plural: 'namespaces', namespaced: false }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } as never, 'bench');
    await client.create(RBAC('rolebindings'), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: `member-${i}`, namespace: ns }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'bench-widgets' }, subjects: [{ kind: 'Group', name: i === 0 ? 'bench-team' : `team-${i}` }] } as never, 'bench');
  }
  const rounds = { admin: [] as number[], member: [] as number[] };
  for (let round = 0; round < 3; round++)
    for (const who of ['admin', 'member'] as const) {
      const run = await load(2000, CONCURRENCY, async (i) => {
        const r = await post(agent, collection, widget(`rbac-${who}-${round}-${i}`), ca, who === 'admin' ? TOKEN : MEMBER_TOKEN);
        if (r.code !== 201) throw new Error(`create as ${who} failed: ${r.code} ${r.body}`);
      });
      rounds[who].push(2000 / run.seconds);
    }

  const report = {
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    creates: {
      perSecond: Math.round(5000 / creates.seconds),
      p50ms: ms(pct(creates.latencies, 50)),
      p99ms: ms(pct(creates.latencies, 99)),
      baselineEchoPerSecond: Math.round(5000 / baseline.seconds),
      baselineEchoP50ms: ms(pct(baseline.latencies, 50)),
      ratioToEcho: ms(baseline.seconds / creates.seconds),
      concurrency: CONCURRENCY,
    },
    watchDelivery: { events: delivery.length, p50ms: ms(pct(delivery, 50)), p99ms: ms(pct(delivery, 99)) },
    list: { objects: listed, medianMs: ms(pct(listTimes, 50)), inProcessJsonRoundTripMs: ms(pct(jsonTimes, 50)), ratio: ms(pct(listTimes, 50) / pct(jsonTimes, 50)) },
    crds: crdApply,
    rbac: { memberCreatesPerSecond: Math.round(median(rounds.member)), adminCreatesPerSecond: Math.round(median(rounds.admin)), ratio: ms(median(rounds.member) / median(rounds.admin)), bindings: 500 },
    goals: { createsPerSecond: '>= 1000', watchP99ms: '< 20', list10kMs: '< 500', rbacRatio: '>= 0.8', kubevirtCrdsMs: '< 1000' },
  };
  console.log(JSON.stringify(report, null, 2));
  const met = report.creates.perSecond >= 1000 && report.watchDelivery.p99ms < 20 && report.list.medianMs < 500 && report.rbac.ratio >= 0.8 && crdApply.kubevirtMs < 1000;
  console.log(`creates/s ${report.creates.perSecond} (echo ${report.creates.baselineEchoPerSecond}, ratio ${report.creates.ratioToEcho}); create p50 ${report.creates.p50ms} ms p99 ${report.creates.p99ms} ms; watch p50 ${report.watchDelivery.p50ms} ms p99 ${report.watchDelivery.p99ms} ms; LIST ${listed} in ${report.list.medianMs} ms (JSON round trip ${report.list.inProcessJsonRoundTripMs} ms); RBAC: member ${report.rbac.memberCreatesPerSecond}/s vs admin ${report.rbac.adminCreatesPerSecond}/s (ratio ${report.rbac.ratio}); KubeVirt's and CDI's 9 CRDs applied and Established in ${crdApply.kubevirtMs} ms (9 Widget-sized CRDs: ${crdApply.smallMs} ms) — goals ${met ? 'met' : 'NOT met'}`);
  agent.destroy();
  echo.close();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}

/**
 * ms from creating KubeVirt's and CDI's nine CRDs (vendor/kubevirt/, 690 kB of schema) to all of them
 * Established, beside the same for nine copies of the small Widget CRD (other groups) in the same run.
 */
async function applyKubevirtCrds(client: KubeClient, widgetCrd: any): Promise<{ kubevirtMs: number; smallMs: number }> {
  const CRDS = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };
  const vendored = ['kubevirt-crds.yaml', 'cdi-crds.yaml'].flatMap((f) => parseAllDocuments(readFileSync(new URL(`../../vendor/kubevirt/${f}`, import.meta.url), 'utf8')).map((d) => d.toJS()));
  const small = Array.from({ length: vendored.length }, (_, i) => {
    const group = `copy${i}.bench.stratus.io`;
    return { ...widgetCrd, metadata: { name: `${widgetCrd.spec.names.plural}.${group}` }, spec: { ...widgetCrd.spec, group } };
  });
  const timeApply = async (crds: any[]) => {
    const start = process.hrtime.bigint();
    for (const c of crds) await client.create(CRDS, c, 'bench');
    for (const c of crds)
      while (!((await client.get<any>(CRDS, undefined, c.metadata.name))?.status?.conditions ?? []).some((x: any) => x.type === 'Established' && x.status === 'True')) await new Promise((r) => setTimeout(r, 5));
    return Math.round(Number(process.hrtime.bigint() - start) / 1e6);
  };
  const smallMs = await timeApply(small);
  return { kubevirtMs: await timeApply(vendored), smallMs };
}

/** The echo server serves the control plane's own certificate and key, so both TLS handshakes cost the same. */
async function echoKey(dataDir: string) {
  return { cert: readFileSync(join(dataDir, 'tls', 'serving.crt'), 'utf8'), key: readFileSync(join(dataDir, 'tls', 'serving.key'), 'utf8') };
}

await main();
