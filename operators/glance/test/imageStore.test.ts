/**
 * The S3 image store against the embedded S3 server (a real S3 API over files), or against any S3 named by
 * STRATUS_TEST_S3 (a JSON file: endpoint, accessKeyId, secretAccessKey; `make test-ceph` points it at Ceph's
 * RADOS Gateway): streaming, checksums, ranges, and nothing left behind as S3 itself lists it.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, DeleteBucketCommand, GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, ListPartsCommand, S3Client, S3ServiceException, UploadPartCommand } from '@aws-sdk/client-s3';
import { ImageStore, UploadError, startEmbeddedS3, type EmbeddedS3 } from '../src/index.js';

const MiB = 1024 * 1024;

/** `n` MiB of varied bytes (`seed` varies them), made as they are read (never whole in memory), failing after `failAfter` MiB if given. */
function image(n: number, failAfter?: number, seed = 0): Readable {
  let i = 0;
  return new Readable({
    read() {
      if (failAfter !== undefined && i === failAfter) return this.destroy(new Error('client went away'));
      if (i === n) return this.push(null);
      const chunk = Buffer.alloc(MiB, (i + seed) % 251);
      chunk.writeUInt32BE(i++, 0);
      this.push(chunk);
    },
  });
}

async function digest(s: Readable, algo: 'md5' | 'sha512') {
  const h = createHash(algo);
  for await (const c of s) h.update(c as Buffer);
  return h.digest('hex');
}

const external = process.env.STRATUS_TEST_S3 ? (JSON.parse(readFileSync(process.env.STRATUS_TEST_S3, 'utf8')) as { endpoint: string; accessKeyId: string; secretAccessKey: string }) : undefined;

describe(`Glance image store on S3 (${external ? `the S3 at ${external.endpoint}` : 'the embedded S3 server'})`, function () {
  this.timeout(60_000);
  let embedded: EmbeddedS3 | undefined;
  let s3: { endpoint: string; accessKeyId: string; secretAccessKey: string };
  let store: ImageStore;
  let dir: string | undefined;
  // A bucket of this run's own on a shared S3.
  const BUCKET = external ? `images-test-${process.pid}-${Date.now().toString(36)}` : 'images';
  const keys = async () => ((await store.s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((o) => o.Key);
  /** Unfinished multipart uploads, as S3 lists them: what an aborted upload must not leave. */
  const uploads = async () => ((await store.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? []).map((u) => u.Key);

  before(async () => {
    if (external) s3 = external;
    else {
      dir = mkdtempSync(join(tmpdir(), 'glance-s3-'));
      s3 = embedded = await startEmbeddedS3({ directory: dir });
    }
    store = new ImageStore({ endpoint: s3.endpoint, bucket: BUCKET, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, partSize: 5 * MiB });
    await store.ensureBucket();
    await store.ensureBucket(); // idempotent
  });
  after(async () => {
    if (external) {
      for (const k of await keys()) await store.delete(k!);
      for (const u of (await store.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? []) await store.s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: u.Key, UploadId: u.UploadId }));
      await store.s3.send(new DeleteBucketCommand({ Bucket: BUCKET }));
    }
    store.destroy();
    await embedded?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('streams an image in as a multipart upload and out again, with its md5, sha512 and size', async () => {
    const stored = await store.put('img-1', image(23));
    assert.equal(stored.size, 23 * MiB);
    assert.equal(stored.checksum, await digest(image(23), 'md5'));
    assert.equal(stored.hashValue, await digest(image(23), 'sha512'));
    assert.equal(stored.location, `s3://${BUCKET}/img-1`);
    assert.equal(await store.size('img-1'), 23 * MiB);
    const out = await store.get('img-1');
    assert.equal(out.size, 23 * MiB);
    assert.equal(await digest(out.body, 'md5'), stored.checksum);
    const part = await store.get('img-1', { start: MiB, end: 2 * MiB - 1 });
    assert.equal(part.size, MiB, 'ranged reads for resumable downloads');
    part.body.destroy();
  });

  it('keeps each image’s bytes its own when uploads run at once, one after another, and in one part (their part buffers are reused)', async () => {
    const uploads = [
      ['mix-a', 17, 1],
      ['mix-b', 12, 2],
    ] as const;
    await Promise.all(uploads.map(([key, n, seed]) => store.put(key, image(n, undefined, seed))));
    await store.put('mix-c', image(11, undefined, 3));
    await store.put('mix-d', image(2, undefined, 4));
    for (const [key, n, seed] of [...uploads, ['mix-c', 11, 3], ['mix-d', 2, 4]] as const) {
      const out = await store.get(key);
      assert.equal(out.size, n * MiB, key);
      assert.equal(await digest(out.body, 'md5'), await digest(image(n, undefined, seed), 'md5'), key);
      await store.delete(key);
    }
  });

  it('accepts the declared checksum and size, and removes the data when either is wrong', async () => {
    const checksum = await digest(image(6), 'md5');
    assert.equal((await store.put('img-2', image(6), { checksum, size: 6 * MiB })).checksum, checksum);
    const before = await keys();
    await assert.rejects(store.put('img-3', image(6), { checksum: 'ffffffffffffffffffffffffffffffff' }), (e: UploadError) => e.reason === 'ChecksumMismatch' && e.message.includes(checksum));
    await assert.rejects(store.put('img-4', image(6), { size: 7 * MiB }), (e: UploadError) => e.reason === 'SizeMismatch');
    assert.deepEqual(await keys(), before, 'no object for a refused upload');
  });

  it('leaves no object and no parts when the upload is cut short or too large', async () => {
    const objects = await keys();
    await assert.rejects(store.put('img-5', image(30, 12)), (e: UploadError) => e.reason === 'Interrupted');
    await assert.rejects(store.put('img-6', image(30), { maxSize: 10 * MiB }), (e: UploadError) => e.reason === 'TooLarge');
    assert.deepEqual(await keys(), objects);
    assert.deepEqual(await uploads(), [], 'no multipart upload (nor its parts) left on the S3 server');
  });

  it('answers only requests signed (SigV4) with its own credentials: nothing anonymous, no published key, no other secret', async () => {
    await store.put('secret-object', Readable.from([Buffer.from('tenant data')]));
    for (const [method, path] of [['GET', `/${BUCKET}?list-type=2`], ['GET', `/${BUCKET}/secret-object`], ['PUT', `/${BUCKET}/planted`], ['DELETE', `/${BUCKET}/secret-object`]]) {
      const res = await fetch(`${s3.endpoint}${path}`, { method, body: method === 'PUT' ? 'x' : undefined });
      assert.equal(res.status, 403, `unsigned ${method} ${path}`);
      assert.match(await res.text(), external ? /AccessDenied/ : /AccessDenied.*not signed/);
    }
    if (!external) {
      // A browser-form upload with the malformed part header that crashes dicer (GHSA-wm7h-9275-46v2): refused
      // before any multipart parser sees it (s3rver's, the server before this one, crashed on it), and the server still answers.
      const boundary = 'x-boundary';
      const form = await fetch(`${s3.endpoint}/${BUCKET}`, { method: 'POST', headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` }, body: `--${boundary}\r\n Content-Disposition: form-data; name="key"\r\n\r\nplanted\r\n--${boundary}--\r\n` });
      assert.equal(form.status, 403, 'an unsigned form upload');
    }
    assert.ok((await keys()).includes('secret-object'), 'the server is still answering');
    const client = (accessKeyId: string, secretAccessKey: string) => new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
    for (const [id, secret, why] of [['S3RVER', 'S3RVER', 's3rver’s published key'], [s3.accessKeyId, 'not-the-secret', 'a wrong secret']]) {
      const other = client(id, secret);
      await assert.rejects(other.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'secret-object' })), (e: any) => e.$metadata?.httpStatusCode === 403, why);
      other.destroy();
    }
    assert.ok((await keys()).includes('secret-object'), 'the signed client still reads the bucket');
    assert.ok(!(await keys()).includes('planted'));
    await store.delete('secret-object');
  });

  it('finds and aborts, when the image is discarded, a multipart upload whose uploader died (its upload ID lost with it)', async () => {
    const other = await store.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'images/t/other' }));
    const { UploadId } = await store.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'images/t/dead-upload' }));
    await store.s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'images/t/dead-upload', UploadId, PartNumber: 1, Body: Buffer.alloc(5 * MiB, 7) }));
    const listed = await store.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'images/t/dead' }));
    assert.deepEqual(listed.Uploads?.map((u) => [u.Key, u.UploadId]), [['images/t/dead-upload', UploadId]], 'listed by prefix, as S3 lists them');
    assert.equal((await store.s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'images/t/dead-upload', UploadId }))).Parts?.length, 1, 'its part is stored');
    await store.discard('images/t/dead-upload');
    // S3 says NoSuchUpload; Ceph's RADOS Gateway says NoSuchKey: 404 either way.
    await assert.rejects(store.s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'images/t/dead-upload', UploadId })), (e: any) => e.$metadata?.httpStatusCode === 404 && /^NoSuch(Upload|Key)$/.test(e.name), 'its parts are gone');
    assert.deepEqual(await uploads(), ['images/t/other'], 'another object’s upload is left alone');
    await store.s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'images/t/other', UploadId: other.UploadId }));
  });

  it('reads a key of any characters whole and in ranges, and a missing one as S3’s 404 NoSuchKey', async () => {
    const key = "images/t/a key+with (odd)*chars!'~ é";
    await store.put(key, image(2));
    const whole = await store.get(key);
    assert.equal(whole.size, 2 * MiB);
    assert.equal(await digest(whole.body, 'md5'), await digest(image(2), 'md5'));
    const part = await store.get(key, { start: MiB - 2, end: MiB + 1 });
    const bytes: Buffer[] = [];
    for await (const c of part.body) bytes.push(c as Buffer);
    const expected: Buffer[] = [];
    for await (const c of image(2)) expected.push(c as Buffer);
    assert.deepEqual(Buffer.concat(bytes), Buffer.concat(expected).subarray(MiB - 2, MiB + 2));
    await assert.rejects(store.get('images/t/none'), (e: any) => e instanceof S3ServiceException && e.name === 'NoSuchKey' && e.$metadata.httpStatusCode === 404);
    await store.delete(key);
  });

  it('deletes idempotently', async () => {
    await store.delete('img-1');
    await store.delete('img-1');
    assert.equal(await store.size('img-1'), undefined);
    assert.ok(!(await keys()).includes('img-1'));
  });
});
