/**
 * Scheduler filters, each one question about one host: undefined when the host passes, else why it does
 * not. Named as Nova names its filters, so a NoValidHost fault reads the way operators expect.
 */
import { free, type HostState, type RequestSpec } from './types.js';

export interface HostFilter {
  name: string;
  reject(host: HostState, req: RequestSpec): string | undefined;
}

export const ComputeFilter: HostFilter = {
  name: 'ComputeFilter',
  reject: (h) => (h.disabled ? 'disabled' : !h.up ? 'down (no recent heartbeat)' : undefined),
};

export const AvailabilityZoneFilter: HostFilter = {
  name: 'AvailabilityZoneFilter',
  reject: (h, r) => (r.availabilityZone && r.availabilityZone !== h.availabilityZone ? `in zone ${h.availabilityZone}, not ${r.availabilityZone}` : undefined),
};

const resourceFilter = (name: string, key: 'vcpus' | 'ramMiB' | 'diskGiB', unit: string): HostFilter => ({
  name,
  reject: (h, r) => {
    const left = free(h)[key];
    return r.resources[key] > left ? `${left} ${unit} free, ${r.resources[key]} asked` : undefined;
  },
});
export const RamFilter = resourceFilter('RamFilter', 'ramMiB', 'MiB RAM');
export const CoreFilter = resourceFilter('CoreFilter', 'vcpus', 'vCPUs');
export const DiskFilter = resourceFilter('DiskFilter', 'diskGiB', 'GiB disk');

/** Image properties the host must match: the image's key, and the host property it names. */
const IMAGE_MATCHES: Array<[string, string]> = [
  ['hw_architecture', 'architecture'],
  ['architecture', 'architecture'],
  ['img_hv_type', 'hypervisor_type'],
  ['hypervisor_type', 'hypervisor_type'],
];
export const ImagePropertiesFilter: HostFilter = {
  name: 'ImagePropertiesFilter',
  reject: (h, r) => {
    for (const [imageKey, hostKey] of IMAGE_MATCHES) {
      const want = r.imageProperties[imageKey];
      if (want && h.properties[hostKey] && want.toLowerCase() !== h.properties[hostKey].toLowerCase()) return `${hostKey} is ${h.properties[hostKey]}, the image needs ${want}`;
    }
    return undefined;
  },
};

export const ServerGroupAffinityFilter: HostFilter = {
  name: 'ServerGroupAffinityFilter',
  reject: (h, r) => {
    const g = r.serverGroup;
    if (g?.policy !== 'affinity' || !g.memberHosts.length) return undefined;
    return g.memberHosts.every((m) => m === h.name) ? undefined : `the group's members are on ${[...new Set(g.memberHosts)].join(', ')}`;
  },
};

export const ServerGroupAntiAffinityFilter: HostFilter = {
  name: 'ServerGroupAntiAffinityFilter',
  reject: (h, r) => {
    const g = r.serverGroup;
    if (g?.policy !== 'anti-affinity') return undefined;
    const here = g.memberHosts.filter((m) => m === h.name).length;
    const max = g.maxServerPerHost ?? 1;
    return here >= max ? `already holds ${here} of the group's members (at most ${max})` : undefined;
  },
};

export const ForcedHostFilter: HostFilter = {
  name: 'ForcedHostFilter',
  reject: (h, r) => (r.forcedHost && r.forcedHost !== h.name ? `the instance asks for host ${r.forcedHost}` : undefined),
};

/** Nova's default enabled_filters, in its order, plus the forced-host rule. */
export const DEFAULT_FILTERS: HostFilter[] = [
  ForcedHostFilter,
  ComputeFilter,
  AvailabilityZoneFilter,
  RamFilter,
  CoreFilter,
  DiskFilter,
  ImagePropertiesFilter,
  ServerGroupAntiAffinityFilter,
  ServerGroupAffinityFilter,
];
