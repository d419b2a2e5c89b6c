/**
 * Backups in S3 as Cinder's chunked backup driver keeps them: the volume cut in fixed chunks, each stored as
 * an object under the backup's prefix with its sha256 in a manifest. An incremental backup stores only the
 * chunks whose sha256 differs from its parent's and names the parent's objects for the rest; all-zero chunks
 * are stored as nothing. A restore writes every chunk back where it was, checked against its sha256.
 */
import { createHash } from 'node:crypto';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import type { ImageStore } from '@stratus/glance';
import { isZero, type VolumeBackend } from './backend/types.js';

export const CHUNK_BYTES = 8 * 1024 * 1024;

export interface ChunkRecord {
  sha256: string;
  /** The object holding it (this backup's or an ancestor's); null: all zeroes, stored as nothing. */
  key: string | null;
}

export interface BackupManifest {
  version: 1;
  volumeId: string;
  sizeBytes: number;
  chunkBytes: number;
  /** The parent's prefix, for an incremental backup. */
  parent?: string;
  chunks: ChunkRecord[];
}

export const manifestKeyOf = (prefix: string) => `${prefix}/manifest.json`;
const chunkKeyOf = (prefix: string, i: number) => `${prefix}/chunk-${String(i).padStart(8, '0')}`;
const ZERO_SHA = new Map<number, string>();
const zeroSha = (n: number) => ZERO_SHA.get(n) ?? (ZERO_SHA.set(n, createHash('sha256').update(Buffer.alloc(n)).digest('hex')), ZERO_SHA.get(n)!);

/**
 * What to store of one chunk, given its data and the parent's record of the same chunk: nothing new when
 * it is zero or unchanged (the parent's object serves), else a fresh object. Pure.
 */
export function chunkPlan(sha256: string, zero: boolean, parent: ChunkRecord | undefined): { reuse: ChunkRecord } | { store: true } {
  if (zero) return { reuse: { sha256, key: null } };
  if (parent && parent.sha256 === sha256 && parent.key) return { reuse: parent };
  return { store: true };
}

/** The objects a backup holds itself (not its ancestors'): what deleting it removes. Pure. */
export const ownKeysOf = (m: BackupManifest, prefix: string) => [...new Set(m.chunks.map((c) => c.key).filter((k): k is string => !!k && k.startsWith(`${prefix}/`)))];

/** Whether any of the extents ([offset, length], sorted) touches [offset, offset + length). Pure. */
export function overlaps(extents: ReadonlyArray<readonly [number, number]>, offset: number, length: number): boolean {
  return extents.some(([o, l]) => o < offset + length && offset < o + l);
}

export class BackupChunkStore {
  constructor(readonly store: ImageStore) {}

  /** The default container (bucket); a backup may name another (Cinder's container). */
  get bucket(): string {
    return this.store.config.bucket;
  }

  /** Makes the bucket unless it is there (a backup's own container is made on its first backup). */
  private async ensure(bucket: string): Promise<void> {
    if (bucket === this.bucket) return this.store.ensureBucket();
    try {
      await this.store.s3.send(new HeadBucketCommand({ Bucket: bucket }));
    } catch (e) {
      if (!(e instanceof S3ServiceException) || e.$metadata.httpStatusCode !== 404) throw e;
      await this.store.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    }
  }

  /** Backs the volume up under `prefix` (every chunk, or with `allocated`, only those the volume has written); returns the manifest (already stored) and what this backup stored itself. */
  async backup(backend: VolumeBackend, volumeId: string, prefix: string, parent?: { prefix: string; manifest: BackupManifest }, bucket = this.bucket): Promise<{ manifest: BackupManifest; objectCount: number; dataBytes: number }> {
    await this.ensure(bucket);
    const sizeBytes = await backend.sizeBytes(volumeId);
    const chunks: ChunkRecord[] = [];
    let objectCount = 0;
    let dataBytes = 0;
    // A parent made with another chunk size shares nothing.
    const parentChunks = parent?.manifest.chunkBytes === CHUNK_BYTES ? parent.manifest.chunks : [];
    // What the backend knows was never written reads as zeroes: not read at all.
    const written = backend.allocated ? await backend.allocated(volumeId) : undefined;
    for (let i = 0, offset = 0; offset < sizeBytes; i++, offset += CHUNK_BYTES) {
      const length = Math.min(CHUNK_BYTES, sizeBytes - offset);
      const data = written && !overlaps(written, offset, length) ? Buffer.alloc(length) : await backend.read(volumeId, offset, length);
      const zero = isZero(data);
      const sha256 = zero ? zeroSha(data.length) : createHash('sha256').update(data).digest('hex');
      const plan = chunkPlan(sha256, zero, parentChunks[i]);
      if ('reuse' in plan) {
        chunks.push(plan.reuse);
        continue;
      }
      const key = chunkKeyOf(prefix, i);
      await this.store.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ContentLength: data.length }));
      chunks.push({ sha256, key });
      objectCount++;
      dataBytes += data.length;
    }
    const manifest: BackupManifest = { version: 1, volumeId, sizeBytes, chunkBytes: CHUNK_BYTES, ...(parent ? { parent: parent.prefix } : {}), chunks };
    await this.store.s3.send(new PutObjectCommand({ Bucket: bucket, Key: manifestKeyOf(prefix), Body: JSON.stringify(manifest), ContentType: 'application/json' }));
    return { manifest, objectCount, dataBytes };
  }

  /** The backup's manifest, or undefined when it has none (never finished, or deleted). */
  async manifest(prefix: string, bucket = this.bucket): Promise<BackupManifest | undefined> {
    try {
      const out = await this.store.s3.send(new GetObjectCommand({ Bucket: bucket, Key: manifestKeyOf(prefix) }));
      return JSON.parse(await out.Body!.transformToString()) as BackupManifest;
    } catch (e) {
      if (e instanceof S3ServiceException && (e.$metadata.httpStatusCode === 404 || e.name === 'NoSuchKey')) return undefined;
      throw e;
    }
  }

  /** Writes the backup's data into the volume; `blank`: the volume is fresh (its holes need no zeroes written). */
  async restore(backend: VolumeBackend, manifest: BackupManifest, volumeId: string, blank: boolean, bucket = this.bucket): Promise<void> {
    for (const [i, c] of manifest.chunks.entries()) {
      const offset = i * manifest.chunkBytes;
      const length = Math.min(manifest.chunkBytes, manifest.sizeBytes - offset);
      if (!c.key) {
        if (!blank) await backend.write(volumeId, offset, Buffer.alloc(length));
        continue;
      }
      const out = await this.store.s3.send(new GetObjectCommand({ Bucket: bucket, Key: c.key }));
      const data = Buffer.from(await out.Body!.transformToByteArray());
      const sha = createHash('sha256').update(data).digest('hex');
      if (sha !== c.sha256) throw new Error(`backup chunk ${c.key} has sha256 ${sha}, not the ${c.sha256} its manifest records`);
      await backend.write(volumeId, offset, data);
    }
  }

  /** Removes every object of the backup itself (chunks, manifest, and any chunk a failed run left). */
  async delete(prefix: string, manifest: BackupManifest | undefined, bucket = this.bucket): Promise<void> {
    const keys = manifest ? ownKeysOf(manifest, prefix) : [];
    for (const key of [...keys, manifestKeyOf(prefix)]) await this.store.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    if (!manifest) await this.deleteUnder(prefix, bucket);
  }

  /** Every object under `prefix` (what a backup that died before its manifest left). */
  async deleteUnder(prefix: string, bucket = this.bucket): Promise<void> {
    for (const key of await this.keysUnder(prefix, bucket)) await this.store.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }

  async keysUnder(prefix: string, bucket = this.bucket): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    try {
      do {
        const out = await this.store.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, ContinuationToken: token }));
        keys.push(...(out.Contents ?? []).map((o) => o.Key!));
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      if (e instanceof S3ServiceException && e.name === 'NoSuchBucket') return [];
      throw e;
    }
    return keys;
  }
}
