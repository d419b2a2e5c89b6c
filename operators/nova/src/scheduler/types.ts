/** What the scheduler decides from: hosts as they stand and the instance's request. Pure data. */

export interface Resources {
  vcpus: number;
  ramMiB: number;
  diskGiB: number;
}

export interface HostState {
  name: string;
  availabilityZone: string;
  /** Heartbeating recently and not disabled. */
  up: boolean;
  disabled: boolean;
  capacity: Resources;
  reserved: Resources;
  ratios: Resources;
  /** What the instances bound here (or being bound) hold. */
  used: Resources;
  /** Instances bound here, by namespace/name. */
  instances: Set<string>;
  /** What images may ask for: hypervisor_type, architecture, … */
  properties: Record<string, string>;
}

export interface ServerGroupRequest {
  policy: 'affinity' | 'anti-affinity' | 'soft-affinity' | 'soft-anti-affinity';
  maxServerPerHost?: number;
  /** The hosts the group's other members are bound to, one entry per member. */
  memberHosts: string[];
}

export interface RequestSpec {
  /** namespace/name of the instance. */
  instance: string;
  resources: Resources;
  availabilityZone?: string;
  /** The image's properties (hw_architecture, img_hv_type, …). */
  imageProperties: Record<string, string>;
  serverGroup?: ServerGroupRequest;
  /** Only this host (the instance names its host). */
  forcedHost?: string;
}

/** What a host can still take: (total − reserved) × allocation ratio − used, per resource (Placement's rule). */
export function free(h: HostState): Resources {
  const left = (k: keyof Resources) => Math.floor((h.capacity[k] - h.reserved[k]) * h.ratios[k]) - h.used[k];
  return { vcpus: left('vcpus'), ramMiB: left('ramMiB'), diskGiB: left('diskGiB') };
}
