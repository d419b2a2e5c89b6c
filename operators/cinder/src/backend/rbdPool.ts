/**
 * The Ceph RBD backend (Cinder's RBD driver): each volume an RBD image `volume-<id>` in one pool, each snapshot
 * an RBD snapshot `snapshot-<id>` of its volume's image. Images are thin, so a blank volume costs nothing until
 * written; copies (clones, volumes from snapshots) are librbd's sparse copies, independent of their source, so
 * a snapshot or volume can always be deleted. Anything made from data is made under `<name>.part` and renamed
 * when whole: a failure (an OSD gone, a bad image) leaves nothing half-made. Guests reach a volume as a
 * network disk (protocol rbd) through the monitors, with the cephx user's key held in a libvirt secret whose
 * UUID the connection names (the node defines it from its own keyring; the key is never in the connection).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { Connection } from '../resources.js';
import { checkImageFile, qemuFormatOf } from './imageFile.js';
import { RbdError, RbdIo, type RbdAccess } from './rbdIo.js';
import { BackendError, GiB, isZero, type PoolCapacity, type VolumeBackend } from './types.js';

const run = promisify(execFile);
const CHUNK = 8 * 1024 * 1024;

export interface RbdPoolOptions extends RbdAccess {
  /** The backend's name; `ceph` when unset. */
  name?: string;
  /** The libvirt secret's UUID holding the user's key on every compute node (Cinder's rbd_secret_uuid). */
  secretUuid: string;
  /** The GiB it may hand out; unset: thin, as Cinder's RBD driver is (see rbdRoom). */
  capacityGiB?: number;
  /** Unset capacityGiB: how far volumes may promise more than the pool holds (Cinder's max_over_subscription_ratio, 20). */
  overSubscription?: number;
}

/**
 * The room of a thin pool as Cinder's capacity filter sees it: total is what is stored plus what Ceph can still
 * take; a volume fits while the GiB promised stay within `ratio` times the total and the space left, times
 * `ratio`, covers it. With a fixed capacity, what is promised is held to it exactly. Pure.
 */
export function rbdRoom(bytes: { maxAvail: number; stored: number; provisioned: number }, capacityGiB: number | undefined, ratio = 20): PoolCapacity {
  const provisionedGiB = Math.ceil(bytes.provisioned / GiB);
  if (capacityGiB !== undefined) return { totalGiB: capacityGiB, provisionedGiB, freeGiB: Math.max(0, capacityGiB - provisionedGiB) };
  const totalGiB = Math.floor((bytes.maxAvail + bytes.stored) / GiB);
  return { totalGiB, provisionedGiB, freeGiB: Math.max(0, Math.min(Math.floor(bytes.maxAvail / GiB) * ratio, totalGiB * ratio - provisionedGiB)) };
}

export interface Monitor {
  host: string;
  port: string;
}

/**
 * The monitors of a `mon_host` value as a hypervisor's librbd reaches them (msgr v1, which QEMU's rbd driver
 * speaks to a bare address): `[v2:127.0.0.1:3300,v1:127.0.0.1:6789]` → 127.0.0.1:6789. Pure.
 */
export function monitorsOf(monHost: string): Monitor[] {
  const out: Monitor[] = [];
  for (const group of monHost.split(/[\s,;]+(?![^[]*\])/).filter(Boolean)) {
    const addrs = group.replace(/^\[|\]$/g, '').split(',');
    const v1 = addrs.find((a) => a.startsWith('v1:')) ?? addrs.find((a) => !a.startsWith('v2:'));
    if (!v1) continue;
    const m = /^(?:v1:)?(\[[^\]]+\]|[^:]+)(?::(\d+))?(?:\/\d+)?$/.exec(v1);
    if (m) out.push({ host: m[1]!.replace(/^\[|\]$/g, ''), port: m[2] ?? '6789' });
  }
  return out;
}

/** The `mon_host` line of a ceph.conf. Pure. */
export const monHostOf = (conf: string) => /^\s*mon[_ ]host\s*=\s*(.+)$/m.exec(conf)?.[1]?.trim() ?? '';

export class RbdPoolBackend implements VolumeBackend {
  readonly name: string;
  readonly pool: string;
  readonly protocol = 'ceph';
  readonly io: RbdIo;
  private readonly monitors: Monitor[];

  constructor(private readonly o: RbdPoolOptions) {
    this.name = o.name ?? 'ceph';
    this.pool = `${this.name}#${o.pool}`;
    this.io = new RbdIo(o);
    this.monitors = monitorsOf(monHostOf(readFileSync(o.conf, 'utf8')));
    if (!this.monitors.length) throw new Error(`${o.conf} names no monitor (mon_host)`);
  }

  private volumeImage = (id: string) => `volume-${id}`;
  private snapshotName = (id: string) => `snapshot-${id}`;

  private measured?: { at: number; capacity: Promise<PoolCapacity> };

  /** The pool's room, asked of Ceph at most every 5 s (it walks every image for the provisioned size). */
  capacity(): Promise<PoolCapacity> {
    if (!this.measured || Date.now() - this.measured.at > 5000) {
      const capacity = this.measure();
      this.measured = { at: Date.now(), capacity };
      capacity.catch(() => (this.measured = undefined));
    }
    return this.measured.capacity;
  }

  private async measure(): Promise<PoolCapacity> {
    const { result } = await this.io.call<{ maxAvail: number; stored: number; provisioned: number }>('stats');
    return rbdRoom(result, this.o.capacityGiB, this.o.overSubscription);
  }

  private info = async (image: string) => (await this.io.call<{ size: number; snapshots: string[] } | null>('info', { name: image })).result;

  /** Makes `image` by `make(part)` under a temporary name, then renames it: a failure leaves no half volume. */
  private async place(image: string, make: (part: string) => Promise<void>): Promise<void> {
    if (await this.info(image)) return;
    const part = `${image}.part`;
    await this.io.call('remove', { name: part });
    try {
      await make(part);
      await this.io.call('flush');
      await this.io.call('rename', { name: part, to: image });
    } catch (e) {
      await this.io.call('remove', { name: part }).catch(() => {});
      throw e;
    }
  }

  private grow = (image: string, sizeGiB: number) => this.io.call('resize', { name: image, size: sizeGiB * GiB });

  async create(id: string, sizeGiB: number): Promise<void> {
    // One call makes the whole image (librbd writes its header last), so it needs no temporary name.
    await this.io.call('create', { name: this.volumeImage(id), size: sizeGiB * GiB }).catch((e: unknown) => {
      if (!(e instanceof RbdError && e.kind === 'ImageExists')) throw e;
    });
  }

  async createFromImage(id: string, sizeGiB: number, file: string, format: string): Promise<void> {
    const from = qemuFormatOf(format);
    await this.place(this.volumeImage(id), async (part) => {
      await checkImageFile(file, from, sizeGiB);
      await this.io.call('create', { name: part, size: sizeGiB * GiB });
      // QEMU's own rbd driver writes it (the keyring by path, never the key), skipping zeroes: the image is new.
      const target = `rbd:${this.o.pool}/${part}:id=${this.o.user}:conf=${this.o.conf}:keyring=${this.o.keyring}`;
      await run('qemu-img', ['convert', '-q', '-n', '--target-is-zero', '-f', from, '-O', 'raw', file, target]);
    });
  }

  /** A raw image's bytes written straight into a new volume as they arrive: no local copy. */
  createFromRawStream(id: string, sizeGiB: number, body: AsyncIterable<Uint8Array>): Promise<void> {
    return this.place(this.volumeImage(id), async (part) => {
      await this.io.call('create', { name: part, size: sizeGiB * GiB });
      let offset = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async () => {
        const data = Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        if (offset + data.length > sizeGiB * GiB) throw new BackendError('ImageTooBig', `Image is larger than the volume's ${sizeGiB}GB.`);
        // A new image reads as zeroes: all-zero chunks need no write.
        if (!isZero(data)) await this.io.call('write', { name: part, offset }, data);
        offset += data.length;
      };
      for await (const chunk of body) {
        pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        pendingBytes += chunk.byteLength;
        if (pendingBytes >= CHUNK) await flush();
      }
      if (pendingBytes) await flush();
    });
  }

  async cloneVolume(id: string, sourceId: string, sizeGiB: number): Promise<void> {
    if (!(await this.info(this.volumeImage(sourceId)))) throw new BackendError('VolumeNotFound', `Volume ${sourceId} has no data in pool ${this.pool}.`);
    await this.place(this.volumeImage(id), async (part) => {
      await this.io.call('copy', { name: this.volumeImage(sourceId), to: part });
      await this.grow(part, sizeGiB);
    });
  }

  /** The image holding a snapshot, found by its name among the pool's. */
  private async snapshotHolder(snapshotId: string): Promise<string | undefined> {
    const { result } = await this.io.call<Array<{ name: string; snapshots: string[] }>>('list');
    return result.find((i) => i.snapshots.includes(this.snapshotName(snapshotId)))?.name;
  }

  async createFromSnapshot(id: string, snapshotId: string, sizeGiB: number): Promise<void> {
    if (await this.info(this.volumeImage(id))) return;
    const holder = await this.snapshotHolder(snapshotId);
    if (!holder) throw new BackendError('SnapshotNotFound', `Snapshot ${snapshotId} has no data in pool ${this.pool}.`);
    await this.place(this.volumeImage(id), async (part) => {
      await this.io.call('copy', { name: holder, snap: this.snapshotName(snapshotId), to: part });
      await this.grow(part, sizeGiB);
    });
  }

  async createSnapshot(snapshotId: string, volumeId: string): Promise<void> {
    if (!(await this.info(this.volumeImage(volumeId)))) throw new BackendError('VolumeNotFound', `Volume ${volumeId} has no data in pool ${this.pool}.`);
    await this.io.call('snapCreate', { name: this.volumeImage(volumeId), snap: this.snapshotName(snapshotId) });
  }

  async deleteSnapshot(snapshotId: string): Promise<void> {
    const holder = await this.snapshotHolder(snapshotId);
    if (holder) await this.io.call('snapRemove', { name: holder, snap: this.snapshotName(snapshotId) });
  }

  async extend(id: string, sizeGiB: number): Promise<void> {
    // The image grows here whether or not a guest has it: an attached guest's QEMU then grows what it sees.
    await this.grow(this.volumeImage(id), sizeGiB);
  }

  async delete(id: string): Promise<void> {
    await this.io.call('remove', { name: this.volumeImage(id) });
    await this.io.call('remove', { name: `${this.volumeImage(id)}.part` });
  }

  async exists(id: string): Promise<boolean> {
    return !!(await this.info(this.volumeImage(id)));
  }

  async snapshotExists(snapshotId: string): Promise<boolean> {
    return !!(await this.snapshotHolder(snapshotId));
  }

  connection(id: string): Connection {
    return {
      driverVolumeType: 'rbd',
      name: `${this.o.pool}/${this.volumeImage(id)}`,
      hosts: this.monitors.map((m) => m.host),
      ports: this.monitors.map((m) => m.port),
      authUsername: this.o.user,
      secretType: 'ceph',
      secretUuid: this.o.secretUuid,
      format: 'raw',
    };
  }

  async sizeBytes(id: string): Promise<number> {
    const info = await this.info(this.volumeImage(id));
    if (!info) throw new BackendError('VolumeNotFound', `Volume ${id} has no data in pool ${this.pool}.`);
    return info.size;
  }

  async read(id: string, offset: number, length: number): Promise<Buffer> {
    return (await this.io.call('read', { name: this.volumeImage(id), offset, length })).data ?? Buffer.alloc(0);
  }

  /** The extents holding data (librbd's diff from nothing, by object map): what `rbd export-diff` would send. */
  async allocated(id: string): Promise<Array<[number, number]>> {
    return (await this.io.call<Array<[number, number]>>('extents', { name: this.volumeImage(id) })).result;
  }

  async write(id: string, offset: number, data: Buffer): Promise<void> {
    await this.io.call('write', { name: this.volumeImage(id), offset }, data);
  }

  openRaw(id: string): Readable {
    const self = this;
    return Readable.from(
      (async function* () {
        const size = await self.sizeBytes(id);
        for (let offset = 0; offset < size; offset += CHUNK) yield await self.read(id, offset, Math.min(CHUNK, size - offset));
      })(),
      { objectMode: false },
    );
  }

  async list(): Promise<{ volumes: string[]; snapshots: string[] }> {
    const { result } = await this.io.call<Array<{ name: string; snapshots: string[] }>>('list');
    const volumes = result.map((i) => /^volume-(.+)$/.exec(i.name)?.[1]).filter((v): v is string => !!v && !v.endsWith('.part'));
    const snapshots = result.flatMap((i) => i.snapshots.map((s) => /^snapshot-(.+)$/.exec(s)?.[1]).filter((s): s is string => !!s));
    return { volumes, snapshots };
  }

  close(): void {
    this.io.close();
  }
}
