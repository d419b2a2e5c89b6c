/**
 * Tenant quotas on compute (Nova's instances, cores and ram), pure: usage is read from the hypervisors'
 * allocation ledgers (what instances really hold), limits from the Tenant's spec.quota (absent: unlimited).
 */
import type { Hypervisor } from './resources.js';
import type { Resources } from './scheduler/types.js';

export interface ComputeUsage {
  instances: number;
  cores: number;
  ramMiB: number;
}

export const usageOfResources = (r: Pick<Resources, 'vcpus' | 'ramMiB'>, instances = 1): ComputeUsage => ({ instances, cores: r.vcpus * instances, ramMiB: r.ramMiB * instances });

/** What a tenant's instances hold across every hypervisor's ledger (entries are keyed namespace/name). */
export function ledgerUsage(hypervisors: readonly Hypervisor[], namespace: string): ComputeUsage {
  const used: ComputeUsage = { instances: 0, cores: 0, ramMiB: 0 };
  for (const hv of hypervisors)
    for (const [key, r] of Object.entries(hv.status?.allocations ?? {}))
      if (key.startsWith(`${namespace}/`)) {
        used.instances++;
        used.cores += r.vcpus;
        used.ramMiB += r.ramMiB;
      }
  return used;
}

/** Nova's names for the limits, and the Tenant quota field each reads. */
const LIMITS: Array<[keyof ComputeUsage, string, string]> = [
  ['instances', 'instances', 'instances'],
  ['cores', 'cores', 'cores'],
  ['ramMiB', 'ram', 'ramMiB'],
];

/** The limit on each resource (undefined: unlimited). */
export function limitsOf(quota: Record<string, number> | undefined): Partial<ComputeUsage> {
  return Object.fromEntries(LIMITS.filter(([, , field]) => quota?.[field] !== undefined).map(([k, , field]) => [k, quota![field]]));
}

/** Nova's refusal when `asked` on top of `used` goes past a limit, or undefined when it fits. */
export function quotaRefusal(quota: Record<string, number> | undefined, used: ComputeUsage, asked: ComputeUsage): string | undefined {
  const limits = limitsOf(quota);
  const over = LIMITS.filter(([k]) => limits[k] !== undefined && used[k] + asked[k] > limits[k]!);
  if (!over.length) return undefined;
  const list = (f: (k: keyof ComputeUsage) => number) => over.map(([k]) => f(k)).join(', ');
  const names = over.map(([, name]) => name).join(', ');
  return `Quota exceeded for ${names}: Requested ${list((k) => asked[k])}, but already used ${list((k) => used[k])} of ${list((k) => limits[k]!)} ${names}`;
}

/** How many more instances of `one`'s size fit in the limits on top of `used` (Infinity when nothing limits them). */
export function instancesThatFit(quota: Record<string, number> | undefined, used: ComputeUsage, one: ComputeUsage): number {
  const limits = limitsOf(quota);
  let fit = Infinity;
  for (const [k] of LIMITS) {
    const limit = limits[k];
    if (limit === undefined || one[k] <= 0) continue;
    fit = Math.min(fit, Math.max(0, Math.floor((limit - used[k]) / one[k])));
  }
  return fit;
}

/** Metadata items a server may have where no quota says otherwise (Nova's default). */
export const METADATA_ITEMS_DEFAULT = 128;

/** The limit on one server's metadata items, from a tenant's effective quota. */
export const metadataItemsLimit = (quota: Record<string, number> | undefined) => quota?.metadataItems ?? METADATA_ITEMS_DEFAULT;

/** The ConfigMap (in stratus-system) holding the default quota class: Tenant quota fields to limits. */
export const DEFAULT_QUOTAS_CONFIGMAP = 'compute-default-quotas';

/** The default class read and merged as Cinder's is: one piece of code for both. */
export { defaultQuotasOf, effectiveQuota } from '@stratus/runtime';
