/**
 * Scheduler weighers: each scores every passing host; scores are normalized to 0..1 across the hosts and
 * multiplied by the weigher's multiplier, as Nova does, so no weigher drowns the others by its units.
 */
import { free, type HostState, type RequestSpec } from './types.js';

export interface HostWeigher {
  name: string;
  multiplier: number;
  weigh(host: HostState, req: RequestSpec): number;
}

/** More free RAM is better: spreads instances (Nova's ram_weight_multiplier 1.0). */
export const RAMWeigher: HostWeigher = { name: 'RAMWeigher', multiplier: 1, weigh: (h) => free(h).ramMiB };
/** More free vCPUs is better (cpu_weight_multiplier 1.0). */
export const CPUWeigher: HostWeigher = { name: 'CPUWeigher', multiplier: 1, weigh: (h) => free(h).vcpus };
/** More free disk is better (disk_weight_multiplier 1.0). */
export const DiskWeigher: HostWeigher = { name: 'DiskWeigher', multiplier: 1, weigh: (h) => free(h).diskGiB };

const membersOn = (h: HostState, r: RequestSpec) => (r.serverGroup?.memberHosts ?? []).filter((m) => m === h.name).length;
/** soft-affinity: hosts with more of the group's members are better. */
export const ServerGroupSoftAffinityWeigher: HostWeigher = {
  name: 'ServerGroupSoftAffinityWeigher',
  multiplier: 10,
  weigh: (h, r) => (r.serverGroup?.policy === 'soft-affinity' ? membersOn(h, r) : 0),
};
/** soft-anti-affinity: hosts with fewer of the group's members are better. */
export const ServerGroupSoftAntiAffinityWeigher: HostWeigher = {
  name: 'ServerGroupSoftAntiAffinityWeigher',
  multiplier: 10,
  weigh: (h, r) => (r.serverGroup?.policy === 'soft-anti-affinity' ? -membersOn(h, r) : 0),
};

export const DEFAULT_WEIGHERS: HostWeigher[] = [RAMWeigher, CPUWeigher, DiskWeigher, ServerGroupSoftAffinityWeigher, ServerGroupSoftAntiAffinityWeigher];

/** Every host's total weight: each weigher's scores min-max normalized, times its multiplier, summed. */
export function weigh(hosts: HostState[], req: RequestSpec, weighers: HostWeigher[] = DEFAULT_WEIGHERS): Map<string, number> {
  const total = new Map(hosts.map((h) => [h.name, 0]));
  for (const w of weighers) {
    const raw = hosts.map((h) => w.weigh(h, req));
    const lo = Math.min(...raw);
    const hi = Math.max(...raw);
    if (hi === lo) continue;
    hosts.forEach((h, i) => total.set(h.name, total.get(h.name)! + (w.multiplier * (raw[i] - lo)) / (hi - lo)));
  }
  return total;
}
