/** The Tenant reconciler against the embedded control plane, with the CRDs generated into crds/. */
import { strict as assert } from 'node:assert';
import { eventually } from '@stratus/apiserver';
import type { KubeClient, ResourceRef } from '@stratus/runtime';
import { NAMESPACES, ROLE_ASSIGNMENTS, TENANTS, TENANT_LABEL, type Namespace, type Tenant } from '../src/index.js';
import { startKeystoneEnv, type KeystoneEnv } from './support.js';

const WIDGETS: ResourceRef = { group: 'test.stratus.io', version: 'v1alpha1', plural: 'widgets', namespaced: true };

describe('Keystone Tenant reconciler', function () {
  this.timeout(30_000);
  let env: KeystoneEnv;
  let client: KubeClient;
  const tenant = (name: string) => client.get<Tenant>(TENANTS, undefined, name);
  const ready = (t: Tenant | undefined) => t?.status?.conditions?.find((c) => c.type === 'Ready')?.status;

  before(async () => {
    env = await startKeystoneEnv();
    client = env.client;
  });
  after(() => env.stop());

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

  it('gives a second Tenant applied with the same project name (displayName) no namespace, Stalled NameConflict naming the holder', async () => {
    const body = (name: string) => ({ apiVersion: 'identity.stratus.io/v1alpha1', kind: 'Tenant', metadata: { name }, spec: { displayName: 'Research & Development' } });
    await client.create(TENANTS, body('rnd'), 'test');
    await eventually('the first is Ready', async () => ready(await tenant('rnd')) === 'True');
    await client.create(TENANTS, body('rnd-copy'), 'test');
    await eventually('the second is Stalled', async () => (await tenant('rnd-copy'))?.status?.conditions?.some((c) => c.type === 'Stalled' && c.reason === 'NameConflict') ?? false);
    const stalled = (await tenant('rnd-copy'))!.status!.conditions!.find((c) => c.type === 'Stalled')!;
    assert.match(stalled.message!, /"Research & Development" is already used by Tenant rnd/);
    assert.equal(await client.get(NAMESPACES, undefined, 'rnd-copy'), undefined, 'no namespace for the duplicate');
    await client.delete(TENANTS, undefined, 'rnd-copy');
    await client.delete(TENANTS, undefined, 'rnd');
    await eventually('both gone', async () => !(await tenant('rnd')) && !(await tenant('rnd-copy')), 20_000);
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

  it('deletes its role assignments with it, as Keystone deletes a project’s grants (they never block it)', async () => {
    await client.create(TENANTS, { apiVersion: 'identity.stratus.io/v1alpha1', kind: 'Tenant', metadata: { name: 'granted' }, spec: {} }, 'test');
    await eventually('tenant Ready', async () => ready(await tenant('granted')) === 'True');
    await client.create(ROLE_ASSIGNMENTS, { apiVersion: 'identity.stratus.io/v1alpha1', kind: 'RoleAssignment', metadata: { name: 'someone.member', namespace: 'granted' }, spec: { user: 'someone', role: 'member' } }, 'test');
    await client.delete(TENANTS, undefined, 'granted');
    await eventually('tenant, grant and namespace gone', async () => !(await tenant('granted')) && !(await client.get(NAMESPACES, undefined, 'granted')), 20_000);
    assert.equal(await client.get(ROLE_ASSIGNMENTS, 'granted', 'someone.member'), undefined);
  });
});
