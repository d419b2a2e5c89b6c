/**
 * Image data in an S3 bucket. Uploads stream through a hashing pass into a multipart upload, so an image is
 * never held whole in memory; a failed or cut-short upload is aborted and anything written is removed, so
 * no orphan object stays behind. Downloads stream straight from S3.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortMultipartUploadCommand, CreateBucketCommand, DeleteObjectCommand, ListMultipartUploadsCommand, HeadBucketCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { uploadStream } from './multipartUpload.js';
import { ObjectReader } from './objectReader.js';
import { crc32MayReplacePayloadHash, leavePayloadHashToChecksums } from './payloadSigning.js';
import { countedStream, streamed } from './youngGarbage.js';

export interface StoreConfig {
  endpoint: string;
  bucket: string;
  region?: string;
  accessKeyId: string;
  secretAccessKey: string;
  /**
   * Multipart part size; S3's minimum is 5 MiB. Memory in flight is about partSize × queueSize: 3 × 8 MiB keeps
   * Glance under 200 MiB resident (4 took it to 190-204 MiB for a 1 GiB upload) at the same speed (measured).
   */
  partSize?: number;
  queueSize?: number;
}

export interface StoredImage {
  key: string;
  size: number;
  /** md5, hex: Glance's `checksum`. */
  checksum: string;
  /** sha512, hex: Glance's `os_hash_value` with `os_hash_algo` sha512. */
  hashValue: string;
  /** Where the data is, as Glance shows it in `locations`: s3://bucket/key on the endpoint. */
  location: string;
}

/** Why an upload was refused; the store holds nothing of it afterwards. */
export class UploadError extends Error {
  constructor(
    readonly reason: 'ChecksumMismatch' | 'SizeMismatch' | 'TooLarge' | 'Interrupted' | 'StoreFailed',
    message: string,
  ) {
    super(message);
    this.name = 'UploadError';
  }
}

/** Counts and hashes bytes on their way through, and stops the stream past a size limit. */
class Measure extends Transform {
  readonly md5: Hash = createHash('md5');
  readonly sha512: Hash = createHash('sha512');
  bytes = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) return done(new UploadError('TooLarge', `the image is larger than the ${this.limit}-byte limit`));
    this.md5.update(chunk);
    this.sha512.update(chunk);
    streamed(chunk.length);
    done(null, chunk);
  }
}

export class ImageStore {
  /** Writes, deletes and metadata. */
  readonly s3: S3Client;
  /**
   * Image data reads, on connections of their own: a keep-alive socket that carried 8 MiB part uploads made
   * a following 1 GiB GET cost Glance four times the CPU (3.7 s instead of 0.9 s, measured), so downloads
   * never reuse the upload sockets. They go through undici (objectReader.ts), the cheaper receive path.
   */
  private readonly reader: ObjectReader;
  /** What image uploads carry in place of a signed payload hash, where that is safe (payloadSigning.ts). */
  private readonly checksum?: 'CRC32';

  constructor(readonly config: StoreConfig) {
    const client = () =>
      new S3Client({
        endpoint: config.endpoint,
        region: config.region ?? 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
        // A checksum only where a request asks for one (image uploads, in place of the payload's sha256 where that
        // is safe): the SDK's default (since 3.729) put a CRC32 beside the signed sha256 on every upload, every
        // byte hashed a third time here and in the server, a twelfth of Glance's upload CPU (profiled).
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
    this.s3 = client();
    this.checksum = crc32MayReplacePayloadHash(config.endpoint) ? 'CRC32' : undefined;
    if (this.checksum) leavePayloadHashToChecksums(this.s3);
    this.reader = new ObjectReader(config);
  }

  /** Creates the bucket if it is missing. */
  async ensureBucket(): Promise<void> {
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.config.bucket }));
    } catch (e) {
      if (!(e instanceof S3ServiceException) || e.$metadata.httpStatusCode !== 404) throw e;
      await this.s3.send(new CreateBucketCommand({ Bucket: this.config.bucket }));
    }
  }

  /**
   * Streams `body` into the object `key`. With `expect`, the data must have that size and/or md5 checksum, or
   * the object is removed and an UploadError says which. An error from `body` (a client going away) aborts too.
   */
  async put(key: string, body: Readable, expect: { size?: number; checksum?: string; maxSize?: number } = {}): Promise<StoredImage> {
    const measure = new Measure(expect.maxSize ?? Number.MAX_SAFE_INTEGER);
    const upload = uploadStream(this.s3, measure, {
      bucket: this.config.bucket,
      key,
      partSize: this.config.partSize ?? 8 * 1024 * 1024,
      queueSize: this.config.queueSize ?? 3,
      contentType: 'application/octet-stream',
      checksum: this.checksum,
    });
    try {
      // Both must settle before deciding: a failed source aborts the upload; a failed upload stops the source.
      const [piped, uploaded] = await Promise.allSettled([pipeline(body, measure), upload.catch((e) => (measure.destroy(e), Promise.reject(e)))]);
      if (piped.status === 'rejected') throw piped.reason;
      if (uploaded.status === 'rejected') throw uploaded.reason;
    } catch (e) {
      await this.delete(key).catch(() => {});
      if (e instanceof UploadError) throw e;
      const interrupted = (e as NodeJS.ErrnoException)?.code === 'ERR_STREAM_PREMATURE_CLOSE' || (e as Error)?.name === 'AbortError' || body.destroyed;
      throw new UploadError(interrupted ? 'Interrupted' : 'StoreFailed', `upload of ${key} failed: ${(e as Error)?.message ?? e}`);
    }
    const stored: StoredImage = {
      key,
      size: measure.bytes,
      checksum: measure.md5.digest('hex'),
      hashValue: measure.sha512.digest('hex'),
      location: `s3://${this.config.bucket}/${key}`,
    };
    const mismatch =
      expect.size !== undefined && expect.size !== stored.size
        ? new UploadError('SizeMismatch', `expected ${expect.size} bytes, received ${stored.size}`)
        : expect.checksum !== undefined && expect.checksum.toLowerCase() !== stored.checksum
          ? new UploadError('ChecksumMismatch', `the data's md5 is ${stored.checksum}, not the declared ${expect.checksum}`)
          : undefined;
    if (mismatch) {
      await this.delete(key);
      throw mismatch;
    }
    return stored;
  }

  /** The object's bytes as a stream, with its size. */
  async get(key: string, range?: { start: number; end?: number }): Promise<{ body: Readable; size: number }> {
    const { body, size } = await this.reader.get(this.config.bucket, key, range);
    return { body: countedStream(body), size };
  }

  /** The object's size, or undefined when there is no such object. */
  async size(key: string): Promise<number | undefined> {
    try {
      return (await this.s3.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: key }))).ContentLength;
    } catch (e) {
      if (e instanceof S3ServiceException && e.$metadata.httpStatusCode === 404) return undefined;
      throw e;
    }
  }

  /** Removes the object and any unfinished multipart upload of it (left by a process that died mid-upload). */
  async discard(key: string): Promise<void> {
    try {
      const { Uploads = [] } = await this.s3.send(new ListMultipartUploadsCommand({ Bucket: this.config.bucket, Prefix: key }));
      for (const u of Uploads.filter((u) => u.Key === key))
        await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.config.bucket, Key: key, UploadId: u.UploadId })).catch(() => {});
    } catch (e) {
      // Not every S3-compatible server lists multipart uploads (the embedded one does); a bucket lifecycle rule cleans those.
      if (!(e instanceof S3ServiceException)) throw e;
    }
    await this.delete(key);
  }

  /** Removes the object; removing one that is not there is not an error (deletion must be idempotent). */
  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: key }));
  }

  destroy(): void {
    this.s3.destroy();
    this.reader.destroy();
  }
}
