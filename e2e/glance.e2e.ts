/**
 * Images as users handle them against `stratus up`: the real `openstack` CLI uploads, lists, shows, saves
 * and deletes; a manifest applied with kubectl imports an image from a URL; and the S3 bucket holds exactly
 * the data of the images that exist.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startCloud, type RunningCloud } from '@stratus/cli';
import { runKubectl } from './lib/cluster.js';
import { openstack as run, openstackJson, openstackOk, itAskedNothingTheChartRefuses } from './lib/up.js';

const md5 = (file: string) => createHash('md5').update(readFileSync(file)).digest('hex');

describe('openstack CLI and kubectl against the Image service', function () {
  this.timeout(300_000);
  let cloud: RunningCloud;
  let work: string;
  let files: http.Server;
  let s3: S3Client;
  const os = (...args: string[]) => openstackOk(cloud, args);
  const json = (...args: string[]) => openstackJson(cloud, args);
  const kubectl = (args: string[], stdin?: string) => runKubectl(cloud.kubeconfig, cloud.dir, args, stdin);
  const bucket = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: cloud.s3().bucket }))).Contents ?? []).map((o) => o.Key!).sort();
  /** The S3 keys the Image resources say hold their data. */
  const locations = async () =>
    (await kubectl(['get', 'images', '-A', '-o', 'jsonpath={range .items[*]}{.status.location}{"\\n"}{end}'])).stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(`s3://${cloud.s3().bucket}/`, ''))
      .sort();

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'glance-e2e-'));
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(work, 'disk.qcow2'), '256M']);
    writeFileSync(join(work, 'data.raw'), randomBytes(3 * 1024 * 1024));
    files = http.createServer((req, res) => (req.url === '/disk.qcow2' ? res.end(readFileSync(join(work, 'disk.qcow2'))) : res.writeHead(404).end()));
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    // The test's web server is on loopback, which imports reach only where allowed (`--image-import-allow`).
    cloud = await startCloud(undefined, undefined, { imageImportAllow: [`127.0.0.1:${(files.address() as AddressInfo).port}`] });
    const { endpoint, accessKeyId, secretAccessKey } = cloud.s3();
    s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
  });
  after(async () => {
    files?.close();
    s3?.destroy();
    await cloud?.stop();
    await cloud?.remove();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('uploads an image with `image create --file`, lists, shows and saves it with matching checksums', async () => {
    const file = join(work, 'disk.qcow2');
    await os('image', 'create', '--file', file, '--disk-format', 'qcow2', '--container-format', 'bare', '--property', 'os_distro=cirros', 'cirros');
    const list = await json('image', 'list');
    assert.deepEqual(list.map((i: any) => [i.Name, i.Status]), [['cirros', 'active']]);
    const shown = await json('image', 'show', 'cirros');
    assert.equal(shown.checksum, md5(file));
    assert.equal(shown.size, readFileSync(file).length);
    assert.equal(shown.virtual_size, 256 * 1024 * 1024);
    assert.equal(shown.properties.os_distro, 'cirros');
    await os('image', 'save', '--file', join(work, 'saved.qcow2'), 'cirros');
    assert.equal(md5(join(work, 'saved.qcow2')), md5(file));
    const resource = await kubectl(['get', 'images', '-n', 'admin', shown.id, '-o', 'jsonpath={.spec.displayName} {.status.phase} {.status.conditions[?(@.type=="Ready")].status}']);
    assert.equal(resource.stdout, 'cirros active True', 'the image is a resource in the admin tenant namespace');
    assert.deepEqual(await bucket(), await locations());
  });

  it('serves a large image byte for byte through the one port, whole and in ranges, written by the S3 server on the client’s connection', async () => {
    const file = join(work, 'data.raw');
    await os('image', 'create', '--file', file, '--disk-format', 'raw', '--container-format', 'bare', 'blob');
    await os('image', 'save', '--file', join(work, 'blob.raw'), 'blob');
    assert.equal(md5(join(work, 'blob.raw')), md5(file));
    const { id } = await json('image', 'show', 'blob');
    const [endpoint] = await json('endpoint', 'list', '--service', 'image', '--interface', 'public');
    const token = (await os('token', 'issue', '-f', 'value', '-c', 'id')).trim();
    const agent = new http.Agent({ keepAlive: true }); // as clients keep connections: only a handed answer closes its own
    const get = (range?: string) =>
      new Promise<{ status?: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) =>
        http
          .get(`${endpoint.URL}/v2/images/${id}/file`, { agent, headers: { 'X-Auth-Token': token, ...(range ? { Range: range } : {}) } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
            res.on('error', reject);
          })
          .on('error', reject),
      );
    const data = readFileSync(file);
    const whole = await get();
    assert.equal(whole.status, 200);
    assert.equal(whole.headers['content-md5'], md5(file));
    assert.ok(whole.body.equals(data), 'the whole image, byte for byte');
    // The S3 server wrote it (runtime's HandedResponse): the connection ends with the answer.
    assert.equal(whole.headers.connection, 'close');
    const part = await get('bytes=1048573-2097152');
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 1048573-2097152/${data.length}`);
    assert.ok(part.body.equals(data.subarray(1048573, 2097153)), 'the range, byte for byte');
    const tail = await get('bytes=-10');
    assert.ok(tail.body.equals(data.subarray(data.length - 10)), 'a small range is streamed through Glance');
    assert.equal(tail.headers.connection, 'keep-alive');
    // Data changed behind the Image service's back is refused, not handed over.
    const location = (await kubectl(['get', 'images', '-n', 'admin', id, '-o', 'jsonpath={.status.location}'])).stdout;
    await s3.send(new PutObjectCommand({ Bucket: cloud.s3().bucket, Key: location.replace(`s3://${cloud.s3().bucket}/`, ''), Body: data.subarray(0, data.length - 1) }));
    const changed = await get();
    assert.equal(changed.status, 500);
    assert.match(JSON.parse(changed.body.toString()).message, /is 3145727 bytes, not the 3145728 it holds: it was changed outside the Image service/);
    agent.destroy();
    await os('image', 'delete', 'blob');
  });

  it('imports a kubectl-applied Image from a URL, which the CLI then sees', async () => {
    const url = `http://127.0.0.1:${(files.address() as AddressInfo).port}/disk.qcow2`;
    const manifest = ['apiVersion: image.stratus.io/v1alpha1', 'kind: Image', 'metadata: {name: debian, namespace: admin}', 'spec:', '  diskFormat: qcow2', '  visibility: public', '  source:', `    url: ${url}`, `    checksum: ${md5(join(work, 'disk.qcow2'))}`].join('\n');
    const applied = await kubectl(['apply', '-f', '-'], manifest);
    assert.equal(applied.code, 0, applied.stderr);
    const ready = await kubectl(['wait', '--for=condition=Ready', 'image/debian', '-n', 'admin', '--timeout=60s']);
    assert.equal(ready.code, 0, ready.stderr);
    const shown = await json('image', 'show', 'debian');
    assert.equal(shown.status, 'active');
    assert.equal(shown.visibility, 'public');
    assert.equal(shown.checksum, md5(join(work, 'disk.qcow2')));
    const table = await kubectl(['get', 'images', '-A']);
    assert.match(table.stdout, /debian\s+qcow2\s+public\s+\d+\s+active\s+True/);
    assert.deepEqual(await bucket(), await locations());
  });

  it('refuses data that is not its disk format, with the reason, and keeps nothing', async () => {
    const before = await bucket();
    const bad = await run(cloud, ['image', 'create', '--file', join(work, 'data.raw'), '--disk-format', 'qcow2', '--container-format', 'bare', 'not-a-qcow2']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /does not match its disk_format: the data is raw/);
    assert.deepEqual(await bucket(), before, 'no object for the refused upload');
    // An import from the cloud's own S3 server (whose bucket listing names every tenant's objects) is refused.
    const own = `${cloud.s3().endpoint}/${cloud.s3().bucket}`;
    const unreachable = await kubectl(['apply', '-f', '-'], `apiVersion: image.stratus.io/v1alpha1\nkind: Image\nmetadata: {name: nowhere, namespace: admin}\nspec: {diskFormat: raw, source: {url: "${own}"}}\n`);
    assert.equal(unreachable.code, 0, unreachable.stderr);
    const killed = await kubectl(['wait', '--for=jsonpath={.status.phase}=killed', 'image/nowhere', '-n', 'admin', '--timeout=60s']);
    assert.equal(killed.code, 0, killed.stderr);
    const reason = await kubectl(['get', 'image/nowhere', '-n', 'admin', '-o', 'jsonpath={.status.conditions[?(@.type=="Stalled")].reason}: {.status.conditions[?(@.type=="Stalled")].message}']);
    assert.match(reason.stdout, /^ImportRefused: .*one of this cloud's own services/);
    assert.deepEqual(await bucket(), before);
  });

  it('deletes images from the CLI and from kubectl, and their data with them', async () => {
    await os('image', 'delete', 'cirros');
    const deleted = await kubectl(['delete', 'image', 'debian', 'nowhere', '-n', 'admin', '--wait=true', '--timeout=60s']);
    assert.equal(deleted.code, 0, deleted.stderr);
    // The SDK deletes an image whose upload was refused, so nothing is left.
    assert.deepEqual(await json('image', 'list'), []);
    const deadline = Date.now() + 30_000;
    while ((await bucket()).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await bucket(), [], 'the bucket is empty');
  });

  itAskedNothingTheChartRefuses(() => cloud);
});
