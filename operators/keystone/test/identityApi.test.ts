/** The Identity API v3 over HTTP: tokens, the catalog, CRUD on the identity resources, policy and errors. */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@stratus/apiserver';
import { DOMAINS, FERNET_KEYS_SECRET, ROLE_BINDINGS, ROLE_ASSIGNMENTS, SECRETS, SYSTEM_NAMESPACE, TENANTS, USERS, type Domain, type RoleAssignment, type Secret, type Tenant, type User } from '../src/index.js';
import { fernetDecrypt } from '../src/tokens/fernet.js';
import { call, passwordAuth, startIdentityEnv, type IdentityEnv } from './support.js';

describe('Identity API v3', function () {
  this.timeout(60_000);
  let env: IdentityEnv;
  let admin: string;
  const api = (method: string, path: string, opts: { token?: string; subject?: string; body?: unknown } = {}) => call(env.v3, method, path, { token: admin, ...opts });
  /** A new project with a new user holding the member role on it, and the user's token scoped to it. */
  async function memberOfNew(projectName: string, userName: string, password: string) {
    const project = (await api('POST', '/projects', { body: { project: { name: projectName } } })).body.project;
    const user = (await api('POST', '/users', { body: { user: { name: userName, password } } })).body.user;
    const member = (await api('GET', '/roles?name=member')).body.roles[0];
    assert.equal((await api('PUT', `/projects/${project.id}/users/${user.id}/roles/${member.id}`)).status, 204);
    const token = (await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth(userName, password, projectName) })).headers.get('x-subject-token')!;
    return { project, user, token };
  }

  before(async () => {
    env = await startIdentityEnv();
    // Bootstrap returns once the resources are Ready; the API's caches follow within moments.
    await eventually('admin can sign in', async () => (await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('admin', env.adminPassword, 'admin') })).status === 201);
    admin = (await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('admin', env.adminPassword, 'admin') })).headers.get('x-subject-token')!;
  });
  after(() => env.stop());

  it('answers version discovery at the root and at /v3', async () => {
    const root = await call(env.api.url, 'GET', '/');
    assert.equal(root.status, 300);
    assert.equal(root.body.versions.values[0].id, 'v3.14');
    const v3 = await call(env.v3, 'GET', '');
    assert.equal(v3.status, 200);
    assert.equal(v3.body.version.links[0].href, `${env.v3}/`);
  });

  it('issues a project-scoped token with roles and the catalog, and validates it', async () => {
    const r = await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('admin', env.adminPassword, 'admin') });
    assert.equal(r.status, 201);
    const t = r.body.token;
    assert.deepEqual(t.methods, ['password']);
    assert.equal(t.user.name, 'admin');
    assert.deepEqual(t.user.domain, { id: 'default', name: 'Default' });
    assert.equal(t.project.name, 'admin');
    assert.deepEqual(t.roles.map((x: any) => x.name), ['admin']);
    const identity = t.catalog.find((s: any) => s.type === 'identity');
    assert.deepEqual(identity.endpoints.map((e: any) => e.interface).sort(), ['admin', 'internal', 'public']);
    assert.equal(identity.endpoints[0].url, env.v3);
    assert.ok(Date.parse(t.expires_at) - Date.now() > 3500_000, 'an hour to live');
    const token = r.headers.get('x-subject-token')!;
    assert.ok(token.length < 400, 'short enough for a header');

    const v = await api('GET', '/auth/tokens', { subject: token });
    assert.equal(v.status, 200);
    assert.equal(v.body.token.project.id, t.project.id);
    assert.deepEqual(v.body.token.audit_ids, t.audit_ids);
    assert.equal((await api('HEAD', '/auth/tokens', { subject: token })).status, 200);
  });

  it('falls back to the default project, and gives an unscoped token without roles or catalog when there is none', async () => {
    const r = await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('admin', env.adminPassword) });
    assert.equal(r.body.token.project.name, 'admin', 'the admin user has default tenant admin');
    const d = await call(env.v3, 'POST', '/auth/tokens', { body: { auth: { identity: passwordAuth('admin', env.adminPassword).auth.identity, scope: { domain: { name: 'Default' } } } } });
    assert.equal(d.status, 201);
    assert.deepEqual(d.body.token.domain, { id: 'default', name: 'Default' });
    assert.ok(d.body.token.catalog.length > 0);
  });

  it('refuses a wrong password, an unknown user and a missing token with Keystone 401 bodies', async () => {
    const wrong = await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('admin', 'not-it', 'admin') });
    assert.equal(wrong.status, 401);
    assert.deepEqual(Object.keys(wrong.body.error).sort(), ['code', 'message', 'title']);
    assert.equal(wrong.body.error.code, 401);
    assert.equal((await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('nobody', 'x') })).status, 401);
    assert.equal((await call(env.v3, 'GET', '/projects')).status, 401);
    assert.equal((await call(env.v3, 'GET', '/projects', { token: 'gAAAAAB' + 'x'.repeat(100) })).status, 401);
    const bad = await call(env.v3, 'POST', '/auth/tokens', { body: { auth: {} } });
    assert.equal(bad.status, 400);
  });

  it('creates a project as a Tenant, and lists, shows and deletes it', async () => {
    const c = await api('POST', '/projects', { body: { project: { name: 'demo', description: 'a demo', domain_id: 'default' } } });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.match(c.body.project.id, /^[0-9a-f]{32}$/);
    const tenant = await env.client.get<Tenant>(TENANTS, undefined, 'demo');
    assert.equal(tenant!.spec.description, 'a demo');
    assert.equal((await api('GET', '/projects')).body.projects.filter((p: any) => p.name === 'demo').length, 1);
    assert.equal((await api('GET', `/projects/${c.body.project.id}`)).body.project.name, 'demo');
    assert.equal((await api('GET', '/projects?name=demo')).body.projects[0].id, c.body.project.id);
    const dup = await api('POST', '/projects', { body: { project: { name: 'demo' } } });
    assert.equal(dup.status, 409);
    for (const name of ['', '   ', 'x'.repeat(65), 42]) {
      const badName = await api('POST', '/projects', { body: { project: { name } } });
      assert.equal(badName.status, 400, `name ${JSON.stringify(name)}`);
      assert.match(badName.body.error.message, /project\.name/);
    }
    const patched = await api('PATCH', `/projects/${c.body.project.id}`, { body: { project: { enabled: false } } });
    assert.equal(patched.body.project.enabled, false);
    assert.equal((await api('DELETE', `/projects/${c.body.project.id}`)).status, 204);
    assert.equal((await api('GET', `/projects/${c.body.project.id}`)).status, 404);
    await eventually('tenant gone', async () => !(await env.client.get(TENANTS, undefined, 'demo')), 20_000);
  });

  it('ends the tokens of a project once its deletion begins, so nothing new is made in it while it goes', async () => {
    const project = (await api('POST', '/projects', { body: { project: { name: 'Going' } } })).body.project;
    const admin_ = (await api('GET', '/users?name=admin')).body.users[0];
    const role = (await api('GET', '/roles?name=admin')).body.roles[0];
    assert.equal((await api('PUT', `/projects/${project.id}/users/${admin_.id}/roles/${role.id}`)).status, 204);
    const token = (await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('admin', env.adminPassword, 'Going') })).headers.get('x-subject-token')!;
    assert.equal((await api('GET', '/auth/tokens', { subject: token })).status, 200);
    // Something else still holds the Tenant (a finalizer), so its deletion takes a while, as when it has much to remove.
    const tenant = (await env.client.list<Tenant>(TENANTS)).items.find((t) => t.status?.projectId === project.id)!;
    await env.client.patch(TENANTS, undefined, tenant.metadata.name, { metadata: { finalizers: [...(tenant.metadata.finalizers ?? []), 'test.stratus.io/hold'] } }, 'test', 'application/merge-patch+json');
    await env.client.delete(TENANTS, undefined, tenant.metadata.name);
    await eventually('the token refused', async () => (await api('GET', '/auth/tokens', { subject: token })).status === 404, 20_000);
    const held = (await env.client.get<Tenant>(TENANTS, undefined, tenant.metadata.name))!;
    assert.ok(held.metadata.deletionTimestamp, 'the project is still being deleted');
    await env.client.patch(TENANTS, undefined, tenant.metadata.name, { metadata: { finalizers: (held.metadata.finalizers ?? []).filter((f) => f !== 'test.stratus.io/hold') } }, 'test', 'application/merge-patch+json');
    // A Tenant deleted with kubectl waits for what is in its namespace to go first: the grant, here.
    for (const ra of (await env.client.list<RoleAssignment>(ROLE_ASSIGNMENTS, tenant.status!.namespace)).items) await env.client.delete(ROLE_ASSIGNMENTS, ra.metadata.namespace, ra.metadata.name);
    await eventually('tenant gone', async () => !(await env.client.get(TENANTS, undefined, tenant.metadata.name)), 20_000);
  });

  it("keeps every call that names what a member does not own from them: 404 or 403, for every route in the table", async () => {
    // A member of one project, and what others own: the admin's user, project and credentials, and the cloud's own objects.
    const { token: moToken } = await memberOfNew('Isolated', 'mo', 'mo-pw');
    const adminUser = (await api('GET', '/users?name=admin')).body.users[0];
    const adminProject = (await api('GET', '/projects?name=admin')).body.projects[0];
    const domain = (await api('POST', '/domains', { body: { domain: { name: 'Iso Domain' } } })).body.domain;
    const group = (await api('POST', '/groups', { body: { group: { name: 'iso-group' } } })).body.group;
    const prior = (await api('POST', '/roles', { body: { role: { name: 'iso-prior' } } })).body.role;
    const implied = (await api('POST', '/roles', { body: { role: { name: 'iso-implied' } } })).body.role;
    assert.equal((await api('PUT', `/roles/${prior.id}/implies/${implied.id}`)).status, 201);
    const service = (await api('POST', '/services', { body: { service: { name: 'iso', type: 'iso-type' } } })).body.service;
    const endpoint = (await api('POST', '/endpoints', { body: { endpoint: { service_id: service.id, interface: 'public', url: 'http://127.0.0.1:1/iso' } } })).body.endpoint;
    const policy = (await api('POST', '/policies', { body: { policy: { blob: '{}', type: 'application/json' } } })).body.policy;
    const egroup = (await api('POST', '/OS-EP-FILTER/endpoint_groups', { body: { endpoint_group: { name: 'iso-eg', filters: { interface: 'public' } } } })).body.endpoint_group;
    const credential = (await api('POST', '/credentials', { body: { credential: { user_id: adminUser.id, type: 'ec2', blob: JSON.stringify({ access: 'iso-a', secret: 'iso-s' }), project_id: adminProject.id } } })).body.credential;
    const ec2 = (await api('POST', `/users/${adminUser.id}/credentials/OS-EC2`, { body: { tenant_id: adminProject.id } })).body.credential;
    const appCred = (await api('POST', `/users/${adminUser.id}/application_credentials`, { body: { application_credential: { name: 'iso-ac', access_rules: [{ service: 'compute', method: 'GET', path: '/v2.1/servers' }] } } })).body.application_credential;
    for (const made of [domain, group, prior, service, endpoint, policy, egroup, credential, ec2, appCred]) assert.ok(made, 'made');

    const idFor = (path: string): string => {
      const table: Array<[RegExp, string]> = [
        [/^\/projects\//, adminProject.id], [/^\/users\/:id/, adminUser.id], [/^\/users\/:user\/access_rules\/:id/, appCred.access_rules[0].id],
        [/^\/users\/:user\/application_credentials\/:id/, appCred.id], [/^\/domains\//, domain.id], [/^\/groups\//, group.id],
        [/^\/roles\//, prior.id], [/^\/regions\//, 'RegionOne'], [/^\/services\//, service.id], [/^\/endpoints\//, endpoint.id],
        [/^\/policies\//, policy.id], [/^\/OS-EP-FILTER\/endpoint_groups\//, egroup.id], [/^\/credentials\//, credential.id],
      ];
      return table.find(([re]) => re.test(path))?.[1] ?? assert.fail(`no :id for ${path}`);
    };
    const value: Record<string, string> = { user: adminUser.id, actor: adminUser.id, project: adminProject.id, domain: domain.id, role: prior.id, prior: prior.id, implied: implied.id, tag: 't', access: ec2.access, group: 'ldap', option: 'url' };
    // Readable by any signed-in user in Keystone's own policy: regions.
    const everyones = new Set(['GET /regions/:id', 'HEAD /regions/:id']);
    const routes = env.api.routes().filter((r) => !r.public && r.path.includes(':') && !everyones.has(`${r.method} ${r.path}`));
    assert.ok(routes.length > 80, `${routes.length} routes with parameters`);
    const leaks: string[] = [];
    for (const r of routes) {
      const path = r.path.replace(/:([a-z_]+)/g, (_, n: string) => encodeURIComponent(n === 'id' ? idFor(r.path) : (value[n] ?? assert.fail(`no value for :${n} in ${r.path}`))));
      const res = await call(env.v3, r.method, path, { token: moToken, body: ['POST', 'PUT', 'PATCH'].includes(r.method) ? {} : undefined });
      if (res.status !== 404 && res.status !== 403) leaks.push(`${r.method} ${r.path} -> ${res.status} ${JSON.stringify(res.body)?.slice(0, 140)}`);
    }
    assert.deepEqual(leaks, [], 'every call answered 404 or 403');
    // The cloud-wide lists are an administrator's too, as in Keystone's policy; a member's own domain is theirs to read.
    for (const list of ['/roles', '/services', '/endpoints', '/domains']) assert.equal((await call(env.v3, 'GET', list, { token: moToken })).status, 403, list);
    assert.equal((await call(env.v3, 'GET', '/domains/default', { token: moToken })).status, 200);
    assert.equal((await api('GET', `/users/${adminUser.id}/application_credentials/${appCred.id}`)).status, 200, 'what they named is still there');
    for (const path of [`/credentials/${credential.id}`, `/users/${adminUser.id}/credentials/OS-EC2/${ec2.access}`, `/users/${adminUser.id}/application_credentials/${appCred.id}`, `/users/${adminUser.id}/access_rules/${appCred.access_rules[0].id}`])
      assert.equal((await api('DELETE', path)).status, 204, path);
  });

  it('takes free-text names: spaces, capitals and Unicode, each unique in its domain even under a race, and renames without moving the namespace', async () => {
    const made = await api('POST', '/projects', { body: { project: { name: 'Marketing Team' } } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.project.name, 'Marketing Team');
    const tenant = (await env.client.list<Tenant>(TENANTS)).items.find((t) => t.spec.displayName === 'Marketing Team')!;
    assert.match(tenant.metadata.name, /^marketing-team-[a-z0-9]{5}$/, 'a readable object name derived from the name');
    assert.equal((await api('GET', `/projects?name=${encodeURIComponent('Marketing Team')}`)).body.projects[0].id, made.body.project.id);

    // Twelve creates of one name at once: exactly one project is made.
    const racing = await Promise.all(Array.from({ length: 12 }, () => api('POST', '/projects', { body: { project: { name: 'Équipe 東京' } } })));
    assert.deepEqual(racing.map((r) => r.status).sort(), [201, ...Array(11).fill(409)]);
    assert.match(racing.find((r) => r.status === 409)!.body.error.message, /Duplicate entry found with name Équipe 東京/);
    assert.equal((await env.client.list<Tenant>(TENANTS)).items.filter((t) => t.spec.displayName === 'Équipe 東京').length, 1);

    // A user with a dotted, capitalised name signs in to the project by name.
    const alice = await api('POST', '/users', { body: { user: { name: 'Alice.Smith', password: 'alice-pw' } } });
    assert.equal(alice.status, 201, JSON.stringify(alice.body));
    assert.equal(alice.body.user.name, 'Alice.Smith');
    assert.equal((await api('POST', '/users', { body: { user: { name: 'Alice.Smith', password: 'x' } } })).status, 409);
    const member = (await api('GET', '/roles?name=member')).body.roles[0];
    assert.equal((await api('PUT', `/projects/${made.body.project.id}/users/${alice.body.user.id}/roles/${member.id}`)).status, 204);
    const signIn = await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('Alice.Smith', 'alice-pw', 'Marketing Team') });
    assert.equal(signIn.status, 201, JSON.stringify(signIn.body));
    assert.equal(signIn.body.token.project.name, 'Marketing Team');
    assert.equal(signIn.body.token.user.name, 'Alice.Smith');

    // A rename: the namespace stays, the old name is free again, the new one is taken.
    const renamed = await api('PATCH', `/projects/${made.body.project.id}`, { body: { project: { name: 'Sales' } } });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.equal(renamed.body.project.name, 'Sales');
    const after = (await env.client.get<Tenant>(TENANTS, undefined, tenant.metadata.name))!;
    assert.equal(after.metadata.uid, tenant.metadata.uid);
    assert.equal(after.spec.displayName, 'Sales');
    await eventually('the namespace is still there', async () => (await env.client.get<Tenant>(TENANTS, undefined, tenant.metadata.name))?.status?.namespace === tenant.metadata.name);
    assert.equal((await api('POST', '/projects', { body: { project: { name: 'Sales' } } })).status, 409);
    assert.equal((await api('PATCH', `/projects/${racing.find((r) => r.status === 201)!.body.project.id}`, { body: { project: { name: 'Sales' } } })).status, 409, 'a rename onto a taken name');
    const again = await api('POST', '/projects', { body: { project: { name: 'Marketing Team' } } });
    assert.equal(again.status, 201, 'the old name is free');
    const signedIn = await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('Alice.Smith', 'alice-pw', 'Sales') });
    assert.equal(signedIn.status, 201, 'the renamed project is found by its new name');
    const renamedUser = await api('PATCH', `/users/${alice.body.user.id}`, { body: { user: { name: 'Alice Jones' } } });
    assert.equal(renamedUser.body.user.name, 'Alice Jones');
    assert.equal((await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('Alice Jones', 'alice-pw', 'Sales') })).status, 201);
    assert.equal((await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('Alice.Smith', 'alice-pw', 'Sales') })).status, 401);
  });

  it('keeps project tags (filterable) and the extra attributes Keystone keeps, and regions with IDs their makers choose', async () => {
    const made = await api('POST', '/projects', { body: { project: { name: 'Tagged', tags: ['a', 'c', 'b'], cost_center: 'R&D' } } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.deepEqual(made.body.project.tags, ['a', 'c', 'b']);
    assert.equal(made.body.project.cost_center, 'R&D', 'an attribute Keystone does not know is kept and shown');
    const id = made.body.project.id;
    assert.equal((await api('PUT', `/projects/${id}/tags/d`)).status, 201);
    assert.deepEqual((await api('GET', `/projects/${id}/tags`)).body.tags, ['a', 'c', 'b', 'd']);
    assert.equal((await api('GET', `/projects/${id}/tags/zzz`)).status, 404);
    assert.equal((await api('DELETE', `/projects/${id}/tags/a`)).status, 204);
    const names = async (q: string) => (await api('GET', `/projects?${q}`)).body.projects.map((p: any) => p.name);
    assert.deepEqual(await names('tags=b,d'), ['Tagged']);
    assert.deepEqual(await names('tags=a,b'), []);
    assert.ok((await names('not-tags-any=d')).every((n: string) => n !== 'Tagged'));
    assert.equal((await api('PUT', `/projects/${id}/tags`, { body: { tags: ['x', 'x'] } })).status, 400, 'tags are unique');
    assert.equal((await api('PUT', `/projects/${id}/tags`, { body: { tags: ['a/b'] } })).status, 400);
    const disabled = await api('PATCH', `/projects/${id}`, { body: { project: { enabled: false, cost_center: 'Ops' } } });
    assert.equal(disabled.body.project.cost_center, 'Ops');
    assert.ok((await names('enabled=False')).includes('Tagged'), 'a boolean filter takes Python spelling');
    assert.equal((await api('DELETE', `/projects/${id}`)).status, 204);

    // Keystone's project tree: a child names its parent, in the parent's domain; a parent goes after its children.
    const parent = (await api('POST', '/projects', { body: { project: { name: 'Parent' } } })).body.project;
    const kid = await api('POST', '/projects', { body: { project: { name: 'Child', parent_id: parent.id } } });
    assert.equal(kid.status, 201, JSON.stringify(kid.body));
    assert.deepEqual([kid.body.project.parent_id, kid.body.project.domain_id], [parent.id, 'default']);
    assert.deepEqual((await api('GET', `/projects?parent_id=${parent.id}`)).body.projects.map((p: any) => p.name), ['Child']);
    assert.equal((await api('POST', '/projects', { body: { project: { name: 'Orphan', parent_id: 'f'.repeat(32) } } })).status, 404);
    assert.equal((await api('DELETE', `/projects/${parent.id}`)).status, 403, 'not a leaf');
    assert.equal((await api('DELETE', `/projects/${kid.body.project.id}`)).status, 204);
    await eventually('the child is gone', async () => !(await api('GET', '/projects')).body.projects.some((p: any) => p.name === 'Child'), 20_000);
    assert.equal((await api('DELETE', `/projects/${parent.id}`)).status, 204);

    const region = await api('PUT', '/regions/Europe-West', { body: { region: { description: 'EU' } } });
    assert.equal(region.status, 201, JSON.stringify(region.body));
    const child = await api('POST', '/regions', { body: { region: { id: 'Paris 1', parent_region_id: 'Europe-West' } } });
    assert.equal(child.body.region.parent_region_id, 'Europe-West');
    assert.equal((await api('PUT', '/regions/Europe-West', { body: { region: {} } })).status, 409, 'a region ID is unique');
    assert.equal((await api('POST', '/regions', { body: { region: { parent_region_id: 'Nowhere' } } })).status, 404);
    assert.deepEqual((await api('GET', '/regions?parent_region_id=Europe-West')).body.regions.map((r: any) => r.id), ['Paris 1']);
    assert.ok((await api('GET', '/regions')).body.regions.some((r: any) => r.id === 'RegionOne'), 'the region the endpoints name');
    assert.equal((await api('PATCH', `/regions/${encodeURIComponent('Paris 1')}`, { body: { region: { description: 'Paris' } } })).body.region.description, 'Paris');
    assert.equal((await api('DELETE', '/regions/Europe-West')).status, 204, 'a region goes with its children');
    assert.equal((await api('GET', `/regions/${encodeURIComponent('Paris 1')}`)).status, 404);
  });

  it("keeps a domain's own configuration as Keystone does: identity and ldap options only, the LDAP password kept apart and never shown, updates of a group or an option, keystone.conf's defaults", async () => {
    const domain = (await api('POST', '/domains', { body: { domain: { name: 'Directory Domain' } } })).body.domain;
    const path = `/domains/${domain.id}/config`;
    assert.equal((await api('GET', path)).status, 404, 'none yet');
    const refused = await api('PUT', path, { body: { config: { identity: { driver: 'ldap' }, ldap: { colour: 'blue' } } } });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.message, 'Invalid domain specific configuration: Option colour in group ldap is not supported for domain specific configurations.');
    assert.equal((await api('PUT', path, { body: { config: { assignment: { driver: 'sql' } } } })).status, 403, 'a group Keystone does not configure per domain');
    assert.equal((await api('GET', path)).status, 404, 'a refused config keeps nothing');

    const config = { identity: { driver: 'ldap' }, ldap: { url: 'ldap://directory.example:389/', user_tree_dn: 'ou=Users,dc=example,dc=org', password: 'bind-secret' } };
    const made = await api('PUT', path, { body: { config } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const shown = { identity: { driver: 'ldap' }, ldap: { url: 'ldap://directory.example:389/', user_tree_dn: 'ou=Users,dc=example,dc=org' } };
    assert.deepEqual(made.body.config, shown, 'the password is never shown');
    assert.deepEqual((await api('GET', path)).body.config, shown);
    assert.deepEqual((await api('GET', `${path}/ldap/url`)).body.config, { url: 'ldap://directory.example:389/' });
    assert.equal((await api('GET', `${path}/ldap/password`)).status, 404, 'not even by its own path');
    const domainObject = (await env.client.list<Domain>(DOMAINS)).items.find((d) => d.spec.displayName === 'Directory Domain')!;
    assert.deepEqual(domainObject.spec.config, shown, "the Domain's spec.config, as kubectl shows it");
    const secretName = `domain-config-${domainObject.metadata.name}`;
    const kept = await env.client.get<Secret>(SECRETS, SYSTEM_NAMESPACE, secretName);
    assert.equal(Buffer.from(kept!.data!['ldap.password'], 'base64').toString(), '"bind-secret"', 'the password kept in a Secret of the system namespace');

    const group = await api('PATCH', `${path}/identity`, { body: { config: { identity: { driver: 'sql', list_limit: 50 } } } });
    assert.deepEqual(group.body.config.identity, { driver: 'sql', list_limit: 50 }, 'a number stays a number');
    assert.equal((await api('PATCH', `${path}/identity`, { body: { config: { ldap: { url: 'x' } } } })).status, 403, "a group's update holds that group only");
    const option = await api('PATCH', `${path}/ldap/url`, { body: { config: { url: 'ldaps://other.example/' } } });
    assert.equal(option.body.config.ldap.url, 'ldaps://other.example/');
    assert.equal((await api('PATCH', `${path}/ldap/user_filter`, { body: { config: { user_filter: '(x=1)' } } })).status, 404, 'an option not there is not updated');
    assert.equal((await api('DELETE', `${path}/identity/driver`)).status, 204);
    assert.equal((await api('GET', `${path}/identity/driver`)).status, 404);
    assert.equal((await api('PUT', path, { body: { config: { identity: { driver: 'sql' } } } })).status, 200, 'a second create replaces the first: 200');
    assert.deepEqual((await api('GET', path)).body.config, { identity: { driver: 'sql' } }, 'and keeps nothing of it');
    assert.equal(await env.client.get(SECRETS, SYSTEM_NAMESPACE, secretName), undefined, 'nor its password');
    assert.equal((await api('DELETE', `${path}/ldap`)).status, 404);
    assert.equal((await api('DELETE', path)).status, 204);
    assert.equal((await api('GET', path)).status, 404);

    const defaults = (await api('GET', '/domains/config/default')).body.config;
    assert.deepEqual([defaults.identity.driver, defaults.ldap.url, defaults.ldap.password], ['sql', 'ldap://localhost', undefined]);
    assert.deepEqual((await api('GET', '/domains/config/ldap/page_size/default')).body.config, { page_size: 0 });
    assert.equal((await api('GET', '/domains/config/ldap/password/default')).status, 403, "a sensitive option's default is not read");
    assert.equal((await api('PUT', '/domains/default/config', { body: { config: { identity: { driver: 'sql' } } } })).status, 403, 'the built-in Default domain keeps none');

    // The password's Secret goes with its domain.
    assert.equal((await api('PUT', path, { body: { config: { ldap: { password: 'again' } } } })).status, 201);
    assert.ok(await env.client.get(SECRETS, SYSTEM_NAMESPACE, secretName));
    await api('PATCH', `/domains/${domain.id}`, { body: { domain: { enabled: false } } });
    assert.equal((await api('DELETE', `/domains/${domain.id}`)).status, 204);
    await eventually('the config Secret collected with its domain', async () => !(await env.client.get(SECRETS, SYSTEM_NAMESPACE, secretName)), 30_000);
  });

  it('keeps domains: names unique within each, sign-in by domain, disabled domains locked, deleted with their projects and users', async () => {
    const made = await api('POST', '/domains', { body: { domain: { name: 'Engineering', description: 'R&D' } } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const domainId = made.body.domain.id;
    assert.match(domainId, /^[0-9a-f]{32}$/);
    assert.equal((await api('POST', '/domains', { body: { domain: { name: 'Engineering' } } })).status, 409);
    assert.deepEqual((await api('GET', '/domains?name=Default')).body.domains.map((d: any) => d.id), ['default']);
    assert.equal((await api('PATCH', '/domains/default', { body: { domain: { enabled: false } } })).status, 403, 'the Default domain is built in');

    // The same project and user names in two domains; the domain tells them apart.
    const p1 = (await api('POST', '/projects', { body: { project: { name: 'Platform' } } })).body.project;
    const p2 = await api('POST', '/projects', { body: { project: { name: 'Platform', domain_id: domainId } } });
    assert.equal(p2.status, 201, JSON.stringify(p2.body));
    assert.deepEqual([p2.body.project.domain_id, p2.body.project.parent_id], [domainId, domainId]);
    assert.equal((await api('POST', '/projects', { body: { project: { name: 'Platform', domain_id: domainId } } })).status, 409);
    assert.equal((await api('POST', '/projects', { body: { project: { name: 'x', domain_id: 'nope' } } })).status, 404);
    assert.deepEqual((await api('GET', `/projects?domain_id=${domainId}`)).body.projects.map((p: any) => p.id), [p2.body.project.id]);
    const dana = await api('POST', '/users', { body: { user: { name: 'dana', password: 'dana-pw', domain_id: domainId } } });
    assert.equal(dana.body.user.domain_id, domainId);
    const member = (await api('GET', '/roles?name=member')).body.roles[0];
    assert.equal((await api('PUT', `/projects/${p2.body.project.id}/users/${dana.body.user.id}/roles/${member.id}`)).status, 204);
    const signIn = (domain: object) => call(env.v3, 'POST', '/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { name: 'dana', domain, password: 'dana-pw' } } }, scope: { project: { name: 'Platform', domain } } } } });
    const token = await signIn({ name: 'Engineering' });
    assert.equal(token.status, 201, JSON.stringify(token.body));
    assert.deepEqual([token.body.token.project.id, token.body.token.user.domain.name, token.body.token.project.domain.id], [p2.body.project.id, 'Engineering', domainId]);
    assert.equal((await signIn({ id: 'default' })).status, 401, 'no dana in the Default domain');
    assert.notEqual(p1.id, p2.body.project.id);

    assert.equal((await api('DELETE', `/domains/${domainId}`)).status, 403, 'an enabled domain is not deleted');
    assert.equal((await api('PATCH', `/domains/${domainId}`, { body: { domain: { enabled: false } } })).body.domain.enabled, false);
    assert.equal((await signIn({ id: domainId })).status, 401, 'nobody signs in to a disabled domain');
    assert.equal((await api('DELETE', `/domains/${domainId}`)).status, 204);
    assert.equal((await api('GET', `/domains/${domainId}`)).status, 404);
    assert.equal((await api('GET', `/users/${dana.body.user.id}`)).status, 404, "the domain's users go with it");
    await eventually("the domain's projects go with it", async () => (await api('GET', `/projects/${p2.body.project.id}`)).status === 404, 20_000);
  });

  it('makes, lists, changes and deletes a project acting as a domain, which is that domain, as Keystone keeps domains', async () => {
    const made = await api('POST', '/projects', { body: { project: { name: 'Acting Domain', description: 'both', is_domain: true, domain_id: null } } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const p = made.body.project;
    assert.deepEqual([p.is_domain, p.domain_id, p.parent_id, p.name, p.description], [true, null, null, 'Acting Domain', 'both']);
    assert.equal((await api('GET', `/domains/${p.id}`)).body.domain?.name, 'Acting Domain', 'the domains API shows it under the same ID');
    const acting = (await api('GET', '/projects?is_domain=true')).body.projects.map((x: any) => x.id);
    assert.ok(acting.includes(p.id) && acting.includes('default'), 'listed with is_domain=true, with the Default domain');
    assert.ok(!(await api('GET', '/projects')).body.projects.some((x: any) => x.id === p.id), 'and only then');
    assert.equal((await api('GET', `/projects/${p.id}`)).body.project.is_domain, true);
    // Projects go in it as in any domain.
    const inside = await api('POST', '/projects', { body: { project: { name: 'Inside', domain_id: p.id } } });
    assert.deepEqual([inside.status, inside.body.project?.domain_id], [201, p.id]);
    const refused = await api('POST', '/projects', { body: { project: { name: 'Child Domain', is_domain: true, parent_id: inside.body.project.id } } });
    assert.equal(refused.status, 400, 'only a root acts as a domain');
    assert.equal((await api('DELETE', `/projects/${p.id}`)).status, 403, 'enabled, it is not deleted');
    assert.equal((await api('PATCH', `/projects/${p.id}`, { body: { project: { enabled: false } } })).body.project.enabled, false);
    assert.equal((await api('GET', `/domains/${p.id}`)).body.domain.enabled, false, 'the same domain disabled');
    assert.equal((await api('DELETE', `/projects/${p.id}`)).status, 204);
    assert.equal((await api('GET', `/domains/${p.id}`)).status, 404);
    await eventually("the domain's projects go with it", async () => (await api('GET', `/projects/${inside.body.project.id}`)).status === 404, 20_000);
    assert.equal((await api('PATCH', '/projects/default', { body: { project: { enabled: false } } })).status, 403, 'the Default domain is built in');
  });

  it('keeps groups: a grant to a group is a grant to each member, and goes with the group', async () => {
    const project = (await api('POST', '/projects', { body: { project: { name: 'Ops Project' } } })).body.project;
    const erin = (await api('POST', '/users', { body: { user: { name: 'erin', password: 'erin-pw' } } })).body.user;
    const made = await api('POST', '/groups', { body: { group: { name: 'Ops Team', description: 'on call', project_id: project.id } } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const group = made.body.group;
    assert.equal(group.project_id, project.id, 'an extra attribute, kept');
    assert.equal((await api('POST', '/groups', { body: { group: { name: 'Ops Team' } } })).status, 409);
    assert.equal((await api('PUT', `/groups/${group.id}/users/${erin.id}`)).status, 204);
    assert.equal((await api('HEAD', `/groups/${group.id}/users/${erin.id}`)).status, 204);
    assert.deepEqual((await api('GET', `/groups/${group.id}/users`)).body.users.map((u: any) => u.name), ['erin']);
    assert.deepEqual((await api('GET', `/users/${erin.id}/groups`)).body.groups.map((g: any) => g.name), ['Ops Team']);
    const signIn = () => call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('erin', 'erin-pw', 'Ops Project') });
    assert.equal((await signIn()).status, 401, 'no role yet');
    const member = (await api('GET', '/roles?name=member')).body.roles[0];
    assert.equal((await api('PUT', `/projects/${project.id}/groups/${group.id}/roles/${member.id}`)).status, 204);
    const token = await signIn();
    assert.equal(token.status, 201, 'the group grant makes erin a member');
    assert.deepEqual(token.body.token.roles.map((r: any) => r.name), ['member']);
    const listed = (await api('GET', `/role_assignments?group.id=${group.id}&include_names`)).body.role_assignments;
    assert.deepEqual(listed.map((a: any) => [a.group.name, a.role.name, a.scope.project.name]), [['Ops Team', 'member', 'Ops Project']]);
    assert.equal((await api('DELETE', `/groups/${group.id}`)).status, 204);
    await eventually('the grant went with the group', async () => (await signIn()).status === 401);
  });

  it('keeps credentials and EC2 credentials for their user, as Secrets that go with the user', async () => {
    const frank = (await api('POST', '/users', { body: { user: { name: 'frank', password: 'frank-pw' } } })).body.user;
    const project = (await api('POST', '/projects', { body: { project: { name: 'Frank Project' } } })).body.project;
    const made = await api('POST', '/credentials', { body: { credential: { user_id: frank.id, type: 'cert', blob: 'BEGIN CERT' } } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.deepEqual([made.body.credential.type, made.body.credential.blob, made.body.credential.user_id], ['cert', 'BEGIN CERT', frank.id]);
    const updated = await api('PATCH', `/credentials/${made.body.credential.id}`, { body: { credential: { blob: 'NEW CERT' } } });
    assert.equal(updated.body.credential.blob, 'NEW CERT');
    assert.deepEqual((await api('GET', `/credentials?user_id=${frank.id}`)).body.credentials.map((c: any) => c.blob), ['NEW CERT']);
    const ec2 = await api('POST', `/users/${frank.id}/credentials/OS-EC2`, { body: { tenant_id: project.id } });
    assert.equal(ec2.status, 201, JSON.stringify(ec2.body));
    assert.match(ec2.body.credential.access, /^[0-9a-f]{32}$/);
    assert.equal(ec2.body.credential.tenant_id, project.id);
    assert.equal((await api('GET', `/users/${frank.id}/credentials/OS-EC2/${ec2.body.credential.access}`)).body.credential.secret, ec2.body.credential.secret);
    assert.equal((await api('GET', `/users/${frank.id}/credentials/OS-EC2`)).body.credentials.length, 1);
    const stored = (await env.client.list<Secret>(SECRETS, SYSTEM_NAMESPACE, 'identity.stratus.io/api-credential-of')).items;
    assert.equal(stored.length, 2, 'kept as Secrets, not in a resource anyone may read');
    assert.equal((await api('DELETE', `/users/${frank.id}/credentials/OS-EC2/${ec2.body.credential.access}`)).status, 204);
    assert.equal((await api('DELETE', `/users/${frank.id}`)).status, 204);
    await eventually("the user's credentials go with it", async () => (await env.client.list<Secret>(SECRETS, SYSTEM_NAMESPACE, 'identity.stratus.io/api-credential-of')).items.length === 0);
  });

  it('makes the region an endpoint names the old way (region), as Keystone does', async () => {
    const svc = (await api('POST', '/services', { body: { service: { type: 'object-store', name: 'Swift Store' } } })).body.service;
    assert.equal(svc.name, 'Swift Store', 'a service name is free text');
    const ep = await api('POST', '/endpoints', { body: { endpoint: { service_id: svc.id, interface: 'public', url: 'http://127.0.0.1:8080/v1', region: 'tempest-region-1' } } });
    assert.equal(ep.status, 201, JSON.stringify(ep.body));
    assert.equal((await api('GET', '/regions/tempest-region-1')).status, 200);
    assert.equal((await api('DELETE', '/regions/tempest-region-1')).status, 403, 'an endpoint still uses it');
    assert.equal((await api('DELETE', `/endpoints/${ep.body.endpoint.id}`)).status, 204);
    assert.equal((await api('DELETE', '/regions/tempest-region-1')).status, 204);
    assert.equal((await api('DELETE', `/services/${svc.id}`)).status, 204);
  });

  it('makes application credentials that sign in to their project with their roles only, and end with their deletion', async () => {
    const project = (await api('POST', '/projects', { body: { project: { name: 'Automation' } } })).body.project;
    const gina = (await api('POST', '/users', { body: { user: { name: 'gina', password: 'gina-pw' } } })).body.user;
    const roles = (await api('GET', '/roles')).body.roles;
    const role = (n: string) => roles.find((r: any) => r.name === n);
    for (const r of ['member', 'reader']) assert.equal((await api('PUT', `/projects/${project.id}/users/${gina.id}/roles/${role(r).id}`)).status, 204);
    const ginaToken = (await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('gina', 'gina-pw', 'Automation') })).headers.get('x-subject-token')!;
    const made = await call(env.v3, 'POST', `/users/${gina.id}/application_credentials`, { token: ginaToken, body: { application_credential: { name: 'ci', roles: [{ name: 'reader' }] } } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const cred = made.body.application_credential;
    assert.ok(cred.secret.length >= 32, 'a secret made for it, shown once');
    assert.deepEqual([cred.project_id, cred.unrestricted, cred.roles.map((r: any) => r.name)], [project.id, false, ['reader']]);
    assert.equal((await call(env.v3, 'POST', `/users/${gina.id}/application_credentials`, { token: ginaToken, body: { application_credential: { name: 'ci' } } })).status, 409);
    assert.equal((await call(env.v3, 'POST', `/users/${gina.id}/application_credentials`, { token: ginaToken, body: { application_credential: { name: 'x', roles: [{ name: 'admin' }] } } })).status, 400, 'only roles the token holds');
    assert.equal((await call(env.v3, 'GET', `/users/${gina.id}/application_credentials/${cred.id}`, { token: ginaToken })).body.application_credential.secret, undefined);

    const byId = { auth: { identity: { methods: ['application_credential'], application_credential: { id: cred.id, secret: cred.secret } } } };
    const signedIn = await call(env.v3, 'POST', '/auth/tokens', { body: byId });
    assert.equal(signedIn.status, 201, JSON.stringify(signedIn.body));
    const t = signedIn.body.token;
    assert.deepEqual([t.methods, t.project.id, t.roles.map((r: any) => r.name), t.application_credential.id, t.application_credential.restricted], [['application_credential'], project.id, ['reader'], cred.id, true]);
    const byName = { auth: { identity: { methods: ['application_credential'], application_credential: { name: 'ci', secret: cred.secret, user: { name: 'gina', domain: { id: 'default' } } } } } };
    assert.equal((await call(env.v3, 'POST', '/auth/tokens', { body: byName })).status, 201);
    assert.equal((await call(env.v3, 'POST', '/auth/tokens', { body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: cred.id, secret: 'wrong' } } } } })).status, 401);
    const credToken = signedIn.headers.get('x-subject-token')!;
    assert.equal((await call(env.v3, 'POST', `/users/${gina.id}/application_credentials`, { token: credToken, body: { application_credential: { name: 'child' } } })).status, 403, 'a restricted one makes no others');

    assert.equal((await call(env.v3, 'DELETE', `/users/${gina.id}/application_credentials/${cred.id}`, { token: ginaToken })).status, 204);
    assert.equal((await api('GET', '/auth/tokens', { subject: credToken })).status, 404, 'its tokens end with it');
    assert.equal((await call(env.v3, 'POST', '/auth/tokens', { body: byId })).status, 401);
  });

  it('binds an application credential to access rules: kept per user, enforced by Keystone, and vouched for only to services that enforce them', async () => {
    const { user: rita, token: ritaToken } = await memberOfNew('Rules', 'rita', 'rita-pw');
    const as = (token: string) => (method: string, path: string, body?: unknown) => call(env.v3, method, path, { token, body });
    const rita_ = as(ritaToken);

    const bad = await rita_('POST', `/users/${rita.id}/application_credentials`, { application_credential: { name: 'bad', access_rules: [{ service: 'compute', method: 'FETCH', path: '/v2.1/servers' }] } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /access_rules.*method/);
    assert.equal((await rita_('POST', `/users/${rita.id}/application_credentials`, { application_credential: { name: 'bad', access_rules: [{ id: 'nope' }] } })).status, 404, 'a rule named by an ID the user does not have');
    assert.equal((await rita_('GET', `/users/${rita.id}/access_rules`)).body.access_rules.length, 0, 'refused credentials leave no rules behind');

    const rules = [
      { service: 'compute', method: 'GET', path: '/v2.1/servers/*/ips' },
      { service: 'identity', method: 'GET', path: '/v3/users/{user_id}/access_rules' },
    ];
    const made = await rita_('POST', `/users/${rita.id}/application_credentials`, { application_credential: { name: 'monitor', access_rules: rules } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const cred = made.body.application_credential;
    assert.deepEqual(cred.access_rules.map(({ id: _, ...r }: any) => r), rules);
    const listed = (await rita_('GET', `/users/${rita.id}/access_rules`)).body.access_rules;
    assert.deepEqual(listed.map((r: any) => r.id).sort(), cred.access_rules.map((r: any) => r.id).sort());
    assert.equal((await rita_('GET', `/users/${rita.id}/access_rules/${listed[0].id}`)).body.access_rule.id, listed[0].id);
    assert.equal((await rita_('GET', `/users/${rita.id}/access_rules?service=compute`)).body.access_rules.length, 1);
    // The same rule again is the same rule; named by ID, an existing one is reused.
    const again = (await rita_('POST', `/users/${rita.id}/application_credentials`, { application_credential: { name: 'again', access_rules: [rules[0], { id: cred.access_rules[1].id }] } })).body.application_credential;
    assert.deepEqual(again.access_rules.map((r: any) => r.id), cred.access_rules.map((r: any) => r.id));
    assert.equal((await rita_('GET', `/users/${rita.id}/access_rules`)).body.access_rules.length, 2);

    const signedIn = await call(env.v3, 'POST', '/auth/tokens', { body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: cred.id, secret: cred.secret } } } } });
    assert.equal(signedIn.status, 201);
    assert.deepEqual(signedIn.body.token.application_credential.access_rules, cred.access_rules);
    const bound = signedIn.headers.get('x-subject-token')!;
    // At Keystone: the identity rule is honoured, anything else is not.
    assert.equal((await as(bound)('GET', `/users/${rita.id}/access_rules`)).status, 200);
    assert.equal((await as(bound)('GET', `/users/${rita.id}/application_credentials`)).status, 401);
    assert.equal((await as(bound)('GET', '/projects')).status, 401);
    assert.equal((await call(env.v3, 'POST', '/auth/tokens', { body: { auth: { identity: { methods: ['token'], token: { id: bound } } } } })).status, 403, 'not exchanged for an unbound token');
    // A service validating it must say it enforces access rules, or Keystone does not vouch for it.
    assert.equal((await api('GET', '/auth/tokens', { subject: bound })).status, 404);
    const vouched = await call(env.v3, 'GET', '/auth/tokens', { token: admin, subject: bound, headers: { 'OpenStack-Identity-Access-Rules': '1.0' } });
    assert.equal(vouched.status, 200);
    assert.equal(vouched.body.token.application_credential.access_rules.length, 2);
    assert.equal((await call(env.v3, 'GET', '/auth/tokens', { token: bound, subject: bound, headers: { 'OpenStack-Identity-Access-Rules': '1.0' } })).status, 200, 'it may validate itself, as services here check it');

    // A rule in use cannot go; once no credential uses it, it can, and the user still has it until then.
    const ruleId = cred.access_rules[0].id;
    const inUse = await rita_('DELETE', `/users/${rita.id}/access_rules/${ruleId}`);
    assert.equal(inUse.status, 403);
    for (const c of [cred, again]) assert.equal((await rita_('DELETE', `/users/${rita.id}/application_credentials/${c.id}`)).status, 204);
    assert.equal((await rita_('GET', `/users/${rita.id}/access_rules`)).body.access_rules.length, 2, 'rules outlive their credentials');
    assert.equal((await rita_('DELETE', `/users/${rita.id}/access_rules/${ruleId}`)).status, 204);
    assert.equal((await rita_('GET', `/users/${rita.id}/access_rules/${ruleId}`)).status, 404);
    assert.equal((await rita_('GET', `/users/${rita.id}/access_rules`)).body.access_rules.length, 1);
  });

  it('grants roles on any domain, to users and groups, and scopes tokens to the domains a user holds a role on', async () => {
    const domain = (await api('POST', '/domains', { body: { domain: { name: 'Ops Domain' } } })).body.domain;
    const ivan = (await api('POST', '/users', { body: { user: { name: 'ivan', password: 'ivan-pw' } } })).body.user;
    const group = (await api('POST', '/groups', { body: { group: { name: 'Domain Admins' } } })).body.group;
    const admin = (await api('GET', '/roles?name=admin')).body.roles[0];
    const reader = (await api('GET', '/roles?name=reader')).body.roles[0];
    assert.equal((await api('PUT', `/domains/${domain.id}/users/${ivan.id}/roles/${reader.id}`)).status, 204);
    assert.equal((await api('HEAD', `/domains/${domain.id}/users/${ivan.id}/roles/${reader.id}`)).status, 204);
    assert.deepEqual((await api('GET', `/domains/${domain.id}/users/${ivan.id}/roles`)).body.roles.map((r: any) => r.name), ['reader']);
    assert.equal((await api('PUT', `/domains/${domain.id}/groups/${group.id}/roles/${admin.id}`)).status, 204);
    assert.equal((await api('PUT', `/groups/${group.id}/users/${ivan.id}`)).status, 204);
    const ivanToken = (await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('ivan', 'ivan-pw') })).headers.get('x-subject-token')!;
    assert.deepEqual((await call(env.v3, 'GET', '/auth/domains', { token: ivanToken })).body.domains.map((d: any) => d.name), ['Ops Domain']);
    const scoped = await call(env.v3, 'POST', '/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { name: 'ivan', domain: { id: 'default' }, password: 'ivan-pw' } } }, scope: { domain: { id: domain.id } } } } });
    assert.equal(scoped.status, 201, JSON.stringify(scoped.body));
    assert.deepEqual([scoped.body.token.domain.name, scoped.body.token.roles.map((r: any) => r.name).sort()], ['Ops Domain', ['admin', 'reader']], 'its own and its group\'s');
    const listed = (await api('GET', `/role_assignments?scope.domain.id=${domain.id}&include_names`)).body.role_assignments;
    assert.deepEqual(listed.map((a: any) => `${a.user?.name ?? a.group.name}:${a.role.name}`).sort(), ['Domain Admins:admin', 'ivan:reader']);
    assert.equal((await api('DELETE', `/domains/${domain.id}/users/${ivan.id}/roles/${reader.id}`)).status, 204);
    assert.equal((await api('DELETE', `/domains/${domain.id}/groups/${group.id}/roles/${admin.id}`)).status, 204);
    assert.equal((await api('GET', '/auth/tokens', { subject: scoped.headers.get('x-subject-token')! })).status, 404, 'a token whose roles are gone is gone');
  });

  it('keeps policy blobs for services, as Keystone does, for admins only', async () => {
    const made = await api('POST', '/policies', { body: { policy: { type: 'application/json', blob: '{"compute:start": ""}' } } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const id = made.body.policy.id;
    assert.equal((await api('PATCH', `/policies/${id}`, { body: { policy: { type: 'application/yaml' } } })).body.policy.type, 'application/yaml');
    assert.deepEqual((await api('GET', `/policies/${id}`)).body.policy.blob, '{"compute:start": ""}');
    assert.ok((await api('GET', '/policies?type=application/yaml')).body.policies.some((p: any) => p.id === id));
    assert.equal((await api('POST', '/policies', { body: { policy: { type: 'x' } } })).status, 400);
    assert.equal((await api('DELETE', `/policies/${id}`)).status, 204);
    assert.equal((await api('GET', `/policies/${id}`)).status, 404);
  });

  it("filters a project's catalog by its endpoint groups (OS-EP-FILTER)", async () => {
    const identity = (await api('GET', '/services?type=identity')).body.services[0];
    const made = await api('POST', '/OS-EP-FILTER/endpoint_groups', { body: { endpoint_group: { name: 'Identity Only', description: 'just keystone', filters: { service_id: identity.id, interface: 'public' } } } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const group = made.body.endpoint_group;
    assert.deepEqual(group.filters, { interface: 'public', service_id: identity.id });
    assert.equal((await api('HEAD', `/OS-EP-FILTER/endpoint_groups/${group.id}`)).status, 200);
    assert.deepEqual((await api('GET', `/OS-EP-FILTER/endpoint_groups/${group.id}/endpoints`)).body.endpoints.map((e: any) => e.interface), ['public']);
    assert.equal((await api('POST', '/OS-EP-FILTER/endpoint_groups', { body: { endpoint_group: { name: 'bad', filters: { colour: 'red' } } } })).status, 400);

    const project = (await api('POST', '/projects', { body: { project: { name: 'Filtered' } } })).body.project;
    const member = (await api('GET', '/roles?name=member')).body.roles[0];
    const kim = (await api('POST', '/users', { body: { user: { name: 'kim', password: 'kim-pw' } } })).body.user;
    await api('PUT', `/projects/${project.id}/users/${kim.id}/roles/${member.id}`);
    const catalog = async () => (await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('kim', 'kim-pw', 'Filtered') })).body.token.catalog;
    assert.ok((await catalog()).find((s: any) => s.type === 'identity').endpoints.length === 3, 'every endpoint before any association');
    assert.equal((await api('PUT', `/OS-EP-FILTER/endpoint_groups/${group.id}/projects/${project.id}`)).status, 204);
    assert.deepEqual((await api('GET', `/OS-EP-FILTER/projects/${project.id}/endpoint_groups`)).body.endpoint_groups.map((g: any) => g.id), [group.id]);
    const filtered = (await catalog()).flatMap((s: any) => s.endpoints.map((e: any) => `${s.type}:${e.interface}`));
    assert.deepEqual(filtered, ['identity:public'], "the project's catalog is its groups' endpoints");
    assert.equal((await api('PATCH', `/OS-EP-FILTER/endpoint_groups/${group.id}`, { body: { endpoint_group: { filters: { interface: 'admin' } } } })).body.endpoint_group.filters.interface, 'admin');
    assert.equal((await api('DELETE', `/OS-EP-FILTER/endpoint_groups/${group.id}/projects/${project.id}`)).status, 204);
    assert.equal((await api('DELETE', `/OS-EP-FILTER/endpoint_groups/${group.id}`)).status, 204);
  });

  it('inherits grants (OS-INHERIT): from a domain to its projects, from a project to the projects below it', async () => {
    const domain = (await api('POST', '/domains', { body: { domain: { name: 'Inherit Domain' } } })).body.domain;
    const top = (await api('POST', '/projects', { body: { project: { name: 'Top', domain_id: domain.id } } })).body.project;
    const leaf = (await api('POST', '/projects', { body: { project: { name: 'Leaf', domain_id: domain.id, parent_id: top.id } } })).body.project;
    const lee = (await api('POST', '/users', { body: { user: { name: 'lee', password: 'lee-pw', domain_id: domain.id } } })).body.user;
    const reader = (await api('GET', '/roles?name=reader')).body.roles[0];
    const member = (await api('GET', '/roles?name=member')).body.roles[0];
    const effective = async (project: string) => (await api('GET', `/role_assignments?effective&user.id=${lee.id}&scope.project.id=${project}&include_names`)).body.role_assignments.map((a: any) => a.role.name).sort();

    assert.equal((await api('PUT', `/OS-INHERIT/domains/${domain.id}/users/${lee.id}/roles/${reader.id}/inherited_to_projects`)).status, 204);
    assert.equal((await api('HEAD', `/OS-INHERIT/domains/${domain.id}/users/${lee.id}/roles/${reader.id}/inherited_to_projects`)).status, 204);
    assert.deepEqual((await api('GET', `/OS-INHERIT/domains/${domain.id}/users/${lee.id}/roles/inherited_to_projects`)).body.roles.map((r: any) => r.name), ['reader']);
    assert.deepEqual([await effective(top.id), await effective(leaf.id)], [['reader'], ['reader']], 'every project of the domain');
    assert.equal((await api('GET', `/domains/${domain.id}/users/${lee.id}/roles`)).body.roles.length, 0, 'not a role on the domain itself');
    const listed = (await api('GET', `/role_assignments?user.id=${lee.id}`)).body.role_assignments;
    assert.deepEqual(listed.map((a: any) => a.scope['OS-INHERIT:inherited_to']), ['projects']);
    assert.equal((await api('DELETE', `/OS-INHERIT/domains/${domain.id}/users/${lee.id}/roles/${reader.id}/inherited_to_projects`)).status, 204);
    assert.deepEqual(await effective(leaf.id), []);

    assert.equal((await api('PUT', `/OS-INHERIT/projects/${top.id}/users/${lee.id}/roles/${member.id}/inherited_to_projects`)).status, 204);
    assert.deepEqual([await effective(top.id), await effective(leaf.id)], [[], ['member']], 'the projects below, not the project itself');
    const token = await call(env.v3, 'POST', '/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { name: 'lee', domain: { id: domain.id }, password: 'lee-pw' } } }, scope: { project: { id: leaf.id } } } } });
    assert.deepEqual(token.body.token.roles.map((r: any) => r.name), ['member'], 'the inherited role is in the token');
    const ra = (await env.client.list<RoleAssignment>(ROLE_ASSIGNMENTS, undefined)).items.find((a) => a.spec.inherited && a.spec.role === 'member')!;
    await eventually('the inherited assignment is Ready without a binding on its own tenant', async () => (await env.client.get<RoleAssignment>(ROLE_ASSIGNMENTS, ra.metadata.namespace, ra.metadata.name))?.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'Inherited');
    assert.equal((await api('DELETE', `/OS-INHERIT/projects/${top.id}/users/${lee.id}/roles/${member.id}/inherited_to_projects`)).status, 204);
    assert.deepEqual(await effective(leaf.id), []);
  });

  it('grants roles on the system, to users and groups, and scopes tokens to it', async () => {
    const mia = (await api('POST', '/users', { body: { user: { name: 'mia', password: 'mia-pw' } } })).body.user;
    const reader = (await api('GET', '/roles?name=reader')).body.roles[0];
    assert.equal((await api('PUT', `/system/users/${mia.id}/roles/${reader.id}`)).status, 204);
    assert.equal((await api('HEAD', `/system/users/${mia.id}/roles/${reader.id}`)).status, 204);
    assert.deepEqual((await api('GET', `/system/users/${mia.id}/roles`)).body.roles.map((r: any) => r.name), ['reader']);
    const token = await call(env.v3, 'POST', '/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { name: 'mia', domain: { id: 'default' }, password: 'mia-pw' } } }, scope: { system: { all: true } } } } });
    assert.equal(token.status, 201, JSON.stringify(token.body));
    assert.deepEqual([token.body.token.system, token.body.token.roles.map((r: any) => r.name)], [{ all: true }, ['reader']]);
    assert.ok((await api('GET', `/role_assignments?scope.system=all&user.id=${mia.id}`)).body.role_assignments.some((a: any) => a.scope.system?.all));
    assert.equal((await api('DELETE', `/system/users/${mia.id}/roles/${reader.id}`)).status, 204);
    assert.equal((await api('GET', '/auth/tokens', { subject: token.headers.get('x-subject-token')! })).status, 404, 'its token ends with the grant');
  });

  it("keeps implied roles: holding a role means holding what it implies, in tokens and effective assignment lists", async () => {
    const deployer = (await api('POST', '/roles', { body: { role: { name: 'Deployer' } } })).body.role;
    const reader = (await api('GET', '/roles?name=reader')).body.roles[0];
    const made = await api('PUT', `/roles/${deployer.id}/implies/${reader.id}`);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.deepEqual([made.body.role_inference.prior_role.name, made.body.role_inference.implies.name], ['Deployer', 'reader']);
    assert.equal((await api('HEAD', `/roles/${deployer.id}/implies/${reader.id}`)).status, 204);
    assert.equal((await api('PUT', `/roles/${reader.id}/implies/${deployer.id}`)).status, 403, 'no loops');
    assert.equal((await api('PUT', `/roles/${deployer.id}/implies/${deployer.id}`)).status, 403);
    assert.ok((await api('GET', '/role_inferences')).body.role_inferences.some((r: any) => r.prior_role.id === deployer.id && r.implies[0].id === reader.id));

    const project = (await api('POST', '/projects', { body: { project: { name: 'Deployments' } } })).body.project;
    const hank = (await api('POST', '/users', { body: { user: { name: 'hank', password: 'hank-pw' } } })).body.user;
    assert.equal((await api('PUT', `/projects/${project.id}/users/${hank.id}/roles/${deployer.id}`)).status, 204);
    const token = await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('hank', 'hank-pw', 'Deployments') });
    assert.deepEqual(token.body.token.roles.map((r: any) => r.name).sort(), ['Deployer', 'reader']);
    const listed = async (q: string) => (await api('GET', `/role_assignments?user.id=${hank.id}&scope.project.id=${project.id}${q}`)).body.role_assignments.map((a: any) => a.role.id).sort();
    assert.deepEqual(await listed(''), [deployer.id], 'the grant as made');
    assert.deepEqual(await listed('&effective'), [deployer.id, reader.id].sort(), 'and what it means');
    assert.equal((await api('DELETE', `/roles/${deployer.id}/implies/${reader.id}`)).status, 204);
    assert.deepEqual(await listed('&effective'), [deployer.id]);

    // A domain-specific role: named within its domain, never in a token itself, only what it implies.
    const domain = (await api('POST', '/domains', { body: { domain: { name: 'Role Domain' } } })).body.domain;
    const local = await api('POST', '/roles', { body: { role: { name: 'Deployer', domain_id: domain.id } } });
    assert.equal(local.status, 201, 'the same name as a global role, in a domain');
    assert.equal(local.body.role.domain_id, domain.id);
    assert.deepEqual((await api('GET', `/roles?domain_id=${domain.id}`)).body.roles.map((r: any) => r.id), [local.body.role.id]);
    assert.ok(!(await api('GET', '/roles')).body.roles.some((r: any) => r.id === local.body.role.id), 'global lists leave it out');
    assert.equal((await api('PUT', `/roles/${reader.id}/implies/${local.body.role.id}`)).status, 403, 'a global role cannot imply a domain one');
    assert.equal((await api('PUT', `/roles/${local.body.role.id}/implies/${reader.id}`)).status, 201);
    assert.equal((await api('DELETE', `/projects/${project.id}/users/${hank.id}/roles/${deployer.id}`)).status, 204);
    assert.equal((await api('PUT', `/projects/${project.id}/users/${hank.id}/roles/${local.body.role.id}`)).status, 204);
    assert.deepEqual(await listed('&effective'), [reader.id], 'only the global role it implies');
  });

  it('re-scopes a token keeping its methods, and changes a password with the original one, as Keystone does', async () => {
    const unscoped = await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('admin', env.adminPassword) });
    const rescoped = await call(env.v3, 'POST', '/auth/tokens', { body: { auth: { identity: { methods: ['token'], token: { id: unscoped.headers.get('x-subject-token') } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } } });
    assert.equal(rescoped.status, 201, JSON.stringify(rescoped.body));
    assert.deepEqual(rescoped.body.token.methods.sort(), ['password', 'token']);
    const u = (await api('POST', '/users', { body: { user: { name: 'Carol', password: 'first-pw' } } })).body.user;
    const wrong = await call(env.v3, 'POST', `/users/${u.id}/password`, { body: { user: { original_password: 'nope', password: 'second-pw' } } });
    assert.equal(wrong.status, 401);
    const changed = await call(env.v3, 'POST', `/users/${u.id}/password`, { body: { user: { original_password: 'first-pw', password: 'second-pw' } } });
    assert.equal(changed.status, 204, 'no token needed: the original password is the proof');
    assert.equal((await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('Carol', 'second-pw') })).status, 201);
    assert.equal((await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('Carol', 'first-pw') })).status, 401);
  });

  it('creates a user who can sign in at once, grants a role that becomes an RBAC RoleBinding, and scopes what they see', async () => {
    const p = (await api('POST', '/projects', { body: { project: { name: 'team' } } })).body.project;
    await api('POST', '/projects', { body: { project: { name: 'other' } } });
    const u = await api('POST', '/users', { body: { user: { name: 'bob', password: 'bob-pw', default_project_id: p.id, email: 'bob@example.com' } } });
    assert.equal(u.status, 201, JSON.stringify(u.body));
    assert.equal(u.body.user.default_project_id, p.id);
    // No role yet: a project-scoped sign-in is refused, an unscoped one works.
    assert.equal((await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('bob', 'bob-pw', 'team') })).status, 401);
    const unscoped = await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('bob', 'bob-pw') });
    assert.equal(unscoped.status, 201);
    assert.equal(unscoped.body.token.catalog, undefined);

    const member = (await api('GET', '/roles?name=member')).body.roles[0];
    assert.equal((await api('PUT', `/projects/${p.id}/users/${u.body.user.id}/roles/${member.id}`)).status, 204);
    const ra = await env.client.get<RoleAssignment>(ROLE_ASSIGNMENTS, 'team', 'bob.member');
    assert.deepEqual(ra!.spec, { user: 'bob', role: 'member' });
    await eventually('RoleBinding', async () => !!(await env.client.get(ROLE_BINDINGS, 'team', 'stratus-bob.member')));
    const rb: any = await env.client.get(ROLE_BINDINGS, 'team', 'stratus-bob.member');
    assert.deepEqual(rb.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: `${p.id}:member` }], 'bound to the tokens that hold member in this project');
    assert.equal(rb.roleRef.name, 'stratus-role-member');

    const bob = await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('bob', 'bob-pw', 'team') });
    assert.equal(bob.status, 201);
    assert.deepEqual(bob.body.token.roles.map((r: any) => r.name), ['member']);
    const bobToken = bob.headers.get('x-subject-token')!;
    // A member sees only their own projects and cannot do admin things.
    assert.deepEqual((await call(env.v3, 'GET', '/auth/projects', { token: bobToken })).body.projects.map((x: any) => x.name), ['team']);
    assert.deepEqual((await call(env.v3, 'GET', `/users/${u.body.user.id}/projects`, { token: bobToken })).body.projects.map((x: any) => x.name), ['team']);
    assert.equal((await call(env.v3, 'GET', '/projects', { token: bobToken })).status, 403, "listing every project is an administrator's call, as in Keystone");
    const denied = await call(env.v3, 'POST', '/projects', { token: bobToken, body: { project: { name: 'mine' } } });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.title, 'Forbidden');
    assert.equal((await call(env.v3, 'GET', '/users', { token: bobToken })).status, 403);

    const listed = (await api('GET', `/role_assignments?user.id=${u.body.user.id}&include_names`)).body.role_assignments;
    assert.deepEqual(listed.map((a: any) => [a.user.name, a.role.name, a.scope.project.name]), [['bob', 'member', 'team']]);
  });

  it('revokes a token on DELETE, that token only: tokens re-scoped from it stand, as in Keystone', async () => {
    const first = (await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('bob', 'bob-pw') })).headers.get('x-subject-token')!;
    const rescoped = await call(env.v3, 'POST', '/auth/tokens', { body: { auth: { identity: { methods: ['token'], token: { id: first } }, scope: { project: { name: 'team', domain: { id: 'default' } } } } } });
    assert.equal(rescoped.status, 201);
    assert.equal(rescoped.body.token.audit_ids.length, 2);
    const second = rescoped.headers.get('x-subject-token')!;
    assert.equal((await call(env.v3, 'DELETE', '/auth/tokens', { token: first, subject: first })).status, 204);
    assert.equal((await api('GET', '/auth/tokens', { subject: first })).status, 404);
    assert.equal((await api('GET', '/auth/tokens', { subject: second })).status, 200, 'the re-scoped token stands (Keystone revokes by audit ID, not by chain, on DELETE)');
    assert.equal((await call(env.v3, 'GET', '/auth/projects', { token: second })).status, 200);
    assert.equal((await call(env.v3, 'DELETE', '/auth/tokens', { token: second, subject: second })).status, 204);
    assert.equal((await api('GET', '/auth/tokens', { subject: second })).status, 404, 'and goes when it is revoked itself');
  });

  it('revokes a user’s tokens when the password changes, and when the role is taken away', async () => {
    const bobId = (await api('GET', '/users?name=bob')).body.users[0].id;
    const old = (await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('bob', 'bob-pw', 'team') })).headers.get('x-subject-token')!;
    await new Promise((r) => setTimeout(r, 1100)); // token times have one-second resolution
    const changed = await api('PATCH', `/users/${bobId}`, { body: { user: { password: 'bob-pw-2' } } });
    assert.equal(changed.status, 200);
    assert.equal((await api('GET', '/auth/tokens', { subject: old })).status, 404);
    assert.equal((await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('bob', 'bob-pw', 'team') })).status, 401);
    const fresh = (await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('bob', 'bob-pw-2', 'team') })).headers.get('x-subject-token')!;
    assert.equal((await api('GET', '/auth/tokens', { subject: fresh })).status, 200);
    const team = (await api('GET', '/projects?name=team')).body.projects[0].id;
    const member = (await api('GET', '/roles?name=member')).body.roles[0].id;
    assert.equal((await api('DELETE', `/projects/${team}/users/${bobId}/roles/${member}`)).status, 204);
    assert.equal((await api('GET', '/auth/tokens', { subject: fresh })).status, 404);
    await eventually('RoleBinding gone', async () => !(await env.client.get(ROLE_BINDINGS, 'team', 'stratus-bob.member')));
  });

  it('shows objects made with kubectl-style writes, and the other way round', async () => {
    await env.client.create(TENANTS, { apiVersion: 'identity.stratus.io/v1alpha1', kind: 'Tenant', metadata: { name: 'applied' }, spec: { description: 'from kubectl' } }, 'kubectl');
    await eventually('listed', async () => (await api('GET', '/projects?name=applied')).body.projects.length === 1);
    const svc = await api('POST', '/services', { body: { service: { name: 'nova', type: 'compute', description: 'Compute' } } });
    assert.equal(svc.status, 201);
    const ep = await api('POST', '/endpoints', { body: { endpoint: { service_id: svc.body.service.id, interface: 'public', url: 'http://127.0.0.1:8000/compute/v2.1', region_id: 'RegionOne' } } });
    assert.equal(ep.status, 201, JSON.stringify(ep.body));
    assert.equal((await api('GET', `/endpoints?service_id=${svc.body.service.id}`)).body.endpoints.length, 1);
    const catalog = (await api('GET', '/auth/catalog')).body.catalog;
    assert.equal(catalog.find((s: any) => s.type === 'compute').endpoints[0].url, 'http://127.0.0.1:8000/compute/v2.1');
    const badEp = await api('POST', '/endpoints', { body: { endpoint: { service_id: svc.body.service.id, interface: 'sideways', url: 'http://x' } } });
    assert.equal(badEp.status, 400);
    assert.match(badEp.body.error.message, /endpoint\.interface/);
    assert.equal((await api('DELETE', `/services/${svc.body.service.id}`)).status, 204);
    assert.equal((await api('GET', `/endpoints/${ep.body.endpoint.id}`)).status, 404, 'a service takes its endpoints with it');
    const users = (await api('GET', '/users')).body.users.map((u: any) => u.name);
    assert.ok(users.includes('admin') && users.includes('bob'));
    const stored = await env.client.get<User>(USERS, undefined, 'bob');
    assert.equal(stored!.spec.email, 'bob@example.com');
  });

  it('keeps validating tokens across a key rotation by keystone-manage, and signs new ones with the new key', async () => {
    const before = (await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('admin', env.adminPassword, 'admin') })).headers.get('x-subject-token')!;
    const dir = mkdtempSync(join(tmpdir(), 'rotate-'));
    writeFileSync(join(dir, 'kubeconfig'), env.plane.kubeconfig());
    const manage = new URL('../src/manage.js', import.meta.url).pathname;
    const rotated = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(process.execPath, [manage, 'fernet-rotate'], { env: { ...process.env, KUBECONFIG: join(dir, 'kubeconfig') } }, (e, out) => resolve({ code: e ? 1 : 0, out }));
    });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(rotated.code, 0);
    assert.match(rotated.out, /primary key is now 2; keys 0, 1, 2/);
    const ring = await env.client.get<Secret>(SECRETS, SYSTEM_NAMESPACE, FERNET_KEYS_SECRET);
    const primary = Buffer.from(ring!.data!['2'], 'base64').toString();
    await eventually('the API sees the new ring', async () => {
      const t = (await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('admin', env.adminPassword, 'admin') })).headers.get('x-subject-token')!;
      return !!fernetDecrypt(primary, t);
    });
    assert.equal((await api('GET', '/auth/tokens', { subject: before })).status, 200, 'a token from before the rotation is still good');
  });

  it('answers unknown paths and methods as Keystone does', async () => {
    const nf = await api('GET', '/nothing-here');
    assert.equal(nf.status, 404);
    assert.equal(nf.body.error.title, 'Not Found');
    assert.equal((await api('GET', '/projects/0123456789abcdef0123456789abcdef')).status, 404);
    assert.equal((await api('PUT', '/projects')).status, 405);
  });
});

describe('Identity API v3 token expiry', function () {
  this.timeout(60_000);
  let env: IdentityEnv;
  before(async () => {
    env = await startIdentityEnv({ tokenExpirationSeconds: 2 });
  });
  after(() => env.stop());

  it('stops accepting a token when it expires, unless allow_expired is asked for', async () => {
    await eventually('admin can sign in', async () => (await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('admin', env.adminPassword, 'admin') })).status === 201);
    const issued = await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('admin', env.adminPassword, 'admin') });
    const token = issued.headers.get('x-subject-token')!;
    assert.ok(Date.parse(issued.body.token.expires_at) - Date.now() <= 2000);
    assert.equal((await call(env.v3, 'GET', '/auth/projects', { token })).status, 200);
    await new Promise((r) => setTimeout(r, 2100));
    const fresh = (await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('admin', env.adminPassword, 'admin') })).headers.get('x-subject-token')!;
    assert.equal((await call(env.v3, 'GET', '/auth/projects', { token })).status, 401);
    assert.equal((await call(env.v3, 'GET', '/auth/tokens', { token: fresh, subject: token })).status, 404);
    assert.equal((await call(env.v3, 'GET', '/auth/tokens?allow_expired=1', { token: fresh, subject: token })).status, 200);
  });
});

describe('Identity API v3 account rules (security compliance)', function () {
  this.timeout(120_000);
  let env: IdentityEnv;
  // Locked until an admin enables the user again (no duration), so that nothing here waits on a clock.
  before(async () => {
    env = await startIdentityEnv({ compliance: { lockoutFailureAttempts: 2, lockoutDurationSeconds: 0, uniqueLastPasswordCount: 3 } });
  });
  after(() => env.stop());

  it('locks an account after two failed sign-ins in a row, even to the right password, until an admin enables it again', async () => {
    let adminToken = '';
    await eventually('admin can sign in', async () => {
      const r = await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('admin', env.adminPassword, 'admin') });
      adminToken = r.headers.get('x-subject-token') ?? '';
      return r.status === 201;
    });
    const api = (method: string, path: string, body?: unknown) => call(env.v3, method, path, { token: adminToken, body });
    const lee = (await api('POST', '/users', { user: { name: 'lee', password: 'right-1' } })).body.user;
    const signIn = (password: string) => call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('lee', password) });
    assert.equal((await signIn('right-1')).status, 201);
    assert.equal((await signIn('wrong')).status, 401);
    assert.equal((await signIn('right-1')).status, 201, 'a success in between starts the count again');
    for (let n = 0; n < 2; n++) assert.equal((await signIn('wrong')).status, 401);
    const locked = await signIn('right-1');
    assert.equal(locked.status, 401);
    assert.equal(locked.body.error.message, `The account is locked for user: ${lee.id}.`);
    const user = (await env.client.list<User>(USERS)).items.find((u) => u.spec.displayName === 'lee')!;
    assert.equal(user.status?.failedAuthCount, 2, 'kubectl shows the count on the User');
    assert.equal((await api('PATCH', `/users/${lee.id}`, { user: { enabled: true } })).status, 200);
    assert.equal((await signIn('right-1')).status, 201, 'enabled again, it signs in');
  });

  it("refuses a user's own change to one of its last passwords, but not an admin's reset", async () => {
    const adminToken = (await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('admin', env.adminPassword, 'admin') })).headers.get('x-subject-token')!;
    const kim = (await call(env.v3, 'POST', '/users', { token: adminToken, body: { user: { name: 'kim', password: 'pass-0' } } })).body.user;
    const change = (from: string, to: string) => call(env.v3, 'POST', `/users/${kim.id}/password`, { body: { user: { original_password: from, password: to } } });
    const issued = await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('kim', 'pass-0') });
    const before = issued.headers.get('x-subject-token')!;
    // Tokens and the password's change time count whole seconds (Fernet's), as in Keystone: a token of the same
    // second as the change outlives it, so the change comes in a later second (as Tempest waits for one).
    const issuedSecond = Math.floor(Date.parse(issued.body.token.issued_at) / 1000);
    await eventually('a second later than the token was issued', async () => Math.floor(Date.now() / 1000) > issuedSecond, 10_000, 50);
    assert.equal((await change('pass-0', 'pass-1')).status, 204);
    const exchanged = await call(env.v3, 'POST', '/auth/tokens', { body: { auth: { identity: { methods: ['token'], token: { id: before } } } } });
    assert.equal(exchanged.status, 404, "a token from before the change is gone: Keystone's TokenNotFound when signing in with it");
    const reused = await change('pass-1', 'pass-0');
    assert.equal(reused.status, 400);
    assert.equal(reused.body.error.message, 'The new password cannot be identical to a previous password. The total number which includes the new password must be unique is 3.');
    assert.equal((await change('pass-1', 'pass-1')).status, 400, 'nor the current one');
    assert.equal((await change('pass-1', 'pass-2')).status, 204);
    assert.equal((await change('pass-2', 'pass-3')).status, 204);
    assert.equal((await change('pass-3', 'pass-1')).status, 400, 'pass-1 is still one of the last three');
    assert.equal((await change('pass-3', 'pass-0')).status, 204, 'three changes on, pass-0 may come back');
    assert.equal((await call(env.v3, 'PATCH', `/users/${kim.id}`, { token: adminToken, body: { user: { password: 'pass-0' } } })).status, 200, "an admin's reset is not held to the history");
    assert.equal((await call(env.v3, 'POST', '/auth/tokens', { body: passwordAuth('kim', 'pass-0') })).status, 201);
  });
});
