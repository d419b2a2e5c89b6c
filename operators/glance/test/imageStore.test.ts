/** The S3 image store against the embedded S3 server (a real S3 API over files): streaming, checksums, nothing left behind. */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CreateMultipartUploadCommand, GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client, S3ServiceException, UploadPartCommand } from '@aws-sdk/client-s3';
import { ImageStore, UploadError, startEmbeddedS3, type EmbeddedS3 } from '../src/index.js';

const MiB = 1024 * 1024;

/** `n` MiB of varied bytes, made as they are read (never whole in memory), failing after `failAfter` MiB if given. */
function image(n: number, failAfter?: number): Readable {
  let i = 0;
  return new Readable({
    read() {
      if (failAfter !== undefined && i === failAfter) return this.destroy(new Error('client went away'));
      if (i === n) return this.push(null);
      const chunk = Buffer.alloc(MiB, i % 251);
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

/** Every file under a folder (the embedded server keeps objects and multipart parts as files). */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('Glance image store on S3', function () {
  this.timeout(60_000);
  let s3: EmbeddedS3;
  let store: ImageStore;
  let dir: string;
  const keys = async () => ((await store.s3.send(new ListObjectsV2Command({ Bucket: 'images' }))).Contents ?? []).map((o) => o.Key);
  const dataBytes = () => files(dir).filter((f) => !f.endsWith('.json')).reduce((n, f) => n + statSync(f).size, 0);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'glance-s3-'));
    s3 = await startEmbeddedS3({ directory: dir });
    store = new ImageStore({ endpoint: s3.endpoint, bucket: 'images', accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, partSize: 5 * MiB });
    await store.ensureBucket();
    await store.ensureBucket(); // idempotent
  });
  after(async () => {
    store.destroy();
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams an image in as a multipart upload and out again, with its md5, sha512 and size', async () => {
    const stored = await store.put('img-1', image(23));
    assert.equal(stored.size, 23 * MiB);
    assert.equal(stored.checksum, await digest(image(23), 'md5'));
    assert.equal(stored.hashValue, await digest(image(23), 'sha512'));
    assert.equal(stored.location, 's3://images/img-1');
    assert.equal(await store.size('img-1'), 23 * MiB);
    const out = await store.get('img-1');
    assert.equal(out.size, 23 * MiB);
    assert.equal(await digest(out.body, 'md5'), stored.checksum);
    const part = await store.get('img-1', { start: MiB, end: 2 * MiB - 1 });
    assert.equal(part.size, MiB, 'ranged reads for resumable downloads');
    part.body.destroy();
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
    const bytes = dataBytes();
    await assert.rejects(store.put('img-5', image(30, 12)), (e: UploadError) => e.reason === 'Interrupted');
    await assert.rejects(store.put('img-6', image(30), { maxSize: 10 * MiB }), (e: UploadError) => e.reason === 'TooLarge');
    assert.deepEqual(await keys(), objects);
    assert.equal(dataBytes(), bytes, 'no multipart parts left on the S3 server');
  });

  it('answers only requests signed (SigV4) with its own credentials: nothing anonymous, no published key, no other secret', async () => {
    await store.put('secret-object', Readable.from([Buffer.from('tenant data')]));
    for (const [method, path] of [['GET', '/images?list-type=2'], ['GET', '/images/secret-object'], ['PUT', '/images/planted'], ['DELETE', '/images/secret-object']]) {
      const res = await fetch(`${s3.endpoint}${path}`, { method, body: method === 'PUT' ? 'x' : undefined });
      assert.equal(res.status, 403, `unsigned ${method} ${path}`);
      assert.match(await res.text(), /AccessDenied.*not signed/);
    }
    // A browser-form upload with the malformed part header that crashes dicer (GHSA-wm7h-9275-46v2): refused
    // before any multipart parser sees it (s3rver's, the server before this one, crashed on it), and the server still answers.
    const boundary = 'x-boundary';
    const form = await fetch(`${s3.endpoint}/images`, { method: 'POST', headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` }, body: `--${boundary}\r\n Content-Disposition: form-data; name="key"\r\n\r\nplanted\r\n--${boundary}--\r\n` });
    assert.equal(form.status, 403, 'an unsigned form upload');
    assert.ok((await keys()).includes('secret-object'), 'the server is still answering');
    const client = (accessKeyId: string, secretAccessKey: string) => new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
    for (const [id, secret, why] of [['S3RVER', 'S3RVER', 's3rver’s published key'], [s3.accessKeyId, 'not-the-secret', 'a wrong secret']]) {
      const other = client(id, secret);
      await assert.rejects(other.send(new GetObjectCommand({ Bucket: 'images', Key: 'secret-object' })), (e: any) => e.$metadata?.httpStatusCode === 403, why);
      other.destroy();
    }
    assert.ok((await keys()).includes('secret-object'), 'the signed client still reads the bucket');
    assert.ok(!(await keys()).includes('planted'));
    await store.delete('secret-object');
  });

  it('finds and aborts, when the image is discarded, a multipart upload whose uploader died (its upload ID lost with it)', async () => {
    await store.s3.send(new CreateMultipartUploadCommand({ Bucket: 'images', Key: 'images/t/other' }));
    const bytes = dataBytes();
    const { UploadId } = await store.s3.send(new CreateMultipartUploadCommand({ Bucket: 'images', Key: 'images/t/dead-upload' }));
    await store.s3.send(new UploadPartCommand({ Bucket: 'images', Key: 'images/t/dead-upload', UploadId, PartNumber: 1, Body: Buffer.alloc(5 * MiB, 7) }));
    const listed = await store.s3.send(new ListMultipartUploadsCommand({ Bucket: 'images', Prefix: 'images/t/dead' }));
    assert.deepEqual(listed.Uploads?.map((u) => [u.Key, u.UploadId]), [['images/t/dead-upload', UploadId]], 'listed by prefix, as S3 lists them');
    assert.ok(dataBytes() > bytes, 'the part is on disk');
    await store.discard('images/t/dead-upload');
    assert.equal(dataBytes(), bytes, 'its parts are gone');
    assert.deepEqual((await store.s3.send(new ListMultipartUploadsCommand({ Bucket: 'images' }))).Uploads?.map((u) => u.Key), ['images/t/other'], 'another object’s upload is left alone');
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
