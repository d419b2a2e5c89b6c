/** The scheduler's view of the hosts, built from Hypervisor resources: pure, so it is tested without a cluster. */
import { DEFAULT_AVAILABILITY_ZONE } from '../kinds.js';
import { SERVICE_DOWN_SECONDS, type Hypervisor } from '../resources.js';
import type { HostState, Resources } from './types.js';

const zero: Resources = { vcpus: 0, ramMiB: 0, diskGiB: 0 };
const filled = (r: Partial<Resources> | undefined): Resources => ({ ...zero, ...(r ?? {}) });

/** What a ledger of allocations adds up to. */
export function sumAllocations(allocations: Record<string, Resources> | undefined): Resources {
  const total = { ...zero };
  for (const a of Object.values(allocations ?? {})) for (const k of ['vcpus', 'ramMiB', 'diskGiB'] as const) total[k] += a[k] ?? 0;
  return total;
}

/** Whether the hypervisor's agent heartbeat is recent enough to count it up. */
export const isUp = (hv: Hypervisor, now = Date.now()) => !!hv.status?.lastHeartbeat && now - Date.parse(hv.status.lastHeartbeat) < SERVICE_DOWN_SECONDS * 1000;

/** `zone`: the host's zone where aggregates decide it (zoneOfHost), else the one it registered with. */
export function hostStateOf(hv: Hypervisor, now = Date.now(), zone?: string): HostState {
  return {
    name: hv.metadata.name,
    availabilityZone: zone ?? hv.spec.availabilityZone ?? DEFAULT_AVAILABILITY_ZONE,
    up: isUp(hv, now),
    disabled: !!hv.spec.disabled,
    capacity: filled(hv.spec.capacity),
    reserved: filled(hv.spec.reserved),
    ratios: { vcpus: hv.spec.cpuAllocationRatio ?? 4, ramMiB: hv.spec.ramAllocationRatio ?? 1, diskGiB: hv.spec.diskAllocationRatio ?? 1 },
    used: sumAllocations(hv.status?.allocations),
    instances: new Set(Object.keys(hv.status?.allocations ?? {})),
    properties: hv.spec.properties ?? {},
  };
}
