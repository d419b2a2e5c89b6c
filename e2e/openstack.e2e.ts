/**
 * The real `openstack` client (Debian's python3-openstackclient) against `stratus up`: the Identity API as
 * users drive it, and the agreement between what it does and what kubectl sees.
 */
import { strict as assert } from 'node:assert';
import { runKubectl } from './lib/cluster.js';
import { startCloud, type RunningCloud } from '@stratus/cli';
import { openstack as run, openstackJson, openstackOk, type CliResult, itAskedNothingTheChartRefuses } from './lib/up.js';

describe('openstack CLI against the Identity API', function () {
  this.timeout(300_000);
  let cloud: RunningCloud;
  let authUrl: string;
  const os = (...args: string[]) => openstackOk(cloud, args);
  const json = (...args: string[]) => openstackJson(cloud, args);
  /** The openstack client as another user, with only environment settings (no clouds.yaml). */
  const as = (user: string, password: string, project: string, ...args: string[]): Promise<CliResult> =>
    run(cloud, args, {
      OS_CLOUD: '',
      OS_CLIENT_CONFIG_FILE: '/dev/null',
      OS_AUTH_URL: authUrl,
      OS_USERNAME: user,
      OS_PASSWORD: password,
      OS_PROJECT_NAME: project,
      OS_USER_DOMAIN_NAME: 'Default',
      OS_PROJECT_DOMAIN_NAME: 'Default',
      OS_IDENTITY_API_VERSION: '3',
    });
  const kubectl = (...args: string[]) => runKubectl(cloud.kubeconfig, cloud.dir, args);

  before(async () => {
    cloud = await startCloud();
    authUrl = cloud.admin().authUrl;
  });
  after(async () => {
    await cloud?.stop();
    await cloud?.remove();
  });

  it('issues a token for the bootstrap admin', async () => {
    const token = await json('token', 'issue');
    assert.match(token.id, /^gAAAAA/, 'a Fernet token');
    assert.match(token.project_id, /^[0-9a-f]{32}$/);
    assert.ok(Date.parse(token.expires) > Date.now() + 3000_000);
  });

  it('creates, lists and shows projects, which are Tenants with namespaces', async () => {
    const p = await json('project', 'create', 'acme', '--description', 'ACME Inc');
    assert.equal(p.name, 'acme');
    assert.equal(p.description, 'ACME Inc');
    const names = (await json('project', 'list')).map((x: any) => x.Name);
    assert.deepEqual(names.sort(), ['acme', 'admin']);
    const wait = await kubectl('wait', '--for=condition=Ready', 'tenant/acme', '--timeout=30s');
    assert.equal(wait.code, 0, wait.stderr);
    assert.equal((await kubectl('get', 'tenant', 'acme', '-o', 'jsonpath={.status.projectId}')).stdout, p.id);
    assert.equal((await kubectl('get', 'namespace', 'acme', '-o', 'name')).stdout.trim(), 'namespace/acme');
  });

  it('creates users, grants roles, and lists the assignments; the grant is also RBAC', async () => {
    const u = await json('user', 'create', '--password', 'wile-e-pw', '--project', 'acme', '--email', 'wile@acme.test', 'wile');
    assert.equal(u.name, 'wile');
    assert.equal(u.email, 'wile@acme.test');
    const users = (await json('user', 'list')).map((x: any) => x.Name);
    assert.deepEqual(users.sort(), ['admin', 'wile']);
    await os('role', 'add', '--project', 'acme', '--user', 'wile', 'member');
    const assignments = await json('role', 'assignment', 'list', '--names', '--project', 'acme');
    assert.deepEqual(assignments.map((a: any) => [a.Role, a.User, a.Project]), [['member', 'wile@Default', 'acme@Default']]);
    const rb = await kubectl('get', 'rolebinding', '-n', 'acme', 'stratus-wile.member', '-o', 'jsonpath={.roleRef.name} {.subjects[0].kind} {.subjects[0].name}');
    const acme = (await kubectl('get', 'tenant', 'acme', '-o', 'jsonpath={.status.projectId}')).stdout;
    assert.equal(rb.stdout, `stratus-role-member Group ${acme}:member`, 'bound to the tokens that hold member in acme');
  });

  it('lets the new user sign in to their project, and nothing more', async () => {
    const token = await as('wile', 'wile-e-pw', 'acme', 'token', 'issue', '-f', 'json');
    assert.equal(token.code, 0, token.stderr);
    assert.equal(JSON.parse(token.stdout).user_id, (await json('user', 'show', 'wile')).id);
    // GET /v3/projects is an administrator's call (403, as Keystone's policy); the client then lists the user's own.
    for (const args of [['project', 'list'], ['project', 'list', '--my-projects']]) {
      const projects = await as('wile', 'wile-e-pw', 'acme', ...args, '-f', 'value', '-c', 'Name');
      assert.equal(projects.stdout.trim(), 'acme', 'a member sees only their own projects');
    }
    const denied = await as('wile', 'wile-e-pw', 'acme', 'project', 'create', 'roadrunner');
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /HTTP 403/);
    const wrong = await as('wile', 'not-the-password', 'acme', 'token', 'issue');
    assert.match(wrong.stderr, /HTTP 401/);
    const elsewhere = await as('wile', 'wile-e-pw', 'admin', 'token', 'issue');
    assert.match(elsewhere.stderr, /has no access to project admin.*HTTP 401/);
  });

  it('signs in with an application credential bound by access rules, which allow only the calls they name', async () => {
    const rules = JSON.stringify([{ service: 'image', method: 'GET', path: '/v2/images' }]);
    const made = await as('wile', 'wile-e-pw', 'acme', 'application', 'credential', 'create', '--access-rules', rules, '-f', 'json', 'image-lister');
    assert.equal(made.code, 0, made.stderr);
    const cred = JSON.parse(made.stdout);
    const listed = await as('wile', 'wile-e-pw', 'acme', 'access', 'rule', 'list', '-f', 'json');
    assert.deepEqual(JSON.parse(listed.stdout).map((r: any) => [r.Service, r.Method, r.Path]), [['image', 'GET', '/v2/images']]);
    const withCred = (...args: string[]) =>
      run(cloud, args, { OS_CLOUD: '', OS_CLIENT_CONFIG_FILE: '/dev/null', OS_AUTH_URL: authUrl, OS_AUTH_TYPE: 'v3applicationcredential', OS_APPLICATION_CREDENTIAL_ID: cred.id, OS_APPLICATION_CREDENTIAL_SECRET: cred.secret, OS_IDENTITY_API_VERSION: '3' });
    const images = await withCred('image', 'list');
    assert.equal(images.code, 0, images.stderr);
    const create = await withCred('image', 'create', 'not-allowed');
    assert.match(create.stderr, /HTTP 401|401/, 'a call no rule names');
    const servers = await withCred('server', 'list');
    assert.match(servers.stderr, /HTTP 401|401/, 'another service');
    const del = await as('wile', 'wile-e-pw', 'acme', 'application', 'credential', 'delete', 'image-lister');
    assert.equal(del.code, 0, del.stderr);
  });

  it('lists the catalog and endpoints, including ones applied with kubectl', async () => {
    const applied = await runKubectl(cloud.kubeconfig, cloud.dir, ['apply', '-f', '-'], [
      'apiVersion: identity.stratus.io/v1alpha1',
      'kind: Service',
      'metadata: {name: placement}',
      'spec: {type: placement, description: Placement service}',
      '---',
      'apiVersion: identity.stratus.io/v1alpha1',
      'kind: Endpoint',
      'metadata: {name: placement-public}',
      'spec: {service: placement, interface: public, url: "http://127.0.0.1:8778/placement"}',
    ].join('\n'));
    assert.equal(applied.code, 0, applied.stderr);
    const imageUrl = authUrl.replace(/\/identity\/v3$/, '/image'); // stratus up registers Glance, Nova, Neutron and Cinder itself
    const computeUrl = authUrl.replace(/\/identity\/v3$/, '/compute/v2.1');
    const networkUrl = authUrl.replace(/\/identity\/v3$/, '/networking');
    const volumeUrl = authUrl.replace(/\/identity\/v3$/, '/volume/v3');
    const endpoints = await json('endpoint', 'list');
    const rows = endpoints.map((e: any) => `${e['Service Type']} ${e.Interface} ${e.URL}`).sort();
    assert.deepEqual(rows, [
      `block-storage admin ${volumeUrl}`,
      `block-storage internal ${volumeUrl}`,
      `block-storage public ${volumeUrl}`,
      `compute admin ${computeUrl}`,
      `compute internal ${computeUrl}`,
      `compute public ${computeUrl}`,
      'identity admin ' + authUrl,
      'identity internal ' + authUrl,
      'identity public ' + authUrl,
      `image admin ${imageUrl}`,
      `image internal ${imageUrl}`,
      `image public ${imageUrl}`,
      `network admin ${networkUrl}`,
      `network internal ${networkUrl}`,
      `network public ${networkUrl}`,
      'placement public http://127.0.0.1:8778/placement',
      `volumev3 admin ${volumeUrl}`,
      `volumev3 internal ${volumeUrl}`,
      `volumev3 public ${volumeUrl}`,
    ]);
    const catalog = await json('catalog', 'list');
    assert.deepEqual(catalog.map((s: any) => s.Type).sort(), ['block-storage', 'compute', 'identity', 'image', 'network', 'placement', 'volumev3']);
  });

  it('takes names as people write them (spaces, dots, Unicode), renames a project in place, and kubectl shows both names side by side', async () => {
    const p = await json('project', 'create', 'Marketing Team', '--description', 'Équipe marketing');
    assert.equal(p.name, 'Marketing Team');
    const intl = await json('project', 'create', 'Équipe 東京');
    assert.equal(intl.name, 'Équipe 東京');
    const u = await json('user', 'create', '--password', 'alice-pw', '--project', 'Marketing Team', 'Alice.Smith');
    assert.equal(u.name, 'Alice.Smith');
    await os('role', 'add', '--project', 'Marketing Team', '--user', 'Alice.Smith', 'member');
    const signedIn = await as('Alice.Smith', 'alice-pw', 'Marketing Team', 'token', 'issue', '-f', 'json');
    assert.equal(signedIn.code, 0, signedIn.stderr);
    assert.equal(JSON.parse(signedIn.stdout).project_id, p.id);

    // kubectl: a derived object (and namespace) name, the OpenStack name in its own column.
    const tenant = (await kubectl('get', 'tenants', '-o', `jsonpath={.items[?(@.status.projectId=="${p.id}")].metadata.name}`)).stdout.trim();
    assert.match(tenant, /^marketing-team-[a-z0-9]{5}$/);
    const table = (await kubectl('get', 'tenant', tenant)).stdout;
    assert.match(table.split('\n')[0], /NAME\s+DISPLAY NAME\s+NAMESPACE/);
    assert.match(table.split('\n')[1], new RegExp(`^${tenant}\\s+Marketing Team\\s+${tenant}\\s`));
    const wait = await kubectl('wait', '--for=condition=Ready', `tenant/${tenant}`, '--timeout=30s');
    assert.equal(wait.code, 0, wait.stderr);

    // Keypairs are per user: Alice and Bob both have a "laptop key", each their own.
    await os('user', 'create', '--password', 'bob-pw', '--project', 'Marketing Team', 'Bob Jones');
    await os('role', 'add', '--project', 'Marketing Team', '--user', 'Bob Jones', 'member');
    const alice = await as('Alice.Smith', 'alice-pw', 'Marketing Team', 'keypair', 'create', 'laptop key', '-f', 'json');
    assert.equal(alice.code, 0, alice.stderr);
    const bob = await as('Bob Jones', 'bob-pw', 'Marketing Team', 'keypair', 'create', 'laptop key', '-f', 'json');
    assert.equal(bob.code, 0, bob.stderr);
    const fingerprintOf = async (user: string, pw: string) => JSON.parse((await as(user, pw, 'Marketing Team', 'keypair', 'show', 'laptop key', '-f', 'json')).stdout).fingerprint;
    assert.notEqual(await fingerprintOf('Alice.Smith', 'alice-pw'), await fingerprintOf('Bob Jones', 'bob-pw'), 'two keys, one name');
    const again = await as('Bob Jones', 'bob-pw', 'Marketing Team', 'keypair', 'create', 'laptop key');
    assert.match(again.stderr, /409/, 'unique per user');
    const keypairs = (await kubectl('get', 'keypairs', '-n', tenant)).stdout;
    assert.match(keypairs.split('\n')[0], /NAME\s+DISPLAY NAME/);
    assert.equal(keypairs.split('\n').filter((l) => /^laptop-key-[a-z0-9]{5}\s+laptop key\s/.test(l)).length, 2, 'derived names, the OpenStack name beside them');
    for (const [user, pw] of [['Alice.Smith', 'alice-pw'], ['Bob Jones', 'bob-pw']]) assert.equal((await as(user, pw, 'Marketing Team', 'keypair', 'delete', 'laptop key')).code, 0);
    await os('user', 'delete', 'Bob Jones');

    // A rename: same project, same namespace, found by its new name; the old name is free again.
    await os('project', 'set', '--name', 'Growth Team', 'Marketing Team');
    assert.equal((await json('project', 'show', p.id)).name, 'Growth Team');
    assert.equal((await kubectl('get', 'tenant', tenant, '-o', 'jsonpath={.spec.displayName} {.status.namespace}')).stdout, `Growth Team ${tenant}`);
    const after = await as('Alice.Smith', 'alice-pw', 'Growth Team', 'token', 'issue', '-f', 'json');
    assert.equal(after.code, 0, after.stderr);
    const dup = await run(cloud, ['project', 'set', '--name', 'Équipe 東京', 'Growth Team']);
    assert.match(dup.stderr, /HTTP 409/, 'a rename onto a taken name is refused');
    const reused = await json('project', 'create', 'Marketing Team');
    assert.notEqual(reused.id, p.id);

    await os('user', 'delete', 'Alice.Smith');
    for (const name of ['Growth Team', 'Marketing Team', 'Équipe 東京']) await os('project', 'delete', name);
    const gone = await kubectl('wait', '--for=delete', `namespace/${tenant}`, '--timeout=30s');
    assert.equal(gone.code, 0, gone.stderr);
  });

  it('refuses bad input with the reason, and deletes a project with its namespace', async () => {
    const bad = await run(cloud, ['project', 'create', 'x'.repeat(65)]);
    assert.match(bad.stderr, /project\.name.*HTTP 400/);
    const dup = await run(cloud, ['project', 'create', 'acme']);
    assert.match(dup.stderr, /HTTP 409/);
    await os('user', 'delete', 'wile');
    assert.equal((await kubectl('get', 'roleassignments', '-n', 'acme', '-o', 'name')).stdout.trim(), '', "a user's grants go with the user");
    await os('project', 'delete', 'acme');
    assert.deepEqual((await json('project', 'list')).map((x: any) => x.Name), ['admin']);
    const gone = await kubectl('wait', '--for=delete', 'namespace/acme', '--timeout=30s');
    assert.equal(gone.code, 0, gone.stderr);
  });

  itAskedNothingTheChartRefuses(() => cloud);
});
