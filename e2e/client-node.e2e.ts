/** @kubernetes/client-node's own generated APIs and Watch against the embedded control plane. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, Watch, makeInformer, setHeaderOptions, type V1ConfigMap } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startTestControlPlane, type TestControlPlane } from '@stratus/apiserver';
import { fixture } from './lib/cluster.js';

const GROUP = 'test.stratus.io';
const VERSION = 'v1alpha1';

describe('@kubernetes/client-node against the embedded control plane', function () {
  this.timeout(30_000);
  let plane: TestControlPlane;
  let kc: KubeConfig;

  before(async () => {
    // A short bookmark interval so the test sees one without waiting for the default.
    plane = await startTestControlPlane({ bookmarkIntervalMs: 200 });
    kc = new KubeConfig();
    kc.loadFromString(plane.kubeconfig());
    await kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: parse(readFileSync(fixture('widget-crd.yaml'), 'utf8')) });
    await plane.server.controllers.idle();
  });
  after(() => plane.stop());

  it('creates, reads, lists, replaces and patches a ConfigMap through CoreV1Api', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const created = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'settings', labels: { app: 'x' } }, data: { a: '1' } } });
    assert.equal(created.metadata?.resourceVersion !== undefined, true);
    const read = await core.readNamespacedConfigMap({ name: 'settings', namespace: 'default' });
    assert.deepEqual(read.data, { a: '1' });
    const replaced = await core.replaceNamespacedConfigMap({ name: 'settings', namespace: 'default', body: { ...read, data: { a: '2' } } as V1ConfigMap });
    assert.deepEqual(replaced.data, { a: '2' });
    await assert.rejects(
      core.replaceNamespacedConfigMap({ name: 'settings', namespace: 'default', body: { ...read, data: { a: '3' } } as V1ConfigMap }),
      (e: { code?: number }) => e.code === 409,
      'replacing with the old resourceVersion conflicts',
    );
    const patched = await core.patchNamespacedConfigMap({ name: 'settings', namespace: 'default', body: { data: { b: 'x' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    assert.deepEqual(patched.data, { a: '2', b: 'x' });
    const list = await core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'app=x' });
    assert.deepEqual(list.items.map((i) => i.metadata?.name), ['settings']);
  });

  it('writes a custom resource and its status subresource through CustomObjectsApi', async () => {
    const custom = kc.makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: 'default', plural: 'widgets', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Widget', metadata: { name: 'cn' }, spec: { size: 2 } } });
    await custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, namespace: 'default', plural: 'widgets', name: 'cn', body: { status: { phase: 'Done' }, spec: { size: 99 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const w = await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: 'default', plural: 'widgets', name: 'cn' });
    assert.equal(w.status.phase, 'Done');
    assert.equal(w.spec.size, 2, 'spec is ignored on the status subresource');
  });

  it('feeds an informer cache from list+watch, including deletions', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const informer = makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add:${o.metadata?.name}`));
    informer.on('update', (o) => seen.push(`update:${o.metadata?.name}`));
    informer.on('delete', (o) => seen.push(`delete:${o.metadata?.name}`));
    await informer.start();
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'watched' }, data: { v: '1' } } });
    await core.patchNamespacedConfigMap({ name: 'watched', namespace: 'default', body: { data: { v: '2' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await core.deleteNamespacedConfigMap({ name: 'watched', namespace: 'default' });
    const deadline = Date.now() + 5000;
    while (!seen.includes('delete:watched') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await informer.stop();
    assert.deepEqual(seen.filter((s) => s.endsWith(':watched')), ['add:watched', 'update:watched', 'delete:watched']);
    assert.ok(seen.includes('add:settings'), 'the initial list filled the cache');
    assert.equal(informer.get('watched', 'default'), undefined);
  });

  it('sends BOOKMARKs carrying the current resourceVersion when asked', async () => {
    const rv = (await kc.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: 'default' })).metadata?.resourceVersion;
    const bookmarks: string[] = [];
    const req = await new Watch(kc).watch('/api/v1/namespaces/default/configmaps', { allowWatchBookmarks: true, resourceVersion: rv }, (type, obj) => {
      if (type === 'BOOKMARK') bookmarks.push(obj.metadata.resourceVersion);
    }, () => {});
    const deadline = Date.now() + 3000;
    while (bookmarks.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    req.abort();
    assert.ok(bookmarks.length > 0, 'a bookmark arrived');
    assert.equal(bookmarks[0], String(plane.server.store.currentRevision()));
  });
});
