/**
 * Host aggregates and the availability zones they give their hosts, as Nova decides them: pure, so the
 * API, the scheduler and the views agree and it is tested without a cluster.
 */
import { DEFAULT_AVAILABILITY_ZONE } from './kinds.js';
import { integerIdOf, type Aggregate, type Hypervisor } from './resources.js';

/**
 * Nova's aggregate IDs are integers; the resource's UID is the identity, so the ID is derived from it
 * (stable, and the same on every replica of the API without a counter to share).
 */
export const aggregateIdOf = (a: Aggregate): number => integerIdOf(a.metadata.uid ?? a.metadata.name);

/** The zone an aggregate's hosts get from it, if any. */
export const aggregateZoneOf = (a: Aggregate): string | undefined => a.spec.availabilityZone || undefined;

/**
 * A host's availability zone: the zone of an aggregate holding it (Nova's AZs are aggregate metadata),
 * else the zone its node agent registered with (the default zone unless set).
 */
export function zoneOfHost(hv: Hypervisor, aggregates: readonly Aggregate[]): string {
  for (const a of aggregates) if (aggregateZoneOf(a) && a.spec.hosts?.includes(hv.metadata.name) && !a.metadata.deletionTimestamp) return aggregateZoneOf(a)!;
  return hv.spec.availabilityZone ?? DEFAULT_AVAILABILITY_ZONE;
}

/**
 * Why `hosts` cannot be in zone `zone` through aggregate `self` (undefined when they can): a host is in one
 * zone at most, so another aggregate holding one of them must have no zone or the same one.
 */
export function zoneConflict(self: Aggregate | undefined, hosts: readonly string[], zone: string | undefined, aggregates: readonly Aggregate[]): string | undefined {
  if (!zone) return undefined;
  for (const other of aggregates) {
    if (other === self || other.metadata.uid === self?.metadata.uid) continue;
    const otherZone = aggregateZoneOf(other);
    if (!otherZone || otherZone === zone) continue;
    const shared = hosts.filter((h) => other.spec.hosts?.includes(h));
    if (shared.length) return `host ${shared.join(', ')} is already in availability zone ${otherZone} (aggregate ${other.spec.displayName ?? other.metadata.name}); a host is in one zone at most`;
  }
  return undefined;
}

/** The metadata Nova shows for an aggregate: its own, with availability_zone among them when it has one. */
export function aggregateMetadataOf(a: Aggregate): Record<string, string> {
  const zone = aggregateZoneOf(a);
  return { ...(a.spec.metadata ?? {}), ...(zone ? { availability_zone: zone } : {}) };
}
