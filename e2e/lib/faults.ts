/**
 * What the fault-injection suite needs besides the cloud: a seeded choice of faults, the processes of a running
 * `stratus up` to kill, an OpenStack API client that rides out a service that is down, and the inventory of
 * what exists outside the resources (guests, files, objects, bindings, namespaces) to check against them.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

const sh = promisify(execFile);

/** A seeded source of choices, so a failing run can be replayed with FAULT_SEED. */
export class Chance {
  private readonly rng;
  constructor(readonly seed: number) {
    this.rng = xoroshiro128plus(seed);
  }
  /** True with probability p. */
  odds(p: number): boolean {
    return uniformFloat64(this.rng) < p;
  }
  /** A whole number in [from, to]. */
  between(from: number, to: number): number {
    return uniformInt(this.rng, from, to);
  }
  /** One of `choices`, each as likely as its weight. */
  pick<T extends string>(choices: Record<T, number>): T {
    const entries = Object.entries(choices) as Array<[T, number]>;
    let n = uniformFloat64(this.rng) * entries.reduce((s, [, w]) => s + w, 0);
    for (const [c, w] of entries) if ((n -= w) < 0) return c;
    return entries[entries.length - 1][0];
  }
}

/** `stratus up`'s children by operator name (what the supervisor restarts), read from the process table. */
export async function operatorPids(upPid: number): Promise<Map<string, number>> {
  const out = await sh('ps', ['-o', 'pid=,args=', '--ppid', String(upPid)]).then((r) => r.stdout, () => '');
  const byMain: Array<[string, RegExp]> = [
    ['keystone', /operators\/keystone\/dist\/src\/main\.js/],
    ['glance', /operators\/glance\/dist\/src\/main\.js/],
    ['nova-compute', /operators\/nova\/dist\/src\/agent\/main\.js/],
    ['nova', /operators\/nova\/dist\/src\/main\.js/],
  ];
  const pids = new Map<string, number>();
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    const name = m && byMain.find(([, re]) => re.test(m[2]))?.[0];
    if (m && name) pids.set(name, Number(m[1]));
  }
  return pids;
}

/** Whether a process is still there (a zombie is not: it has finished). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  let stat = '';
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  return !/^\d+ \(.*\) Z/.test(stat);
}

export interface Reply {
  status: number;
  body: any;
}

/** Whether an answer means "the service is not there right now" (restarting), rather than a verdict on the request. */
export const transient = (r: Reply) => r.status === 0 || r.status === 502 || r.status === 503 || r.status === 504;

/** Files directly under `dir` (none when it does not exist). */
export const entriesOf = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

/** The multipart uploads begun and neither completed nor aborted, as s3rver keeps them (`<bucket>/._S3rver_uploads/<id>`). */
export const unfinishedUploads = (s3Dir: string, bucket: string) => entriesOf(join(s3Dir, bucket, '._S3rver_uploads'));
