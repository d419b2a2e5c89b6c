/** The processes of a cloud `stratus up` runs, as /proc shows them: for benchmarks that read their memory. */
import { readdirSync, readFileSync } from 'node:fs';
import type { RunningCloud } from '@stratus/cli';

/** The Glance operator process `stratus up` started (found in /proc as its child). */
export function glancePid(cloud: RunningCloud): string {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('operators/glance/dist/src/main.js')) continue;
      if (Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) === cloud.process.pid) return pid;
    } catch {
      // the process went away while we looked
    }
  }
  throw new Error('the Glance process of this cloud was not found in /proc');
}

/** Its peak (VmHWM) and current RSS in MiB. */
export function memoryOf(pid: string): { peakMiB: number; rssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { peakMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
}

