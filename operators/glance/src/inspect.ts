/**
 * What qemu-img says about stored image data: its format and virtual size. Only the head and tail of the
 * object are fetched (where every format qemu-img knows keeps its headers and footers), written at their
 * offsets into a sparse file of the full size, so a 20 GiB image costs 2 MiB of transfer.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DISK_FORMATS } from './kinds.js';
import type { ImageStore } from './store/imageStore.js';

const run = promisify(execFile);
const EDGE = 1024 * 1024;

export interface Inspection {
  /** The disk size the data describes; undefined for formats qemu-img cannot read (aki, ari). */
  virtualSize?: number;
  /** The format qemu-img detects. */
  detectedFormat?: string;
}

/** The data is not what its disk format says. */
export class FormatMismatch extends Error {
  readonly reason = 'DiskFormatMismatch';
  constructor(message: string) {
    super(message);
    this.name = 'FormatMismatch';
  }
}

/** Whether data qemu-img detects as `detected` may be stored under Glance's `diskFormat`. */
export function formatMatches(diskFormat: string, detected: string): boolean {
  const expected = DISK_FORMATS[diskFormat];
  return expected === undefined || expected === detected;
}

/** Inspects the object `key` (of `size` bytes) declared as `diskFormat`; throws FormatMismatch when the data is something else. */
export async function inspectStoredImage(store: ImageStore, key: string, size: number, diskFormat: string): Promise<Inspection> {
  const driver = DISK_FORMATS[diskFormat];
  if (driver === undefined) return {};
  const dir = await mkdtemp(join(tmpdir(), 'glance-inspect-'));
  const file = join(dir, 'image');
  try {
    const fh = await open(file, 'w');
    try {
      await fh.truncate(size);
      const ranges = size <= 2 * EDGE ? [{ start: 0, end: size - 1 }] : [{ start: 0, end: EDGE - 1 }, { start: size - EDGE, end: size - 1 }];
      for (const r of ranges) {
        if (r.end < r.start) continue;
        let at = r.start;
        for await (const chunk of (await store.get(key, r)).body) {
          await fh.write(chunk as Buffer, 0, (chunk as Buffer).length, at);
          at += (chunk as Buffer).length;
        }
      }
    } finally {
      await fh.close();
    }
    const probed = await qemuImgInfo(file);
    if (!formatMatches(diskFormat, probed.format))
      throw new FormatMismatch(`the data is ${probed.format}, but the image's disk format is ${diskFormat}`);
    return { virtualSize: probed['virtual-size'], detectedFormat: probed.format };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function qemuImgInfo(file: string): Promise<{ format: string; 'virtual-size': number }> {
  try {
    const { stdout } = await run('qemu-img', ['info', '--output=json', file], { timeout: 30_000 });
    return JSON.parse(stdout);
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new Error('qemu-img is not installed (Debian package qemu-utils; `make system-packages` installs it)');
    throw new Error(`qemu-img info failed: ${(err.stderr ?? err.message).trim()}`);
  }
}
