/**
 * The file pool backend: each volume a sparse raw file in one folder every compute node sees at the same path
 * (this machine's state folder; a shared mount across nodes), each snapshot a sparse copy beside it. Raw, so
 * a guest reads it at the disk's speed and a backup reads it without conversion; copies keep holes, so a
 * 10 GiB blank volume costs nothing until written. Online growth is the hypervisor's (QEMU's block_resize).
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { access, chmod, mkdir, open, readdir, rename, rm, stat, statfs, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Readable } from 'node:stream';
import type { Connection } from '../resources.js';
import { checkImageFile, qemuFormatOf } from './imageFile.js';
import { BackendError, GiB, type PoolCapacity, type VolumeBackend } from './types.js';

const run = promisify(execFile);
const exists = (p: string) => access(p).then(() => true, () => false);

export interface FilePoolOptions {
  /** The folder holding the pool's files. */
  dir: string;
  /** The backend's name; `file` when unset. */
  name?: string;
  /** The GiB it may hand out; unset: the size of the filesystem holding it. */
  capacityGiB?: number;
}

export class FilePoolBackend implements VolumeBackend {
  readonly name: string;
  readonly pool: string;
  readonly protocol = 'file';

  constructor(private readonly o: FilePoolOptions) {
    this.name = o.name ?? 'file';
    this.pool = `${this.name}#pool`;
  }

  private volumePath = (id: string) => join(this.o.dir, `volume-${id}`);
  private snapshotPath = (id: string) => join(this.o.dir, `snapshot-${id}`);

  /** The pool's folder: passable by QEMU's user, listable by no one else (libvirt lends each disk while attached). */
  private async ready(): Promise<void> {
    await mkdir(this.o.dir, { recursive: true, mode: 0o711 });
    await chmod(this.o.dir, 0o711);
  }

  private measured?: { at: number; capacity: Promise<PoolCapacity> };

  /** The pool's room, measured at most every half second (each measure reads every file's size). */
  capacity(): Promise<PoolCapacity> {
    if (!this.measured || Date.now() - this.measured.at > 500) this.measured = { at: Date.now(), capacity: this.measure() };
    return this.measured.capacity;
  }

  private async measure(): Promise<PoolCapacity> {
    await this.ready();
    let provisioned = 0;
    for (const name of await readdir(this.o.dir)) if (!name.endsWith('.part')) provisioned += (await stat(join(this.o.dir, name)).catch(() => ({ size: 0 }))).size;
    const fs = await statfs(this.o.dir);
    const totalGiB = this.o.capacityGiB ?? Math.floor((fs.blocks * fs.bsize) / GiB);
    const provisionedGiB = Math.ceil(provisioned / GiB);
    return { totalGiB, provisionedGiB, freeGiB: Math.max(0, totalGiB - provisionedGiB) };
  }

  /** Makes `path` by `make(part)` on a temporary name, then puts it in place: a crash leaves no half volume. */
  private async place(path: string, make: (part: string) => Promise<void>): Promise<void> {
    if (await exists(path)) return;
    await this.ready();
    const part = `${path}.part`;
    try {
      await make(part);
      await chmod(part, 0o600);
      await rename(part, path);
    } catch (e) {
      await rm(part, { force: true });
      throw e;
    }
  }

  private async grow(path: string, sizeGiB: number): Promise<void> {
    if ((await stat(path)).size < sizeGiB * GiB) await truncate(path, sizeGiB * GiB);
  }

  create(id: string, sizeGiB: number): Promise<void> {
    return this.place(this.volumePath(id), async (part) => {
      await (await open(part, 'w', 0o600)).close();
      await truncate(part, sizeGiB * GiB);
    });
  }

  async createFromImage(id: string, sizeGiB: number, file: string, format: string): Promise<void> {
    const from = qemuFormatOf(format);
    await this.place(this.volumePath(id), async (part) => {
      await checkImageFile(file, from, sizeGiB);
      await run('qemu-img', ['convert', '-q', '-f', from, '-O', 'raw', file, part]);
      await this.grow(part, sizeGiB);
    });
  }

  private copy(from: string, path: string, sizeGiB: number): Promise<void> {
    return this.place(path, async (part) => {
      await run('cp', ['--sparse=always', '--reflink=auto', from, part]);
      await this.grow(part, sizeGiB);
    });
  }

  async cloneVolume(id: string, sourceId: string, sizeGiB: number): Promise<void> {
    if (!(await exists(this.volumePath(sourceId)))) throw new BackendError('VolumeNotFound', `Volume ${sourceId} has no data in pool ${this.pool}.`);
    await this.copy(this.volumePath(sourceId), this.volumePath(id), sizeGiB);
  }

  async createFromSnapshot(id: string, snapshotId: string, sizeGiB: number): Promise<void> {
    if (!(await exists(this.snapshotPath(snapshotId)))) throw new BackendError('SnapshotNotFound', `Snapshot ${snapshotId} has no data in pool ${this.pool}.`);
    await this.copy(this.snapshotPath(snapshotId), this.volumePath(id), sizeGiB);
  }

  async createSnapshot(snapshotId: string, volumeId: string): Promise<void> {
    if (!(await exists(this.volumePath(volumeId)))) throw new BackendError('VolumeNotFound', `Volume ${volumeId} has no data in pool ${this.pool}.`);
    await this.copy(this.volumePath(volumeId), this.snapshotPath(snapshotId), 0);
  }

  deleteSnapshot(snapshotId: string): Promise<void> {
    return rm(this.snapshotPath(snapshotId), { force: true });
  }

  async extend(id: string, sizeGiB: number, inUse: boolean): Promise<void> {
    // An attached file is the guest's QEMU's to grow (block_resize), or the guest would not see the new size.
    if (!inUse) await this.grow(this.volumePath(id), sizeGiB);
  }

  async delete(id: string): Promise<void> {
    await rm(this.volumePath(id), { force: true });
    await rm(`${this.volumePath(id)}.part`, { force: true });
  }

  exists(id: string): Promise<boolean> {
    return exists(this.volumePath(id));
  }

  snapshotExists(snapshotId: string): Promise<boolean> {
    return exists(this.snapshotPath(snapshotId));
  }

  connection(id: string): Connection {
    return { driverVolumeType: 'file', path: this.volumePath(id), format: 'raw' };
  }

  async sizeBytes(id: string): Promise<number> {
    return (await stat(this.volumePath(id))).size;
  }

  async read(id: string, offset: number, length: number): Promise<Buffer> {
    const f = await open(this.volumePath(id), 'r');
    try {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await f.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    } finally {
      await f.close();
    }
  }

  async write(id: string, offset: number, data: Buffer): Promise<void> {
    const f = await open(this.volumePath(id), 'r+');
    try {
      await f.write(data, 0, data.length, offset);
      await f.datasync();
    } finally {
      await f.close();
    }
  }

  openRaw(id: string): Readable {
    return createReadStream(this.volumePath(id), { highWaterMark: 1024 * 1024 });
  }

  async list(): Promise<{ volumes: string[]; snapshots: string[] }> {
    const names = await readdir(this.o.dir).catch(() => [] as string[]);
    const pick = (prefix: string) => names.filter((n) => n.startsWith(prefix) && !n.endsWith('.part')).map((n) => n.slice(prefix.length));
    return { volumes: pick('volume-'), snapshots: pick('snapshot-') };
  }
}
