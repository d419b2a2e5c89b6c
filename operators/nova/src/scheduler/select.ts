/** Choosing a host: the filters narrow, the weighers order; nothing left is a NoValidHost with every reason. */
import { DEFAULT_FILTERS, type HostFilter } from './filters.js';
import type { HostState, RequestSpec } from './types.js';
import { DEFAULT_WEIGHERS, weigh, type HostWeigher } from './weighers.js';

export interface Placement {
  host: string;
  weight: number;
}

export interface NoValidHost {
  /** Nova's fault message. */
  message: string;
  /** Per filter: how many hosts it turned away, and one example reason. */
  rejections: Array<{ filter: string; hosts: number; example: string }>;
}

export type Decision = { placement: Placement } | { noValidHost: NoValidHost };

export function selectHost(hosts: HostState[], req: RequestSpec, filters: HostFilter[] = DEFAULT_FILTERS, weighers: HostWeigher[] = DEFAULT_WEIGHERS): Decision {
  const rejected = new Map<string, { hosts: number; example: string }>();
  let passing = hosts;
  for (const f of filters) {
    const next: HostState[] = [];
    for (const h of passing) {
      const why = f.reject(h, req);
      if (why === undefined) next.push(h);
      else {
        const r = rejected.get(f.name) ?? { hosts: 0, example: `${h.name}: ${why}` };
        r.hosts++;
        rejected.set(f.name, r);
      }
    }
    passing = next;
    if (!passing.length) break;
  }
  const rejections = [...rejected].map(([filter, r]) => ({ filter, ...r }));
  if (!passing.length) {
    const detail = hosts.length ? rejections.map((r) => `${r.filter} rejected ${r.hosts} (${r.example})`).join('; ') : 'there are no compute hosts';
    return { noValidHost: { message: `No valid host was found. ${detail}`, rejections } };
  }
  const weights = weigh(passing, req, weighers);
  // Highest weight wins; a tie goes to the first name, so the same state always gives the same answer.
  let best = passing[0];
  for (const h of passing) {
    const d = weights.get(h.name)! - weights.get(best.name)!;
    if (d > 0 || (d === 0 && h.name.localeCompare(best.name) < 0)) best = h;
  }
  return { placement: { host: best.name, weight: weights.get(best.name)! } };
}
