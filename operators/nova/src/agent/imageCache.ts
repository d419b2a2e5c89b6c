/**
 * Images on this host (Nova's _base): each image's data fetched from the image store once, checked against
 * the md5 Glance recorded, and shared read-only by the instances whose disks are overlays on it. Formats
 * QEMU boots from directly (raw, qcow2) stay as they are; others are converted to raw, as Nova does.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { keyFromLocation, type Image, type ImageStore } from '@stratus/glance';

const run = promisify(execFile);

/** An image the host cannot boot: why, in words for the instance's fault. */
export class ImageUnusable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageUnusable';
  }
}

export interface CachedImage {
  path: string;
  format: 'raw' | 'qcow2';
  /** Boot it as a CD-ROM (an ISO image) rather than as the root disk. */
  cdrom: boolean;
  /** The disk size it describes, in bytes. */
  virtualSize: number;
}

const DIRECT_FORMATS = new Set(['raw', 'qcow2']);
const CONVERTIBLE = new Set(['vmdk', 'vdi', 'vhd', 'vhdx', 'ploop', 'ami']);

export class ImageCache {
  private readonly fetching = new Map<string, Promise<CachedImage>>();

  constructor(
    readonly dir: string,
    private readonly store: ImageStore,
  ) {}

  /** The image's data on this host, fetched (once, however many ask at the same time) if it is not here. */
  ensure(img: Image): Promise<CachedImage> {
    const uid = img.metadata.uid!;
    let pending = this.fetching.get(uid);
    if (!pending) {
      pending = this.fetchOnce(img).finally(() => this.fetching.delete(uid));
      this.fetching.set(uid, pending);
    }
    return pending;
  }

  /** Removes cached images no instance here uses (`inUse`: image UIDs) last used before `olderThan` (ms since the epoch). */
  async prune(inUse: Set<string>, olderThan: number): Promise<string[]> {
    const removed: string[] = [];
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      const uid = name.split('.')[0];
      if (inUse.has(uid) || this.fetching.has(uid)) continue;
      const path = join(this.dir, name);
      const { atimeMs, mtimeMs } = await stat(path);
      if (Math.max(atimeMs, mtimeMs) < olderThan) {
        await rm(path, { force: true });
        removed.push(name);
      }
    }
    return removed;
  }

  private async fetchOnce(img: Image): Promise<CachedImage> {
    const declared = img.spec.diskFormat ?? 'raw';
    const cdrom = declared === 'iso';
    const format: CachedImage['format'] = declared === 'qcow2' ? 'qcow2' : 'raw';
    if (!DIRECT_FORMATS.has(declared) && !CONVERTIBLE.has(declared) && !cdrom) throw new ImageUnusable(`Image ${img.metadata.name} has disk format ${declared}, which cannot be booted.`);
    const path = join(this.dir, `${img.metadata.uid}.${format}`);
    const present = await stat(path).catch(() => undefined);
    if (!present) await this.fetch(img, path, declared);
    else await utimes(path, new Date(), present.mtime); // atime: last used, for pruning
    const info = JSON.parse((await run('qemu-img', ['info', '--output=json', '-f', format, path])).stdout) as { 'virtual-size': number; 'backing-filename'?: string };
    // A qcow2 naming a backing file would let an image read any file on this host: refused, as Nova does.
    if (info['backing-filename']) {
      await rm(path, { force: true });
      throw new ImageUnusable(`Image ${img.metadata.name} is a qcow2 with a backing file, which is not allowed.`);
    }
    return { path, format, cdrom, virtualSize: info['virtual-size'] };
  }

  private async fetch(img: Image, path: string, declared: string): Promise<void> {
    const key = keyFromLocation(img.status?.location);
    if (!key) throw new ImageUnusable(`Image ${img.metadata.name} has no data stored.`);
    await mkdir(this.dir, { recursive: true, mode: 0o711 });
    await chmod(this.dir, 0o711);
    const part = `${path}.part`;
    const md5 = createHash('md5');
    try {
      const { body } = await this.store.get(key);
      const hashing = new Transform({ transform: (chunk: Buffer, _e, done) => (md5.update(chunk), done(null, chunk)) });
      await pipeline(body, hashing, createWriteStream(part, { mode: 0o600 }));
      const checksum = md5.digest('hex');
      if (img.status?.checksum && checksum !== img.status.checksum)
        throw new ImageUnusable(`Image ${img.metadata.name}'s data has md5 ${checksum}, not the ${img.status.checksum} Glance recorded.`);
      if (CONVERTIBLE.has(declared)) {
        const raw = `${part}.raw`;
        await run('qemu-img', ['convert', '-f', declared === 'vhd' ? 'vpc' : declared === 'ploop' ? 'parallels' : declared === 'ami' ? 'raw' : declared, '-O', 'raw', part, raw]);
        await rename(raw, part);
      }
      // Tenants' image data: the owner's only (libvirt lends it to QEMU's user while a guest runs on it).
      await chmod(part, 0o600);
      await rename(part, path);
    } catch (e) {
      await rm(part, { force: true });
      await rm(`${part}.raw`, { force: true });
      throw e;
    }
  }
}
