/**
 * The Kubernetes face for tenants (issue 17, the part done so far): a project member's Keystone token is a
 * bearer token the control plane accepts (Keystone answers its TokenReview webhook), and RBAC, enforced as
 * Kubernetes enforces it, lets them do in their namespace what their Keystone role's ClusterRole grants and
 * nothing elsewhere; `kubectl auth whoami` and `auth can-i` tell them so; a revoked token stops working; the
 * admin token keeps working.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { eventually } from '@stratus/apiserver';
import { startCloud, type RunningCloud } from '@stratus/cli';
import { runKubectl } from './lib/cluster.js';
import { kubeconfigWithToken, memberEnv, memberToken, openstack, openstackJson, openstackOk, itAskedNothingTheChartRefuses } from './lib/up.js';

const LOGIN = new URL('../../cli/dist/src/login.js', import.meta.url).pathname;
const CREDENTIAL = new URL('../../cli/dist/src/credential.js', import.meta.url).pathname;

describe('kubectl as a project member, signed in with a Keystone token', function () {
  this.timeout(600_000);
  let cloud: RunningCloud;
  const ids: Record<string, string> = {};
  const member = (user: string, project: string) => memberEnv(cloud, user, project);
  const tokenOf = (user: string, project: string) => memberToken(cloud, user, project);
  const kubeconfigWith = (name: string, token: string) => kubeconfigWithToken(cloud, name, token);
  const kubectl = (kubeconfig: string, ...args: string[]) => runKubectl(kubeconfig, cloud.dir, args);
  const instance = (namespace: string, name: string, flavor = 'm1.tiny') => JSON.stringify({ apiVersion: 'compute.stratus.io/v1alpha1', kind: 'Instance', metadata: { name, namespace }, spec: { flavor, image: { name: 'none' } } });

  before(async () => {
    cloud = await startCloud();
    const os = (...args: string[]) => openstackOk(cloud, args);
    await os('flavor', 'create', '--vcpus', '1', '--ram', '256', '--disk', '1', 'm1.tiny');
    await os('flavor', 'create', '--vcpus', '4', '--ram', '256', '--disk', '1', 'm1.wide');
    for (const project of ['demo', 'other']) ids[project] = (await openstackJson(cloud, ['project', 'create', project])).id;
    for (const [user, project, role] of [['alice', 'demo', 'member'], ['rita', 'demo', 'reader'], ['bob', 'other', 'member']]) {
      await os('user', 'create', '--password', `${user}-pw-1`, '--project', project, user);
      await os('role', 'add', '--project', project, '--user', user, role);
    }
    await eventually('the members can sign in', async () => (await openstack(cloud, ['token', 'issue'], member('rita', 'demo'))).code === 0, 60_000, 500);
  });
  after(async () => {
    await cloud?.stop();
    await cloud?.remove();
  });

  it('knows who a Keystone token is: `kubectl auth whoami`', async () => {
    const kc = kubeconfigWith('alice', await tokenOf('alice', 'demo'));
    const r = await kubectl(kc, 'auth', 'whoami', '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout).status.userInfo;
    assert.equal(info.username, 'alice');
    assert.ok(info.groups.includes(ids.demo), `the project's ID is a group: ${info.groups}`);
    assert.ok(info.groups.includes('system:authenticated'));
    assert.deepEqual(info.extra['alpha.kubernetes.io/identity/roles'], ['member']);
    const admin = await kubectl(cloud.kubeconfig, 'auth', 'whoami', '-o', 'json');
    assert.ok(JSON.parse(admin.stdout).status.userInfo.groups.includes('system:masters'), 'the admin token keeps working, as system:masters');
  });

  it("lets a member work in their project's namespace and nowhere else (403 as Kubernetes says it)", async () => {
    const kc = kubeconfigWith('alice', await tokenOf('alice', 'demo'));
    const own = await kubectl(kc, 'get', 'instances', '-n', 'demo');
    assert.equal(own.code, 0, own.stderr);
    const create = await runKubectl(kc, cloud.dir, ['create', '--dry-run=server', '-f', '-'], instance('demo', 'web-1'));
    assert.equal(create.code, 0, create.stderr);
    const elsewhere = await kubectl(kc, 'get', 'instances', '-n', 'other');
    assert.notEqual(elsewhere.code, 0);
    assert.match(elsewhere.stderr, /instances.compute.stratus.io is forbidden: User "alice" cannot list resource "instances" in API group "compute.stratus.io" in the namespace "other"/);
    const createElsewhere = await runKubectl(kc, cloud.dir, ['create', '--dry-run=server', '-f', '-'], instance('other', 'web-1'));
    assert.match(createElsewhere.stderr, /forbidden/);
    const admin = await kubectl(kc, 'get', 'hypervisors');
    assert.match(admin.stderr, /hypervisors.compute.stratus.io is forbidden: User "alice" cannot list resource "hypervisors" .* at the cluster scope/);
    const secrets = await kubectl(kc, 'get', 'secrets', '-n', 'demo');
    assert.match(secrets.stderr, /forbidden/, "a member's role grants the cloud's kinds, not the namespace's Secrets");
  });

  it('answers `kubectl auth can-i` as it then decides: a reader may get but not create', async () => {
    const alice = kubeconfigWith('alice', await tokenOf('alice', 'demo'));
    const rita = kubeconfigWith('rita', await tokenOf('rita', 'demo'));
    const can = async (kc: string, ...args: string[]) => (await kubectl(kc, 'auth', 'can-i', ...args)).stdout.trim();
    assert.equal(await can(alice, 'create', 'instances.compute.stratus.io', '-n', 'demo'), 'yes');
    assert.equal(await can(alice, 'create', 'instances.compute.stratus.io', '-n', 'other'), 'no');
    assert.equal(await can(alice, 'list', 'hypervisors.compute.stratus.io'), 'no');
    assert.equal(await can(rita, 'get', 'instances.compute.stratus.io', '-n', 'demo'), 'yes');
    assert.equal(await can(rita, 'create', 'instances.compute.stratus.io', '-n', 'demo'), 'no');
    // Claims, which Nova's KubeVirt driver makes for the project's servers, are seen at every level and changed by
    // Nova alone (KubeVirt's own kinds are not served without --kubevirt, so kubectl cannot ask: kubevirt.e2e does).
    assert.equal(await can(rita, 'list', 'persistentvolumeclaims', '-n', 'demo'), 'yes');
    assert.equal(await can(alice, 'delete', 'persistentvolumeclaims', '-n', 'demo'), 'no');
    assert.equal(await can(alice, 'get', 'persistentvolumeclaims', '-n', 'other'), 'no');
    const refused = await runKubectl(rita, cloud.dir, ['create', '--dry-run=server', '-f', '-'], instance('demo', 'web-2'));
    assert.match(refused.stderr, /forbidden: User "rita" cannot create resource "instances"/);
  });

  it('signs in with `stratus login`: a kubeconfig whose exec plugin gets and caches the Keystone token, in the project\'s namespace', async () => {
    const clouds = join(cloud.dir, 'member-clouds.yaml');
    writeFileSync(clouds, stringify({ clouds: { 'alice-demo': { auth: { auth_url: cloud.admin().authUrl, username: 'alice', password: 'alice-pw-1', project_name: 'demo', user_domain_name: 'Default', project_domain_name: 'Default' } } } }), { mode: 0o600 });
    const out = join(cloud.dir, 'kubeconfig-login');
    const env = { ...process.env, OS_CLIENT_CONFIG_FILE: clouds, XDG_CACHE_HOME: join(cloud.dir, 'cache') };
    const login = await promisify(execFile)(process.execPath, [LOGIN, '--cloud', 'alice-demo', '--from', cloud.kubeconfig, '--kubeconfig', out], { env });
    assert.match(login.stdout, /user alice, namespace demo/);
    const written = parse(readFileSync(out, 'utf8'));
    assert.equal(written.users[0].user.exec.apiVersion, 'client.authentication.k8s.io/v1');
    assert.equal(written.users[0].user.token, undefined, 'no token in the kubeconfig itself');
    assert.equal(statSync(out).mode & 0o777, 0o600);
    // kubectl runs the plugin: the project's namespace is the default one.
    const r = await promisify(execFile)('kubectl', ['--kubeconfig', out, 'auth', 'can-i', 'create', 'instances.compute.stratus.io'], { env: { ...env, HOME: cloud.dir } }).catch((e) => e);
    assert.equal(String(r.stdout).trim(), 'yes', String(r.stderr));
    const listed = await promisify(execFile)('kubectl', ['--kubeconfig', out, 'get', 'instances'], { env: { ...env, HOME: cloud.dir } }).catch((e) => e);
    assert.match(String(listed.stderr) + String(listed.stdout), /No resources found in demo namespace/);
    const cached = readdirSync(join(cloud.dir, 'cache', 'stratus', 'tokens'));
    assert.equal(cached.length, 1, 'one cached token');
    assert.equal(statSync(join(cloud.dir, 'cache', 'stratus', 'tokens', cached[0])).mode & 0o777, 0o600);
    const again = JSON.parse((await promisify(execFile)(process.execPath, [CREDENTIAL, '--cloud', 'alice-demo'], { env })).stdout);
    assert.equal(again.kind, 'ExecCredential');
    assert.equal(again.status.token, JSON.parse(readFileSync(join(cloud.dir, 'cache', 'stratus', 'tokens', cached[0]), 'utf8')).token, 'the cached token is reused');
    const wrong = await promisify(execFile)(process.execPath, [CREDENTIAL, '--cloud', 'nobody'], { env }).catch((e) => e);
    assert.match(String(wrong.stderr), /no cloud "nobody"/);
  });

  it('signs in with an application credential from clouds.yaml: kubectl gets only the roles the credential carries', async () => {
    await openstackOk(cloud, ['role', 'add', '--project', 'demo', '--user', 'alice', 'reader']);
    const made = await openstack(cloud, ['application', 'credential', 'create', '--role', 'reader', 'kube-reader', '-f', 'json'], member('alice', 'demo'));
    assert.equal(made.code, 0, made.stderr);
    const credential = JSON.parse(made.stdout) as { id: string; secret: string };
    const clouds = join(cloud.dir, 'appcred-clouds.yaml');
    writeFileSync(clouds, stringify({ clouds: { 'alice-reader': { auth_type: 'v3applicationcredential', auth: { auth_url: cloud.admin().authUrl, application_credential_id: credential.id, application_credential_secret: credential.secret } } } }), { mode: 0o600 });
    const out = join(cloud.dir, 'kubeconfig-appcred');
    const env = { ...process.env, OS_CLIENT_CONFIG_FILE: clouds, XDG_CACHE_HOME: join(cloud.dir, 'cache-appcred'), HOME: cloud.dir };
    const login = await promisify(execFile)(process.execPath, [LOGIN, '--cloud', 'alice-reader', '--from', cloud.kubeconfig, '--kubeconfig', out], { env });
    assert.match(login.stdout, /user alice, namespace demo/);
    const who = JSON.parse((await promisify(execFile)('kubectl', ['--kubeconfig', out, 'auth', 'whoami', '-o', 'json'], { env })).stdout).status.userInfo;
    assert.deepEqual(who.extra['alpha.kubernetes.io/identity/roles'], ['reader'], "the credential's roles, not all of alice's");
    const can = (verb: string) => promisify(execFile)('kubectl', ['--kubeconfig', out, 'auth', 'can-i', verb, 'instances.compute.stratus.io'], { env }).then((r) => r.stdout.trim(), (e) => String(e.stdout).trim());
    assert.equal(await can('list'), 'yes');
    assert.equal(await can('create'), 'no', 'alice is a member, but this credential only reads');
  });

  it('refuses at once what the Compute API would: over quota (403, with Nova\'s words) and an unknown flavor (422); nothing is stored', async () => {
    await openstackOk(cloud, ['quota', 'set', '--cores', '2', 'demo']);
    const kc = kubeconfigWith('alice', await tokenOf('alice', 'demo'));
    await eventually('the quota seen by the Compute API', async () => {
      const r = await runKubectl(kc, cloud.dir, ['create', '--dry-run=server', '-f', '-'], instance('demo', 'wide', 'm1.wide'));
      return /exceeded quota/.test(r.stderr);
    }, 60_000, 500);
    const r = await runKubectl(kc, cloud.dir, ['apply', '-f', '-'], instance('demo', 'wide', 'm1.wide'));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error from server \(Forbidden\).*admission webhook "instances.compute.stratus.io" denied the request: exceeded quota: Quota exceeded for cores: Requested 4, but already used 0 of 2 cores/);
    assert.match((await kubectl(cloud.kubeconfig, 'get', 'instance', '-n', 'demo', 'wide')).stderr, /NotFound/, 'nothing was stored');
    const unknown = await runKubectl(kc, cloud.dir, ['create', '-f', '-'], instance('demo', 'odd', 'm9.none'));
    assert.match(unknown.stderr, /denied the request: .*spec.flavor: Flavor m9.none could not be found/);
    const fits = await runKubectl(kc, cloud.dir, ['create', '--dry-run=server', '-f', '-'], instance('demo', 'tiny', 'm1.tiny'));
    assert.equal(fits.code, 0, fits.stderr);
  });

  it('refuses at once what the Image and Block Storage APIs would, in their words: a public image, another project\'s image, a volume or a group over quota, a private volume type', async () => {
    const kc = kubeconfigWith('alice', await tokenOf('alice', 'demo'));
    const apply = (manifest: object) => runKubectl(kc, cloud.dir, ['create', '-f', '-'], JSON.stringify(manifest));
    const image = (name: string, visibility: string, namespace = 'demo') => ({ apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name, namespace }, spec: { diskFormat: 'raw', visibility } });
    const pub = await apply(image('for-everyone', 'public'));
    assert.match(pub.stderr, /admission webhook "images.image.stratus.io" denied the request: You are not authorized to create public images; only admins may publicize an image\./);
    assert.equal((await apply(image('mine', 'private'))).code, 0, 'a private image is the member\'s to make');
    // Another project's private image: Nova says it could not be found, as its API would.
    assert.equal((await runKubectl(cloud.kubeconfig, cloud.dir, ['create', '-f', '-'], JSON.stringify(image('theirs', 'private', 'other')))).code, 0);
    const borrow = JSON.stringify({ ...JSON.parse(instance('demo', 'borrow')), spec: { flavor: 'm1.tiny', image: { name: 'theirs', namespace: 'other' } } });
    await eventually("Nova has seen the other project's image", async () => /could not be found/.test((await runKubectl(kc, cloud.dir, ['create', '--dry-run=server', '-f', '-'], borrow)).stderr), 60_000, 500);
    const borrowed = await runKubectl(kc, cloud.dir, ['create', '-f', '-'], borrow);
    assert.match(borrowed.stderr, /The request is invalid: .*denied the request: .*spec\.image: Image other\/theirs could not be found\./);
    // Volumes: the quota as Cinder counts it, and a private type the project was not given.
    await openstackOk(cloud, ['quota', 'set', '--gigabytes', '3', 'demo']);
    await openstackOk(cloud, ['volume', 'type', 'create', '--private', 'vault']);
    const volume = (name: string, sizeGiB: number, volumeType?: string) => ({ apiVersion: 'blockstorage.stratus.io/v1alpha1', kind: 'Volume', metadata: { name, namespace: 'demo' }, spec: { sizeGiB, ...(volumeType ? { volumeType } : {}) } });
    await eventually('the gigabytes quota in effect', async () => /exceeded quota/.test((await runKubectl(kc, cloud.dir, ['create', '--dry-run=server', '-f', '-'], JSON.stringify(volume('big', 5)))).stderr), 60_000, 500);
    const big = await apply(volume('big', 5));
    assert.match(big.stderr, /Error from server \(Forbidden\).*admission webhook "volumes.blockstorage.stratus.io" denied the request: exceeded quota: VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota\. Requested 5G, quota is 3G and 0G has been consumed\./);
    const vault = await apply(volume('secret', 1, 'vault'));
    assert.match(vault.stderr, /The request is invalid: .*spec\.volumeType: Volume type with name vault could not be found\./);
    for (const [kind, name] of [['volume', 'big'], ['volume', 'secret'], ['image', 'for-everyone'], ['instance', 'borrow']])
      assert.match((await kubectl(cloud.kubeconfig, 'get', kind, '-n', 'demo', name)).stderr, /NotFound/, `no ${kind} ${name} was stored`);
    assert.equal((await apply(volume('small', 1))).code, 0, 'a volume within the quota is made');
    // Groups: Cinder's groups quota (which the openstack CLI does not set), set on the Tenant with kubectl.
    assert.equal((await kubectl(cloud.kubeconfig, 'patch', 'tenant', 'demo', '--type=merge', '-p', JSON.stringify({ spec: { quota: { groups: 0 } } }))).code, 0);
    const group = JSON.stringify({ apiVersion: 'blockstorage.stratus.io/v1alpha1', kind: 'VolumeGroup', metadata: { name: 'grouped', namespace: 'demo' }, spec: { groupType: 'default', volumeTypes: ['default'] } });
    await eventually('the groups quota in effect', async () => /exceeded quota/.test((await runKubectl(kc, cloud.dir, ['create', '--dry-run=server', '-f', '-'], group)).stderr), 60_000, 500);
    const grouped = await runKubectl(kc, cloud.dir, ['create', '-f', '-'], group);
    assert.match(grouped.stderr, /Error from server \(Forbidden\).*admission webhook "volumes.blockstorage.stratus.io" denied the request: exceeded quota: GroupLimitExceeded: Maximum number of groups allowed \(0\) exceeded/);
    assert.match((await kubectl(cloud.kubeconfig, 'get', 'volumegroup', '-n', 'demo', 'grouped')).stderr, /NotFound/, 'no group was stored');
    assert.equal((await kubectl(cloud.kubeconfig, 'patch', 'tenant', 'demo', '--type=merge', '-p', JSON.stringify({ spec: { quota: { groups: null } } }))).code, 0);
  });

  it("refuses at once what the Networking API would: a shared network and a gateway without SNAT (policy, 403) and one network over the quota (403, Neutron's words)", async () => {
    const kc = kubeconfigWith('alice', await tokenOf('alice', 'demo'));
    const network = (name: string, spec: object = {}) => JSON.stringify({ apiVersion: 'network.stratus.io/v1alpha1', kind: 'Network', metadata: { name, namespace: 'demo' }, spec });
    const shared = await runKubectl(kc, cloud.dir, ['create', '-f', '-'], network('everyone', { shared: true }));
    assert.match(shared.stderr, /Error from server \(Forbidden\).*admission webhook "networking.network.stratus.io" denied the request: \(rule:create_network:shared\) is disallowed by policy/);
    const router = JSON.stringify({ apiVersion: 'network.stratus.io/v1alpha1', kind: 'Router', metadata: { name: 'no-snat', namespace: 'demo' }, spec: { externalGateway: { network: 'public', networkNamespace: 'admin', enableSNAT: false } } });
    const noSnat = await runKubectl(kc, cloud.dir, ['create', '-f', '-'], router);
    assert.match(noSnat.stderr, /Error from server \(Forbidden\).*denied the request: \(rule:create_router:external_gateway_info:enable_snat\) is disallowed by policy/);
    assert.match((await kubectl(cloud.kubeconfig, 'get', 'router', '-n', 'demo', 'no-snat')).stderr, /NotFound/, 'no router no-snat was stored');
    await openstackOk(cloud, ['quota', 'set', '--networks', '1', 'demo']);
    assert.equal((await runKubectl(kc, cloud.dir, ['create', '-f', '-'], network('first'))).code, 0, 'a member makes a network with kubectl');
    await eventually('the network quota in effect', async () => /exceeded quota/.test((await runKubectl(kc, cloud.dir, ['create', '--dry-run=server', '-f', '-'], network('second'))).stderr), 60_000, 500);
    const second = await runKubectl(kc, cloud.dir, ['create', '-f', '-'], network('second'));
    assert.match(second.stderr, /Error from server \(Forbidden\).*denied the request: exceeded quota: Quota exceeded for resources: \['network'\]\./);
    for (const name of ['everyone', 'second']) assert.match((await kubectl(cloud.kubeconfig, 'get', 'network', '-n', 'demo', name)).stderr, /NotFound/, `no network ${name} was stored`);
    const listed = await openstackJson(cloud, ['network', 'list', '--project', 'demo']);
    assert.deepEqual(listed.map((n: { Name: string }) => n.Name), ['first'], 'the Networking API shows the one made with kubectl');
  });

  it('stops accepting a revoked token (within the webhook cache of 10 s)', async () => {
    const token = await tokenOf('bob', 'other');
    const kc = kubeconfigWith('bob', token);
    assert.equal((await kubectl(kc, 'get', 'instances', '-n', 'other')).code, 0);
    await openstackOk(cloud, ['token', 'revoke', token]);
    await eventually('the revoked token refused', async () => /Unauthorized|must be logged in/.test((await kubectl(kc, 'get', 'instances', '-n', 'other')).stderr), 60_000, 1000);
    assert.match((await kubectl(kubeconfigWith('nobody', 'not-a-token'), 'get', 'instances', '-n', 'other')).stderr, /Unauthorized|must be logged in/);
  });

  itAskedNothingTheChartRefuses(() => cloud);
});
