/**
 * `stratus up --ceph` (make test-ceph, not make test): the cloud's image data on a real single-node Ceph's RADOS
 * Gateway. An image uploaded with the openstack CLI is an object in the gateway's bucket with no multipart upload
 * left, downloads byte for byte, and boots a server (the compute node reads it from the gateway); deleting it
 * removes the object.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startCloud, type RunningCloud } from '@stratus/cli';
import { openstackJson, openstackOk } from '../lib/up.js';
import { cephArgs, cephOf } from './cluster.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const sh = promisify(execFile);
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('stratus up --ceph: image data on Ceph’s RADOS Gateway', function () {
  this.timeout(600_000);
  let cloud: RunningCloud;
  let s3: S3Client;
  let bucket: string;
  let testImage: string;
  const os = (...args: string[]) => openstackOk(cloud, args);
  const json = (...args: string[]) => openstackJson(cloud, args);
  const objects = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key);

  before(async () => {
    testImage = (await sh('bash', [join(ROOT, 'hack/build-test-image.sh')], { maxBuffer: 1 << 20 })).stdout.trim().split('\n').pop()!;
    cloud = await startCloud(300_000, undefined, { args: cephArgs() });
    const c = cloud.s3();
    bucket = c.bucket;
    s3 = new S3Client({ endpoint: c.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey } });
  });
  after(async () => {
    s3?.destroy();
    await cloud?.stop();
    await cloud?.remove();
  });

  it('serves the image store from the gateway', async () => {
    assert.match(cloud.output(), /S3 \(image data\): http:\/\/127\.0\.0\.1:\d+, bucket \S+ \(Ceph's RADOS Gateway/);
    const { stdout } = await sh('ceph', ['-c', join(cephOf(cloud).cluster, 'ceph.conf'), 'health']);
    assert.match(stdout, /HEALTH_OK/);
  });

  it('stores an uploaded image as one object in the gateway, downloads it byte for byte, boots a server from it, and deletes it', async () => {
    const data = readFileSync(testImage);
    await os('image', 'create', '--file', testImage, '--disk-format', 'raw', '--container-format', 'bare', 'stratus-test');
    let img: { status?: string; checksum?: string } = {};
    for (const deadline = Date.now() + 120_000; img.status !== 'active' && Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) img = await json('image', 'show', 'stratus-test');
    assert.equal(img.status, 'active');
    assert.equal(img.checksum, md5(data));
    const keys = await objects();
    assert.equal(keys.length, 1, JSON.stringify(keys));
    assert.deepEqual((await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [], [], 'no unfinished multipart upload');
    const out = join(cloud.dir, 'downloaded.img');
    await os('image', 'save', '--file', out, 'stratus-test');
    assert.equal(md5(readFileSync(out)), md5(data));
    await os('flavor', 'create', '--vcpus', '1', '--ram', '256', '--disk', '1', 'm1.tiny');
    const server = await json('server', 'create', '--flavor', 'm1.tiny', '--image', 'stratus-test', '--wait', 'from-rgw');
    assert.equal(server.status, 'ACTIVE');
    await os('server', 'delete', '--wait', 'from-rgw');
    await os('image', 'delete', 'stratus-test');
    const deadline = Date.now() + 60_000;
    while ((await objects()).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await objects(), [], 'the object went with the image');
  });

  it('kills an image whose upload the gateway dies under, and once Ceph is back leaves no object, and no upload once the image is deleted', async () => {
    // Made and uploaded through the Image API itself (the CLI reads image data from its stdin when given no file).
    const token = (await json('token', 'issue')).id as string;
    const base = cloud.admin().authUrl.replace(/\/identity\/v3\/?$/, '');
    const made = await fetch(`${base}/image/v2/images`, { method: 'POST', headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'faulty', disk_format: 'raw', container_format: 'bare' }) });
    assert.equal(made.status, 201);
    const id = ((await made.json()) as { id: string }).id;
    const rgwPid = Number(readFileSync(join(cephOf(cloud).cluster, 'run', 'client.rgw.a.pid'), 'utf8'));
    // 64 MiB, 1 MiB at a time; the gateway is killed once 24 MiB (several multipart parts) have gone.
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent === 24) process.kill(rgwPid, 'SIGKILL');
        if (sent === 64) return c.close();
        sent++;
        await new Promise((r) => setTimeout(r, 20));
        c.enqueue(new Uint8Array(1024 * 1024).fill(sent));
      },
    });
    const res = await fetch(`${base}/image/v2/images/${id}/file`, { method: 'PUT', body, duplex: 'half', headers: { 'X-Auth-Token': token, 'Content-Type': 'application/octet-stream' } } as RequestInit).catch((e: Error) => e);
    assert.ok(res instanceof Error || res.status >= 400, `the upload was refused: ${res instanceof Error ? res.message : res.status}`);
    let img: { status?: string } = {};
    for (const deadline = Date.now() + 120_000; img.status !== 'killed' && Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) img = await json('image', 'show', id);
    assert.equal(img.status, 'killed', 'the image says the upload failed');
    // Ceph back (the gateway restarted as the cloud's folder has it).
    await sh(join(ROOT, 'hack/ceph-up.sh'), [cephOf(cloud).cluster]);
    assert.deepEqual((await objects()).filter((k) => k?.includes(id)), [], 'no half-made object');
    await os('image', 'delete', id);
    const deadline = Date.now() + 60_000;
    const left = async () => ((await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).map((u) => u.Key).filter((k) => k?.includes(id));
    while ((await left()).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await left(), [], 'the dead upload’s parts aborted with the image');
    assert.deepEqual((await objects()).filter((k) => k?.includes(id)), []);
  });
});
