/** The Tenant reconciler against the embedded control plane, with the CRDs generated into crds/. */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { eventually, startTestControlPlane, type TestControlPlane } from '@stratus/apiserver';
import { KubeClient, createLogger, type Manager, type ResourceRef } from '@stratus/runtime';
import { NAMESPACES, TENANTS, TENANT_LABEL, keystoneManager, type Namespace, type Tenant } from '../src/index.js';

const CRDS: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };
const WIDGETS: ResourceRef = { group: 'test.stratus.io', version: 'v1alpha1', plural: 'widgets', namespaced: true };
const crdDir = new URL('../../../../crds/', import.meta.url);
const widgetCrd = new URL('../../../../e2e/fixtures/widget-crd.yaml', import.meta.url);

describe('Keystone Tenant reconciler', function () {
  this.timeout(30_000);
  let plane: TestControlPlane;
  let client: KubeClient;
  let manager: Manager;
  const tenant = (name: string) => client.get<Tenant>(TENANTS, undefined, name);
  const ready = (t: Tenant | undefined) => t?.status?.conditions?.find((c) => c.type === 'Ready')?.status;

  before(async () => {
    plane = await startTestControlPlane();
    const kc = new KubeConfig();
    kc.loadFromString(plane.kubeconfig());
    client = new KubeClient(kc);
    for (const f of readdirSync(crdDir).filter((f) => f.endsWith('.yaml'))) await client.create(CRDS, parse(readFileSync(new URL(f, crdDir), 'utf8')), 'test');
    // A namespaced kind in the `stratus` category, standing for the instances and volumes later issues add.
    await client.create(CRDS, parse(readFileSync(widgetCrd, 'utf8')), 'test');
    await plane.server.controllers.idle();
    manager = keystoneManager({ kubeConfig: kc, logger: createLogger('keystone-test', 'error') });
    await manager.start();
  });
  after(async () => {
    await manager.stop();
    await plane.stop();
  });

  it('creates the tenant its own labelled namespace and reports Ready/Active with a project ID', async () => {
    await client.create(TENANTS, { apiVersion: 'identity.stratus.io/v1alpha1', kind: 'Tenant', metadata: { name: 'acme' }, spec: { description: 'ACME' } }, 'test');
    await eventually('tenant Ready', async () => ready(await tenant('acme')) === 'True');
    const t = (await tenant('acme'))!;
    assert.equal(t.status!.phase, 'Active');
    assert.equal(t.status!.namespace, 'acme');
    assert.match(t.status!.projectId!, /^[0-9a-f]{32}$/);
    assert.equal(t.status!.observedGeneration, t.metadata.generation);
    const ns = (await client.get<Namespace>(NAMESPACES, undefined, 'acme'))!;
    assert.equal(ns.metadata.labels![TENANT_LABEL], 'acme');
    assert.equal(ns.metadata.ownerReferences![0].uid, t.metadata.uid);
  });

  it('shows a disabled tenant as Disabled', async () => {
    await client.patch(TENANTS, undefined, 'acme', { spec: { enabled: false } }, 'test');
    await eventually('Disabled', async () => (await tenant('acme'))?.status?.phase === 'Disabled');
    await client.patch(TENANTS, undefined, 'acme', { spec: { enabled: true } }, 'test');
    await eventually('Active again', async () => (await tenant('acme'))?.status?.phase === 'Active');
  });

  it('re-creates its namespace when someone deletes it by hand', async () => {
    const before = (await client.get<Namespace>(NAMESPACES, undefined, 'acme'))!.metadata.uid;
    await client.delete(NAMESPACES, undefined, 'acme');
    await eventually('a new namespace', async () => {
      const ns = await client.get<Namespace>(NAMESPACES, undefined, 'acme');
      return !!ns && ns.metadata.uid !== before;
    });
  });

  it('refuses to adopt a namespace it did not create', async () => {
    await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'taken' } }, 'test');
    await client.create(TENANTS, { apiVersion: 'identity.stratus.io/v1alpha1', kind: 'Tenant', metadata: { name: 'taken' }, spec: {} }, 'test');
    await eventually('Stalled', async () => (await tenant('taken'))?.status?.conditions?.some((c) => c.type === 'Stalled' && c.reason === 'NamespaceConflict') ?? false);
    assert.notEqual(ready(await tenant('taken')), 'True');
    assert.equal((await client.get<Namespace>(NAMESPACES, undefined, 'taken'))!.metadata.labels?.[TENANT_LABEL], undefined);
  });

  it('blocks deletion while Stratus resources remain, then removes the namespace and itself', async () => {
    await client.create(WIDGETS, { apiVersion: 'test.stratus.io/v1alpha1', kind: 'Widget', metadata: { name: 'server-1', namespace: 'acme' }, spec: { size: 1 } }, 'test');
    await client.delete(TENANTS, undefined, 'acme');
    await eventually('Terminating, naming what blocks it', async () => {
      const t = await tenant('acme');
      return t?.status?.phase === 'Terminating' && !!t.status.conditions?.some((c) => c.reason === 'WaitingForResources' && c.message.includes('widgets/server-1'));
    });
    assert.ok(await client.get(NAMESPACES, undefined, 'acme'), 'the namespace stays while resources remain');
    const events = await client.request('GET', `/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent('involvedObject.name=acme,reason=DeletionBlocked')}`);
    assert.equal(events.items.length, 1, 'one warning event, not one per retry');
    await client.delete(WIDGETS, 'acme', 'server-1');
    await eventually('tenant gone', async () => !(await tenant('acme')), 15_000);
    assert.equal(await client.get(NAMESPACES, undefined, 'acme'), undefined);
  });
});
