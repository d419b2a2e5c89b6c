/**
 * Lists under server-side apply (`x-kubernetes-list-type: map|set`) and strategic merge patch (patch merge
 * keys), as Kubernetes documents them; and over HTTP, as kubectl and Helm send them.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { serverSideApply } from '../src/managedfields.js';
import { strategicMergePatch } from '../src/patch.js';
import { objectShape } from '../src/listTypes.js';
import { startTestControlPlane, type TestControlPlane } from '../src/index.js';
import type { KObject } from '../src/types.js';

const NOW = '2026-01-01T00:00:00Z';
const gadgetShape = objectShape('test/gadgets', {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' }, port: { type: 'integer' }, note: { type: 'string' } } } },
        tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
        args: { type: 'array', items: { type: 'string' } },
      },
    },
  },
});
const gadget = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): KObject => ({ apiVersion: 'test/v1', kind: 'Gadget', metadata: { name: 'g', ...metadata }, spec }) as KObject;
const apply = (live: KObject | undefined, spec: Record<string, unknown>, manager: string, force = false) => serverSideApply(live, gadget(spec), manager, force, false, NOW, gadgetShape);

describe('server-side apply merges lists as their schema says', () => {
  it('merges a map list item by item: each manager owns its items, and dropping one removes only that', () => {
    const a = apply(undefined, { ports: [{ name: 'http', port: 80 }] }, 'alice').object;
    const ab = apply(a, { ports: [{ name: 'metrics', port: 9100 }] }, 'bob');
    assert.deepEqual(ab.conflicts, []);
    assert.deepEqual((ab.object.spec as any).ports, [{ name: 'http', port: 80 }, { name: 'metrics', port: 9100 }]);
    const bob = ab.object.metadata.managedFields!.find((e) => e.manager === 'bob')!;
    assert.deepEqual(bob.fieldsV1, { 'f:spec': { 'f:ports': { 'k:{"name":"metrics"}': { '.': {}, 'f:port': {} } } } }, 'managedFields name the item by its key, as Kubernetes writes them');
    const aliceGone = apply(ab.object, { ports: [] }, 'alice').object;
    assert.deepEqual((aliceGone.spec as any).ports, [{ name: 'metrics', port: 9100 }], "alice's item goes, bob's stays");
  });

  it("reports a conflict on another manager's field inside an item, by the item's key, and takes it with force", () => {
    const a = apply(undefined, { ports: [{ name: 'http', port: 80 }] }, 'alice').object;
    const clash = apply(a, { ports: [{ name: 'http', port: 8080 }] }, 'bob');
    assert.equal(clash.conflicts.length, 1);
    assert.equal(clash.conflicts[0].message, 'conflict with "alice": .spec.ports[name="http"].port');
    const forced = apply(a, { ports: [{ name: 'http', port: 8080 }] }, 'bob', true);
    assert.deepEqual((forced.object.spec as any).ports, [{ name: 'http', port: 8080 }]);
    assert.ok(!forced.object.metadata.managedFields!.some((e) => e.manager === 'alice' && JSON.stringify(e.fieldsV1).includes('"f:port":')), 'alice no longer owns the port');
  });

  it("keeps an item while another manager still owns a field in it; sets merge by value; other lists stay atomic", () => {
    const a = apply(undefined, { ports: [{ name: 'http', port: 80 }], tags: ['x'], args: ['--a'] }, 'alice').object;
    const b = apply(a, { ports: [{ name: 'http', note: 'public' }], tags: ['y'] }, 'bob').object;
    assert.deepEqual((b.spec as any).ports, [{ name: 'http', port: 80, note: 'public' }]);
    assert.deepEqual((b.spec as any).tags, ['x', 'y']);
    const a2 = apply(b, { args: ['--b'] }, 'alice').object;
    assert.deepEqual((a2.spec as any).ports, [{ name: 'http', note: 'public' }], "alice's port goes; the item stays for bob's note");
    assert.deepEqual((a2.spec as any).tags, ['y']);
    assert.deepEqual((a2.spec as any).args, ['--b'], 'a list without a list type is replaced whole');
  });

  it("merges metadata.finalizers as a set and ownerReferences by uid, whatever the CRD's schema", () => {
    const a = serverSideApply(undefined, gadget({}, { finalizers: ['a/x'], ownerReferences: [{ apiVersion: 'v1', kind: 'K', name: 'o1', uid: 'u1' }] }), 'alice', false, false, NOW, gadgetShape).object;
    const b = serverSideApply(a, gadget({}, { finalizers: ['b/y'], ownerReferences: [{ apiVersion: 'v1', kind: 'K', name: 'o2', uid: 'u2' }] }), 'bob', false, false, NOW, gadgetShape).object;
    assert.deepEqual(b.metadata.finalizers, ['a/x', 'b/y']);
    assert.deepEqual(b.metadata.ownerReferences!.map((o) => o.uid), ['u1', 'u2']);
  });
});

describe('strategic merge patch merges lists by their patch merge key', () => {
  const deployment = objectShape('apps/deployments', undefined);
  const live = {
    metadata: { name: 'd', finalizers: ['a', 'b'] },
    spec: { template: { spec: { containers: [{ name: 'app', image: 'app:1', env: [{ name: 'A', value: '1' }] }, { name: 'sidecar', image: 'proxy:1' }] } } },
  };

  it('merges containers and env by name, appends new ones, and deletes with $patch: delete', () => {
    const out = strategicMergePatch(live, { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:2', env: [{ name: 'B', value: '2' }] }, { name: 'sidecar', $patch: 'delete' }, { name: 'new', image: 'n:1' }] } } } }, deployment) as any;
    assert.deepEqual(out.spec.template.spec.containers, [
      { name: 'app', image: 'app:2', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
      { name: 'new', image: 'n:1' },
    ]);
  });

  it('honours $setElementOrder, $deleteFromPrimitiveList and a $patch: replace item', () => {
    const reordered = strategicMergePatch(live, { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'app' }] } } } }, deployment) as any;
    assert.deepEqual(reordered.spec.template.spec.containers.map((c: any) => c.name), ['sidecar', 'app']);
    const fin = strategicMergePatch(live, { metadata: { finalizers: ['c'], '$deleteFromPrimitiveList/finalizers': ['a'] } }, deployment) as any;
    assert.deepEqual(fin.metadata.finalizers, ['b', 'c'], 'finalizers merge as a set; the directive removes one');
    const replaced = strategicMergePatch(live, { spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'o:1' }] } } } }, deployment) as any;
    assert.deepEqual(replaced.spec.template.spec.containers, [{ name: 'only', image: 'o:1' }]);
  });

  it('replaces a list that has no patch strategy (a Role’s rules)', () => {
    const out = strategicMergePatch({ rules: [{ verbs: ['get'] }] }, { rules: [{ verbs: ['list'] }] }, objectShape('rbac.authorization.k8s.io/roles', undefined)) as any;
    assert.deepEqual(out.rules, [{ verbs: ['list'] }]);
  });
});

describe('list merging over HTTP', function () {
  this.timeout(30_000);
  let plane: TestControlPlane;
  const crd = parse(readFileSync(new URL('../../../e2e/fixtures/widget-crd.yaml', import.meta.url), 'utf8'));
  const call = (method: string, path: string, body: unknown, contentType = 'application/json') =>
    fetch(plane.server.url + path, { method, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { Authorization: `Bearer ${plane.token}`, 'Content-Type': contentType } });

  before(async () => {
    plane = await startTestControlPlane({ tls: false });
    assert.equal((await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status, 201);
  });
  after(() => plane.stop());

  it('refuses strategic merge patch on a custom resource with 415, as Kubernetes does, and changes nothing', async () => {
    const path = '/apis/test.stratus.io/v1alpha1/namespaces/default/widgets';
    assert.equal((await call('POST', path, { apiVersion: 'test.stratus.io/v1alpha1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 1 } })).status, 201);
    const r = await call('PATCH', `${path}/w`, { spec: { size: 2 } }, 'application/strategic-merge-patch+json');
    assert.equal(r.status, 415);
    const body = (await r.json()) as { reason: string; message: string };
    assert.equal(body.reason, 'UnsupportedMediaType');
    assert.match(body.message, /accepted media types include: application\/json-patch\+json, application\/merge-patch\+json, application\/apply-patch\+yaml/);
    assert.equal(((await (await call('GET', `${path}/w`, undefined)).json()) as any).spec.size, 1);
  });

  it('merges a Deployment’s containers by name under strategic merge patch (what kubectl apply and Helm send)', async () => {
    const path = '/apis/apps/v1/namespaces/default/deployments';
    const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'app:1' }, { name: 'proxy', image: 'proxy:1' }] } } } };
    assert.equal((await call('POST', path, d)).status, 201);
    const r = await call('PATCH', `${path}/web`, { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:2' }] } } } }, 'application/strategic-merge-patch+json');
    assert.equal(r.status, 200);
    const containers = ((await r.json()) as any).spec.template.spec.containers;
    assert.deepEqual(containers, [{ name: 'app', image: 'app:2' }, { name: 'proxy', image: 'proxy:1' }]);
  });

  it('merges status conditions by type when two managers server-side apply them', async () => {
    // A CRD whose status conditions are a map list keyed by type, as every Stratus kind's are.
    const gcrd = structuredClone(crd);
    gcrd.metadata.name = 'gadgets.test.stratus.io';
    gcrd.spec.names = { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList' };
    const v = gcrd.spec.versions[0];
    v.subresources = { status: {} };
    v.schema.openAPIV3Schema.properties.status = {
      type: 'object',
      properties: { conditions: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'], items: { type: 'object', properties: { type: { type: 'string' }, status: { type: 'string' } } } } },
    };
    assert.equal((await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', gcrd)).status, 201);
    const base = '/apis/test.stratus.io/v1alpha1/namespaces/default/gadgets';
    const applyStatus = (manager: string, type: string) =>
      call('PATCH', `${base}/g/status?fieldManager=${manager}`, { apiVersion: 'test.stratus.io/v1alpha1', kind: 'Gadget', metadata: { name: 'g' }, status: { conditions: [{ type, status: 'True' }] } }, 'application/apply-patch+yaml');
    assert.equal((await call('POST', base, { apiVersion: 'test.stratus.io/v1alpha1', kind: 'Gadget', metadata: { name: 'g' }, spec: { size: 1 } })).status, 201);
    assert.equal((await applyStatus('scheduler', 'Scheduled')).status, 200);
    const r = await applyStatus('agent', 'Running');
    assert.equal(r.status, 200);
    const got = (await r.json()) as any;
    assert.deepEqual(got.status.conditions.map((c: any) => c.type), ['Scheduled', 'Running'], "one manager's condition does not replace the other's");
  });
});
