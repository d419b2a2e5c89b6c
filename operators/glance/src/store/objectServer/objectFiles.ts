/**
 * Buckets, objects and multipart uploads as files in one folder, the embedded S3 server's store. One process
 * owns the folder; it keeps an index of every object in memory (loaded at start) and on disk:
 *
 *   buckets/<bucket>/objects/<sha256 of key>.json  the object: key, size, ETag, metadata, its data files
 *   buckets/<bucket>/data/<id>                     data files (a PUT's one, a multipart upload's parts)
 *   buckets/<bucket>/uploads/<upload ID>/          an unfinished multipart upload: upload.json, part files
 *   tmp/                                           bodies being received (emptied at start)
 *
 * A completed multipart upload keeps its parts as they are (the object lists them), so completing costs no
 * copy. Bodies go to tmp/ first and are fsynced before they are moved in, as S3 answers only for stored data.
 * Data files no object names (left by a crash between the move and the index write) are removed at start.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { open, rename, rm, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { streamed } from '../youngGarbage.js';
import { S3Error, noSuchBucket, noSuchKey, noSuchUpload } from './s3Errors.js';

export interface ObjectInfo {
  key: string;
  size: number;
  /** Quoted, as S3 sends it. */
  etag: string;
  lastModified: string;
  contentType: string;
  /** x-amz-meta-* headers, lower case. */
  userMeta: Record<string, string>;
  /** The data files, in order. */
  parts: { file: string; size: number }[];
}

interface PartInfo {
  number: number;
  file: string;
  size: number;
  etag: string;
  md5: string;
  lastModified: string;
}

interface UploadInfo {
  id: string;
  bucket: string;
  key: string;
  initiated: string;
  contentType: string;
  userMeta: Record<string, string>;
  parts: Map<number, PartInfo>;
}

interface Bucket {
  name: string;
  created: string;
  objects: Map<string, ObjectInfo>;
  /** Keys in order, made again only after a change. */
  sorted?: string[];
}

export interface ListResult {
  objects: ObjectInfo[];
  commonPrefixes: string[];
  truncated: boolean;
  /** The last key or prefix returned, where the next page starts after. */
  last?: string;
}

/** S3's bucket naming rules (general purpose buckets). */
export const BUCKET_NAME = /^(?!\d+\.\d+\.\d+\.\d+$)(?!xn--)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** S3's smallest part, but for the last one. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** The file holding an object's record, in its bucket's objects/ folder. */
export const recordFileOf = (key: string) => `${createHash('sha256').update(key).digest('hex')}.json`;
const newId = () => randomBytes(16).toString('hex');

export class ObjectFiles {
  private readonly buckets = new Map<string, Bucket>();
  private readonly uploads = new Map<string, UploadInfo>();

  private constructor(readonly root: string) {}

  /** Opens (or makes) the store in `root`, loading its index and clearing what a crash left half-done. */
  static open(root: string): ObjectFiles {
    const store = new ObjectFiles(root);
    mkdirSync(root, { recursive: true, mode: 0o700 });
    rmSync(join(root, 'tmp'), { recursive: true, force: true });
    mkdirSync(join(root, 'tmp'), { recursive: true, mode: 0o700 });
    mkdirSync(join(root, 'buckets'), { recursive: true, mode: 0o700 });
    for (const name of readdirSync(join(root, 'buckets'))) store.load(name);
    return store;
  }

  private bucketDir = (name: string) => join(this.root, 'buckets', name);

  private load(name: string) {
    const dir = this.bucketDir(name);
    const bucket: Bucket = { name, created: statSync(dir).birthtime.toISOString(), objects: new Map() };
    const named = new Set<string>();
    for (const f of readdirSync(join(dir, 'objects'))) {
      if (!f.endsWith('.json')) continue;
      const info = JSON.parse(readFileSync(join(dir, 'objects', f), 'utf8')) as ObjectInfo;
      bucket.objects.set(info.key, info);
      for (const p of info.parts) named.add(p.file);
    }
    for (const f of readdirSync(join(dir, 'data'))) if (!named.has(f)) rmSync(join(dir, 'data', f), { force: true });
    for (const id of readdirSync(join(dir, 'uploads'))) {
      try {
        const u = JSON.parse(readFileSync(join(dir, 'uploads', id, 'upload.json'), 'utf8')) as Omit<UploadInfo, 'parts'>;
        const parts = new Map<number, PartInfo>();
        for (const f of readdirSync(join(dir, 'uploads', id)).filter((f) => /^part-\d+\.json$/.test(f))) {
          const p = JSON.parse(readFileSync(join(dir, 'uploads', id, f), 'utf8')) as PartInfo;
          parts.set(p.number, p);
        }
        this.uploads.set(id, { ...u, parts });
      } catch {
        rmSync(join(dir, 'uploads', id), { recursive: true, force: true }); // its creation never finished
      }
    }
    this.buckets.set(name, bucket);
  }

  private bucket(name: string): Bucket {
    const b = this.buckets.get(name);
    if (!b) throw noSuchBucket(name);
    return b;
  }

  listBuckets(): { name: string; created: string }[] {
    return [...this.buckets.values()].map(({ name, created }) => ({ name, created })).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  /** Makes the bucket; making one that is already there is not an error (S3 in us-east-1 answers 200 too). */
  createBucket(name: string): void {
    if (!BUCKET_NAME.test(name) || name.includes('..')) throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.', { BucketName: name });
    if (this.buckets.has(name)) return;
    const dir = this.bucketDir(name);
    for (const sub of ['objects', 'data', 'uploads']) mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
    this.buckets.set(name, { name, created: new Date().toISOString(), objects: new Map() });
  }

  deleteBucket(name: string): void {
    const b = this.bucket(name);
    if (b.objects.size > 0 || [...this.uploads.values()].some((u) => u.bucket === name)) throw new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: name });
    this.buckets.delete(name);
    rmSync(this.bucketDir(name), { recursive: true, force: true });
  }

  /**
   * Receives `body` through `checks` (decoding and hashing passes) into a new file, then `verdict` decides:
   * it throws to refuse (the file is removed), or returns what the upload is. Returns the file's name in the
   * bucket's data folder and its size.
   */
  private async receive<T>(bucket: string, body: Readable, checks: Transform[], verdict: () => T): Promise<{ file: string; size: number; result: T }> {
    const tmp = join(this.root, 'tmp', newId());
    try {
      await pipeline([body, ...checks, createWriteStream(tmp, { mode: 0o600, highWaterMark: 1024 * 1024 })]);
      const result = verdict();
      // Stored means on disk, as S3 means it: the data is synced before it is answered for.
      const handle = await open(tmp, 'r+');
      let size: number;
      try {
        size = (await handle.stat()).size;
        await handle.datasync();
      } finally {
        await handle.close();
      }
      const file = newId();
      await rename(tmp, join(this.bucketDir(bucket), 'data', file));
      return { file, size, result };
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    }
  }

  /** PutObject: the object is replaced only once its data is checked and stored. */
  async putObject(bucket: string, key: string, body: Readable, opts: { contentType: string; userMeta: Record<string, string>; checks: Transform[]; md5: () => Buffer }): Promise<ObjectInfo> {
    this.bucket(bucket);
    const { file, size, result: md5 } = await this.receive(bucket, body, opts.checks, opts.md5);
    const info: ObjectInfo = { key, size, etag: `"${md5.toString('hex')}"`, lastModified: new Date().toUTCString(), contentType: opts.contentType, userMeta: opts.userMeta, parts: [{ file, size }] };
    await this.index(bucket, info);
    return info;
  }

  /** Writes the object's record and makes it current; the data it replaces is removed. */
  private async index(bucketName: string, info: ObjectInfo) {
    const bucket = this.buckets.get(bucketName);
    const dir = this.bucketDir(bucketName);
    if (!bucket) {
      // the bucket was deleted while the body was coming: keep nothing
      await Promise.all(info.parts.map((p) => rm(join(dir, 'data', p.file), { force: true })));
      throw noSuchBucket(bucketName);
    }
    const tmp = join(this.root, 'tmp', newId());
    await writeFile(tmp, JSON.stringify(info), { mode: 0o600 });
    await rename(tmp, join(dir, 'objects', recordFileOf(info.key)));
    const before = bucket.objects.get(info.key);
    if (!before) bucket.sorted = undefined;
    bucket.objects.set(info.key, info);
    if (before) await this.removeData(bucketName, before);
  }

  private async removeData(bucket: string, info: ObjectInfo) {
    await Promise.all(info.parts.map((p) => rm(join(this.bucketDir(bucket), 'data', p.file), { force: true })));
  }

  head(bucket: string, key: string): ObjectInfo {
    const info = this.bucket(bucket).objects.get(key);
    if (!info) throw noSuchKey(key);
    return info;
  }

  /**
   * The bytes start..end (inclusive) of the object as one stream. Every data file is opened before the first
   * byte goes out, so an overwrite or delete meanwhile cannot cut a read short (an open file outlives its name).
   */
  async read(bucket: string, info: ObjectInfo, start: number, end: number): Promise<Readable> {
    const dir = join(this.bucketDir(bucket), 'data');
    const pieces: { file: string; from: number; to: number }[] = [];
    let offset = 0;
    for (const p of info.parts) {
      const [from, to] = [Math.max(start, offset), Math.min(end, offset + p.size - 1)];
      if (from <= to) pieces.push({ file: p.file, from: from - offset, to: to - offset });
      offset += p.size;
    }
    const handles = await Promise.all(pieces.map((p) => open(join(dir, p.file), 'r')));
    return new PiecesReader(pieces.map((p, i) => ({ handle: handles[i], position: p.from, left: p.to - p.from + 1 })));
  }

  /** DeleteObject: deleting a key that is not there is not an error. */
  async deleteObject(bucketName: string, key: string): Promise<void> {
    const bucket = this.bucket(bucketName);
    const info = bucket.objects.get(key);
    if (!info) return;
    bucket.objects.delete(key);
    bucket.sorted = undefined;
    await rm(join(this.bucketDir(bucketName), 'objects', recordFileOf(key)), { force: true });
    await this.removeData(bucketName, info);
  }

  /** ListObjects(V2): keys after `after` with `prefix`, keys sharing a part up to `delimiter` rolled into one prefix. */
  list(bucketName: string, opts: { prefix: string; delimiter?: string; after?: string; max: number }): ListResult {
    const bucket = this.bucket(bucketName);
    bucket.sorted ??= [...bucket.objects.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const keys = bucket.sorted;
    let lo = 0;
    for (let hi = keys.length, from = opts.after ?? ''; lo < hi; ) {
      const mid = (lo + hi) >> 1;
      if (keys[mid] <= from) lo = mid + 1;
      else hi = mid;
    }
    const result: ListResult = { objects: [], commonPrefixes: [], truncated: false };
    for (let i = lo; i < keys.length; i++) {
      const key = keys[i];
      if (!key.startsWith(opts.prefix)) {
        if (key > opts.prefix) break;
        continue;
      }
      const cut = opts.delimiter ? key.indexOf(opts.delimiter, opts.prefix.length) : -1;
      const entry = cut >= 0 ? key.slice(0, cut + opts.delimiter!.length) : key;
      if (cut >= 0 && result.commonPrefixes.at(-1) === entry) continue;
      if (result.objects.length + result.commonPrefixes.length >= opts.max) {
        result.truncated = true;
        break;
      }
      if (cut >= 0) result.commonPrefixes.push(entry);
      else result.objects.push(bucket.objects.get(key)!);
      result.last = cut >= 0 ? `${entry}\uffff` : key;
    }
    return result;
  }

  async createUpload(bucket: string, key: string, opts: { contentType: string; userMeta: Record<string, string> }): Promise<string> {
    this.bucket(bucket);
    const id = newId();
    const dir = join(this.bucketDir(bucket), 'uploads', id);
    mkdirSync(dir, { mode: 0o700 });
    const u: UploadInfo = { id, bucket, key, initiated: new Date().toISOString(), contentType: opts.contentType, userMeta: opts.userMeta, parts: new Map() };
    await writeFile(join(dir, 'upload.json'), JSON.stringify({ ...u, parts: undefined }), { mode: 0o600 });
    this.uploads.set(id, u);
    return id;
  }

  private upload(bucket: string, key: string, id: string): UploadInfo {
    const u = this.uploads.get(id);
    if (!u || u.bucket !== bucket || u.key !== key) throw noSuchUpload(id);
    return u;
  }

  /** UploadPart: a part uploaded again under the same number replaces the earlier one. */
  async uploadPart(bucket: string, key: string, id: string, number: number, body: Readable, checks: Transform[], md5: () => Buffer): Promise<string> {
    this.upload(bucket, key, id);
    if (!Number.isInteger(number) || number < 1 || number > 10_000) throw new S3Error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber' });
    const { file, size, result } = await this.receive(bucket, body, checks, md5);
    const dir = join(this.bucketDir(bucket), 'uploads', id);
    const u = this.uploads.get(id);
    if (!u || !existsSync(dir)) {
      await rm(join(this.bucketDir(bucket), 'data', file), { force: true }); // aborted or completed meanwhile
      throw noSuchUpload(id);
    }
    // The part file moves from data/ into the upload's folder, so an abort or a restart finds it there.
    await rename(join(this.bucketDir(bucket), 'data', file), join(dir, file));
    const part: PartInfo = { number, file, size, etag: `"${result.toString('hex')}"`, md5: result.toString('hex'), lastModified: new Date().toUTCString() };
    await writeFile(join(dir, `part-${number}.json`), JSON.stringify(part), { mode: 0o600 });
    const before = u.parts.get(number);
    u.parts.set(number, part);
    if (before) await rm(join(dir, before.file), { force: true });
    return part.etag;
  }

  listParts(bucket: string, key: string, id: string) {
    const u = this.upload(bucket, key, id);
    return { upload: u, parts: [...u.parts.values()].sort((a, b) => a.number - b.number) };
  }

  /**
   * CompleteMultipartUpload: the parts listed, ascending, each as uploaded (its ETag), all but the last at
   * least 5 MiB. The object's ETag is S3's: the md5 of the parts' md5s, then `-` and the number of parts.
   */
  async completeUpload(bucket: string, key: string, id: string, listed: { number: number; etag: string }[]): Promise<ObjectInfo> {
    const u = this.upload(bucket, key, id);
    if (listed.length === 0) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema (no parts).');
    const chosen = listed.map((l, i) => {
      if (i > 0 && l.number <= listed[i - 1].number) throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.');
      const p = u.parts.get(l.number);
      if (!p || p.etag.replace(/"/g, '') !== l.etag.replace(/"/g, ''))
        throw new S3Error(400, 'InvalidPart', "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.", { PartNumber: String(l.number) });
      return p;
    });
    chosen.slice(0, -1).forEach((p, i) => {
      if (p.size < MIN_PART_BYTES) throw new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', { PartNumber: String(listed[i].number), ProposedSize: String(p.size), MinSizeAllowed: String(MIN_PART_BYTES) });
    });
    // From here the upload is this completion's: a part arriving now finds it gone.
    this.uploads.delete(id);
    const dir = join(this.bucketDir(bucket), 'uploads', id);
    const data = join(this.bucketDir(bucket), 'data');
    for (const p of chosen) await rename(join(dir, p.file), join(data, p.file));
    const md5 = createHash('md5');
    for (const p of chosen) md5.update(Buffer.from(p.md5, 'hex'));
    const info: ObjectInfo = {
      key,
      size: chosen.reduce((n, p) => n + p.size, 0),
      etag: `"${md5.digest('hex')}-${chosen.length}"`,
      lastModified: new Date().toUTCString(),
      contentType: u.contentType,
      userMeta: u.userMeta,
      parts: chosen.map((p) => ({ file: p.file, size: p.size })),
    };
    try {
      await this.index(bucket, info);
    } finally {
      await rm(dir, { recursive: true, force: true }); // with the parts not listed
    }
    return info;
  }

  /** AbortMultipartUpload: the upload and every part of it are gone. */
  async abortUpload(bucket: string, key: string, id: string): Promise<void> {
    this.upload(bucket, key, id);
    this.uploads.delete(id);
    await rm(join(this.bucketDir(bucket), 'uploads', id), { recursive: true, force: true });
  }

  listUploads(bucket: string, prefix: string): UploadInfo[] {
    this.bucket(bucket);
    return [...this.uploads.values()].filter((u) => u.bucket === bucket && u.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.initiated.localeCompare(b.initiated)));
  }
}

/** Reads pieces of open files one after another, 1 MiB per read, and closes each file when done or destroyed. */
class PiecesReader extends Readable {
  private at = 0;

  constructor(private readonly pieces: { handle: FileHandle; position: number; left: number }[]) {
    super({ highWaterMark: 2 * 1024 * 1024 });
  }

  override _read(): void {
    const piece = this.pieces[this.at];
    if (!piece) return void this.push(null);
    const buffer = Buffer.allocUnsafe(Math.min(piece.left, 1024 * 1024));
    piece.handle.read(buffer, 0, buffer.length, piece.position).then(
      ({ bytesRead }) => {
        if (bytesRead === 0) return this.destroy(new Error('a data file is shorter than its object says'));
        piece.position += bytesRead;
        piece.left -= bytesRead;
        if (piece.left === 0) {
          this.at++;
          void piece.handle.close().catch(() => {});
        }
        streamed(bytesRead);
        this.push(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
      },
      (e) => this.destroy(e),
    );
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    Promise.all(this.pieces.slice(this.at).map((p) => p.handle.close().catch(() => {}))).then(() => done(error));
  }
}
