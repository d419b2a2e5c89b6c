/**
 * The allocation ledger in a Hypervisor's status: what each instance placed there holds. Every write is a
 * compare-and-swap on the Hypervisor's resourceVersion, so two writers (schedulers, or the scheduler and a
 * node agent making a resize claim) never both book the same room: the slower one gets 409 and decides again.
 */
import { MERGE_PATCH, type KubeClient } from '@stratus/runtime';
import { HYPERVISORS, type Hypervisor } from '../resources.js';
import { sumAllocations } from './hostStates.js';
import type { Resources } from './types.js';

/** Writes (or, with null, removes) one instance's entry, with the totals that follow; throws 409 if `host` is stale. */
export function writeLedgerEntry(client: KubeClient, host: Hypervisor, instanceKey: string, resources: Resources | null, fieldManager: string): Promise<Hypervisor> {
  return writeLedgerEntries(client, host, new Map([[instanceKey, resources]]), fieldManager);
}

/** Writes several instances' entries (null removes one) in one compare-and-swap; throws 409 if `host` is stale. */
export function writeLedgerEntries(client: KubeClient, host: Hypervisor, entries: ReadonlyMap<string, Resources | null>, fieldManager: string): Promise<Hypervisor> {
  const allocations = { ...(host.status?.allocations ?? {}) };
  for (const [key, resources] of entries) {
    if (resources) allocations[key] = resources;
    else delete allocations[key];
  }
  return client.patch<Hypervisor>(
    HYPERVISORS,
    undefined,
    host.metadata.name,
    {
      metadata: { resourceVersion: host.metadata.resourceVersion },
      status: { allocations: Object.fromEntries(entries), allocated: sumAllocations(allocations), instances: Object.keys(allocations).length },
    },
    fieldManager,
    MERGE_PATCH,
    'status',
  );
}
