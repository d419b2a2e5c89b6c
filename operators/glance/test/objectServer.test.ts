/**
 * The embedded S3 server as S3 documents it, through the AWS SDK (and raw signed requests where the SDK
 * would not send what is being checked): ranges, multipart rules and ETags, payload checks, listing, and
 * what stays on disk after refusals, aborts, restarts and a takeover of s3rver's folder.
 */
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../src/store/sigv4.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../src/index.js';
import S3rver from 's3rver';
import { AwsChunkedDecoder } from '../src/store/objectServer/payload.js';
import { rangeOf } from '../src/store/objectServer/ranges.js';
import type { HandedRead } from '../src/store/objectServer/s3Server.js';

const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
const clientOf = (s3: EmbeddedS3) => new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
const bytesOf = async (body: unknown) => Buffer.from(await (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
const s3Code = (code: string, status: number) => (e: any) => e.name === code && e.$metadata?.httpStatusCode === status;

describe('embedded S3 server: byte ranges and aws-chunked bodies (pure parts)', () => {
  it('reads one byte range as S3 does: suffix, open end, cut to the object, unsatisfiable past it', () => {
    assert.deepEqual(rangeOf('bytes=0-9', 100), { start: 0, end: 9 });
    assert.deepEqual(rangeOf('bytes=90-', 100), { start: 90, end: 99 });
    assert.deepEqual(rangeOf('bytes=-10', 100), { start: 90, end: 99 });
    assert.deepEqual(rangeOf('bytes=50-500', 100), { start: 50, end: 99 });
    assert.equal(rangeOf('bytes=100-', 100), 'unsatisfiable');
    assert.equal(rangeOf(undefined, 100), 'whole');
    assert.equal(rangeOf('bytes=0-1,5-6', 100), 'whole', 'several ranges: S3 sends the whole object');
  });

  it('strips aws-chunked framing cut anywhere, keeps the trailers, and refuses a body cut short', async () => {
    const data = randomBytes(70_000);
    const framed = Buffer.concat([Buffer.from(`10000\r\n`), data.subarray(0, 65536), Buffer.from(`\r\n${(data.length - 65536).toString(16)}\r\n`), data.subarray(65536), Buffer.from('\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n')]);
    for (const cut of [1, 7, 65540, framed.length - 3]) {
      const d = new AwsChunkedDecoder();
      const out: Buffer[] = [];
      d.on('data', (c: Buffer) => out.push(c));
      await new Promise<void>((resolve, reject) => (d.on('end', resolve).on('error', reject), d.write(framed.subarray(0, cut)), d.end(framed.subarray(cut))));
      assert.deepEqual(Buffer.concat(out), data, `cut at ${cut}`);
      assert.equal(d.trailers['x-amz-checksum-crc32'], 'AAAAAA==');
    }
    const short = new AwsChunkedDecoder();
    short.resume();
    await assert.rejects(new Promise((resolve, reject) => (short.on('end', resolve).on('error', reject), short.end(framed.subarray(0, 100)))), /ended before its last chunk/);
  });
});

describe('embedded S3 server', function () {
  this.timeout(120_000);
  let dir: string;
  let s3: Awaited<ReturnType<typeof startEmbeddedS3>>;
  let client: S3Client;
  const Bucket = 'tests';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stratus-s3-'));
    s3 = await startEmbeddedS3({ directory: dir });
    client = clientOf(s3);
    await client.send(new CreateBucketCommand({ Bucket }));
  });
  after(async () => {
    client.destroy();
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores an object with its md5 as ETag and serves it whole, in ranges, and as HEAD', async () => {
    const data = randomBytes(3 * MiB + 17);
    const put = await client.send(new PutObjectCommand({ Bucket, Key: 'dir/one object', Body: data, ContentType: 'application/x-test', Metadata: { owner: 'alice' } }));
    assert.equal(put.ETag, `"${md5(data).toString('hex')}"`);
    const got = await client.send(new GetObjectCommand({ Bucket, Key: 'dir/one object' }));
    assert.deepEqual(await bytesOf(got.Body), data);
    assert.equal(got.ContentType, 'application/x-test');
    assert.deepEqual(got.Metadata, { owner: 'alice' });
    const part = await client.send(new GetObjectCommand({ Bucket, Key: 'dir/one object', Range: 'bytes=1000-1999' }));
    assert.equal(part.ContentRange, `bytes 1000-1999/${data.length}`);
    assert.deepEqual(await bytesOf(part.Body), data.subarray(1000, 2000));
    const head = await client.send(new HeadObjectCommand({ Bucket, Key: 'dir/one object' }));
    assert.equal(head.ContentLength, data.length);
    await assert.rejects(client.send(new GetObjectCommand({ Bucket, Key: 'dir/one object', Range: `bytes=${data.length}-` })), s3Code('InvalidRange', 416));
    await assert.rejects(client.send(new GetObjectCommand({ Bucket, Key: 'no such object' })), s3Code('NoSuchKey', 404));
  });

  it('writes an answer on a connection handed to it: the given head, the bytes asked for, then the end; nothing when the object changed', async () => {
    const data = randomBytes(2 * MiB + 5);
    await client.send(new PutObjectCommand({ Bucket, Key: 'handed', Body: data }));
    /** What a client receives when the server side of its connection is handed over with `read`, and how the server's write ended. */
    const handed = async (read: HandedRead) => {
      const server = createServer();
      const written = new Promise<string>((resolve) => server.once('connection', (socket) => s3.writeHanded(socket, 'HEAD\r\n\r\n', read).then(() => resolve('written'), (e: Error) => resolve(e.message))));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      const closed = await new Promise<string>((resolve) => (socket.on('end', () => resolve('end')), socket.on('error', (e) => resolve(e.message))));
      socket.destroy();
      server.close();
      return { received: Buffer.concat(chunks), closed, written: await written };
    };
    const whole = await handed({ bucket: Bucket, key: 'handed', size: data.length, start: 0, end: data.length - 1 });
    assert.deepEqual(whole, { received: Buffer.concat([Buffer.from('HEAD\r\n\r\n'), data]), closed: 'end', written: 'written' });
    const part = await handed({ bucket: Bucket, key: 'handed', size: data.length, start: MiB - 3, end: 2 * MiB });
    assert.deepEqual(part.received, Buffer.concat([Buffer.from('HEAD\r\n\r\n'), data.subarray(MiB - 3, 2 * MiB + 1)]));
    const changed = await handed({ bucket: Bucket, key: 'handed', size: data.length + 1, start: 0, end: data.length });
    assert.equal(changed.received.length, 0, 'an object of another size than the image holds is not sent');
    assert.match(changed.written, /the object is 2097157 bytes, not the 2097158 the image holds/);
    const gone = await handed({ bucket: Bucket, key: 'no such object', size: 1, start: 0, end: 0 });
    assert.equal(gone.received.length, 0);
    assert.match(gone.written, /does not exist/);
  });

  it('takes a streamed body in aws-chunked encoding with its CRC32 trailer, as the SDK sends streams', async () => {
    const data = randomBytes(2 * MiB + 5);
    await client.send(new PutObjectCommand({ Bucket, Key: 'streamed', Body: Readable.from([data.subarray(0, MiB), data.subarray(MiB)]), ContentLength: data.length }));
    assert.deepEqual(await bytesOf((await client.send(new GetObjectCommand({ Bucket, Key: 'streamed' }))).Body), data);
  });

  it('refuses a body that does not match its Content-MD5, signed sha256 or CRC32, keeping nothing of it', async () => {
    const before = files(dir).length;
    await assert.rejects(client.send(new PutObjectCommand({ Bucket, Key: 'bad-md5', Body: Buffer.from('hello'), ContentMD5: md5(Buffer.from('other')).toString('base64') })), s3Code('BadDigest', 400));
    await assert.rejects(client.send(new PutObjectCommand({ Bucket, Key: 'bad-crc', Body: Buffer.from('hello'), ChecksumCRC32: 'AAAAAA==' })), s3Code('BadDigest', 400));
    // A request signed for one body carrying another: only a raw request can send that.
    const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, sha256: Sha256, uriEscapePath: false });
    const url = new URL(`${s3.endpoint}/${Bucket}/bad-sha`);
    const signed = await signer.sign({ method: 'PUT', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, headers: { host: url.host, 'content-length': '5', 'x-amz-content-sha256': createHash('sha256').update('other').digest('hex') }, query: {} });
    const res = await fetch(url, { method: 'PUT', headers: signed.headers as Record<string, string>, body: 'hello' });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /<Code>XAmzContentSHA256Mismatch<\/Code>/);
    const listed = await client.send(new ListObjectsV2Command({ Bucket, Prefix: 'bad-' }));
    assert.equal(listed.KeyCount, 0);
    assert.equal(files(dir).length, before, 'no file left of the refused bodies');
  });

  it('completes a multipart upload without copying: S3’s ETag, reads across part boundaries, parts gone from the upload', async () => {
    const Key = 'images/big';
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1234)];
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const etags: string[] = [];
    for (const [i, Body] of parts.entries()) etags.push((await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body }))).ETag!);
    const listedParts = await client.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    assert.deepEqual(listedParts.Parts?.map((p) => [p.PartNumber, p.Size]), [[1, 5 * MiB], [2, 5 * MiB], [3, 1234]]);
    const Parts = etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 }));
    await assert.rejects(client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [Parts[1], Parts[0]] } })), s3Code('InvalidPartOrder', 400));
    await assert.rejects(client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ ...Parts[0], ETag: '"0"' }] } })), s3Code('InvalidPart', 400));
    const done = await client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }));
    assert.equal(done.ETag, `"${createHash('md5').update(Buffer.concat(parts.map(md5))).digest('hex')}-3"`);
    const whole = Buffer.concat(parts);
    assert.deepEqual(await bytesOf((await client.send(new GetObjectCommand({ Bucket, Key }))).Body), whole);
    const across = await client.send(new GetObjectCommand({ Bucket, Key, Range: `bytes=${5 * MiB - 10}-${10 * MiB + 9}` }));
    assert.deepEqual(await bytesOf(across.Body), whole.subarray(5 * MiB - 10, 10 * MiB + 10));
    await assert.rejects(client.send(new ListPartsCommand({ Bucket, Key, UploadId })), s3Code('NoSuchUpload', 404));
  });

  it('refuses parts under 5 MiB but the last, and an abort leaves no part on disk', async () => {
    const Key = 'small-parts';
    const before = files(dir).length;
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const Parts = [];
    for (const PartNumber of [1, 2]) Parts.push({ PartNumber, ETag: (await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: randomBytes(MiB) }))).ETag });
    await assert.rejects(client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } })), s3Code('EntityTooSmall', 400));
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
    await assert.rejects(client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 3, Body: Buffer.from('x') })), s3Code('NoSuchUpload', 404));
    await assert.rejects(client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })), s3Code('NoSuchUpload', 404));
    assert.equal(files(dir).length, before);
  });

  it('lists keys by prefix and delimiter, a page at a time, and deletes many at once', async () => {
    const keys = ['list/a/1', 'list/a/2', 'list/b', 'list/c/1', 'list/d'];
    for (const Key of keys) await client.send(new PutObjectCommand({ Bucket, Key, Body: Buffer.from(Key) }));
    const rolled = await client.send(new ListObjectsV2Command({ Bucket, Prefix: 'list/', Delimiter: '/' }));
    assert.deepEqual(rolled.Contents?.map((c) => c.Key), ['list/b', 'list/d']);
    assert.deepEqual(rolled.CommonPrefixes?.map((p) => p.Prefix), ['list/a/', 'list/c/']);
    const seen: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: 'list/', MaxKeys: 2, ContinuationToken }));
      assert.ok((page.Contents?.length ?? 0) <= 2);
      seen.push(...(page.Contents ?? []).map((c) => c.Key!));
      ContinuationToken = page.NextContinuationToken;
    } while (ContinuationToken);
    assert.deepEqual(seen, keys);
    const deleted = await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
    assert.equal(deleted.Deleted?.length, keys.length);
    assert.equal((await client.send(new ListObjectsV2Command({ Bucket, Prefix: 'list/' }))).KeyCount, 0);
  });

  it('answers only its own signature, and 501 for what it does not implement', async () => {
    const res = await fetch(`${s3.endpoint}/${Bucket}/dir/one%20object`);
    assert.equal(res.status, 403);
    assert.match(await res.text(), /<Code>AccessDenied<\/Code>.*not signed/);
    const other = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: 'wrong' } });
    await assert.rejects(other.send(new GetObjectCommand({ Bucket, Key: 'dir/one object' })), s3Code('SignatureDoesNotMatch', 403));
    other.destroy();
    await assert.rejects(client.send(new GetObjectCommand({ Bucket, Key: 'dir/one object', VersionId: 'v2' })), (e: any) => e.$metadata?.httpStatusCode === 501);
    await assert.rejects(client.send(new DeleteBucketCommand({ Bucket })), s3Code('BucketNotEmpty', 409));
  });

  it('keeps its objects across a restart and removes what a crash left half-written', async () => {
    const orphan = join(dir, 'buckets', Bucket, 'data', 'left-by-a-crash');
    writeFileSync(orphan, 'x');
    await s3.close();
    s3 = await startEmbeddedS3({ directory: dir, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
    client.destroy();
    client = clientOf(s3);
    assert.equal((await client.send(new HeadObjectCommand({ Bucket, Key: 'images/big' }))).ContentLength, 10 * MiB + 1234);
    assert.ok(!files(dir).includes(orphan));
  });

  it('takes over the objects s3rver left in its folder, with their ETags', async () => {
    const old = mkdtempSync(join(tmpdir(), 'stratus-s3rver-'));
    try {
      // s3rver as Stratus ran it until now, with its own published key.
      const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: old, configureBuckets: [{ name: 'images' }] });
      const { port } = await s3rver.run();
      const before = { endpoint: `http://127.0.0.1:${port}`, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
      const c = new S3Client({ endpoint: before.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: before });
      const data = randomBytes(100_000);
      const { ETag } = await c.send(new PutObjectCommand({ Bucket: 'images', Key: 'images/t/one', Body: data }));
      c.destroy();
      await s3rver.close();
      const after = await startEmbeddedS3({ directory: old });
      const c2 = clientOf(after);
      const got = await c2.send(new GetObjectCommand({ Bucket: 'images', Key: 'images/t/one' }));
      assert.equal(got.ETag, ETag);
      assert.deepEqual(await bytesOf(got.Body), data);
      c2.destroy();
      await after.close();
      assert.ok(!files(old).some((f) => f.includes('_S3rver_')), 'nothing of s3rver’s layout is left');
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
  });
});
