/** Role, RoleAssignment, Service and Endpoint reconcilers, driven through the Kubernetes API as kubectl would. */
import { strict as assert } from 'node:assert';
import { eventually } from '@stratus/apiserver';
import { isTrue, type KubeClient } from '@stratus/runtime';
import { CLUSTER_ROLES, ENDPOINTS, ROLES, ROLE_ASSIGNMENTS, ROLE_BINDINGS, SECRETS, SERVICES, SYSTEM_NAMESPACE, TENANTS, USERS, type CatalogEndpoint, type RoleAssignment } from '../src/index.js';
import { startKeystoneEnv, type KeystoneEnv } from './support.js';

const API = 'identity.stratus.io/v1alpha1';

describe('Keystone Role, RoleAssignment and catalog reconcilers', function () {
  this.timeout(30_000);
  let env: KeystoneEnv;
  let client: KubeClient;
  const ready = async (ref: typeof ROLES, ns: string | undefined, name: string) => isTrue((await client.get<any>(ref, ns, name))?.status?.conditions, 'Ready');

  before(async () => {
    env = await startKeystoneEnv();
    client = env.client;
  });
  after(() => env.stop());

  it('gives each role a ClusterRole matching its kubectl access', async () => {
    await client.create(ROLES, { apiVersion: API, kind: 'Role', metadata: { name: 'member' }, spec: {} }, 'test');
    await client.create(ROLES, { apiVersion: API, kind: 'Role', metadata: { name: 'auditor' }, spec: {} }, 'test');
    await eventually('roles Ready', async () => (await ready(ROLES, undefined, 'member')) && (await ready(ROLES, undefined, 'auditor')));
    const member: any = await client.get(CLUSTER_ROLES, undefined, 'stratus-role-member');
    const auditor: any = await client.get(CLUSTER_ROLES, undefined, 'stratus-role-auditor');
    assert.ok(member.rules[0].verbs.includes('create'), 'member may create instances');
    assert.deepEqual(auditor.rules[0].verbs, ['get', 'list', 'watch'], 'an unknown role reads only');
    assert.equal((await client.get<any>(ROLES, undefined, 'auditor')).status.access, 'view');
    await client.patch(ROLES, undefined, 'auditor', { spec: { kubernetesAccess: 'edit' } }, 'test');
    await eventually('rules follow the spec', async () => ((await client.get<any>(CLUSTER_ROLES, undefined, 'stratus-role-auditor')).rules[0].verbs as string[]).includes('delete'));
  });

  it('turns an assignment into a RoleBinding once its tenant, role and user exist, and says what is missing until then', async () => {
    await client.create(TENANTS, { apiVersion: API, kind: 'Tenant', metadata: { name: 'acme' }, spec: {} }, 'test');
    await eventually('tenant Ready', () => ready(TENANTS, undefined, 'acme'));
    await client.create(ROLE_ASSIGNMENTS, { apiVersion: API, kind: 'RoleAssignment', metadata: { name: 'carol-member', namespace: 'acme' }, spec: { user: 'carol', role: 'member' } }, 'test');
    await eventually('Stalled on the user', async () => {
      const ra = await client.get<RoleAssignment>(ROLE_ASSIGNMENTS, 'acme', 'carol-member');
      return ra?.status?.conditions?.some((c) => c.type === 'Stalled' && c.reason === 'UserNotFound') ?? false;
    });
    await client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'carol-pw', namespace: SYSTEM_NAMESPACE }, data: { password: Buffer.from('pw').toString('base64') } } as never, 'test');
    await client.create(USERS, { apiVersion: API, kind: 'User', metadata: { name: 'carol' }, spec: { passwordSecretRef: { name: 'carol-pw' } } }, 'test');
    await eventually('assignment Ready', () => ready(ROLE_ASSIGNMENTS, 'acme', 'carol-member'), 10_000);
    const rb: any = await client.get(ROLE_BINDINGS, 'acme', 'stratus-carol-member');
    assert.deepEqual(rb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'stratus-role-member' });
    const acme = await client.get<any>(TENANTS, undefined, 'acme');
    assert.deepEqual(rb.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: `${acme.metadata.uid.replace(/-/g, '')}:member` }], "the group of (acme, member) that tokens holding the role carry");

    await client.patch(ROLE_ASSIGNMENTS, 'acme', 'carol-member', { spec: { role: 'auditor' } }, 'test');
    await eventually('binding follows the role', async () => (await client.get<any>(ROLE_BINDINGS, 'acme', 'stratus-carol-member'))?.roleRef.name === 'stratus-role-auditor');
    await client.delete(ROLE_ASSIGNMENTS, 'acme', 'carol-member');
    await eventually('binding goes with the assignment', async () => !(await client.get(ROLE_BINDINGS, 'acme', 'stratus-carol-member')));
  });

  it('refuses an assignment outside a tenant namespace', async () => {
    await client.create(ROLE_ASSIGNMENTS, { apiVersion: API, kind: 'RoleAssignment', metadata: { name: 'stray', namespace: 'default' }, spec: { user: 'carol', role: 'member' } }, 'test');
    await eventually('Stalled NotATenant', async () => (await client.get<RoleAssignment>(ROLE_ASSIGNMENTS, 'default', 'stray'))?.status?.conditions?.some((c) => c.reason === 'NotATenant') ?? false);
    assert.equal(await client.get(ROLE_BINDINGS, 'default', 'stratus-stray'), undefined);
  });

  it('marks an endpoint Ready only when its service exists', async () => {
    await client.create(ENDPOINTS, { apiVersion: API, kind: 'Endpoint', metadata: { name: 'glance-public' }, spec: { service: 'glance', interface: 'public', url: 'http://127.0.0.1:9292' } }, 'test');
    await eventually('Stalled', async () => (await client.get<CatalogEndpoint>(ENDPOINTS, undefined, 'glance-public'))?.status?.phase === 'Error');
    await client.create(SERVICES, { apiVersion: API, kind: 'Service', metadata: { name: 'glance' }, spec: { type: 'image' } }, 'test');
    await eventually('Ready', () => ready(ENDPOINTS, undefined, 'glance-public'), 10_000);
    assert.equal((await client.get<CatalogEndpoint>(ENDPOINTS, undefined, 'glance-public'))!.spec.region, 'RegionOne', 'defaulted by the schema');
  });
});
