/**
 * What a volume backend does for the volume manager (Cinder's volume driver interface): make, copy, snapshot,
 * grow and delete volumes in its pool, and say how a hypervisor reaches one (initialize_connection). The
 * manager decides; the backend does. A file pool on the node is the first; Ceph RBD is a sibling.
 */
import type { Readable } from 'node:stream';
import type { Connection } from '../resources.js';

export const GiB = 1024 ** 3;

/** Whether every byte is zero (a 64-bit scan): zero chunks need no write and no stored copy. */
export function isZero(b: Uint8Array): boolean {
  const view = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const whole = view.length - (view.length % 8);
  for (let i = 0; i < whole; i += 8) if (view.readBigUInt64LE(i) !== 0n) return false;
  for (let i = whole; i < view.length; i++) if (view[i] !== 0) return false;
  return true;
}

/** A backend's room, as the scheduler's capacity filter reads it. */
export interface PoolCapacity {
  totalGiB: number;
  freeGiB: number;
  /** GiB its volumes were given (thin: they may hold less). */
  provisionedGiB: number;
}

export interface VolumeBackend {
  /** The backend's name (volume_backend_name). */
  readonly name: string;
  /** Its pool (Cinder's host@backend#pool). */
  readonly pool: string;
  /** How hypervisors reach its volumes, in Cinder's words (the pool's storage_protocol). */
  readonly protocol: string;
  capacity(): Promise<PoolCapacity>;
  /** A blank volume of `sizeGiB`. Made already is not an error (reconciles repeat). */
  create(id: string, sizeGiB: number): Promise<void>;
  /** A volume holding `data` (a disk image in `format`, from a file), grown to `sizeGiB`. */
  createFromImage(id: string, sizeGiB: number, file: string, format: string): Promise<void>;
  /** Optional: a volume written straight from a raw image's bytes as they arrive (no local copy). */
  createFromRawStream?(id: string, sizeGiB: number, body: AsyncIterable<Uint8Array>): Promise<void>;
  /** A copy of another volume, grown to `sizeGiB`. */
  cloneVolume(id: string, sourceId: string, sizeGiB: number): Promise<void>;
  /** A volume with a snapshot's data, grown to `sizeGiB`. */
  createFromSnapshot(id: string, snapshotId: string, sizeGiB: number): Promise<void>;
  /** A point-in-time copy of a volume, kept in the pool. */
  createSnapshot(snapshotId: string, volumeId: string): Promise<void>;
  deleteSnapshot(snapshotId: string): Promise<void>;
  /** Grows the volume; `inUse`: a guest has it open, and its hypervisor grows it (the backend does what is its to do). */
  extend(id: string, sizeGiB: number, inUse: boolean): Promise<void>;
  /** Removes the volume; a missing one is not an error. */
  delete(id: string): Promise<void>;
  exists(id: string): Promise<boolean>;
  snapshotExists(snapshotId: string): Promise<boolean>;
  /** How a hypervisor reaches it. */
  connection(id: string): Connection;
  /** The volume's size in bytes, and its bytes from `offset` for `length` (backups, uploads). */
  sizeBytes(id: string): Promise<number>;
  read(id: string, offset: number, length: number): Promise<Buffer>;
  /** Optional: the extents ([offset, length]) ever written; the rest reads as zeroes (backups skip it). */
  allocated?(id: string): Promise<Array<[number, number]>>;
  /** Writes `data` at `offset` (restores); zeroes are written as holes where the backend can. */
  write(id: string, offset: number, data: Buffer): Promise<void>;
  /** The whole volume as raw bytes, streamed (image uploads). */
  openRaw(id: string): Readable;
  /** Every volume and snapshot ID in the pool (orphan checks and tests). */
  list(): Promise<{ volumes: string[]; snapshots: string[] }>;
}

export class BackendError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'BackendError';
  }
}
