/**
 * Glance end to end inside one process: the Image API v2 with Keystone tokens, the Image reconciler, a real
 * S3 server and real qemu-img. What a user of the API would check, and that refused data leaves nothing.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { MERGE_PATCH, isTrue } from '@stratus/runtime';
import { IMAGES, TENANTS, type Image } from '../src/index.js';
import { BUCKET, call, passwordAuth, startGlanceEnv, type GlanceEnv } from './support.js';

const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');

/** A real qcow2 disk of `virtualMiB`, made by qemu-img. */
function qcow2(virtualMiB: number): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'glance-qcow2-'));
  try {
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'disk'), `${virtualMiB}M`]);
    return readFileSync(join(dir, 'disk'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Reply {
  status: number;
  headers: Headers;
  body: any;
  bytes: Buffer;
}

describe('Glance Image API and reconciler', function () {
  this.timeout(120_000);
  let env: GlanceEnv;
  let files: http.Server;
  let filesUrl: string;
  const disk = qcow2(128);
  const raw = randomBytes(12 * MiB);

  /** One Image API call; JSON bodies are sent as JSON, Buffers as octet-stream. */
  async function glance(method: string, path: string, opts: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...(opts.token !== null ? { 'X-Auth-Token': opts.token ?? env.adminToken } : {}), ...opts.headers };
    let body: Buffer | string | undefined;
    if (Buffer.isBuffer(opts.body)) {
      headers['Content-Type'] ??= 'application/octet-stream';
      body = opts.body;
    } else if (opts.body !== undefined) {
      headers['Content-Type'] ??= 'application/json';
      body = JSON.stringify(opts.body);
    }
    const res = await fetch(env.v2 + path, { method, headers, body });
    const bytes = Buffer.from(await res.arrayBuffer());
    const isJson = res.headers.get('content-type')?.startsWith('application/json');
    return { status: res.status, headers: res.headers, bytes, body: isJson && bytes.length ? JSON.parse(bytes.toString('utf8')) : undefined };
  }

  const create = async (doc: Record<string, unknown>, token?: string) => {
    const r = await glance('POST', '/images', { body: { disk_format: 'qcow2', container_format: 'bare', ...doc }, token });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  };
  const upload = (id: string, data: Buffer, headers: Record<string, string> = {}, token?: string) => glance('PUT', `/images/${id}/file`, { body: data, headers, token });
  const imageCr = async (namespace: string, name: string) => (await env.identity.client.get<Image>(IMAGES, namespace, name))!;
  /** Polls the resource until `check` holds, returning it. */
  async function eventually(namespace: string, name: string, check: (i: Image) => boolean, what: string): Promise<Image> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const img = await env.identity.client.get<Image>(IMAGES, namespace, name);
      if (img && check(img)) return img;
      if (Date.now() > deadline) throw new Error(`image ${namespace}/${name} never became ${what}: ${JSON.stringify(img?.status)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const stalledReason = (i: Image) => i.status?.conditions?.find((c) => c.type === 'Stalled')?.reason;

  before(async () => {
    // The web server URL imports read from: whole files, a 404, one that stops halfway through, and redirects.
    files = http.createServer((req, res) => {
      if (req.url?.startsWith('/redirect?to=')) return res.writeHead(302, { Location: decodeURIComponent(req.url.slice('/redirect?to='.length)) }).end();
      if (req.url === '/disk.qcow2') return res.end(disk);
      if (req.url === '/raw.img') return res.end(raw);
      if (req.url === '/cut-short.img') {
        res.writeHead(200, { 'Content-Length': String(raw.length) });
        res.write(raw.subarray(0, 6 * MiB));
        return setTimeout(() => res.destroy(), 50);
      }
      res.writeHead(404).end('no such file');
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    // Loopback is refused to imports unless allowed: 127.0.0.1 and localhost are (the test's web servers), 127.0.0.2
    // is not; the S3 server is denied whatever name reaches it.
    env = await startGlanceEnv({ sizeCap: 64 * MiB, importAllowed: [{ host: '127.0.0.1' }, { host: 'localhost' }] });
  });
  after(async () => {
    files?.close();
    await env?.stop();
  });

  it('answers version discovery, and refuses calls without a valid token', async () => {
    const versions = await fetch(`${env.api.url}/`);
    assert.equal(versions.status, 300);
    assert.equal(((await versions.json()) as any).versions[0].status, 'CURRENT');
    assert.equal((await glance('GET', '/images', { token: null })).status, 401);
    const bad = await glance('GET', '/images', { token: 'gAAAAAnot-a-token' });
    assert.equal(bad.status, 401);
    assert.equal(bad.body.title, 'Unauthorized');
  });

  it('lets a token made with an application credential make only the image calls its access rules name', async () => {
    const admin = env.adminToken;
    const me = (await call(env.identity.v3, 'GET', '/auth/tokens', { token: admin, subject: admin })).body.token.user.id;
    const rules = [{ service: 'image', method: 'GET', path: '/v2/images' }, { service: 'compute', method: 'GET', path: '/v2/images/*' }];
    const made = await call(env.identity.v3, 'POST', `/users/${me}/application_credentials`, { token: admin, body: { application_credential: { name: 'image-lister', access_rules: rules } } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const cred = made.body.application_credential;
    const signIn = await call(env.identity.v3, 'POST', '/auth/tokens', { body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: cred.id, secret: cred.secret } } } } });
    const token = signIn.headers.get('x-subject-token')!;
    const image = await create({ name: 'ruled' });
    assert.equal((await glance('GET', '/images', { token })).status, 200);
    assert.equal((await fetch(`${env.api.url}/image/v2/images`, { headers: { 'X-Auth-Token': token } })).status, 200, 'the same call under the gateway mount');
    assert.equal((await glance('GET', `/images/${image.id}`, { token })).status, 401, 'a rule for another service does not count');
    assert.equal((await glance('POST', '/images', { token, body: { name: 'nope' } })).status, 401);
    assert.equal((await glance('GET', `/images/${image.id}`)).status, 200, 'other tokens are not bound by it');
    assert.equal((await call(env.identity.v3, 'DELETE', `/users/${me}/application_credentials/${cred.id}`, { token: admin })).status, 204);
  });

  it('creates an image, takes its data, and serves it back with checksums and the virtual size', async () => {
    const created = await glance('POST', '/images', { body: { name: 'cirros', disk_format: 'qcow2', container_format: 'bare', os_distro: 'cirros', min_ram: 64 } });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('openstack-image-import-methods'), 'web-download');
    const id = created.body.id;
    assert.equal(created.body.status, 'queued');
    assert.equal(created.body.os_distro, 'cirros');
    assert.equal(created.body.size, null);
    const queued = await eventually('admin', id, (i) => i.status?.conditions?.some((c) => c.reason === 'AwaitingUpload') ?? false, 'waiting for its upload');
    assert.equal(queued.status?.phase, 'queued');

    assert.equal((await glance('GET', `/images/${id}/file`)).status, 204, 'no data yet');
    assert.equal((await upload(id, disk, { 'Content-MD5': md5(disk) })).status, 204);
    const shown = (await glance('GET', `/images/${id}`)).body;
    assert.equal(shown.status, 'active');
    assert.equal(shown.checksum, md5(disk));
    assert.equal(shown.os_hash_algo, 'sha512');
    assert.equal(shown.os_hash_value, sha512(disk));
    assert.equal(shown.size, disk.length);
    assert.equal(shown.virtual_size, 128 * MiB, 'qemu-img read the qcow2 header');
    const projectId = (await env.identity.client.get<any>(TENANTS, undefined, 'admin')).status.projectId;
    assert.equal(shown.owner, projectId);

    const cr = await imageCr('admin', id);
    assert.ok(isTrue(cr.status?.conditions, 'Ready'), 'the resource is Ready once its data is stored');
    assert.equal(cr.status?.location, `s3://test-images/images/admin/${cr.metadata.uid}`);
    assert.ok((await env.objects()).includes(`images/admin/${cr.metadata.uid}`));

    const download = await glance('GET', `/images/${id}/file`);
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-md5'), md5(disk));
    assert.ok(download.bytes.equals(disk));
    const part = await glance('GET', `/images/${id}/file`, { headers: { Range: 'bytes=0-3' } });
    assert.equal(part.status, 206);
    assert.equal(part.bytes.toString('latin1'), 'QFI\xfb', 'the qcow2 magic');
    assert.equal(part.headers.get('content-range'), `bytes 0-3/${disk.length}`);
  });

  it('refuses bad uploads with the reason, kills the image, and keeps no data', async () => {
    const before = await env.objects();
    const bytes = env.bytesOnDisk();

    const wrongSum = await create({ name: 'wrong-sum' });
    const refused = await upload(wrongSum.id, disk, { 'Content-MD5': 'ffffffffffffffffffffffffffffffff' });
    assert.equal(refused.status, 400);
    assert.match(refused.body.message, /Checksum verification failed/);
    const killed = await glance('GET', `/images/${wrongSum.id}`);
    assert.equal(killed.body.status, 'killed');
    assert.equal(stalledReason(await imageCr('admin', wrongSum.id)), 'ChecksumMismatch');
    assert.equal((await upload(wrongSum.id, disk)).status, 409, 'a killed image takes no more data');

    const notQcow2 = await create({ name: 'not-qcow2' });
    const mismatch = await upload(notQcow2.id, raw);
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.body.message, /the data is raw, but the image's disk format is qcow2/);
    assert.equal(stalledReason(await imageCr('admin', notQcow2.id)), 'DiskFormatMismatch');

    const cut = await create({ name: 'cut-short', disk_format: 'raw' });
    await new Promise<void>((resolve) => {
      const req = http.request(`${env.v2}/images/${cut.id}/file`, { method: 'PUT', headers: { 'X-Auth-Token': env.adminToken, 'Content-Type': 'application/octet-stream', 'Content-Length': raw.length } });
      req.on('error', () => resolve());
      req.write(raw.subarray(0, 6 * MiB), () => setTimeout(() => (req.destroy(), resolve()), 200));
    });
    const interrupted = await eventually('admin', cut.id, (i) => i.status?.phase === 'killed', 'killed');
    assert.equal(stalledReason(interrupted), 'Interrupted');

    const tooBig = await create({ name: 'too-big', disk_format: 'raw' });
    // Refused on its Content-Length alone, before a byte of the 65 MiB is sent.
    const capped = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${env.v2}/images/${tooBig.id}/file`, { method: 'PUT', headers: { 'X-Auth-Token': env.adminToken, 'Content-Type': 'application/octet-stream', 'Content-Length': 65 * MiB } });
      req.on('response', (res) => (res.resume(), resolve(res.statusCode!), req.destroy()));
      req.on('error', reject);
      req.flushHeaders();
    });
    assert.equal(capped, 413);
    assert.equal((await upload(tooBig.id, raw, { 'Content-Type': 'text/plain' })).status, 415);

    assert.deepEqual(await env.objects(), before, 'no object for any refused upload');
    assert.equal(env.bytesOnDisk(), bytes, 'no multipart parts left on the S3 server');
    const active = (await glance('GET', '/images?name=cirros')).body.images[0];
    const again = await upload(active.id, disk);
    assert.equal(again.status, 409);
    assert.match(again.body.message, /active to saving is not allowed/);
  });

  it('kills an upload whose API process died, removing what it wrote', async () => {
    const orphan = await create({ name: 'orphaned-upload', disk_format: 'raw' });
    const cr = await imageCr('admin', orphan.id);
    const key = `images/admin/${cr.metadata.uid}`;
    // What a Glance process that died mid-upload leaves: status saving, an old start, no heartbeat, some data.
    await env.store.s3.send(new PutObjectCommand({ Bucket: 'test-images', Key: key, Body: raw.subarray(0, MiB) }));
    const longAgo = new Date(Date.now() - 10 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await env.identity.client.patch(IMAGES, 'admin', orphan.id, { status: { phase: 'saving', uploadStartedAt: longAgo } }, 'test', MERGE_PATCH, 'status');
    const killed = await eventually('admin', orphan.id, (i) => i.status?.phase === 'killed', 'killed');
    assert.equal(stalledReason(killed), 'UploadAbandoned');
    assert.ok(!(await env.objects()).includes(key), 'the partial data is gone');
  });

  it('imports a kubectl-style Image from a URL and copies another, checking the declared checksum', async () => {
    const apply = (name: string, spec: Image['spec']) =>
      env.identity.client.create<Image>(IMAGES, { apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name, namespace: 'admin' }, spec }, 'test');
    await apply('debian-web', { diskFormat: 'qcow2', visibility: 'public', source: { url: `${filesUrl}/disk.qcow2`, checksum: md5(disk) } });
    const imported = await eventually('admin', 'debian-web', (i) => isTrue(i.status?.conditions, 'Ready'), 'Ready');
    assert.equal(imported.status?.phase, 'active');
    assert.equal(imported.status?.checksum, md5(disk));
    assert.equal(imported.status?.virtualSize, 128 * MiB);
    assert.equal(imported.status?.imageId, imported.metadata.uid, 'an image named by a person has its UID as its ID');
    const viaApi = await glance('GET', `/images/${imported.metadata.uid}`);
    assert.equal(viaApi.body.name, 'debian-web');

    await apply('debian-copy', { diskFormat: 'qcow2', source: { copyFrom: { name: 'debian-web' } } });
    const copy = await eventually('admin', 'debian-copy', (i) => i.status?.phase === 'active', 'active');
    assert.equal(copy.status?.checksum, md5(disk));
    assert.notEqual(copy.status?.location, imported.status?.location, 'a copy has its own object');

    const before = await env.objects();
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r)); // nothing listens there now
    await apply('unreachable', { diskFormat: 'raw', source: { url: `http://127.0.0.1:${closedPort}/nothing.img` } });
    await apply('missing', { diskFormat: 'raw', source: { url: `${filesUrl}/missing.img` } });
    await apply('wrong-sum', { diskFormat: 'raw', source: { url: `${filesUrl}/raw.img`, checksum: 'f'.repeat(32) } });
    await apply('truncated', { diskFormat: 'raw', source: { url: `${filesUrl}/cut-short.img` } });
    const failed = await Promise.all(['unreachable', 'missing', 'wrong-sum', 'truncated'].map((n) => eventually('admin', n, (i) => i.status?.phase === 'killed', 'killed')));
    const messages = failed.map((i) => i.status?.conditions?.find((c) => c.type === 'Stalled'));
    assert.deepEqual(messages.map((c) => c?.reason), ['ImportFailed', 'ImportFailed', 'ChecksumMismatch', 'Interrupted']);
    assert.match(messages[0]!.message, /ECONNREFUSED/);
    assert.match(messages[1]!.message, /404/);
    assert.deepEqual(await env.objects(), before, 'failed imports keep no data');

    const web = await create({ name: 'web-download', disk_format: 'raw' });
    const started = await glance('POST', `/images/${web.id}/import`, { body: { method: { name: 'web-download', uri: `${filesUrl}/raw.img` } } });
    assert.equal(started.status, 202);
    const done = await eventually('admin', web.id, (i) => i.status?.phase === 'active', 'active');
    assert.equal(done.status?.checksum, md5(raw));
    assert.equal(done.status?.virtualSize, raw.length);
    assert.equal((await glance('POST', `/images/${web.id}/import`, { body: { method: { name: 'web-download', uri: `${filesUrl}/raw.img` } } })).status, 409);
  });

  it("refuses imports from this cloud's own services and from addresses that are not public, after redirects too", async () => {
    const s3 = env.s3.endpoint;
    const before = await env.objects();
    const apply = (name: string, url: string) => env.identity.client.create<Image>(IMAGES, { apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name, namespace: 'admin' }, spec: { diskFormat: 'raw', source: { url } } }, 'test');
    const cases: Array<[string, string, RegExp]> = [
      ['bucket-listing', `${s3}/${BUCKET}?list-type=2`, /own services/],
      ['bucket-by-name', `${s3.replace('127.0.0.1', 'localhost')}/${BUCKET}`, /own services/],
      ['redirected-to-s3', `${filesUrl}/redirect?to=${encodeURIComponent(`${s3}/${BUCKET}`)}`, /own services/],
      ['other-loopback', 'http://127.0.0.2/raw.img', /loopback/],
      ['other-port', `${filesUrl.replace('127.0.0.1', '127.0.0.2')}/raw.img`, /port \d+ is not allowed/],
      ['cloud-metadata', 'http://169.254.169.254/latest/meta-data/', /linkLocal/],
      ['private-range', 'http://10.0.0.1/disk.img', /private/],
    ];
    await assert.rejects(apply('file-scheme', 'file:///etc/passwd'), /should match/, 'the Image schema takes http and https only');
    for (const [name, url] of cases) await apply(name, url);
    const killed = await Promise.all(cases.map(([name]) => eventually('admin', name, (i) => i.status?.phase === 'killed', 'killed')));
    killed.forEach((img, n) => {
      const stalled = img.status?.conditions?.find((c) => c.type === 'Stalled');
      assert.equal(stalled?.reason, 'ImportRefused', `${cases[n][0]}: ${JSON.stringify(stalled)}`);
      assert.match(stalled!.message, cases[n][2], `${cases[n][0]}: ${stalled!.message}`);
    });
    assert.deepEqual(await env.objects(), before, 'nothing was stored');
    // Through the API, web-download names the same URLs: refused at once, as Glance's import filtering does.
    const web = await create({ name: 'ssrf', disk_format: 'raw' });
    const refused = await glance('POST', `/images/${web.id}/import`, { body: { method: { name: 'web-download', uri: `${s3}/${BUCKET}` } } });
    assert.equal(refused.status, 400);
    assert.match(JSON.stringify(refused.body), /does not pass filtering/);
    for (const [name] of cases) await env.identity.client.delete(IMAGES, 'admin', name);
  });

  it('shows other tenants only what their visibility allows', async () => {
    const admin = env.adminToken;
    const project = await call(env.identity.v3, 'POST', '/projects', { token: admin, body: { project: { name: 'acme' } } });
    const user = await call(env.identity.v3, 'POST', '/users', { token: admin, body: { user: { name: 'wile', password: 'wile-pw', default_project_id: project.body.project.id } } });
    const member = (await call(env.identity.v3, 'GET', '/roles?name=member', { token: admin })).body.roles[0];
    assert.equal((await call(env.identity.v3, 'PUT', `/projects/${project.body.project.id}/users/${user.body.user.id}/roles/${member.id}`, { token: admin })).status, 204);
    const token = (await call(env.identity.v3, 'POST', '/auth/tokens', { body: passwordAuth('wile', 'wile-pw', 'acme') })).headers.get('x-subject-token')!;

    const priv = await create({ name: 'secret', visibility: 'private' });
    const community = await create({ name: 'community-one', visibility: 'community' });
    const names = async (query = '') => ((await glance('GET', `/images${query}`, { token })).body.images as any[]).map((i) => i.name).sort();
    assert.deepEqual(await names(), ['debian-web'], 'only the public image');
    assert.deepEqual(await names('?visibility=community'), ['community-one']);
    assert.equal((await glance('GET', `/images/${priv.id}`, { token })).status, 404);
    assert.equal((await glance('GET', `/images/${community.id}`, { token })).status, 200, 'community images are usable by ID');
    const publicId = (await imageCr('admin', 'debian-web')).metadata.uid!;
    assert.equal((await glance('GET', `/images/${publicId}/file`, { token })).status, 200);
    const change = await glance('PATCH', `/images/${publicId}`, { token, body: [{ op: 'replace', path: '/name', value: 'mine' }], headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' } });
    assert.equal(change.status, 403);
    assert.equal((await glance('POST', '/images', { token, body: { name: 'x', visibility: 'public' } })).status, 403, 'only admins publicize');

    const own = await create({ name: 'acme-image', disk_format: 'raw' }, token);
    const cr = await imageCr('acme', own.id);
    assert.equal(cr.metadata.namespace, 'acme', "an image lives in its tenant's namespace");
    assert.equal(own.owner, project.body.project.id);
    assert.deepEqual(await names(), ['acme-image', 'debian-web']);
  });

  it("keeps every call that names another project's private image or namespace from a member: 404 or 403, for every route in the table", async () => {
    const token = (await call(env.identity.v3, 'POST', '/auth/tokens', { body: passwordAuth('wile', 'wile-pw', 'acme') })).headers.get('x-subject-token')!;
    const secret = await create({ name: 'iso-private', visibility: 'private', disk_format: 'raw', tags: ['t'] });
    assert.equal((await upload(secret.id, Buffer.from('private bytes'))).status, 204);
    const ns = await glance('POST', '/metadefs/namespaces', { body: { namespace: 'iso-ns', visibility: 'private', properties: { p: { type: 'string', title: 'p' } } } });
    assert.equal(ns.status, 201, JSON.stringify(ns.body));
    const value: Record<string, string> = { id: secret.id, member: 'someone', tag: 't', ns: 'iso-ns', name: 'p', kind: 'namespace' };
    const bodies: Record<string, { body: unknown; headers?: Record<string, string> }> = {
      'PATCH /images/:id': { body: [{ op: 'replace', path: '/name', value: 'x' }], headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' } },
      'PUT /images/:id/file': { body: Buffer.from('x') },
      'POST /images/:id/import': { body: { method: { name: 'web-download', uri: 'https://example.org/x.img' } } },
      'POST /images/:id/members': { body: { member: 'someone' } },
      'PUT /images/:id/members/:member': { body: { status: 'accepted' } },
      'PUT /metadefs/namespaces/:ns': { body: { namespace: 'iso-ns', visibility: 'public' } },
      'POST /metadefs/namespaces/:ns/objects': { body: { name: 'o' } },
      'POST /metadefs/namespaces/:ns/properties': { body: { name: 'q', type: 'string', title: 'q' } },
      'PUT /metadefs/namespaces/:ns/properties/:name': { body: { name: 'p', type: 'string', title: 'p' } },
      'POST /metadefs/namespaces/:ns/resource_types': { body: { name: 'OS::Nova::Server' } },
      'POST /metadefs/namespaces/:ns/tags': { body: { name: 't' } },
    };
    // Not another project's object: the schemas are everyone's.
    const routes = env.api.routes().filter((r) => !r.public && r.path.includes(':') && !r.path.startsWith('/schemas/'));
    assert.ok(routes.length > 25, `${routes.length} routes with parameters`);
    const leaks: string[] = [];
    for (const r of routes) {
      const path = r.path.replace(/:([a-z_]+)/g, (_, n: string) => encodeURIComponent(value[n] ?? assert.fail(`no value for :${n} in ${r.path}`)));
      const b = bodies[`${r.method} ${r.path}`] ?? (['POST', 'PUT', 'PATCH'].includes(r.method) ? { body: {} } : undefined);
      const res = await glance(r.method, path, { token, body: b?.body, headers: b?.headers });
      if (res.status !== 404 && res.status !== 403) leaks.push(`${r.method} ${r.path} -> ${res.status} ${JSON.stringify(res.body)?.slice(0, 160)}`);
    }
    assert.deepEqual(leaks, [], 'every call answered 404 or 403');
    assert.equal((await glance('GET', `/images/${secret.id}`)).body.name, 'iso-private', 'the image is as it was');
    assert.equal((await glance('GET', `/images/${secret.id}/file`)).bytes.toString(), 'private bytes');
    assert.equal((await glance('DELETE', '/metadefs/namespaces/iso-ns')).status, 204);
    assert.equal((await glance('DELETE', `/images/${secret.id}`)).status, 204);
  });

  it('shares an image with another project, which sees it listed only once it accepts, as Glance members do', async () => {
    const admin = env.adminToken;
    const acme = (await call(env.identity.v3, 'GET', '/projects?name=acme', { token: admin })).body.projects[0];
    const wile = (await call(env.identity.v3, 'POST', '/auth/tokens', { body: passwordAuth('wile', 'wile-pw', 'acme') })).headers.get('x-subject-token')!;
    const shared = await create({ name: 'team-image', visibility: 'shared' });
    const names = async (query = '') => ((await glance('GET', `/images${query}`, { token: wile })).body.images as any[]).map((i) => i.name).sort();
    assert.equal((await glance('GET', `/images/${shared.id}`, { token: wile })).status, 404, 'not shared yet');

    const added = await glance('POST', `/images/${shared.id}/members`, { body: { member: acme.id } });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.deepEqual([added.body.member_id, added.body.image_id, added.body.status, added.body.schema], [acme.id, shared.id, 'pending', '/v2/schemas/member']);
    assert.equal((await glance('POST', `/images/${shared.id}/members`, { body: { member: acme.id } })).status, 409);
    assert.equal((await glance('GET', `/images/${shared.id}`, { token: wile })).status, 200, 'a member sees it by ID while pending');
    assert.ok(!(await names()).includes('team-image'), 'but lists show it only once accepted');
    assert.ok((await names('?member_status=pending')).includes('team-image'));
    assert.equal((await glance('PUT', `/images/${shared.id}/members/${acme.id}`, { body: { status: 'accepted' } })).status, 403, 'the owner cannot accept for a member');
    assert.equal((await glance('PUT', `/images/${shared.id}/members/${acme.id}`, { token: wile, body: { status: 'maybe' } })).status, 400);
    const accepted = await glance('PUT', `/images/${shared.id}/members/${acme.id}`, { token: wile, body: { status: 'accepted' } });
    assert.equal(accepted.body.status, 'accepted');
    assert.ok((await names()).includes('team-image'));
    assert.ok((await names('?visibility=shared')).includes('team-image'));
    assert.deepEqual((await glance('GET', `/images/${shared.id}/members`, { token: wile })).body.members.map((m: any) => m.status), ['accepted']);
    assert.equal((await glance('DELETE', `/images/${shared.id}/members/${acme.id}`, { token: wile })).status, 403, 'only the owner removes members');
    assert.equal((await glance('DELETE', `/images/${shared.id}/members/${acme.id}`)).status, 204);
    assert.equal((await glance('GET', `/images/${shared.id}`, { token: wile })).status, 404, 'unshared');
    assert.equal((await glance('POST', `/images/${(await create({ name: 'private-one', visibility: 'private' })).id}/members`, { body: { member: acme.id } })).status, 403, 'only shared images have members');
    // owner as Glance takes it: admins may name any project, known here or not; others may not change it.
    const foreign = 'f'.repeat(32);
    const owned = await glance('POST', '/images', { body: { name: 'foreign', owner: foreign, disk_format: 'raw', container_format: 'bare' } });
    assert.equal(owned.status, 201, JSON.stringify(owned.body));
    assert.equal(owned.body.owner, foreign);
    const moved = await glance('PATCH', `/images/${owned.body.id}`, { body: [{ op: 'replace', path: '/owner', value: acme.id }], headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' } });
    assert.equal(moved.body.owner, acme.id);
    assert.equal((await glance('GET', `/images/${owned.body.id}`, { token: wile })).status, 200, 'the named project owns it now');
    const mine = await create({ name: 'wiles', disk_format: 'raw' }, wile);
    assert.equal((await glance('PATCH', `/images/${mine.id}`, { token: wile, body: [{ op: 'replace', path: '/owner', value: foreign }], headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' } })).status, 403);
    assert.equal((await glance('GET', '/schemas/members')).body.name, 'members');
    assert.equal((await glance('GET', '/schemas/metadefs/resource_types')).body.name, 'resource_type_associations');
    assert.deepEqual((await glance('GET', '/metadefs/namespaces')).body.namespaces, []);
    // The metadata definitions catalog: admins write it, everyone reads its public namespaces.
    assert.equal((await glance('POST', '/metadefs/namespaces', { token: wile, body: { namespace: 'OS::Mine' } })).status, 403);
    const made = await glance('POST', '/metadefs/namespaces', { body: { namespace: 'OS::Compute::Demo', display_name: 'Demo', visibility: 'public', protected: true, resource_type_associations: [{ name: 'OS::Glance::Image' }] } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal((await glance('POST', '/metadefs/namespaces', { body: { namespace: 'OS::Compute::Demo' } })).status, 409);
    const ns = encodeURIComponent('OS::Compute::Demo');
    assert.equal((await glance('POST', `/metadefs/namespaces/${ns}/properties`, { body: { name: 'hw_rng', type: 'boolean', title: 'RNG' } })).status, 201);
    assert.equal((await glance('POST', `/metadefs/namespaces/${ns}/objects`, { body: { name: 'CPU Limits', properties: { quota: { type: 'integer', title: 'Quota' } } } })).status, 201);
    assert.equal((await glance('POST', `/metadefs/namespaces/${ns}/tags`, { body: { tags: [{ name: 'a' }, { name: 'b' }] } })).status, 201);
    assert.equal((await glance('POST', `/metadefs/namespaces/${ns}/tags/c`)).status, 201);
    const shown = await glance('GET', `/metadefs/namespaces/${ns}`, { token: wile });
    assert.equal(shown.status, 200, 'a public namespace, for everyone to read');
    assert.deepEqual([shown.body.properties.hw_rng.title, shown.body.objects[0].name, shown.body.tags.map((t: any) => t.name)], ['RNG', 'CPU Limits', ['a', 'b', 'c']]);
    assert.equal((await glance('PUT', `/metadefs/namespaces/${ns}/tags/c`, { body: { name: 'd' } })).body.name, 'd');
    assert.equal((await glance('PUT', `/metadefs/namespaces/${ns}/properties/hw_rng`, { body: { type: 'boolean', title: 'Random numbers' } })).body.title, 'Random numbers');
    assert.deepEqual((await glance('GET', '/metadefs/namespaces?resource_types=OS::Glance::Image')).body.namespaces.map((n: any) => n.namespace), ['OS::Compute::Demo']);
    assert.equal((await glance('DELETE', `/metadefs/namespaces/${ns}`)).status, 403, 'protected');
    assert.equal((await glance('PUT', `/metadefs/namespaces/${ns}`, { body: { namespace: 'OS::Compute::Demo', protected: false, visibility: 'private' } })).body.protected, false);
    assert.equal((await glance('GET', `/metadefs/namespaces/${ns}`, { token: wile })).status, 404, 'private now');
    assert.equal((await glance('DELETE', `/metadefs/namespaces/${ns}`)).status, 204);
  });

  it('updates with JSON patch and tags, and deactivates: only admins then download', async () => {
    const id = (await imageCr('admin', 'debian-web')).metadata.uid!;
    const patchType = { 'Content-Type': 'application/openstack-images-v2.1-json-patch' };
    const patched = await glance('PATCH', `/images/${id}`, {
      headers: patchType,
      body: [{ op: 'replace', path: '/name', value: 'Debian 12' }, { op: 'add', path: '/hw_disk_bus', value: 'virtio' }, { op: 'replace', path: '/min_disk', value: 1 }],
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.name, 'Debian 12');
    assert.equal(patched.body.hw_disk_bus, 'virtio');
    // The older media type names the operation by its path, as Tempest's client sends it.
    const older = await glance('PATCH', `/images/${id}`, { headers: { 'Content-Type': 'application/openstack-images-v2.0-json-patch' }, body: [{ replace: '/min_ram', value: 64 }] });
    assert.equal(older.status, 200, JSON.stringify(older.body));
    assert.equal(older.body.min_ram, 64);
    assert.equal((await glance('GET', '/images/')).status, 404, 'an empty image ID is not the list');
    assert.equal((await glance('DELETE', '/images/')).status, 404);
    const cr = await imageCr('admin', 'debian-web');
    assert.deepEqual([cr.spec.displayName, cr.spec.minDisk, cr.spec.properties?.hw_disk_bus], ['Debian 12', 1, 'virtio']);
    const removed = await glance('PATCH', `/images/${id}`, { headers: patchType, body: [{ op: 'remove', path: '/hw_disk_bus' }] });
    assert.equal(removed.body.hw_disk_bus, undefined);
    assert.equal((await glance('PATCH', `/images/${id}`, { body: [{ op: 'replace', path: '/name', value: 'x' }] })).status, 415);
    assert.equal((await glance('PATCH', `/images/${id}`, { headers: patchType, body: [{ op: 'replace', path: '/size', value: 1 }] })).status, 403);

    assert.equal((await glance('PUT', `/images/${id}/tags/stable`)).status, 204);
    assert.equal((await glance('PUT', `/images/${id}/tags/stable`)).status, 204, 'adding a tag twice is fine');
    assert.deepEqual((await glance('GET', `/images?tag=stable`)).body.images.map((i: any) => i.id), [id]);
    assert.equal((await glance('DELETE', `/images/${id}/tags/stable`)).status, 204);
    assert.equal((await glance('DELETE', `/images/${id}/tags/stable`)).status, 404);

    assert.equal((await glance('POST', `/images/${id}/actions/deactivate`)).status, 204);
    assert.equal((await glance('GET', `/images/${id}`)).body.status, 'deactivated');
    assert.equal((await imageCr('admin', 'debian-web')).status?.phase, 'deactivated');
    const acme = (await call(env.identity.v3, 'POST', '/auth/tokens', { body: passwordAuth('wile', 'wile-pw', 'acme') })).headers.get('x-subject-token')!;
    assert.equal((await glance('GET', `/images/${id}/file`, { token: acme })).status, 403);
    assert.equal((await glance('GET', `/images/${id}/file`)).status, 200, 'admins still may');
    assert.equal((await glance('POST', `/images/${id}/actions/reactivate`, { token: acme })).status, 403);
    assert.equal((await glance('POST', `/images/${id}/actions/reactivate`)).status, 204);
    assert.equal((await glance('GET', `/images/${id}/file`, { token: acme })).status, 200);
  });

  it('lists with filters, sorting and marker paging', async () => {
    const all = (await glance('GET', '/images?limit=1000&sort=name:asc')).body.images.map((i: any) => i.name);
    const seen: string[] = [];
    let next: string | undefined = '/images?limit=2&sort=name:asc';
    while (next) {
      const r = await glance('GET', next.replace(/^\/v2/, ''));
      assert.equal(r.status, 200);
      assert.ok(r.body.images.length <= 2);
      seen.push(...r.body.images.map((i: any) => i.name));
      next = r.body.next;
    }
    assert.deepEqual(seen, all);
    assert.ok(all.length >= 6);
    assert.deepEqual((await glance('GET', '/images?status=killed&sort=name:asc')).body.images.map((i: any) => i.name).slice(0, 2), ['cut-short', 'missing']);
    assert.deepEqual((await glance('GET', '/images?disk_format=raw&status=active')).body.images.map((i: any) => i.name), ['web-download']);
    assert.equal((await glance('GET', '/images?sort_key=secret')).status, 400);
  });

  it('deletes data with its image, and keeps protected images until unprotected', async () => {
    const cirros = (await glance('GET', '/images?name=cirros')).body.images[0];
    const key = `images/admin/${(await imageCr('admin', cirros.id)).metadata.uid}`;
    const patchType = { 'Content-Type': 'application/openstack-images-v2.1-json-patch' };
    await glance('PATCH', `/images/${cirros.id}`, { headers: patchType, body: [{ op: 'replace', path: '/protected', value: true }] });
    const refused = await glance('DELETE', `/images/${cirros.id}`);
    assert.equal(refused.status, 403);
    assert.match(refused.body.message, /protected/);
    await glance('PATCH', `/images/${cirros.id}`, { headers: patchType, body: [{ op: 'replace', path: '/protected', value: false }] });
    assert.equal((await glance('DELETE', `/images/${cirros.id}`)).status, 204);
    assert.equal((await glance('GET', `/images/${cirros.id}`)).status, 404);
    const deadline = Date.now() + 20_000;
    while ((await env.objects()).includes(key) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!(await env.objects()).includes(key), 'the data went with the image');

    // A protected image deleted with kubectl waits, Stalled with the reason, until it is unprotected.
    await env.identity.client.patch(IMAGES, 'admin', 'debian-copy', { spec: { protected: true } }, 'test');
    const copyKey = (await imageCr('admin', 'debian-copy')).status!.location!.replace('s3://test-images/', '');
    await env.identity.client.delete(IMAGES, 'admin', 'debian-copy');
    const held = await eventually('admin', 'debian-copy', (i) => stalledReason(i) === 'Protected', 'held by protection');
    assert.ok(held.metadata.deletionTimestamp);
    assert.ok((await env.objects()).includes(copyKey));
    await env.identity.client.patch(IMAGES, 'admin', 'debian-copy', { spec: { protected: false } }, 'test');
    while ((await env.identity.client.get(IMAGES, 'admin', 'debian-copy')) && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await env.identity.client.get(IMAGES, 'admin', 'debian-copy'), undefined);
    assert.ok(!(await env.objects()).includes(copyKey));
  });
});
