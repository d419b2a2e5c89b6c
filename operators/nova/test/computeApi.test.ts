/**
 * The Compute API v2.1 against real Keystone and the control plane (with the scheduler; guests are the e2e
 * tests' business): version discovery and microversions, Nova's documents and fault bodies, policy between
 * tenants, quotas, the checks on create and on each action, keypairs, flavors and server groups.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@stratus/apiserver';
import { MERGE_PATCH, createLogger, now, type KubeClient, type Manager } from '@stratus/runtime';
import { IMAGES } from '@stratus/glance';
import { TENANTS } from '@stratus/keystone';
import { call as identityCall, passwordAuth, startIdentityEnv, type IdentityEnv } from '@stratus/keystone/testing';
import { AGGREGATES, FLAVORS, HYPERVISORS, INSTANCES, KEYPAIRS, SECRETS, novaManager, startComputeApi, type ComputeApi, type Instance, type Keypair } from '../src/index.js';

const api = 'compute.stratus.io/v1alpha1';

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

describe('Compute API v2.1', function () {
  this.timeout(60_000);
  let identity: IdentityEnv;
  let client: KubeClient;
  let nova: Manager;
  let compute: ComputeApi;
  let base: string;
  let admin: string;
  let member: string;
  let heartbeat: NodeJS.Timeout;
  let work: string;

  /** One Compute API call, at a microversion when given. */
  async function call(method: string, path: string, opts: { token?: string; body?: unknown; version?: string } = {}): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (opts.token !== '') headers['X-Auth-Token'] = opts.token ?? admin;
    if (opts.version) headers['OpenStack-API-Version'] = `compute ${opts.version}`;
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  }
  const ok = async (method: string, path: string, opts: Parameters<typeof call>[2] = {}, expect = [200, 201, 202, 204]) => {
    const r = await call(method, path, opts);
    assert.ok(expect.includes(r.status), `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r;
  };
  const signIn = async (user: string, password: string, project: string) => (await identityCall(identity.v3, 'POST', '/auth/tokens', { body: passwordAuth(user, password, project) })).headers.get('x-subject-token')!;
  const boot = (name: string, extra: Record<string, unknown> = {}, token?: string, version?: string) => call('POST', '/servers', { token, version, body: { server: { name, imageRef: imageId, flavorRef: 'm1.small', ...extra } } });
  let imageId: string;
  let bigImageId: string;
  /** What the node agent would report once the guest runs. */
  const runAs = (inst: Instance, phase: string, powerState: string) =>
    client.patch(INSTANCES, inst.metadata.namespace, inst.metadata.name, { status: { phase, powerState, taskState: null, flavor: { name: inst.spec.flavor, vcpus: 1, ramMiB: 512, diskGiB: 1 }, image: { name: inst.spec.image!.name, namespace: inst.spec.image!.namespace ?? inst.metadata.namespace } } }, 'test', MERGE_PATCH, 'status');
  const instanceOf = async (id: string): Promise<Instance> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const found = (await client.list<Instance>(INSTANCES)).items.find((i) => i.metadata.uid === id);
      if (found?.status?.host || found?.status?.phase === 'ERROR') return found;
      if (Date.now() > deadline) throw new Error(`server ${id} was never scheduled: ${JSON.stringify(found?.status)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  /** Waits until the API shows the server so (the API reads from a cache a moment behind). */
  const shows = async (id: string, ok: (s: any) => boolean, token?: string, version?: string) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = (await call('GET', `/servers/${id}`, { token, version })).body.server;
      if (ok(s)) return s;
      if (Date.now() > deadline) throw new Error(`server ${id} never showed as expected: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'compute-api-'));
    identity = await startIdentityEnv();
    client = identity.client;
    admin = await signIn('admin', identity.adminPassword, 'admin');
    // A second tenant with a member user, made through the Identity API as a user would.
    const project = (await identityCall(identity.v3, 'POST', '/projects', { token: admin, body: { project: { name: 'acme' } } })).body.project;
    const user = (await identityCall(identity.v3, 'POST', '/users', { token: admin, body: { user: { name: 'wile', password: 'wile-pw', default_project_id: project.id } } })).body.user;
    const role = (await identityCall(identity.v3, 'GET', '/roles?name=member', { token: admin })).body.roles[0];
    await identityCall(identity.v3, 'PUT', `/projects/${project.id}/users/${user.id}/roles/${role.id}`, { token: admin });
    await eventually('member wile signed in', async () => !(!(member = await signIn('wile', 'wile-pw', 'acme').catch(() => ''))), 60_000);
    assert.ok(member, 'the member can sign in');

    const logger = createLogger('nova-test', 'error');
    nova = novaManager({ kubeConfig: identity.kubeConfig, logger });
    await nova.start();
    compute = await startComputeApi({ kubeConfig: identity.kubeConfig, logger, identityUrl: identity.v3, port: 0 });
    base = `${compute.url}/v2.1`;
    await client.create(HYPERVISORS, { apiVersion: api, kind: 'Hypervisor', metadata: { name: 'node-1' }, spec: { driver: 'fake', capacity: { vcpus: 8, ramMiB: 8192, diskGiB: 100 } } }, 'test');
    const beat = () => client.patch(HYPERVISORS, undefined, 'node-1', { status: { lastHeartbeat: now(), hypervisorType: 'QEMU', hypervisorVersion: '7.2.22' } }, 'test', MERGE_PATCH, 'status').catch(() => {});
    await beat();
    heartbeat = setInterval(beat, 5000);
    await client.create(FLAVORS, { apiVersion: api, kind: 'Flavor', metadata: { name: 'm1.small' }, spec: { vcpus: 1, ramMiB: 512, diskGiB: 1 } }, 'test');
    await client.create(FLAVORS, { apiVersion: api, kind: 'Flavor', metadata: { name: 'm1.medium' }, spec: { vcpus: 2, ramMiB: 1024, diskGiB: 2 } }, 'test');
    await client.create(FLAVORS, { apiVersion: api, kind: 'Flavor', metadata: { name: 'm1.tiny-disk' }, spec: { vcpus: 1, ramMiB: 256, diskGiB: 1 } }, 'test');
    // Images as Glance leaves them once active; one named by a person has its UID as its ID.
    const image = async (name: string, virtualSize: number) => {
      const made = await client.create<{ metadata: { uid: string } } & any>(IMAGES, { apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name, namespace: 'admin' }, spec: { diskFormat: 'qcow2', visibility: 'public' } }, 'test');
      await client.patch(IMAGES, 'admin', name, { status: { phase: 'active', imageId: made.metadata.uid, size: 1 << 20, virtualSize } }, 'test', MERGE_PATCH, 'status');
      return made.metadata.uid as string;
    };
    imageId = await image('cirros', 1 << 30);
    bigImageId = await image('big', 5 * 1024 ** 3);
    // The API's caches fill from watches: wait for the flavors and images to be there.
    await eventually('the three flavors listed', async () => !((await call('GET', '/flavors')).body.flavors.length < 3), 60_000);
    await eventually('the big image in the API\'s cache', async () => !(!compute.directory.images.byId(bigImageId)), 60_000);
  });
  after(async () => {
    clearInterval(heartbeat);
    await compute?.close();
    await nova?.stop();
    await identity?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('answers version discovery, serves the asked microversion, and refuses ones out of range', async () => {
    const root = await call('GET', '', { token: '' });
    assert.equal(root.status, 200);
    assert.deepEqual(root.body.version, { id: 'v2.1', status: 'CURRENT', version: '2.73', min_version: '2.1', updated: '2013-07-23T11:33:21Z', links: [{ rel: 'self', href: `${base}/` }], 'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }] });
    const plain = await call('GET', '/flavors');
    assert.equal(plain.headers.get('openstack-api-version'), 'compute 2.1');
    const latest = await call('GET', '/flavors', { version: 'latest' });
    assert.equal(latest.headers.get('openstack-api-version'), 'compute 2.73');
    assert.equal(latest.headers.get('x-openstack-nova-api-version'), '2.73');
    const tooNew = await call('GET', '/flavors', { version: '2.999' });
    assert.equal(tooNew.status, 406);
    assert.deepEqual(tooNew.body, { computeFault: { code: 406, message: 'Version 2.999 is not supported by the API. Minimum is 2.1 and maximum is 2.73.' } });
    const garbled = await call('GET', '/flavors', { version: 'two' });
    assert.equal(garbled.status, 400);
    assert.match(garbled.body.badRequest.message, /is of invalid format/);
    const anonymous = await call('GET', '/servers', { token: '' });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.error.code, 401);
    const missing = await call('GET', '/servers/00000000-0000-4000-8000-000000000000');
    assert.deepEqual(missing.body, { itemNotFound: { code: 404, message: 'Instance 00000000-0000-4000-8000-000000000000 could not be found.' } });
  });

  it('lets admins make flavors (the name is the ID where it can be) and extra specs; shows them per microversion', async () => {
    const made = await ok('POST', '/flavors', { body: { flavor: { name: 'm2.large', vcpus: 4, ram: 4096, disk: 20, id: 'auto' } } });
    assert.equal(made.body.flavor.id, 'm2.large');
    const spaced = await ok('POST', '/flavors', { body: { flavor: { name: 'My Flavor', vcpus: 1, ram: 128, disk: 0 } } });
    assert.match(spaced.body.flavor.id, /^[0-9a-f-]{36}$/, 'a name that cannot be an object name gets a UUID');
    assert.equal(spaced.body.flavor.name, 'My Flavor');
    const denied = await call('POST', '/flavors', { token: member, body: { flavor: { name: 'x', vcpus: 1, ram: 1, disk: 0 } } });
    assert.equal(denied.status, 403);
    assert.ok(denied.body.forbidden);
    await ok('POST', '/flavors/m2.large/os-extra_specs', { body: { extra_specs: { 'hw:cpu_policy': 'shared' } } });
    const old = (await call('GET', '/flavors/m2.large')).body.flavor;
    assert.deepEqual(
      { ram: old.ram, vcpus: old.vcpus, disk: old.disk, swap: old.swap, eph: old['OS-FLV-EXT-DATA:ephemeral'], pub: old['os-flavor-access:is_public'], extra: old.extra_specs },
      { ram: 4096, vcpus: 4, disk: 20, swap: '', eph: 0, pub: true, extra: undefined },
    );
    const newer = (await call('GET', '/flavors/m2.large', { version: '2.61' })).body.flavor;
    assert.deepEqual(newer.extra_specs, { 'hw:cpu_policy': 'shared' });
    assert.equal(newer.description, null);
    assert.equal((await call('DELETE', '/flavors/m2.large/os-extra_specs/hw:cpu_policy')).status, 200, "Nova's status for unsetting a spec");
    assert.equal((await call('DELETE', `/flavors/${spaced.body.flavor.id}`)).status, 202);
    assert.equal((await call('GET', `/flavors/${spaced.body.flavor.id}`)).status, 404);
    // is_public as Nova's schema takes it: 'False', 'yes', 0 …
    for (const [given, expected] of [['False', false], ['yes', true], [0, false]] as const) {
      const f = await ok('POST', '/flavors', { body: { flavor: { name: `pub-${String(given)}`, vcpus: 1, ram: 64, disk: 0, 'os-flavor-access:is_public': given } } });
      assert.equal(f.body.flavor['os-flavor-access:is_public'], expected, `is_public ${JSON.stringify(given)}`);
      assert.equal((await call('DELETE', `/flavors/${f.body.flavor.id}`)).status, 202);
    }
    assert.equal((await call('POST', '/flavors', { body: { flavor: { name: 'pub-bad', vcpus: 1, ram: 64, disk: 0, 'os-flavor-access:is_public': 'maybe' } } })).status, 400);
  });

  it('imports keypairs (with Nova’s fingerprint) and generates them (a private key that matches)', async () => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, 'id')]);
    const pub = execFileSync('cat', [join(work, 'id.pub')], { encoding: 'utf8' }).trim();
    const imported = await ok('POST', '/os-keypairs', { token: member, version: '2.2', body: { keypair: { name: 'mine', public_key: pub } } });
    assert.equal(imported.status, 201);
    const md5 = execFileSync('ssh-keygen', ['-l', '-E', 'md5', '-f', join(work, 'id.pub')], { encoding: 'utf8' }).split(' ')[1].replace(/^MD5:/, '');
    assert.equal(imported.body.keypair.fingerprint, md5);
    assert.equal(imported.body.keypair.type, 'ssh');
    const generated = await ok('POST', '/os-keypairs', { token: member, body: { keypair: { name: 'made' } } });
    writeFileSync(join(work, 'made'), generated.body.keypair.private_key, { mode: 0o600 });
    const derived = execFileSync('ssh-keygen', ['-y', '-f', join(work, 'made')], { encoding: 'utf8' }).trim();
    assert.equal(derived.split(' ').slice(0, 2).join(' '), generated.body.keypair.public_key.split(' ').slice(0, 2).join(' '), 'the private key belongs to the public key');
    assert.equal((await call('POST', '/os-keypairs', { token: member, body: { keypair: { name: 'mine', public_key: pub } } })).status, 409);
    const x509 = await ok('POST', '/os-keypairs', { token: member, version: '2.2', body: { keypair: { name: 'cert', type: 'x509' } } });
    assert.equal(x509.body.keypair.type, 'x509');
    assert.match(x509.body.keypair.public_key, /^-----BEGIN CERTIFICATE-----/, 'a certificate Nova made');
    assert.match(x509.body.keypair.private_key, /^-----BEGIN PRIVATE KEY-----/);
    assert.match(x509.body.keypair.fingerprint, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
    assert.equal((await call('DELETE', '/os-keypairs/cert', { token: member })).status, 202);
    const bad = await call('POST', '/os-keypairs', { token: member, body: { keypair: { name: 'bad', public_key: 'ssh-rsa not-a-key' } } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.badRequest.message, /Keypair data is invalid/);
    assert.deepEqual((await call('GET', '/os-keypairs', { token: member })).body.keypairs.map((k: any) => k.keypair.name), ['made', 'mine']);
    assert.deepEqual((await call('GET', '/os-keypairs')).body.keypairs, [], "the admin's tenant has none: keypairs are the tenant's own");
    assert.equal((await call('DELETE', '/os-keypairs/made', { token: member })).status, 202);
  });

  it('keeps keypairs per user: two users of one project each have their own "laptop key", and a server shows the one its user booted with', async () => {
    const project = (await identityCall(identity.v3, 'GET', '/projects?name=acme', { token: admin })).body.projects[0];
    const roadRunner = (await identityCall(identity.v3, 'POST', '/users', { token: admin, body: { user: { name: 'Road Runner', password: 'beep-beep' } } })).body.user;
    const role = (await identityCall(identity.v3, 'GET', '/roles?name=member', { token: admin })).body.roles[0];
    await identityCall(identity.v3, 'PUT', `/projects/${project.id}/users/${roadRunner.id}/roles/${role.id}`, { token: admin });
    let other = '';
    await eventually('Road Runner signed in', async () => !(!(other = await signIn('Road Runner', 'beep-beep', 'acme').catch(() => ''))), 60_000);
    const mine = await ok('POST', '/os-keypairs', { token: member, body: { keypair: { name: 'laptop key' } } });
    const theirs = await ok('POST', '/os-keypairs', { token: other, body: { keypair: { name: 'laptop key' } } });
    assert.equal(mine.body.keypair.name, 'laptop key');
    assert.notEqual(mine.body.keypair.public_key, theirs.body.keypair.public_key);
    assert.equal((await call('POST', '/os-keypairs', { token: other, body: { keypair: { name: 'laptop key' } } })).status, 409, 'unique per user');
    const bad = await call('POST', '/os-keypairs', { token: other, body: { keypair: { name: 'laptop/key' } } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.badRequest.message, /unsafe characters/);
    const shown = await ok('GET', `/os-keypairs/${encodeURIComponent('laptop key')}`, { token: other });
    assert.equal(shown.body.keypair.public_key, theirs.body.keypair.public_key, 'each user sees their own');
    assert.equal(shown.body.keypair.user_id, roadRunner.id);
    const listed = (await call('GET', '/os-keypairs', { token: other })).body.keypairs.map((k: any) => k.keypair.name);
    assert.deepEqual(listed, ['laptop key'], "another user's keypairs are not listed");
    // Both are Keypair objects in the tenant's namespace, with derived names and the OpenStack name beside them.
    const objects = (await client.list<Keypair>(KEYPAIRS, 'acme')).items.filter((k) => k.spec.displayName === 'laptop key');
    assert.equal(objects.length, 2);
    for (const k of objects) assert.match(k.metadata.name, /^laptop-key-[a-z0-9]{5}$/);
    const used = async () => (await call('GET', '/limits', { token: other })).body.limits.absolute.totalInstancesUsed;
    const usedBefore = await used();
    const booted = await boot('keyed', { key_name: 'laptop key' }, other);
    assert.equal(booted.status, 202, JSON.stringify(booted.body));
    const created = booted.body.server;
    const inst = (await client.list<Instance>(INSTANCES, 'acme')).items.find((i) => i.metadata.uid === created.id)!;
    assert.equal(inst.spec.keypair, objects.find((k) => k.spec.user === roadRunner.id)!.metadata.name, "the booting user's own keypair");
    assert.equal((await shows(created.id, (s) => !!s, other)).key_name, 'laptop key');
    assert.equal((await call('DELETE', `/servers/${created.id}`, { token: other })).status, 204);
    // The scheduler gives the claim back after the delete: the quota tests below count from there.
    await eventually('the usage to change', async () => !((await used()) !== usedBefore), 60_000);
    assert.equal(await used(), usedBefore, 'the deleted server no longer counts');
    for (const t of [member, other]) assert.equal((await call('DELETE', `/os-keypairs/${encodeURIComponent('laptop key')}`, { token: t })).status, 202);

    // From 2.10 an admin manages another user's keypairs (in the admin's tenant, where keypairs live here).
    const forRunner = await ok('POST', '/os-keypairs', { version: '2.10', body: { keypair: { name: 'ops key', user_id: roadRunner.id } } });
    assert.equal(forRunner.body.keypair.user_id, roadRunner.id);
    assert.equal((await call('POST', '/os-keypairs', { token: other, version: '2.10', body: { keypair: { name: 'x', user_id: 'someone-else' } } })).status, 403, 'members manage only their own');
    assert.equal((await ok('GET', `/os-keypairs/ops%20key?user_id=${roadRunner.id}`, { version: '2.10' })).body.keypair.user_id, roadRunner.id);
    assert.equal((await call('GET', '/os-keypairs/ops%20key', { version: '2.10' })).status, 404, "not the admin's own");
    assert.deepEqual((await ok('GET', `/os-keypairs?user_id=${roadRunner.id}`, { version: '2.10' })).body.keypairs.map((k: any) => k.keypair.name), ['ops key']);
    assert.equal((await call('DELETE', `/os-keypairs/ops%20key?user_id=${roadRunner.id}`, { version: '2.10' })).status, 204);
  });

  it('holds flavor names unique under a race: one of many creates wins, and the name is free again after a delete', async () => {
    const make = () => call('POST', '/flavors', { body: { flavor: { name: 'Large Memory', vcpus: 1, ram: 64, disk: 1 } } });
    const results = await Promise.all(Array.from({ length: 8 }, make));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, ...Array(7).fill(409)]);
    const made = results.find((r) => r.status === 200)!.body.flavor;
    assert.equal(made.name, 'Large Memory');
    assert.match(results.find((r) => r.status === 409)!.body.conflictingRequest.message, /Flavor with name Large Memory already exists/);
    assert.equal((await client.list<any>(FLAVORS)).items.filter((f) => f.spec.displayName === 'Large Memory').length, 1);
    assert.equal((await call('DELETE', `/flavors/${made.id}`)).status, 202);
    let again = await make();
    for (let i = 0; again.status === 409 && i < 600; i++) {
      await new Promise((r) => setTimeout(r, 100)); // the claim goes with the deleted flavor (garbage collection)
      again = await make();
    }
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal((await call('DELETE', `/flavors/${again.body.flavor.id}`)).status, 202);
  });

  it('creates servers with Nova’s checks, and shows them as the microversion asks', async () => {
    const created = await boot('web-1', { key_name: 'mine', metadata: { role: 'web' }, user_data: Buffer.from('#!/bin/sh\n').toString('base64') }, member);
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const id = created.body.server.id;
    assert.equal(created.headers.get('location'), `${base}/servers/${id}`);
    assert.equal(created.body.server['OS-DCF:diskConfig'], 'MANUAL');
    assert.match(created.body.server.adminPass, /^[A-Za-z0-9]{12}$/, "Nova's made-up admin password");
    const inst = await instanceOf(id);
    const secret: any = await client.get(SECRETS, 'acme', inst.spec.adminPassSecret!);
    assert.equal(Buffer.from(secret.data.adminPass, 'base64').toString(), created.body.server.adminPass, 'kept for the config drive');
    assert.equal(secret.metadata.ownerReferences[0].uid, inst.metadata.uid, 'and goes with the server');
    // (In the admin's tenant, whose usage the quota test below does not count.)
    const given = await boot('given-pass', { adminPass: 'Pa55 w0rd!' });
    assert.equal(given.body.server.adminPass, 'Pa55 w0rd!');
    assert.equal((await boot('bad-pass', { adminPass: 42 })).status, 400);
    assert.equal((await call('DELETE', `/servers/${given.body.server.id}`)).status, 204);
    // enable_instance_password off (NOVA_ENABLE_INSTANCE_PASSWORD=false): no password in the answer.
    const quiet = await startComputeApi({ kubeConfig: identity.kubeConfig, logger: createLogger('nova-test', 'error'), identityUrl: identity.v3, port: 0, enableInstancePassword: false });
    try {
      const r = await fetch(`${quiet.url}/v2.1/servers`, { method: 'POST', headers: { 'X-Auth-Token': admin, 'Content-Type': 'application/json' }, body: JSON.stringify({ server: { name: 'no-pass', imageRef: imageId, flavorRef: 'm1.small' } }) });
      const body = (await r.json()) as any;
      assert.equal(r.status, 202, JSON.stringify(body));
      assert.equal(body.server.adminPass, undefined);
      assert.equal((await call('DELETE', `/servers/${body.server.id}`)).status, 204);
    } finally {
      await quiet.close();
    }
    assert.equal(inst.metadata.namespace, 'acme');
    assert.equal(inst.metadata.name, 'web-1', 'a name that is a valid object name names the Instance');
    assert.equal(inst.status?.host, 'node-1');
    await runAs(inst, 'ACTIVE', 'Running');
    const old = await shows(id, (s) => s.status === 'ACTIVE', member);
    assert.deepEqual(old.flavor, { id: 'm1.small', links: [{ rel: 'bookmark', href: `${compute.url}/flavors/m1.small` }] });
    assert.deepEqual(old.image, { id: imageId, links: [{ rel: 'bookmark', href: `${compute.url}/images/${imageId}` }] });
    assert.equal(old['OS-EXT-STS:vm_state'], 'active');
    assert.equal(old['OS-EXT-STS:power_state'], 1);
    assert.equal(old.key_name, 'mine');
    assert.deepEqual(old.metadata, { role: 'web' });
    assert.equal(old['OS-EXT-SRV-ATTR:host'], undefined, 'members do not see hosts');
    assert.match(old.hostId, /^[0-9a-f]{56}$/);
    assert.equal(old.tenant_id, (await client.get<{ status: { projectId: string } } & any>(TENANTS, undefined, 'acme'))!.status.projectId);
    const v247 = (await call('GET', `/servers/${id}`, { token: member, version: '2.73' })).body.server;
    assert.deepEqual(v247.flavor, { vcpus: 1, ram: 512, disk: 1, ephemeral: 0, swap: 0, original_name: 'm1.small', extra_specs: {} });
    assert.deepEqual([v247.locked, v247.description, v247.tags, v247.locked_reason], [false, null, [], null]);
    const asAdmin = (await call('GET', `/servers/${id}`, { version: '2.16' })).body.server;
    assert.equal(asAdmin['OS-EXT-SRV-ATTR:host'], 'node-1');
    assert.equal(asAdmin.host_status, 'UP');
    assert.equal((await call('GET', `/servers/${id}`)).status, 200, 'admins see every tenant’s servers');
  });

  it('refuses bad servers with the reason and makes nothing', async () => {
    const before = (await client.list(INSTANCES)).items.length;
    const cases: Array<[Record<string, unknown>, number, RegExp, string?]> = [
      [{ flavorRef: 'm9.none' }, 400, /Flavor m9\.none could not be found\./],
      [{ imageRef: '00000000-0000-4000-8000-000000000000' }, 400, /Image 00000000-0000-4000-8000-000000000000 could not be found\./],
      [{ imageRef: bigImageId, flavorRef: 'm1.tiny-disk' }, 400, /Flavor's disk is too small for requested image\. Flavor disk is 1 GiB, image is 5 GiB\./],
      [{ user_data: 'not base 64!' }, 400, /User data needs to be valid base 64/],
      [{ security_groups: [{ name: 'no-such-group' }] }, 400, /Security group no-such-group not found/],
      [{ key_name: 'nope' }, 400, /Invalid key_name provided/],
      [{}, 400, /'networks' is a required property/, '2.37'],
      [{ name: '' }, 400, /'name' must be a string/],
    ];
    for (const [extra, status, message, version] of cases) {
      const r = await boot('bad', extra, member, version);
      assert.equal(r.status, status, JSON.stringify(extra));
      assert.match(r.body.badRequest.message, message);
    }
    assert.equal((await client.list(INSTANCES)).items.length, before);
  });

  it('keeps tenants apart and enforces the tenant quota, as Nova does (403)', async () => {
    const theirs = (await boot('admins-own', {})).body.server.id;
    assert.equal((await call('GET', `/servers/${theirs}`, { token: member })).status, 404, "another tenant's server does not exist for you");
    const list = (await call('GET', '/servers', { token: member })).body.servers.map((s: any) => s.name);
    assert.deepEqual(list, ['web-1']);
    assert.equal((await call('GET', '/servers?all_tenants=1', { token: member })).status, 403);
    const acmeId = (await identityCall(identity.v3, 'GET', '/projects?name=acme', { token: admin })).body.projects[0].id;
    const acmeServers = (await call('GET', `/servers?all_tenants=&tenant_id=${acmeId}`)).body.servers;
    assert.ok(acmeServers.length > 0, "an empty all_tenants means yes, as Nova reads it; tenant_id narrows to acme's");
    assert.deepEqual((await call('GET', `/servers?tenant_id=${acmeId}`)).body.servers.filter((s: any) => acmeServers.some((a: any) => a.id === s.id)), [], 'without all_tenants a tenant_id is ignored (Nova v2)');
    await client.patch(TENANTS, undefined, 'acme', { spec: { quota: { instances: 2, cores: 10 } } }, 'test', MERGE_PATCH);
    await eventually('acme\'s instance quota of 2 in the API\'s cache', async () => !(compute.directory.tenants.get('acme')?.spec?.quota?.instances !== 2), 60_000);
    const multi = await boot('many', { min_count: 1, max_count: 5 }, member);
    assert.equal(multi.status, 202, 'as many as the quota allows');
    const names = (await call('GET', '/servers', { token: member })).body.servers.map((s: any) => s.name).sort();
    assert.deepEqual(names, ['many', 'web-1']);
    const over = await boot('one-more', {}, member);
    assert.equal(over.status, 403);
    assert.equal(over.body.forbidden.message, 'Quota exceeded for instances: Requested 1, but already used 2 of 2 instances', JSON.stringify((await client.list<Instance>(INSTANCES)).items.map((i) => [i.metadata.namespace, i.metadata.name, i.metadata.deletionTimestamp, i.status?.phase])));
    const limits = (await call('GET', '/limits', { token: member })).body.limits.absolute;
    assert.deepEqual([limits.maxTotalInstances, limits.maxTotalCores, limits.maxTotalRAMSize, limits.totalInstancesUsed, limits.totalCoresUsed, limits.totalRAMUsed], [2, 10, -1, 2, 2, 1024]);
    assert.equal((await call('DELETE', `/servers/${multi.body.server.id}`, { token: member })).status, 204);
  });

  it('bounds the work one request can ask for: regex name filters run in linear time, and server counts are checked before anything is made', async () => {
    // A name that makes a backtracking engine take exponential time on ^(a+)+$ (about 2^30 steps here).
    const slow = await boot(`${'a'.repeat(30)}!`, {}, member);
    assert.equal(slow.status, 202);
    const found = await call('GET', `/servers?name=${encodeURIComponent('^(a+)+$')}`, { token: member });
    assert.equal(found.status, 200);
    assert.deepEqual(found.body.servers, [], 'no match, found without backtracking');
    assert.equal((await call('GET', `/servers?name=${encodeURIComponent('^a{30}!')}`, { token: member })).body.servers.length, 1);
    assert.equal((await call('GET', `/servers?name=${encodeURIComponent('(unclosed')}`, { token: member })).status, 400);
    assert.equal((await call('DELETE', `/servers/${slow.body.server.id}`, { token: member })).status, 204);
    for (const max_count of [1e308, -1, 1.5, 'many']) assert.equal((await boot('huge', { max_count }, member)).status, 400, `max_count ${max_count}`);
    const overQuota = await boot('huge', { min_count: 1e6 }, member);
    assert.equal(overQuota.status, 403, 'the quota says how many at once, worked out rather than tried one by one');
    assert.match(overQuota.body.forbidden.message, /Requested 1000000/);
    assert.equal((await boot('huge', { min_count: 1e6 })).status, 400, "an unlimited tenant's request is bounded too");
  });

  it('admits exactly what the quota allows when many creates arrive at once', async () => {
    const acme = (await identityCall(identity.v3, 'GET', '/projects?name=acme', { token: admin })).body.projects[0].id;
    const detail = (await ok('GET', `/os-quota-sets/${acme}/detail`)).body.quota_set;
    // Room for ten more servers (m1.small: one vCPU each), and no more.
    await ok('PUT', `/os-quota-sets/${acme}`, { body: { quota_set: { instances: detail.instances.in_use + 10, cores: detail.cores.in_use + 10 } } });
    const answers = await Promise.all(Array.from({ length: 30 }, (_, n) => boot(`rush-${n}`, {}, member)));
    const accepted = answers.filter((a) => a.status === 202);
    assert.equal(accepted.length, 10, `statuses: ${answers.map((a) => a.status).join(' ')}`);
    assert.equal(answers.filter((a) => a.status === 403).length, 20, 'the rest over quota, refused before anything is made');
    for (const a of accepted) await ok('DELETE', `/servers/${a.body.server.id}`, { token: member });
    await ok('PUT', `/os-quota-sets/${acme}`, { body: { quota_set: { instances: detail.instances.limit, cores: detail.cores.limit } } });
  });

  it('refuses what Nova refuses: bodies that are not JSON, limits that are not whole numbers, sizes past 32 bits, inherited names', async () => {
    const plain = await fetch(`${base}/servers`, { method: 'POST', headers: { 'X-Auth-Token': admin, 'Content-Type': 'text/plain' }, body: JSON.stringify({ server: { name: 'x', imageRef: imageId, flavorRef: 'm1.small' } }) });
    assert.equal(plain.status, 415);
    for (const q of ['limit=-1', 'limit=abc', 'limit=1e3']) {
      assert.equal((await call('GET', `/servers?${q}`)).status, 400, `servers ${q}`);
      assert.equal((await call('GET', `/flavors?${q}`)).status, 400, `flavors ${q}`);
    }
    assert.equal((await call('GET', '/flavors?minRam=lots')).status, 400);
    assert.equal((await call('GET', '/servers?limit=1')).status, 200);
    for (const vcpus of [1e300, 2 ** 31]) assert.equal((await call('POST', '/flavors', { body: { flavor: { name: 'huge', vcpus, ram: 512, disk: 1 } } })).status, 400, `vcpus ${vcpus}`);
    const id = (await call('GET', '/servers?name=^web-1$', { token: member })).body.servers[0].id;
    assert.equal((await call('GET', `/servers/${id}/metadata/toString`, { token: member })).status, 404, 'an inherited property is no metadata item');
    assert.equal((await call('DELETE', `/servers/${id}/metadata/constructor`, { token: member })).status, 404);

    // Fields Nova's schemas do not allow are a 400 naming them, and nothing is made or changed.
    const before = (await call('GET', '/servers', { token: member })).body.servers.length;
    const typo = await boot('typo', { flavorref: 'm1.small' }, member);
    assert.equal(typo.status, 400);
    assert.match(typo.body.badRequest.message, /'flavorref' was unexpected/);
    assert.match((await boot('late', { hostname: 'h' }, member, '2.73')).body.badRequest.message, /'hostname' was unexpected/, 'a field of a later microversion');
    assert.match((await boot('early', { description: 'd' }, member, '2.18')).body.badRequest.message, /'description' was unexpected/);
    assert.equal((await boot('described', { description: 'd' }, member, '2.19')).status, 202, 'the same field where its microversion allows it');
    assert.match((await boot('sg', { security_groups: [{ name: 'default', id: 'x' }] }, member)).body.badRequest.message, /attribute security_groups.*'id' was unexpected/);
    assert.equal((await call('GET', '/servers', { token: member })).body.servers.length, before + 1, 'only the valid create made a server');
    const rename = await call('PUT', `/servers/${id}`, { token: member, body: { server: { name: 'web-1b', color: 'red' } } });
    assert.equal(rename.status, 400);
    assert.equal((await call('GET', `/servers/${id}`, { token: member })).body.server.name, 'web-1', 'a refused update changes nothing');
    assert.match((await call('POST', `/servers/${id}/action`, { token: member, body: { reboot: { type: 'SOFT', force: true } } })).body.badRequest.message, /'force' was unexpected/);
    assert.equal((await call('POST', '/os-keypairs', { token: member, body: { keypair: { name: 'k', type: 'ssh' } } })).status, 400, "keypair 'type' comes with 2.2");
    assert.equal((await call('POST', '/flavors', { body: { flavor: { name: 'f', vcpus: 1, ram: 512, disk: 1, extra_specs: {} } } })).status, 400);
    assert.equal((await call('POST', '/servers', { token: member, body: { server: { name: 'x', imageRef: imageId, flavorRef: 'm1.small' }, extra: 1 } })).status, 400, 'a top-level stray');
    const described = (await call('GET', '/servers?name=^described$', { token: member })).body.servers[0];
    assert.equal((await call('DELETE', `/servers/${described.id}`, { token: member })).status, 204);
  });

  it('shows and sets the tenant quota through os-quota-sets, the same quota the scheduler enforces', async () => {
    const acme = (await identityCall(identity.v3, 'GET', '/projects?name=acme', { token: admin })).body.projects[0].id;
    const shown = await call('GET', `/os-quota-sets/${acme}`, { token: member });
    assert.equal(shown.status, 200, JSON.stringify(shown.body));
    assert.deepEqual([shown.body.quota_set.id, shown.body.quota_set.instances, shown.body.quota_set.cores, shown.body.quota_set.ram], [acme, 2, 10, -1], "the Tenant's spec.quota; -1 is unlimited");
    for (const key of ['key_pairs', 'metadata_items', 'server_groups', 'server_group_members']) assert.ok(key in shown.body.quota_set, key);
    assert.equal((await call('GET', `/os-quota-sets/${acme}/defaults`, { token: member })).body.quota_set.instances, -1);
    const detail = (await call('GET', `/os-quota-sets/${acme}/detail`, { token: member })).body.quota_set;
    assert.deepEqual(detail.instances, { limit: 2, in_use: 1, reserved: 0 });
    assert.equal((await call('GET', '/os-quota-sets/not-a-project')).status, 404);
    assert.equal((await call('PUT', `/os-quota-sets/${acme}`, { token: member, body: { quota_set: { instances: 50 } } })).status, 403);
    const set = await call('PUT', `/os-quota-sets/${acme}`, { body: { quota_set: { instances: 1, ram: 4096 } } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual([set.body.quota_set.instances, set.body.quota_set.ram], [1, 4096]);
    assert.equal((await call('PUT', `/os-quota-sets/${acme}`, { body: { quota_set: { instances: -5 } } })).status, 400);
    assert.equal((await call('PUT', `/os-quota-sets/${acme}`, { body: { quota_set: { colours: 3 } } })).status, 400, 'no such quota');
    const network = await call('PUT', `/os-quota-sets/${acme}`, { body: { quota_set: { floating_ips: 3 } } });
    assert.equal(network.body.quota_set.floating_ips, 3, "kept and shown before 2.36, as Nova with Neutron keeps them");
    assert.equal((await call('GET', `/os-quota-sets/${acme}`, { version: '2.36' })).body.quota_set.floating_ips, undefined, 'gone from 2.36');
    const tenant = (await client.get<any>(TENANTS, undefined, 'acme'))!;
    assert.deepEqual([tenant.spec.quota.instances, tenant.spec.quota.ramMiB], [1, 4096], 'written to the Tenant');
    const over = await boot('over-quota', {}, member);
    assert.equal(over.status, 403, 'and enforced');
    assert.equal((await call('DELETE', `/os-quota-sets/${acme}`)).status, 202);
    assert.equal((await call('GET', `/os-quota-sets/${acme}`, { token: member })).body.quota_set.instances, -1, 'back to the default: unlimited');
    assert.equal((await call('GET', '/os-quota-class-sets/default')).body.quota_class_set.cores, -1);

    // The default class: limits for tenants without their own, kept in a ConfigMap the scheduler reads too.
    assert.equal((await call('PUT', '/os-quota-class-sets/default', { token: member, body: { quota_class_set: { instances: 7 } } })).status, 403);
    assert.equal((await call('PUT', '/os-quota-class-sets/default', { body: { quota_class_set: { colours: 7 } } })).status, 400, 'no such quota');
    assert.equal((await ok('PUT', '/os-quota-class-sets/default', { body: { quota_class_set: { instances: 7, cores: 20 } } })).body.quota_class_set.instances, 7);
    assert.deepEqual((await client.get<any>({ group: '', version: 'v1', plural: 'configmaps', namespaced: true }, 'stratus-system', 'compute-default-quotas'))!.data, { instances: '7', cores: '20' });
    assert.equal((await ok('GET', `/os-quota-sets/${acme}`, { token: member })).body.quota_set.instances, 7, "the tenant has none of its own: the default's");
    assert.equal((await ok('GET', `/os-quota-sets/${acme}/defaults`, { token: member })).body.quota_set.cores, 20);
    await ok('PUT', '/os-quota-class-sets/default', { body: { quota_class_set: { instances: -1, cores: -1 } } });
    assert.equal((await ok('GET', '/os-quota-class-sets/default')).body.quota_class_set.instances, -1, 'unlimited again');

    // The other quotas Nova enforces, enforced: keypairs per user, metadata items per server, members per group.
    await ok('PUT', `/os-quota-sets/${acme}`, { body: { quota_set: { key_pairs: 0, metadata_items: 2, server_group_members: 0 } } });
    const kp = await call('POST', '/os-keypairs', { token: member, body: { keypair: { name: 'one-too-many' } } });
    assert.equal(kp.status, 403);
    assert.equal(kp.body.forbidden.message, 'Quota exceeded, too many key pairs.');
    const meta = await boot('too-much-metadata', { metadata: { a: '1', b: '2', c: '3' } }, member);
    assert.equal(meta.status, 403);
    assert.match(meta.body.forbidden.message, /metadata_items/);
    const group = (await ok('POST', '/os-server-groups', { token: member, body: { server_group: { name: 'full', policies: ['affinity'] } } })).body.server_group;
    const member1 = await call('POST', '/servers', { token: member, body: { server: { name: 'in-group', imageRef: imageId, flavorRef: 'm1.small' }, 'os:scheduler_hints': { group: group.id } } });
    assert.equal(member1.status, 403);
    assert.match(member1.body.forbidden.message, /too many servers in group/);
    assert.equal((await call('POST', '/servers', { token: member, body: { server: { name: 'filed', imageRef: imageId, flavorRef: 'm1.small', personality: [{ path: '/etc/motd', contents: 'aGk=' }] } } })).status, 400, 'personality is refused rather than ignored');
    await ok('DELETE', `/os-server-groups/${group.id}`, { token: member });
    await ok('DELETE', `/os-quota-sets/${acme}`);
  });

  it('keeps a server\'s history as instance actions (Kubernetes Events on the Instance), locks it, and keeps its access addresses', async () => {
    const booted = await boot('history', { accessIPv4: '192.0.2.10', accessIPv6: '2001:0db8:0000:0000:0000:0000:192.0.2.16' }, member);
    assert.equal(booted.status, 202, JSON.stringify(booted.body));
    const id = booted.body.server.id;
    const createRequest = booted.headers.get('x-compute-request-id')!;
    assert.match(createRequest, /^req-[0-9a-f-]{36}$/);
    assert.equal(booted.headers.get('x-openstack-request-id'), createRequest);
    const inst = await instanceOf(id);
    await runAs(inst, 'ACTIVE', 'Running');
    const shown = await shows(id, (s) => s.status === 'ACTIVE', member);
    assert.deepEqual([shown.accessIPv4, shown.accessIPv6], ['192.0.2.10', '2001:db8::c000:210'], 'IPv6 in its canonical form, as Nova keeps it');
    assert.equal((await boot('bad-ip', { accessIPv6: 'not:an:address::zz' }, member)).status, 400);

    const rebuilt = await call('POST', `/servers/${id}/action`, { token: member, body: { rebuild: { imageRef: imageId, adminPass: 'n3w-pass' } } });
    assert.equal(rebuilt.status, 202, JSON.stringify(rebuilt.body));
    assert.equal(rebuilt.body.server.adminPass, 'n3w-pass', 'a rebuilt guest gets a new admin password');
    const passSecret: any = await client.get(SECRETS, 'acme', inst.spec.adminPassSecret!);
    assert.equal(Buffer.from(passSecret.data.adminPass, 'base64').toString(), 'n3w-pass');
    assert.equal(passSecret.metadata.ownerReferences?.[0]?.uid, inst.metadata.uid);
    await runAs(await instanceOf(id), 'ACTIVE', 'Running');
    await client.patch(INSTANCES, 'acme', inst.metadata.name, { status: { rebuildsDone: 1 } }, 'test', MERGE_PATCH, 'status');


    const stop = await call('POST', `/servers/${id}/action`, { token: member, body: { 'os-stop': null } });
    assert.equal(stop.status, 202);
    const actions = (await call('GET', `/servers/${id}/os-instance-actions`, { token: member })).body.instanceActions;
    assert.deepEqual(actions.map((a: any) => a.action).sort(), ['create', 'rebuild', 'stop']);
    const created = await call('GET', `/servers/${id}/os-instance-actions/${createRequest}`, { token: member });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.deepEqual([created.body.instanceAction.action, created.body.instanceAction.instance_uuid, created.body.instanceAction.events[0].event], ['create', id, 'compute_create_instance']);
    const events = (await client.list<any>({ group: '', version: 'v1', plural: 'events', namespaced: true }, 'acme')).items.filter((e) => e.involvedObject?.uid === inst.metadata.uid && e.reason === 'ServerAction');
    assert.deepEqual(events.map((e) => e.action).sort(), ['create', 'rebuild', 'stop'], 'the same history kubectl describe shows');

    // Locked, it refuses actions and deletion by its owner; an admin's lock only an admin lifts.
    assert.equal((await call('POST', `/servers/${id}/action`, { token: member, version: '2.73', body: { lock: { locked_reason: 'maintenance' } } })).status, 202);
    const locked = await shows(id, (s) => s.locked === true, member, '2.73');
    assert.equal(locked.locked_reason, 'maintenance');
    const refused = await call('POST', `/servers/${id}/action`, { token: member, body: { 'os-start': null } });
    assert.equal(refused.status, 409);
    assert.match(refused.body.conflictingRequest.message, /is locked/);
    assert.equal((await call('DELETE', `/servers/${id}`, { token: member })).status, 409);
    assert.equal((await call('POST', `/servers/${id}/action`, { token: member, body: { unlock: null } })).status, 202);
    assert.equal((await call('POST', `/servers/${id}/action`, { body: { lock: null } })).status, 202, 'an admin locks');
    assert.equal((await call('POST', `/servers/${id}/action`, { token: member, body: { unlock: null } })).status, 403);
    assert.equal((await call('POST', `/servers/${id}/action`, { body: { unlock: null } })).status, 202);

    // Tags (2.26 on), and the list filters on them.
    assert.equal((await call('PUT', `/servers/${id}/tags/web`, { token: member, version: '2.26' })).status, 201);
    assert.equal((await call('PUT', `/servers/${id}/tags`, { token: member, version: '2.26', body: { tags: ['web', 'prod'] } })).status, 200);
    assert.deepEqual((await call('GET', `/servers/${id}/tags`, { token: member, version: '2.26' })).body.tags, ['web', 'prod']);
    assert.equal((await call('GET', `/servers/${id}/tags/nope`, { token: member, version: '2.26' })).status, 404);
    assert.equal((await call('PUT', `/servers/${id}/tags/a,b`, { token: member, version: '2.26' })).status, 400);
    const tagged = async (q: string) => (await call('GET', `/servers?${q}`, { token: member, version: '2.26' })).body.servers.map((s: any) => s.id);
    assert.deepEqual(await tagged('tags=web,prod'), [id]);
    assert.deepEqual(await tagged('tags=web,dev'), []);
    assert.ok(!(await tagged('not-tags-any=prod')).includes(id));
    assert.equal((await call('GET', `/servers/${id}/tags`, { token: member, version: '2.25' })).status, 404, 'no tags before 2.26');
    assert.equal((await call('GET', `/servers/${id}/metadata/missing`, { token: member })).status, 404);

    const renamed = await call('PUT', `/servers/${id}`, { token: member, body: { server: { name: 'renamed', accessIPv4: '192.0.2.11' } } });
    assert.equal(renamed.body.server.accessIPv4, '192.0.2.11');
    assert.ok(!('OS-EXT-STS:vm_state' in renamed.body.server) && !('config_drive' in renamed.body.server), "an update answers without a show's extended attributes");
    assert.equal((await call('GET', '/servers?changes-since=2011/01/01', { token: member })).status, 400, 'ISO 8601 only');
    assert.equal((await call('DELETE', `/servers/${id}`, { token: member })).status, 204);
  });

  it("reports a tenant's usage over a period as Nova's simple tenant usage: hours times the flavor", async () => {
    const acme = (await identityCall(identity.v3, 'GET', '/projects?name=acme', { token: admin })).body.projects[0].id;
    const web = (await client.list<Instance>(INSTANCES, 'acme')).items.find((i) => i.metadata.name === 'web-1')!;
    const launched = Date.now() - 2 * 3_600_000;
    await client.patch(INSTANCES, 'acme', 'web-1', { status: { launchedAt: new Date(launched).toISOString() } }, 'test', MERGE_PATCH, 'status');
    await eventually('web-1\'s launch time in the API\'s cache', async () => !(!compute.directory.instances.get('web-1', 'acme')?.status?.launchedAt), 60_000);
    const end = new Date(launched + 3_600_000).toISOString().replace('Z', '');
    const usage = (await ok('GET', `/os-simple-tenant-usage/${acme}?start=2000-01-01T00:00:00&end=${end}`, { token: member })).body.tenant_usage;
    assert.equal(usage.tenant_id, acme);
    const mine = usage.server_usages.find((u: any) => u.instance_id === web.metadata.uid);
    assert.ok(Math.abs(mine.hours - 1) < 0.01, `one hour between launch and the period's end: ${mine.hours}`);
    assert.deepEqual([mine.vcpus, mine.memory_mb], [1, 512]);
    assert.ok(Math.abs(usage.total_vcpus_usage - usage.server_usages.reduce((n: number, u: any) => n + u.hours * u.vcpus, 0)) < 1e-9);
    assert.ok((await ok('GET', '/os-simple-tenant-usage?detailed=1')).body.tenant_usages.some((u: any) => u.tenant_id === acme));
    assert.equal((await call('GET', '/os-simple-tenant-usage', { token: member })).status, 403);
    assert.equal((await call('GET', `/os-simple-tenant-usage/${acme}?start=not-a-date`, { token: member })).status, 400);
  });

  it('proxies security groups, their rules and networks to the networking resources as Nova did before 2.36, and not after', async () => {
    const v = '2.35';
    const listed = (await ok('GET', '/os-security-groups', { version: v })).body.security_groups;
    assert.ok(listed.some((g: any) => g.name === 'default'), 'the default group, made on first look');
    assert.equal((await call('DELETE', `/os-security-groups/${listed.find((g: any) => g.name === 'default').id}`, { version: v })).status, 400, 'the default group is not deleted');
    const made = (await ok('POST', '/os-security-groups', { version: v, body: { security_group: { name: 'web', description: 'web servers' } } })).body.security_group;
    assert.equal(made.name, 'web');
    assert.deepEqual(made.rules, [], 'a new group lets nothing in');
    const rule = (await ok('POST', '/os-security-group-rules', { version: v, body: { security_group_rule: { parent_group_id: made.id, ip_protocol: 'tcp', from_port: 22, to_port: 22, cidr: '10.0.0.0/8' } } })).body.security_group_rule;
    assert.deepEqual({ p: rule.ip_protocol, f: rule.from_port, t: rule.to_port, c: rule.ip_range.cidr }, { p: 'tcp', f: 22, t: 22, c: '10.0.0.0/8' });
    assert.equal((await call('POST', '/os-security-group-rules', { version: v, body: { security_group_rule: { parent_group_id: made.id, ip_protocol: 'tcp', from_port: 90, to_port: 80 } } })).status, 400);
    assert.equal((await call('POST', '/os-security-group-rules', { version: v, body: { security_group_rule: { parent_group_id: made.id, ip_protocol: 'tcp', from_port: 22, to_port: 22, cidr: '10.0.0.0/8' } } })).status, 400, 'the same rule twice');
    const shown = (await ok('GET', `/os-security-groups/${made.id}`, { version: v })).body.security_group;
    assert.deepEqual(shown.rules.map((r: any) => r.id), [rule.id]);
    const kubeGroup = (await client.list<any>({ group: 'network.stratus.io', version: 'v1alpha1', plural: 'securitygroups', namespaced: true }, 'admin')).items.find((g: any) => g.metadata.uid === made.id);
    assert.ok(kubeGroup, 'the same group, a SecurityGroup resource');
    await ok('DELETE', `/os-security-group-rules/${rule.id}`, { version: v });
    assert.deepEqual((await ok('GET', `/os-security-groups/${made.id}`, { version: v })).body.security_group.rules, []);
    assert.equal((await call('GET', '/os-security-groups', { version: '2.36' })).status, 404, 'gone at 2.36');
    // A group ID is a UUID, as Nova with Neutron checks before looking: 400, where a UUID of no group is 404.
    assert.match((await call('GET', '/os-security-groups/not-a-uuid', { version: v })).body.badRequest.message, /Security group id should be uuid/);
    assert.equal((await call('POST', '/os-security-group-rules', { version: v, body: { security_group_rule: { parent_group_id: 'non_int_id', ip_protocol: 'tcp', from_port: 22, to_port: 22 } } })).status, 400);
    assert.equal((await call('GET', '/os-security-groups/6f1ac3e8-5a5e-4b8e-9d1b-0c3f4e5a6b7c', { version: v })).status, 404);
    assert.equal((await call('DELETE', '/os-security-groups/', { version: v })).status, 404, 'an empty ID names no group (not the collection: 405)');
    // Each group says its own project; all_tenants lists every project's to an admin, and only theirs to a member.
    const adminProject = (await identityCall(identity.v3, 'GET', '/projects?name=admin', { token: admin })).body.projects[0].id;
    const acmeProject = (await identityCall(identity.v3, 'GET', '/projects?name=acme', { token: admin })).body.projects[0].id;
    assert.equal(made.tenant_id, adminProject);
    const theirs = (await ok('POST', '/os-security-groups', { version: v, token: member, body: { security_group: { name: 'Data Bases', description: 'databases' } } })).body.security_group;
    assert.equal(theirs.tenant_id, acmeProject, 'the project is known from the create’s answer on');
    const everyone = (await ok('GET', '/os-security-groups?all_tenants=true', { version: v })).body.security_groups;
    assert.deepEqual([made.id, theirs.id].map((id) => everyone.find((g: any) => g.id === id)?.tenant_id), [adminProject, acmeProject]);
    const membersAll = (await ok('GET', '/os-security-groups?all_tenants=true', { version: v, token: member })).body.security_groups;
    assert.ok(membersAll.some((g: any) => g.id === theirs.id) && !membersAll.some((g: any) => g.id === made.id), 'a member’s all_tenants stays in their project');
    // A server's groups changed by its actions, read back at once; with its last one gone it shows none.
    const web1 = (await client.list<Instance>(INSTANCES, 'acme')).items.find((i) => i.metadata.name === 'web-1')!.metadata.uid!;
    const action = (body: object) => ok('POST', `/servers/${web1}/action`, { version: v, token: member, body });
    await action({ addSecurityGroup: { name: 'Data Bases' } });
    assert.deepEqual((await ok('GET', `/servers/${web1}/os-security-groups`, { version: v, token: member })).body.security_groups.map((g: any) => g.name).sort(), ['Data Bases', 'default']);
    // The server shows its groups by their OpenStack names, which need not be their objects' ("data-bases-…").
    assert.deepEqual((await ok('GET', `/servers/${web1}`, { version: v, token: member })).body.server.security_groups, [{ name: 'default' }, { name: 'Data Bases' }]);
    await action({ removeSecurityGroup: { name: 'Data Bases' } });
    await action({ removeSecurityGroup: { name: 'default' } });
    assert.ok(!('security_groups' in (await ok('GET', `/servers/${web1}`, { version: v, token: member })).body.server), 'no security_groups key');
    await action({ addSecurityGroup: { name: 'default' } });
    assert.deepEqual((await ok('GET', `/servers/${web1}`, { version: v, token: member })).body.server.security_groups, [{ name: 'default' }]);
    await ok('DELETE', `/os-security-groups/${theirs.id}`, { version: v, token: member });
    await ok('DELETE', `/os-security-groups/${made.id}`, { version: v });
    assert.equal((await call('GET', `/os-security-groups/${made.id}`, { version: v })).status, 404);
    await client.create({ group: 'network.stratus.io', version: 'v1alpha1', plural: 'networks', namespaced: true }, { apiVersion: 'network.stratus.io/v1alpha1', kind: 'Network', metadata: { name: 'lan', namespace: 'admin' }, spec: { displayName: 'lan' } } as any, 'test');
    const nets = (await ok('GET', '/os-networks', { version: v })).body.networks;
    assert.ok(nets.some((n: any) => n.label === 'lan'), JSON.stringify(nets));
    assert.equal((await call('GET', '/os-tenant-networks', { version: '2.36' })).status, 404);
    // Gone again: the servers of the other tests have no network to be put on.
    await client.delete({ group: 'network.stratus.io', version: 'v1alpha1', plural: 'networks', namespaced: true }, 'admin', 'lan');
    await eventually('the network to go', async () => !(await client.get({ group: 'network.stratus.io', version: 'v1alpha1', plural: 'networks', namespaced: true }, 'admin', 'lan')), 60_000);
  });

  it('lists with filters and pages with a next link', async () => {
    for (const n of ['page-a', 'page-b', 'page-c']) await ok('POST', '/servers', { body: { server: { name: n, imageRef: imageId, flavorRef: 'm1.small' } } });
    const first = (await call('GET', '/servers?name=^page-&limit=2')).body;
    assert.equal(first.servers.length, 2);
    const next = new URL(first.servers_links[0].href);
    assert.equal(next.searchParams.get('marker'), first.servers[1].id);
    const second = (await call('GET', `/servers?${next.searchParams}`)).body;
    assert.equal(second.servers.length, 1);
    assert.equal(second.servers_links, undefined, 'the last page has no next link');
    // Newest first (Nova's order); servers made in the same second keep a stable order, so pages never overlap.
    assert.deepEqual([...first.servers, ...second.servers].map((s: any) => s.name).sort(), ['page-a', 'page-b', 'page-c']);
    const byStatus = (await call('GET', '/servers/detail?status=active&all_tenants=1')).body.servers.map((s: any) => s.name);
    assert.deepEqual(byStatus, ['web-1']);
    // Nova's ip and ip6 filters, as Nova applies them with Neutron: a substring of a fixed address.
    const pages = [...first.servers, ...second.servers] as Array<{ id: string; name: string }>;
    const ipsOf: Record<string, string[]> = { 'page-a': ['10.9.0.4'], 'page-b': ['10.9.0.41', 'fd00:9::41'], 'page-c': ['10.9.0.5'] };
    for (const s of pages) {
      const inst = await instanceOf(s.id);
      await client.patch(INSTANCES, inst.metadata.namespace, inst.metadata.name, { status: { addresses: [{ port: `p-${s.name}`, network: 'n', networkName: 'net', mac: 'fa:16:3e:00:00:01', ips: ipsOf[s.name] }] } }, 'test', MERGE_PATCH, 'status');
    }
    const named = async (query: string, version?: string) => (await call('GET', `/servers?name=^page-&${query}`, { version })).body.servers.map((s: any) => s.name).sort();
    await eventually('the addresses in the API\'s cache', async () => (await named('ip=10.9.0.5')).length === 1, 60_000);
    assert.deepEqual(await named('ip=10.9.0.4'), ['page-a', 'page-b'], 'a prefix finds the longer address too');
    assert.deepEqual(await named('ip=10.9.0.41'), ['page-b']);
    assert.deepEqual(await named('ip=10.9.0.6'), []);
    assert.deepEqual(await named('ip6=fd00:9::41', '2.5'), ['page-b']);
  });

  it('checks each action against the server’s state, and shows the task at once', async () => {
    const id = (await call('GET', '/servers?name=^web-1$', { token: member })).body.servers[0].id;
    const start = await call('POST', `/servers/${id}/action`, { token: member, body: { 'os-start': null } });
    assert.equal(start.status, 409);
    assert.equal(start.body.conflictingRequest.message, `Cannot 'start' instance ${id} while it is in vm_state active`);
    assert.equal((await call('POST', `/servers/${id}/action`, { token: member, body: { 'os-stop': null } })).status, 202);
    const stopping = (await call('GET', `/servers/${id}`, { token: member })).body.server;
    assert.deepEqual([stopping.status, stopping['OS-EXT-STS:task_state']], ['ACTIVE', 'powering-off'], "the stop is under way the moment it is asked (the agent has not seen it yet)");
    const again = await call('POST', `/servers/${id}/action`, { token: member, body: { 'os-stop': null } });
    assert.equal(again.status, 409);
    assert.match(again.body.conflictingRequest.message, /while it is in task_state powering-off/);
    const inst = await instanceOf(id);
    assert.equal(inst.spec.powerState, 'Stopped');
    await runAs(inst, 'SHUTOFF', 'Shutdown');
    await shows(id, (s) => s.status === 'SHUTOFF' && !s['OS-EXT-STS:task_state'], member);
    assert.equal((await call('POST', `/servers/${id}/action`, { token: member, body: { reboot: { type: 'SOFT' } } })).status, 409, 'a soft reboot needs a running server');
    assert.equal((await call('POST', `/servers/${id}/action`, { token: member, body: { reboot: { type: 'HARD' } } })).status, 202);
    const rebooting = (await call('GET', `/servers/${id}`, { token: member })).body.server;
    assert.deepEqual([rebooting.status, rebooting['OS-EXT-STS:task_state']], ['HARD_REBOOT', 'reboot_pending_hard']);
    const spec = (await client.list<Instance>(INSTANCES, 'acme')).items.find((i) => i.metadata.uid === id)!.spec;
    assert.deepEqual([spec.reboot, spec.powerState], [{ count: 1, type: 'HARD' }, 'Running'], 'a hard reboot starts a stopped server');
    await client.patch(INSTANCES, 'acme', inst.metadata.name, { status: { rebootsDone: 1 } }, 'test', MERGE_PATCH, 'status');
    await runAs(inst, 'ACTIVE', 'Running');
    await shows(id, (s) => s.status === 'ACTIVE' && !s['OS-EXT-STS:task_state'], member);
    const nonsense = await call('POST', `/servers/${id}/action`, { token: member, body: { fly: {} } });
    assert.deepEqual(nonsense.body, { badRequest: { code: 400, message: 'There is no such action: fly' } });
    const same = await call('POST', `/servers/${id}/action`, { token: member, body: { resize: { flavorRef: 'm1.small' } } });
    assert.equal(same.body.badRequest.message, 'When resizing, instances must change flavor!');
    assert.equal((await call('POST', `/servers/${id}/action`, { token: member, body: { confirmResize: null } })).status, 400);
    assert.equal((await call('POST', `/servers/${id}/action`, { token: member, body: { resize: { flavorRef: 'm1.medium' } } })).status, 202);
    const resizing = (await call('GET', `/servers/${id}`, { token: member })).body.server;
    assert.deepEqual([resizing.status, resizing['OS-EXT-STS:task_state']], ['RESIZE', 'resize_prep']);
    const resizedSpec = (await client.list<Instance>(INSTANCES, 'acme')).items.find((i) => i.metadata.uid === id)!.spec;
    assert.deepEqual([resizedSpec.flavor, resizedSpec.confirmResize], ['m1.medium', false], "Nova's resize waits for a confirmation");
    // The resize is a migration record, as Nova lists them (admins only).
    assert.equal((await call('GET', '/os-migrations', { token: member })).status, 403);
    const migration = (await ok('GET', `/os-migrations?instance_uuid=${id}`, { version: '2.59' })).body.migrations;
    assert.deepEqual(migration.map((m: any) => [m.instance_uuid, m.migration_type, m.status]), [[id, 'resize', 'migrating']]);
    assert.ok(Number.isInteger(migration[0].id) && typeof migration[0].uuid === 'string');
  });

  it('shelves, unshelves and rescues in the states Nova allows, telling the node agent through spec', async () => {
    const id = (await ok('POST', '/servers', { body: { server: { name: 'shelfme', imageRef: imageId, flavorRef: 'm1.small' } } })).body.server.id;
    const inst = await instanceOf(id);
    await runAs(inst, 'ACTIVE', 'Running');
    await shows(id, (s) => s.status === 'ACTIVE');
    const act = (body: object, version?: string) => call('POST', `/servers/${id}/action`, { body, version });
    assert.equal((await act({ unshelve: null })).status, 409, 'an active server is not shelved');
    assert.equal((await act({ shelveOffload: null })).status, 409);
    assert.equal((await act({ shelve: null })).status, 202);
    assert.equal((await instanceOf(id)).spec.shelved, true);
    assert.equal((await call('GET', `/servers/${id}`)).body.server['OS-EXT-STS:task_state'], 'shelving', 'under way the moment it is asked');
    assert.equal((await act({ shelve: null })).status, 409, 'not twice');
    await client.patch(INSTANCES, inst.metadata.namespace, inst.metadata.name, { status: { phase: 'SHELVED_OFFLOADED', powerState: 'NoState', host: null } }, 'test', MERGE_PATCH, 'status');
    const shelved = await shows(id, (s) => s.status === 'SHELVED_OFFLOADED');
    assert.deepEqual([shelved['OS-EXT-STS:vm_state'], shelved['OS-EXT-STS:task_state'], shelved['OS-EXT-SRV-ATTR:host']], ['shelved_offloaded', null, null]);
    assert.equal((await act({ shelve: null })).status, 409);
    assert.equal((await act({ 'os-start': null })).status, 409);
    assert.equal((await act({ unshelve: { availability_zone: 'nova' } })).status, 400, 'no zone up to 2.73 (it came in 2.77)');
    assert.equal((await act({ unshelve: null })).status, 202);
    assert.equal((await instanceOf(id)).spec.shelved, false);
    assert.equal((await call('GET', `/servers/${id}`)).body.server['OS-EXT-STS:task_state'], 'unshelving');
    await runAs(inst, 'ACTIVE', 'Running');
    await shows(id, (s) => s.status === 'ACTIVE' && !s['OS-EXT-STS:task_state']);

    // Rescue: a new admin password answered, the rescue image checked, and most actions refused meanwhile.
    assert.equal((await act({ rescue: { rescue_image_ref: 'no-such-image' } })).status, 400);
    assert.equal((await act({ rescue: { colour: 'red' } })).status, 400);
    const rescue = await act({ rescue: { adminPass: 'MySecretPass', rescue_image_ref: imageId } });
    assert.equal(rescue.status, 200);
    assert.deepEqual(rescue.body, { adminPass: 'MySecretPass' });
    const asked = await instanceOf(id);
    assert.equal(asked.spec.rescue?.image?.name, inst.spec.image!.name);
    assert.equal((await call('GET', `/servers/${id}`)).body.server['OS-EXT-STS:task_state'], 'rescuing');
    await client.patch(INSTANCES, inst.metadata.namespace, inst.metadata.name, { status: { phase: 'RESCUE', rescued: true } }, 'test', MERGE_PATCH, 'status');
    const rescued = await shows(id, (s) => s.status === 'RESCUE');
    assert.equal(rescued['OS-EXT-STS:vm_state'], 'rescued');
    for (const body of [{ reboot: { type: 'HARD' } }, { rebuild: { imageRef: imageId } }, { rescue: null }, { pause: null }, { shelve: null }]) assert.equal((await act(body)).status, 409, JSON.stringify(body));
    assert.equal((await act({ unrescue: null })).status, 202);
    assert.equal((await instanceOf(id)).spec.rescue, undefined);
    assert.equal((await call('GET', `/servers/${id}`)).body.server['OS-EXT-STS:task_state'], 'unrescuing');
    assert.equal((await act({ unrescue: null })).status, 409, 'only a rescued server is unrescued');
    const actions = (await ok('GET', `/servers/${id}/os-instance-actions`)).body.instanceActions.map((a: any) => a.action);
    for (const a of ['shelve', 'unshelve', 'rescue', 'unrescue']) assert.ok(actions.includes(a), `${a} in ${actions}`);
    await ok('DELETE', `/servers/${id}`);
  });

  it('asks for snapshots as Images the node agent fills, and gives consoles only of running servers', async () => {
    const id = (await ok('POST', '/servers', { body: { server: { name: 'snapme', imageRef: imageId, flavorRef: 'm1.small' } } })).body.server.id;
    const inst = await instanceOf(id);
    await runAs(inst, 'ACTIVE', 'Running');
    await shows(id, (s) => s.status === 'ACTIVE');
    const snap = await call('POST', `/servers/${id}/action`, { version: '2.45', body: { createImage: { name: 'snap-1', metadata: { purpose: 'test' } } } });
    assert.equal(snap.status, 202);
    const imageId2 = snap.body.image_id;
    assert.match(snap.headers.get('location')!, new RegExp(`/image/v2/images/${imageId2}$`));
    const image = (await client.get<any>(IMAGES, 'admin', imageId2))!;
    assert.deepEqual(image.spec.source, { instance: { name: 'snapme' } });
    assert.deepEqual([image.spec.displayName, image.spec.diskFormat, image.spec.visibility, image.spec.properties.image_type, image.spec.properties.instance_uuid, image.spec.properties.purpose], ['snap-1', 'qcow2', 'private', 'snapshot', id, 'test']);
    const busy = await call('POST', `/servers/${id}/action`, { version: '2.45', body: { createImage: { name: 'snap-2' } } });
    assert.equal(busy.status, 409, 'one snapshot at a time, as Nova’s task_state image_snapshot');
    await client.patch(IMAGES, 'admin', imageId2, { status: { phase: 'active' } }, 'test', MERGE_PATCH, 'status');
    await eventually('the second image active in the API\'s cache', async () => !(compute.directory.images.get(imageId2, 'admin')?.status?.phase !== 'active'), 60_000);
    const typed = await call('POST', `/servers/${id}/action`, { version: '2.45', body: { createImage: { name: 'snap-2', metadata: { image_type: 'backup' } } } });
    assert.equal((await client.get<any>(IMAGES, 'admin', typed.body.image_id))!.spec.properties.image_type, 'backup', 'the metadata asked for wins, as in Nova');
    // Nova's image proxy (before 2.36) shows the snapshot as it is being made.
    const proxied = await call('GET', `/images/${imageId2}`);
    assert.equal(proxied.status, 200, JSON.stringify(proxied.body));
    assert.deepEqual([proxied.body.image.name, proxied.body.image.status, proxied.body.image.server.id, proxied.body.image.metadata.purpose], ['snap-1', 'ACTIVE', id, 'test']);
    assert.equal((await call('GET', `/images/${typed.body.image_id}`)).body.image.status, 'SAVING', 'the one being made');
    assert.ok((await call('GET', '/images/detail')).body.images.some((i: any) => i.id === imageId2));
    assert.equal((await call('GET', `/images/${imageId2}`, { version: '2.36' })).status, 404, 'gone at 2.36');
    assert.equal((await call('GET', `/images/${imageId2}`, { token: member })).status, 404, "another tenant's private image");
    const filtered = async (q: string) => (await call('GET', `/images/detail?${q}`)).body.images.map((i: any) => i.id);
    assert.ok((await filtered(`server=${id}&type=snapshot`)).includes(imageId2), "filtered by the server it was taken of, and by type");
    assert.ok(!(await filtered('type=backup')).includes(imageId2));
    assert.deepEqual(await filtered('name=snap-1'), [imageId2]);
    assert.equal((await filtered('limit=1')).length, 1);
    assert.equal((await call('PUT', `/images/${imageId2}/metadata/colour`, { body: { meta: { colour: 'blue' } } })).status, 200);
    assert.equal((await call('GET', `/images/${imageId2}/metadata/colour`)).body.meta.colour, 'blue');
    assert.equal((await client.get<any>(IMAGES, 'admin', imageId2))!.spec.properties.colour, 'blue', "the image's own property");
    assert.equal((await call('DELETE', `/images/${imageId2}/metadata/colour`)).status, 204);
    assert.equal((await call('GET', `/images/${imageId2}/metadata/colour`)).status, 404);
    assert.equal((await call('POST', `/images/${imageId2}/metadata`, { token: member, body: { metadata: { a: 'b' } } })).status, 404, "not another tenant's to change");
    const vnc = await call('POST', `/servers/${id}/action`, { body: { 'os-getVNCConsole': { type: 'novnc' } } });
    assert.equal(vnc.status, 409, 'no console until the agent reports one');
    await client.patch(INSTANCES, 'admin', inst.metadata.name, { status: { consoleUrl: 'vnc://127.0.0.1:5901' } }, 'test', MERGE_PATCH, 'status');
    await shows(id, () => !!compute.directory.instances.byId(id)?.status?.consoleUrl);
    // nova-novncproxy's page on the host the client called, with a new single-use token each time, as Nova writes it.
    const page = new RegExp(`^${new URL(base).origin}/console/vnc_lite\\.html\\?path=console%2Fwebsockify%3Ftoken%3D([\\w-]+)$`);
    const legacy = (await call('POST', `/servers/${id}/action`, { body: { 'os-getVNCConsole': { type: 'novnc' } } })).body.console;
    assert.equal(legacy.type, 'novnc');
    assert.match(legacy.url, page);
    const remote = (await call('POST', `/servers/${id}/remote-consoles`, { version: '2.6', body: { remote_console: { protocol: 'vnc', type: 'novnc' } } })).body.remote_console;
    assert.deepEqual({ ...remote, url: undefined }, { protocol: 'vnc', type: 'novnc', url: undefined });
    assert.notEqual(page.exec(remote.url)![1], page.exec(legacy.url)![1], 'a token per URL');
    const log = await call('POST', `/servers/${id}/action`, { body: { 'os-getConsoleOutput': { length: 10 } } });
    assert.equal(log.status, 409, 'the fake hypervisor has no agent to read the log from');
    assert.match(log.body.conflictingRequest.message, /has no console log/);
  });

  it('keeps the newest `rotation` backups of a server, and lets admins reset its state and force-delete it', async () => {
    const id = (await ok('POST', '/servers', { body: { server: { name: 'backmeup', imageRef: imageId, flavorRef: 'm1.small' } } })).body.server.id;
    await runAs(await instanceOf(id), 'ACTIVE', 'Running');
    await shows(id, (s) => s.status === 'ACTIVE');
    // Each backup is saved (as the node agent would) before the next: one snapshot at a time.
    const backup = async (name: string) => {
      const made = (await ok('POST', `/servers/${id}/action`, { version: '2.45', body: { createBackup: { name, backup_type: 'daily', rotation: 2 } } })).body.image_id as string;
      await client.patch(IMAGES, 'admin', made, { status: { phase: 'active' } }, 'test', MERGE_PATCH, 'status');
      await eventually('the backup image active in the API\'s cache', async () => !(compute.directory.images.get(made, 'admin')?.status?.phase !== 'active'), 60_000);
      return made;
    };
    const backups = async () => (await client.list<any>(IMAGES, 'admin')).items.filter((i) => i.spec.properties?.instance_uuid === id && !i.metadata.deletionTimestamp);
    const first = await backup('b1');
    const made = (await backups()).find((i) => i.metadata.name === first);
    assert.deepEqual([made.spec.properties.image_type, made.spec.properties.backup_type, made.metadata.annotations['compute.stratus.io/backup-rotation']], ['backup', 'daily', '2'], 'the node agent rotates by it once the backup is stored');
    assert.equal((await call('POST', `/servers/${id}/action`, { body: { createBackup: { name: 'x', backup_type: 'daily' } } })).status, 400, 'rotation is required');

    assert.equal((await call('POST', `/servers/${id}/action`, { token: member, body: { 'os-resetState': { state: 'error' } } })).status, 404, "not the member's server");
    assert.equal((await call('POST', `/servers/${id}/action`, { body: { 'os-resetState': { state: 'bogus' } } })).status, 400);
    assert.equal((await call('POST', `/servers/${id}/action`, { body: { 'os-resetState': { state: 'error' } } })).status, 202);
    await shows(id, (s) => s.status === 'ERROR');
    assert.ok((await ok('GET', '/servers?status=ERROR')).body.servers.some((s: any) => s.id === id));
    assert.equal((await call('POST', `/servers/${id}/action`, { body: { 'os-resetState': { state: 'active' } } })).status, 202);
    await shows(id, (s) => s.status === 'ACTIVE');
    assert.equal((await call('POST', `/servers/${id}/action`, { body: { restore: null } })).status, 409, 'nothing is soft-deleted here');
    assert.equal((await call('POST', `/servers/${id}/action`, { body: { migrate: null } })).status, 400, 'no cold migration yet, said so');
    assert.equal((await call('POST', '/servers/no-such-server/action', { body: { forceDelete: null } })).status, 404);
    assert.equal((await call('POST', `/servers/${id}/action`, { body: { forceDelete: null } })).status, 202);
    assert.ok((await client.list<Instance>(INSTANCES, 'admin')).items.every((i) => i.metadata.uid !== id || i.metadata.deletionTimestamp), 'the Instance is being deleted');
  });

  it('answers the smaller calls clients make: extensions, reservations, passwords, external events, a deleted server’s history, hypervisor search', async () => {
    const extensions = (await ok('GET', '/extensions')).body.extensions;
    assert.ok(extensions.some((e: any) => e.name === 'Hosts' && e.alias === 'os-hosts'));
    assert.equal((await ok('GET', '/extensions/os-aggregates')).body.extension.name, 'Aggregates');
    assert.equal((await call('GET', '/extensions/os-shelve')).status, 404, 'shelve is not served, so not listed');

    const reserved = await ok('POST', '/servers', { token: member, body: { server: { name: 'batch', imageRef: imageId, flavorRef: 'm1.small', min_count: 2, return_reservation_id: true } } });
    const reservation = reserved.body.reservation_id;
    assert.match(reservation, /^r-/);
    const batch = (await ok('GET', `/servers?reservation_id=${reservation}`, { token: member })).body.servers;
    assert.deepEqual(batch.map((s: any) => s.name).sort(), ['batch-1', 'batch-2'], 'both servers of the request carry its reservation');

    const id = batch[0].id;
    assert.deepEqual((await ok('GET', `/servers/${id}/os-server-password`, { token: member })).body, { password: '' });
    assert.equal((await call('DELETE', `/servers/${id}/os-server-password`, { token: member })).status, 204);

    const events = await call('POST', '/os-server-external-events', { body: { events: [{ name: 'network-changed', server_uuid: id }, { name: 'network-changed', server_uuid: '00000000-0000-0000-0000-000000000000' }] } });
    assert.equal(events.status, 207, 'one of two failed');
    assert.deepEqual(events.body.events.map((e: any) => e.code), [200, 404]);
    assert.equal((await call('POST', '/os-server-external-events', { token: member, body: { events: [{ name: 'network-changed', server_uuid: id }] } })).status, 403);
    assert.equal((await call('POST', '/os-server-external-events', { body: { events: [{ name: 'power-update', server_uuid: id }] } })).status, 400, 'power-update comes with 2.76');

    for (const s of batch) await ok('DELETE', `/servers/${s.id}`, { token: member });
    await client.list<Instance>(INSTANCES, 'acme').then(async () => {
      await eventually('the deleted server gone from the API\'s cache', async () => !(compute.directory.instances.byId(id)), 60_000);
    });
    assert.equal((await call('GET', `/servers/${id}/os-instance-actions`, { token: member, version: '2.20' })).status, 404, 'before 2.21 a deleted server has no history');
    const history = (await ok('GET', `/servers/${id}/os-instance-actions`, { token: member, version: '2.21' })).body.instanceActions;
    assert.deepEqual(history.map((a: any) => a.action).sort(), ['create', 'delete'], 'from 2.21 it does, from the Events that outlive it');
    assert.equal((await call('GET', `/servers/${id}/os-instance-actions`, { token: (await signIn('admin', identity.adminPassword, 'admin')), version: '2.21' })).status, 200, 'admins see it too');

    assert.equal((await ok('GET', '/os-hypervisors/node/search')).body.hypervisors[0].hypervisor_hostname, 'node-1');
    assert.equal((await call('GET', '/os-hypervisors/nowhere/search')).status, 404);
    assert.equal((await call('GET', '/os-hypervisors/node/search', { version: '2.53' })).status, 404, 'gone at 2.53');
    assert.equal((await call('GET', '/os-hypervisors/node-1/uptime')).status, 400, 'the fake node has no agent to ask');
    const audit = (await ok('GET', '/os-instance_usage_audit_log/2026-03-15%2010:00:00')).body.instance_usage_audit_log;
    assert.deepEqual([audit.period_beginning, audit.period_ending, audit.hosts_not_run, audit.num_hosts_done], ['2026-02-01 00:00:00', '2026-03-01 00:00:00', ['node-1'], 0], 'the month before, and no host has run an audit (Stratus runs none)');
    assert.equal((await call('GET', '/os-instance_usage_audit_log/not-a-date')).status, 400);
    assert.equal((await call('GET', '/os-instance_usage_audit_log', { token: member })).status, 403);
    const running = (await ok('POST', '/servers', { body: { server: { name: 'diag', imageRef: imageId, flavorRef: 'm1.small' } } })).body.server.id;
    await instanceOf(running);
    assert.equal((await call('GET', `/servers/${running}/diagnostics`, { token: member })).status, 403, 'admins only');
    assert.equal((await call('GET', `/servers/${running}/diagnostics`)).status, 409, 'the fake node has no agent to read counters from');
    await ok('DELETE', `/servers/${running}`);
  });

  it('shares a private flavor with chosen projects (flavor access), updates its description from 2.55, and serves the legacy v2.0 endpoint', async () => {
    const made = (await ok('POST', '/flavors', { body: { flavor: { name: 'Private Large', vcpus: 1, ram: 256, disk: 1, 'os-flavor-access:is_public': 'f' } } })).body.flavor;
    const acme = (await identityCall(identity.v3, 'GET', '/projects?name=acme', { token: admin })).body.projects[0].id as string;
    assert.equal((await call('GET', `/flavors/${made.id}`, { token: member })).status, 404, 'private: not for the member yet');
    const theirs = (await ok('POST', '/servers', { token: member, body: { server: { name: 'grows', imageRef: imageId, flavorRef: 'm1.small' } } })).body.server.id;
    await runAs(await instanceOf(theirs), 'ACTIVE', 'Running');
    await shows(theirs, (s) => s.status === 'ACTIVE', member);
    const onto = await call('POST', `/servers/${theirs}/action`, { token: member, body: { resize: { flavorRef: made.id } } });
    assert.equal(onto.status, 400, 'no resize onto a private flavor the project has no access to');
    assert.equal((await instanceOf(theirs)).spec.flavor, 'm1.small');
    await ok('DELETE', `/servers/${theirs}`, { token: member });
    assert.deepEqual((await ok('GET', `/flavors/${made.id}/os-flavor-access`)).body.flavor_access, []);
    assert.equal((await call('POST', `/flavors/${made.id}/action`, { token: member, body: { addTenantAccess: { tenant: acme } } })).status, 403);
    const added = (await ok('POST', `/flavors/${made.id}/action`, { body: { addTenantAccess: { tenant: acme } } })).body.flavor_access;
    assert.deepEqual(added, [{ flavor_id: made.id, tenant_id: acme }]);
    assert.equal((await call('POST', `/flavors/${made.id}/action`, { body: { addTenantAccess: { tenant: acme } } })).status, 409, 'already shared');
    assert.ok((await ok('GET', '/flavors/detail', { token: member })).body.flavors.some((f: any) => f.id === made.id), 'the member’s project sees it now');
    assert.deepEqual((await client.get<any>(FLAVORS, undefined, made.id))!.spec.projects, [acme], "kubectl sees it as the Flavor's spec.projects");
    await ok('POST', `/flavors/${made.id}/action`, { body: { removeTenantAccess: { tenant: acme } } });
    assert.equal((await call('POST', `/flavors/${made.id}/action`, { body: { removeTenantAccess: { tenant: acme } } })).status, 404);
    assert.equal((await call('GET', '/flavors/m1.small/os-flavor-access')).status, 404, 'public flavors have no access list');
    assert.ok((await ok('GET', '/flavors/detail?is_public=f')).body.flavors.some((f: any) => f.id === made.id), "'f' is false, as oslo reads it");

    assert.equal((await call('PUT', `/flavors/${made.id}`, { body: { flavor: { description: 'x' } } })).status, 405, 'before 2.55');
    assert.equal((await ok('PUT', `/flavors/${made.id}`, { version: '2.55', body: { flavor: { description: 'for big jobs' } } })).body.flavor.description, 'for big jobs');
    await ok('DELETE', `/flavors/${made.id}`);

    const legacyBase = base.replace(/\/v2\.1$/, '/v2');
    const doc = (await (await fetch(`${legacyBase}/`)).json()) as { version: { id: string } };
    assert.equal(doc.version.id, 'v2.0');
    const flavors = await fetch(`${legacyBase}/flavors`, { headers: { 'X-Auth-Token': admin, 'OpenStack-API-Version': 'compute 2.55' } });
    assert.equal(flavors.status, 200, 'the same API under /v2');
    assert.ok(!('description' in ((await flavors.json()) as { flavors: object[] }).flavors[0]), 'without microversions: 2.1’s answer whatever is asked');
    const lenient = await fetch(`${legacyBase}/os-keypairs`, { method: 'POST', headers: { 'X-Auth-Token': admin, 'Content-Type': 'application/json' }, body: JSON.stringify({ keypair: { name: 'legacy-key', colour: 'blue' } }) });
    assert.equal(lenient.status, 200, 'the v2.0 endpoint drops unknown fields, as Nova’s legacy_v2 mode does');
    assert.equal((await call('DELETE', '/os-keypairs/legacy-key')).status, 202);
  });

  it('makes server groups with the policy syntax of each microversion, and places members by them', async () => {
    const old = await ok('POST', '/os-server-groups', { token: member, body: { server_group: { name: 'spread', policies: ['anti-affinity'] } } });
    assert.deepEqual([old.body.server_group.policies, old.body.server_group.members], [['anti-affinity'], []]);
    const soft = await call('POST', '/os-server-groups', { token: member, version: '2.14', body: { server_group: { name: 'x', policies: ['soft-affinity'] } } });
    assert.equal(soft.status, 400, 'soft policies come with 2.15');
    const newer = await ok('POST', '/os-server-groups', { token: member, version: '2.64', body: { server_group: { name: 'Pair Group', policy: 'anti-affinity', rules: { max_server_per_host: 2 } } } });
    assert.deepEqual([newer.body.server_group.policy, newer.body.server_group.rules, newer.body.server_group.name], ['anti-affinity', { max_server_per_host: 2 }, 'Pair Group']);
    await client.patch(TENANTS, undefined, 'acme', { spec: { quota: { instances: 10 } } }, 'test', MERGE_PATCH);
    await eventually('acme\'s instance quota of 10 in the API\'s cache', async () => !(compute.directory.tenants.get('acme')?.spec?.quota?.instances !== 10), 60_000);
    const id = (await ok('POST', '/servers', { token: member, body: { server: { name: 'grouped', imageRef: imageId, flavorRef: 'm1.small' }, 'os:scheduler_hints': { group: old.body.server_group.id } } })).body.server.id;
    const members = (await call('GET', `/os-server-groups/${old.body.server_group.id}`, { token: member })).body.server_group.members;
    assert.deepEqual(members, [id]);
    const shown = (await call('GET', `/servers/${id}`, { token: member, version: '2.71' })).body.server;
    assert.deepEqual(shown.server_groups, [old.body.server_group.id]);
    assert.equal((await call('GET', `/os-server-groups/${old.body.server_group.id}`)).status, 200, 'admins see it');
    assert.equal((await call('DELETE', `/os-server-groups/${newer.body.server_group.id}`, { token: member })).status, 204);
  });

  it('shows hypervisors and availability zones to admins', async () => {
    const list = (await ok('GET', '/os-hypervisors/detail', { version: '2.53' })).body.hypervisors;
    assert.equal(list.length, 1);
    const hv = list[0];
    assert.deepEqual([hv.hypervisor_hostname, hv.state, hv.status, hv.hypervisor_type, hv.hypervisor_version, hv.vcpus, hv.memory_mb], ['node-1', 'up', 'enabled', 'QEMU', 7002022, 8, 8192]);
    assert.ok(hv.memory_mb_used > 0 && hv.vcpus_used > 0, 'the ledger shows in the usage');
    assert.equal((await call('GET', '/os-hypervisors', { token: member })).status, 403);
    const zones = (await ok('GET', '/os-availability-zone', { token: member })).body.availabilityZoneInfo;
    assert.deepEqual(zones, [{ zoneName: 'nova', zoneState: { available: true }, hosts: null }]);
    const detail = (await ok('GET', '/os-availability-zone/detail')).body.availabilityZoneInfo[0].hosts['node-1']['nova-compute'];
    assert.deepEqual([detail.available, detail.active], [true, true]);

    // os-services: each node agent is a nova-compute service (its Hypervisor), and there is the scheduler.
    const services = (await ok('GET', '/os-services', { version: '2.53' })).body.services;
    assert.deepEqual(services.map((x: any) => `${x.binary}:${x.state}:${x.status}`).sort(), ['nova-compute:up:enabled', 'nova-scheduler:up:enabled']);
    const compute = services.find((x: any) => x.binary === 'nova-compute');
    assert.equal(compute.host, 'node-1');
    assert.equal((await call('GET', '/os-services', { token: member })).status, 403);
    const disabled = await call('PUT', `/os-services/${compute.id}`, { version: '2.53', body: { status: 'disabled', disabled_reason: 'maintenance' } });
    assert.deepEqual([disabled.body.service.status, disabled.body.service.disabled_reason], ['disabled', 'maintenance']);
    assert.equal((await client.get<any>(HYPERVISORS, undefined, 'node-1'))!.spec.disabled, true, "the Hypervisor's spec.disabled, which the scheduler honours");
    const legacy = await call('PUT', '/os-services/enable', { body: { host: 'node-1', binary: 'nova-compute' } });
    assert.equal(legacy.body.service.status, 'enabled', 'the pre-2.53 form');
    assert.equal((await client.get<any>(HYPERVISORS, undefined, 'node-1'))!.spec.disabled, false);
    assert.equal((await call('DELETE', `/os-services/${compute.id}`, { version: '2.53' })).status, 409, 'it hosts instances');
  });

  it('groups hosts into aggregates whose availability zone is their hosts’ zone, for the scheduler too', async () => {
    assert.equal((await call('GET', '/os-aggregates', { token: member })).status, 403, 'admins only');
    const made = (await ok('POST', '/os-aggregates', { body: { aggregate: { name: 'Fast Disks', availability_zone: 'zone b' } } })).body.aggregate;
    assert.ok(Number.isInteger(made.id), 'an integer ID, as Nova shows it');
    assert.deepEqual([made.name, made.availability_zone, made.deleted], ['Fast Disks', 'zone b', false]);
    assert.equal((await call('POST', '/os-aggregates', { body: { aggregate: { name: 'Fast Disks' } } })).status, 409, 'names are unique');
    assert.equal((await call('POST', '/os-aggregates', { body: { aggregate: { name: '' } } })).status, 400);
    assert.equal((await call('GET', '/os-aggregates/-1')).status, 404);

    // A server asking for the zone finds no host until the aggregate holds one.
    const early = await boot('in-zone-b-early', { availability_zone: 'zone b' });
    assert.equal((await instanceOf(early.body.server.id)).status?.phase, 'ERROR', 'no host is in zone b yet');
    assert.equal((await call('POST', `/os-aggregates/${made.id}/action`, { body: { add_host: { host: 'nowhere' } } })).status, 404);
    const added = (await ok('POST', `/os-aggregates/${made.id}/action`, { body: { add_host: { host: 'node-1' } } })).body.aggregate;
    assert.deepEqual([added.hosts, added.metadata], [['node-1'], { availability_zone: 'zone b' }]);
    assert.equal((await call('POST', `/os-aggregates/${made.id}/action`, { body: { add_host: { host: 'node-1' } } })).status, 409, 'already there');
    const other = (await ok('POST', '/os-aggregates', { body: { aggregate: { name: 'other', availability_zone: 'zone c' } } })).body.aggregate;
    assert.equal((await call('POST', `/os-aggregates/${other.id}/action`, { body: { add_host: { host: 'node-1' } } })).status, 409, 'a host is in one zone at most');
    const agg = (await client.list<any>(AGGREGATES)).items.find((a) => a.spec.displayName === 'Fast Disks');
    assert.deepEqual(agg.spec.hosts, ['node-1'], 'kubectl sees the hosts in the Aggregate resource');

    const zones = (await ok('GET', '/os-availability-zone')).body.availabilityZoneInfo.map((z: any) => z.zoneName);
    assert.deepEqual(zones, ['zone b'], 'the host is in the aggregate’s zone now');
    const server = await boot('in-zone-b', { availability_zone: 'zone b' });
    assert.equal((await instanceOf(server.body.server.id)).status?.host, 'node-1', 'the scheduler places it in zone b');
    assert.equal((await shows(server.body.server.id, (s) => !!s['OS-EXT-AZ:availability_zone']))['OS-EXT-AZ:availability_zone'], 'zone b');

    const meta = (await ok('POST', `/os-aggregates/${made.id}/action`, { body: { set_metadata: { metadata: { ssd: 'true' } } } })).body.aggregate;
    assert.deepEqual(meta.metadata, { ssd: 'true', availability_zone: 'zone b' });
    const renamed = (await ok('PUT', `/os-aggregates/${made.id}`, { version: '2.41', body: { aggregate: { name: 'SSD hosts' } } })).body.aggregate;
    assert.deepEqual([renamed.name, typeof renamed.uuid, renamed.updated_at !== null], ['SSD hosts', 'string', true]);
    assert.equal((await call('DELETE', `/os-aggregates/${made.id}`)).status, 400, 'not while it has hosts');
    const removed = (await ok('POST', `/os-aggregates/${made.id}/action`, { body: { remove_host: { host: 'node-1' } } })).body.aggregate;
    assert.deepEqual(removed.hosts, []);
    assert.equal((await call('POST', `/os-aggregates/${made.id}/action`, { body: { remove_host: { host: 'node-1' } } })).status, 404);
    await ok('DELETE', `/os-aggregates/${made.id}`);
    await ok('DELETE', `/os-aggregates/${other.id}`);
    assert.equal((await call('GET', `/os-aggregates/${made.id}`)).status, 404);
    assert.deepEqual((await ok('GET', '/os-availability-zone')).body.availabilityZoneInfo.map((z: any) => z.zoneName), ['nova'], 'back in its own zone');
    assert.equal((await ok('POST', '/os-aggregates', { body: { aggregate: { name: 'Fast Disks' } } })).status, 200, 'the name is free again');
    for (const s of [early, server]) await ok('DELETE', `/servers/${s.body.server.id}`);
  });

  it('serves the deprecated os-hosts over the services’ hosts, up to microversion 2.42', async () => {
    const hosts = (await ok('GET', '/os-hosts')).body.hosts;
    assert.deepEqual(hosts.map((h: any) => h.service).sort(), ['compute', 'scheduler']);
    assert.deepEqual((await ok('GET', '/os-hosts?zone=nova')).body.hosts.map((h: any) => h.host_name), ['node-1']);
    const detail = (await ok('GET', '/os-hosts/node-1')).body.host;
    assert.deepEqual(detail[0].resource, { host: 'node-1', project: '(total)', cpu: 8, memory_mb: 8192, disk_gb: 100 });
    assert.equal((await call('GET', '/os-hosts/nowhere')).status, 404);
    assert.equal((await call('GET', '/os-hosts', { token: member })).status, 403);
    assert.equal((await call('PUT', '/os-hosts/node-1', { body: { status: 'bogus' } })).status, 400);
    assert.equal((await call('PUT', '/os-hosts/node-1', { body: {} })).status, 400);
    assert.equal((await ok('PUT', '/os-hosts/node-1', { body: { status: 'disable' } })).body.status, 'disabled');
    assert.equal((await client.get<any>(HYPERVISORS, undefined, 'node-1'))!.spec.disabled, true);
    assert.equal((await ok('PUT', '/os-hosts/node-1', { body: { status: 'enable' } })).body.status, 'enabled');
    assert.equal((await call('GET', '/os-hosts/node-1/reboot')).status, 501, 'no host power actions, as Nova’s libvirt driver');
    assert.equal((await call('GET', '/os-hosts/nowhere/reboot')).status, 404);
    assert.equal((await call('GET', '/os-hosts', { version: '2.43' })).status, 404, 'gone from 2.43');
  });

  it("keeps every call that names another project's object from a member: 404 or 403, for every route in the table", async () => {
    // What the admin project owns, which the member (project acme) must not reach.
    const server = (await ok('POST', '/servers', { body: { server: { name: 'iso-server', imageRef: imageId, flavorRef: 'm1.small', metadata: { k: 'v' } } } })).body.server.id;
    await ok('PUT', `/servers/${server}/tags/t`, { version: '2.26' });
    await ok('POST', '/os-keypairs', { body: { keypair: { name: 'iso-key' } } });
    const group = (await ok('POST', '/os-server-groups', { body: { server_group: { name: 'iso-group', policies: ['affinity'] } } })).body.server_group.id;
    const flavor = (await ok('POST', '/flavors', { body: { flavor: { name: 'iso-private', vcpus: 1, ram: 256, disk: 1, 'os-flavor-access:is_public': false } } })).body.flavor.id;
    await ok('POST', `/flavors/${flavor}/os-extra_specs`, { body: { extra_specs: { k: 'v' } } });
    const made = await client.create<any>(IMAGES, { apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name: 'iso-image', namespace: 'admin' }, spec: { diskFormat: 'qcow2', visibility: 'private', properties: { k: 'v' } } }, 'test');
    await client.patch(IMAGES, 'admin', 'iso-image', { status: { phase: 'active', imageId: made.metadata.uid, size: 1 << 20 } }, 'test', MERGE_PATCH, 'status');
    await eventually('the snapshot image in the API\'s cache', async () => !(!compute.directory.images.byId(made.metadata.uid)), 60_000);
    const adminProject = (await identityCall(identity.v3, 'GET', '/projects?name=admin', { token: admin })).body.projects[0].id;

    // Each route parameter, by what it names; a new route with a new parameter fails here until it is given one.
    const params: Record<string, string> = { id: '', key: 'k', tag: 't', network: 'private', request: 'req-none', name: 'iso-key', project: adminProject, tenant: adminProject, class: 'default', host: 'node-1', pattern: 'node', before: '2026-01-01', port: '00000000-0000-4000-8000-000000000000', volume: '00000000-0000-4000-8000-000000000001' };
    const idOf = (path: string) => (path.startsWith('/servers/') ? server : path.startsWith('/flavors/') ? flavor : path.startsWith('/images/') ? made.metadata.uid : path.startsWith('/os-server-groups/') ? group : path.startsWith('/os-aggregates/') ? '1' : 'node-1');
    // A body each call would take from its owner (Nova validates bodies first), so what answers is the isolation.
    const bodies: Record<string, unknown> = {
      'PUT /servers/:id': { server: { name: 'x' } },
      'POST /servers/:id/action': { 'os-stop': null },
      'POST /servers/:id/metadata': { metadata: { a: 'b' } },
      'PUT /servers/:id/metadata': { metadata: { a: 'b' } },
      'PUT /servers/:id/metadata/:key': { meta: { k: 'v' } },
      'PUT /servers/:id/tags': { tags: ['t'] },
      'POST /servers/:id/remote-consoles': { remote_console: { protocol: 'vnc', type: 'novnc' } },
      'PUT /flavors/:id': { flavor: { description: 'x' } },
      'POST /flavors/:id/action': { addTenantAccess: { tenant: adminProject } },
      'POST /flavors/:id/os-extra_specs': { extra_specs: { a: 'b' } },
      'PUT /flavors/:id/os-extra_specs/:key': { k: 'v' },
      'POST /images/:id/metadata': { metadata: { a: 'b' } },
      'PUT /images/:id/metadata': { metadata: { a: 'b' } },
      'PUT /images/:id/metadata/:key': { meta: { k: 'v' } },
      'PUT /os-aggregates/:id': { aggregate: { name: 'x' } },
      'POST /os-aggregates/:id/action': { add_host: { host: 'node-1' } },
      'PUT /os-hosts/:host': { status: 'enable' },
      'PUT /os-quota-class-sets/:class': { quota_class_set: { instances: 1 } },
      'PUT /os-quota-sets/:project': { quota_set: { instances: 1 } },
      'PUT /os-services/:id': { status: 'disabled' },
      'POST /servers/:id/os-interface': { interfaceAttachment: {} },
      'POST /servers/:id/os-volume_attachments': { volumeAttachment: { volumeId: '00000000-0000-4000-8000-000000000001' } },
    };
    // Not another project's object: the extension list is the same for everyone.
    const everyones = new Set(['GET /extensions/:alias']);
    const routes = compute.routes().filter((r) => !r.public && r.path.includes(':') && !everyones.has(`${r.method} ${r.path}`));
    assert.ok(routes.length > 60, `${routes.length} routes with parameters`);
    const leaks: string[] = [];
    for (const r of routes) {
      const path = r.path.replace(/:([a-z_]+)/g, (_, n: string) => encodeURIComponent(n === 'id' ? idOf(r.path) : (params[n] ?? assert.fail(`no value for :${n} in ${r.path}`))));
      // The image proxy and os-hosts are gone after 2.35 and 2.42: asked at 2.1 they are there to be refused.
      const version = r.path.startsWith('/images') || r.path.startsWith('/os-hosts') ? '2.1' : '2.73';
      const res = await call(r.method, path, { token: member, version, body: bodies[`${r.method} ${r.path}`] ?? (['POST', 'PUT'].includes(r.method) ? {} : undefined) });
      if (res.status !== 404 && res.status !== 403) leaks.push(`${r.method} ${r.path} -> ${res.status} ${JSON.stringify(res.body)?.slice(0, 160)}`);
    }
    assert.deepEqual(leaks, [], 'every call answered 404 or 403');
    // And the objects are as they were.
    assert.equal((await ok('GET', `/servers/${server}`)).body.server.name, 'iso-server');
    assert.deepEqual((await ok('GET', `/servers/${server}/metadata`)).body.metadata, { k: 'v' });
    await ok('DELETE', `/servers/${server}`);
    await ok('DELETE', `/os-server-groups/${group}`);
    await ok('DELETE', `/flavors/${flavor}`);
    await ok('DELETE', '/os-keypairs/iso-key');
    await client.delete(IMAGES, 'admin', 'iso-image');
  });

  it('deletes servers: gone from the API once their Instance is', async () => {
    const ids = (await call('GET', '/servers?all_tenants=1')).body.servers.map((s: any) => s.id);
    for (const id of ids) assert.equal((await call('DELETE', `/servers/${id}`)).status, 204);
    const deadline = Date.now() + 20_000;
    while ((await call('GET', '/servers?all_tenants=1')).body.servers.length) {
      assert.ok(Date.now() < deadline, 'servers stayed');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await client.list(INSTANCES)).items.length, 0);
  });
});
