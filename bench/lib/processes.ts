/** The processes of a cloud `stratus up` runs, as /proc shows them: for benchmarks that read their memory. */
import { readdirSync, readFileSync } from 'node:fs';
import type { RunningCloud } from '@stratus/cli';

/** The child process of `stratus up` running `main` (a path inside the repository), found in /proc. */
export function childPid(cloud: RunningCloud, main: string): string {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(main)) continue;
      if (Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) === cloud.process.pid) return pid;
    } catch {
      // the process went away while we looked
    }
  }
  throw new Error(`no process of this cloud runs ${main}`);
}

/** The Glance operator process `stratus up` started. */
export const glancePid = (cloud: RunningCloud) => childPid(cloud, 'operators/glance/dist/src/main.js');

/** The gateway process `stratus up` started. */
export const gatewayPid = (cloud: RunningCloud) => childPid(cloud, 'cli/dist/src/gatewayMain.js');

/** Its peak (VmHWM) and current RSS in MiB. */
export function memoryOf(pid: string): { peakMiB: number; rssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { peakMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
}


/** A process's CPU seconds so far (user + system), from /proc: clock ticks, 100 per second on Linux. */
export function cpuSecondsOf(pid: string | number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
