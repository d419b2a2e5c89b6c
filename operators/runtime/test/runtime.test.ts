/** The runtime against a real API server (the embedded control plane), as envtest does for controller-runtime. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { eventually as until, startTestControlPlane, type TestControlPlane } from '@stratus/apiserver';
import {
  IndexedCache,
  KubeClient,
  Manager,
  addFinalizerPatch,
  createLogger,
  isDeleting,
  markReady,
  removeFinalizerPatch,
  type Condition,
  type ResourceRef,
} from '../src/index.js';

const WIDGETS: ResourceRef = { group: 'test.stratus.io', version: 'v1alpha1', plural: 'widgets', namespaced: true };
const CRDS: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };
const FINALIZER = 'test.stratus.io/cleanup';
const crdYaml = readFileSync(new URL('../../../../e2e/fixtures/widget-crd.yaml', import.meta.url), 'utf8');

interface Widget {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number; finalizers?: string[]; resourceVersion?: string; uid?: string };
  spec: { size: number };
  status?: { observedGeneration?: number; phase?: string; conditions?: Condition[] };
}

const quiet = () => createLogger('test', 'error');

/** The story of a Widget: ensure finalizer, act, write status; on deletion clean up and release. */
function widgetManager(kc: KubeConfig, cleanedUp: string[], opts: { slowMs?: number; identity?: string } = {}) {
  const m = new Manager({ name: 'widget-operator', kubeConfig: kc, logger: quiet(), metricsPort: 0, leaderElection: opts.identity ? { namespace: 'default', identity: opts.identity, leaseDurationSeconds: 2, retryPeriodMs: 200 } : undefined });
  m.add<Widget>({
    name: 'widget',
    resource: WIDGETS,
    reconcile: async (req, ctx) => {
      const w = await ctx.client.get<Widget>(WIDGETS, req.namespace, req.name);
      if (!w) return;
      if (isDeleting(w)) {
        cleanedUp.push(w.metadata.name);
        const patch = removeFinalizerPatch(w, FINALIZER);
        if (patch) await ctx.client.patch(WIDGETS, req.namespace, req.name, patch, 'widget-operator');
        return;
      }
      const add = addFinalizerPatch(w, FINALIZER);
      if (add) return void (await ctx.client.patch(WIDGETS, req.namespace, req.name, add, 'widget-operator'));
      if (w.status?.observedGeneration === w.metadata.generation) return;
      if (opts.slowMs) await new Promise((r) => setTimeout(r, opts.slowMs));
      const status = { phase: 'Built', observedGeneration: w.metadata.generation, conditions: markReady(w.status?.conditions, w.metadata.generation, 'Built', `size ${w.spec.size}`) };
      await ctx.client.patch(WIDGETS, req.namespace, req.name, { status }, 'widget-operator', undefined, 'status');
      await ctx.events.record(w, 'Normal', 'Built', `Built a widget of size ${w.spec.size}`);
    },
  });
  return m;
}

describe('operator runtime against the embedded control plane', function () {
  this.timeout(60_000);
  let plane: TestControlPlane;
  let kc: KubeConfig;
  let client: KubeClient;

  before(async () => {
    plane = await startTestControlPlane();
    kc = new KubeConfig();
    kc.loadFromString(plane.kubeconfig());
    client = new KubeClient(kc);
    await client.create(CRDS, parse(crdYaml), 'test');
    await until('CRD established', async () => !!plane.server.registry.find('test.stratus.io', 'v1alpha1', 'widgets'));
  });
  after(() => plane.stop());

  it('reconciles: finalizer, Ready status with observedGeneration, an Event; cleans up on delete', async () => {
    const cleaned: string[] = [];
    const m = widgetManager(kc, cleaned);
    await m.start();
    try {
      await client.create(WIDGETS, { apiVersion: 'test.stratus.io/v1alpha1', kind: 'Widget', metadata: { name: 'alpha', namespace: 'default' }, spec: { size: 2 } }, 'test');
      await until('Ready', async () => (await client.get<Widget>(WIDGETS, 'default', 'alpha'))?.status?.observedGeneration === 1);
      const w = (await client.get<Widget>(WIDGETS, 'default', 'alpha'))!;
      assert.deepEqual(w.metadata.finalizers, [FINALIZER]);
      assert.equal(w.status!.conditions!.find((c) => c.type === 'Ready')!.status, 'True');
      const events = await client.request('GET', `/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent(`involvedObject.uid=${w.metadata.uid}`)}`);
      assert.equal(events.items[0].reason, 'Built');

      await client.patch(WIDGETS, 'default', 'alpha', { spec: { size: 5 } }, 'test');
      await until('new generation observed', async () => (await client.get<Widget>(WIDGETS, 'default', 'alpha'))?.status?.observedGeneration === 2);

      await client.delete(WIDGETS, 'default', 'alpha');
      await until('deleted after cleanup', async () => !(await client.get(WIDGETS, 'default', 'alpha')));
      assert.deepEqual(cleaned, ['alpha']);

      const metrics = await (await fetch(`http://127.0.0.1:${m.metricsPort}/metrics`)).text();
      assert.match(metrics, /stratus_reconcile_total\{controller="widget",result="success"\} [1-9]/);
    } finally {
      await m.stop();
    }
  });

  it('keeps reconciling across a restart of the API server (re-watch, 410 and relist)', async () => {
    const m = widgetManager(kc, []);
    await m.start();
    try {
      await client.create(WIDGETS, { apiVersion: 'test.stratus.io/v1alpha1', kind: 'Widget', metadata: { name: 'beta', namespace: 'default' }, spec: { size: 1 } }, 'test');
      await until('Ready before restart', async () => (await client.get<Widget>(WIDGETS, 'default', 'beta'))?.status?.observedGeneration === 1);
      await plane.restart();
      await client.patch(WIDGETS, 'default', 'beta', { spec: { size: 9 } }, 'test').catch(async () => {
        await new Promise((r) => setTimeout(r, 200));
        await client.patch(WIDGETS, 'default', 'beta', { spec: { size: 9 } }, 'test');
      });
      await until('change after restart reconciled', async () => (await client.get<Widget>(WIDGETS, 'default', 'beta'))?.status?.observedGeneration === 2, 20_000);
    } finally {
      await m.stop();
    }
  });

  it('elects one leader on a Lease and hands over when it stops', async () => {
    const a = widgetManager(kc, [], { identity: 'a' });
    const b = widgetManager(kc, [], { identity: 'b' });
    await a.start();
    const bStarted = b.start();
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(a.isLeader, true);
    assert.equal(b.isLeader, false, 'b waits while a renews');
    const lease = await client.request('GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/widget-operator-leader');
    assert.equal(lease.spec.holderIdentity, 'a');
    await a.stop();
    await bStarted;
    assert.equal(b.isLeader, true);
    const after = await client.request('GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/widget-operator-leader');
    assert.equal(after.spec.holderIdentity, 'b');
    assert.equal(after.spec.leaseTransitions, 0, 'a handed the lease back empty, so b acquired a released lease');
    await b.stop();
  });

  it('finishes a reconcile in flight before stopping', async () => {
    const m = widgetManager(kc, [], { slowMs: 800 });
    await m.start();
    await client.create(WIDGETS, { apiVersion: 'test.stratus.io/v1alpha1', kind: 'Widget', metadata: { name: 'gamma', namespace: 'default' }, spec: { size: 3 } }, 'test');
    await until('finalizer added', async () => !!(await client.get<Widget>(WIDGETS, 'default', 'gamma'))?.metadata.finalizers);
    await new Promise((r) => setTimeout(r, 200));
    await m.stop();
    const w = await client.get<Widget>(WIDGETS, 'default', 'gamma');
    assert.equal(w?.status?.observedGeneration, 1, 'the slow reconcile completed its status write');
  });

  it('shares one informer per kind among a manager’s controllers and caches, and each sees what was there before it started', async () => {
    await client.create(WIDGETS, { apiVersion: 'test.stratus.io/v1alpha1', kind: 'Widget', metadata: { name: 'shared-1', namespace: 'default' }, spec: { size: 1 } }, 'test');
    const m = new Manager({ name: 'sharing', kubeConfig: kc, logger: quiet() });
    const cache = m.informer<Widget>(WIDGETS);
    assert.equal(m.informer(WIDGETS), cache, 'the same objects, the same informer');
    assert.notEqual(m.informer(WIDGETS, { namespace: 'other' }), cache, 'another namespace is another watch');
    const seen = { a: new Set<string>(), b: new Set<string>() };
    for (const name of ['a', 'b'] as const) m.add<Widget>({ name, resource: WIDGETS, reconcile: async (req) => void seen[name].add(req.name) });
    m.onStart(() => cache.start()); // started before the controllers, as operators start the caches their reconcilers read
    await m.start();
    try {
      await until('both controllers saw the widget made before they started', async () => seen.a.has('shared-1') && seen.b.has('shared-1'));
      await client.create(WIDGETS, { apiVersion: 'test.stratus.io/v1alpha1', kind: 'Widget', metadata: { name: 'shared-2', namespace: 'default' }, spec: { size: 1 } }, 'test');
      await until('both controllers saw the new widget', async () => seen.a.has('shared-2') && seen.b.has('shared-2'));
      assert.ok(cache.informer.get('shared-2', 'default'), 'the cache holds it too');
    } finally {
      await m.stop();
    }
  });

  it('looks objects up by a key read off them, following changes and deletions (IndexedCache.indexBy)', async () => {
    const make = (name: string, size: number) => client.create(WIDGETS, { apiVersion: 'test.stratus.io/v1alpha1', kind: 'Widget', metadata: { name, namespace: 'default' }, spec: { size } }, 'test');
    const cache = new IndexedCache<Widget>(kc, client, WIDGETS, quiet(), { idOf: (w) => w.metadata.name });
    let reads = 0;
    const bySize = cache.indexBy((w) => (reads++, { key: `size-${w.spec.size}`, value: w.spec.size * 10 }));
    await make('indexed-1', 7);
    await cache.start();
    try {
      await until('the cache to hold the widget', async () => !!cache.get('indexed-1', 'default'));
      assert.deepEqual([bySize('size-7')?.object.metadata.name, bySize('size-7')?.value], ['indexed-1', 70]);
      const readsOnce = reads;
      bySize('size-7');
      assert.equal(reads, readsOnce, 'no change, no rebuild');
      await client.patch(WIDGETS, 'default', 'indexed-1', { spec: { size: 8 } }, 'test');
      await until('the index to follow the change', async () => bySize('size-8')?.object.metadata.name === 'indexed-1');
      assert.equal(bySize('size-7'), undefined, 'the old key is gone');
      await client.delete(WIDGETS, 'default', 'indexed-1');
      await until('the index to drop the deleted widget', async () => bySize('size-8') === undefined);
    } finally {
      cache.stop();
    }
  });
});
