/**
 * What the fault-injection suite needs besides the cloud: a seeded choice of faults, the processes of a running
 * `stratus up` to kill, an OpenStack API client that rides out a service that is down, and the inventory of
 * what exists outside the resources (guests, files, objects, bindings, namespaces) to check against them.
 */
import { existsSync, readdirSync } from 'node:fs';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { childrenOf, commandOf } from './processes.js';

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

/** `stratus up`'s children by operator name (what the supervisor restarts). */
export function operatorPids(upPid: number): Map<string, number> {
  const byMain: Array<[string, RegExp]> = [
    ['keystone', /operators\/keystone\/dist\/src\/main\.js/],
    ['glance', /operators\/glance\/dist\/src\/main\.js/],
    ['nova-compute', /operators\/nova\/dist\/src\/agent\/main\.js/],
    ['nova', /operators\/nova\/dist\/src\/main\.js/],
    ['neutron', /operators\/neutron\/dist\/src\/main\.js/],
    ['cinder', /operators\/cinder\/dist\/src\/main\.js/],
  ];
  const pids = new Map<string, number>();
  for (const pid of childrenOf(upPid)) {
    try {
      const name = byMain.find(([, re]) => re.test(commandOf(pid)))?.[0];
      if (name) pids.set(name, pid);
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export interface Reply {
  status: number;
  body: any;
}

/** Whether an answer means "the service is not there right now" (restarting), rather than a verdict on the request. */
export const transient = (r: Reply) => r.status === 0 || r.status === 502 || r.status === 503 || r.status === 504;

/** Files directly under `dir` (none when it does not exist). */
export const entriesOf = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
