/**
 * The machine's raw disk, the baseline for data-path benchmarks: `dd` writing a file with fdatasync (the data
 * on disk before dd says done, as an object store acknowledges a write) and `dd` reading it back while it is
 * in the page cache (what a read of freshly written data can at best cost).
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

export interface DiskRates {
  /** MB/s (10^6 bytes) */
  writeMBs: number;
  readMBs: number;
}

function timedDd(args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync('dd', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dd ${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Writes and reads `mib` MiB in `dir` (on the disk under test), then removes the file. */
export function rawDisk(dir: string, mib: number): DiskRates {
  const file = join(dir, 'raw-disk.bin');
  try {
    const bytes = mib * 1024 * 1024;
    const write = timedDd(['if=/dev/zero', `of=${file}`, 'bs=1M', `count=${mib}`, 'conv=fdatasync', 'status=none']);
    const read = timedDd([`if=${file}`, 'of=/dev/null', 'bs=1M', 'status=none']);
    return { writeMBs: bytes / 1e6 / write, readMBs: bytes / 1e6 / read };
  } finally {
    rmSync(file, { force: true });
  }
}
