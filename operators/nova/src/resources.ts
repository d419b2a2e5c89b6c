/** Typed shapes and API references for the compute kinds and what Nova reads of other services. */
import { resourceOf, type Condition } from '@stratus/runtime';
import { FlavorKind, HypervisorKind, InstanceKind, KeypairKind, ServerGroupKind } from './kinds.js';
import type { Resources } from './scheduler/types.js';

export const FLAVORS = resourceOf(FlavorKind);
export const INSTANCES = resourceOf(InstanceKind);
export const KEYPAIRS = resourceOf(KeypairKind);
export const SERVER_GROUPS = resourceOf(ServerGroupKind);
export const HYPERVISORS = resourceOf(HypervisorKind);
/** Images are Glance's: its resource reference and type. */
export { IMAGES, type Image } from '@stratus/glance';
export const FIELD_MANAGER = 'stratus-nova';
/** How long a hypervisor may go without a heartbeat before it counts as down (Nova's service_down_time). */
export const SERVICE_DOWN_SECONDS = 60;

interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: Date;
  deletionTimestamp?: Date;
  finalizers?: string[];
}

interface CommonStatus {
  observedGeneration?: number;
  phase?: string;
  conditions?: Condition[];
}

export interface Flavor {
  apiVersion: string;
  kind: 'Flavor';
  metadata: Meta;
  spec: { vcpus: number; ramMiB: number; diskGiB?: number; ephemeralGiB?: number; swapMiB?: number; isPublic?: boolean; description?: string; extraSpecs?: Record<string, string> };
  status?: CommonStatus & { flavorId?: string };
}

export interface Hypervisor {
  apiVersion: string;
  kind: 'Hypervisor';
  metadata: Meta;
  spec: {
    hostname?: string;
    availabilityZone?: string;
    driver?: 'libvirt' | 'kubevirt' | 'fake';
    capacity: Partial<Resources>;
    reserved?: Partial<Resources>;
    cpuAllocationRatio?: number;
    ramAllocationRatio?: number;
    diskAllocationRatio?: number;
    disabled?: boolean;
    disabledReason?: string;
    properties?: Record<string, string>;
  };
  status?: CommonStatus & {
    state?: 'up' | 'down';
    lastHeartbeat?: string;
    /** The booking ledger: what each bound instance (by namespace/name) holds here. */
    allocations?: Record<string, Resources>;
    allocated?: Resources;
    runningVMs?: number;
    hypervisorType?: string;
    hypervisorVersion?: string;
  };
}

export interface Instance {
  apiVersion: string;
  kind: 'Instance';
  metadata: Meta & { labels?: Record<string, string> };
  spec: {
    flavor: string;
    image: { name: string; namespace?: string };
    keypair?: string;
    userData?: string;
    metadata?: Record<string, string>;
    availabilityZone?: string;
    serverGroup?: string;
    hostname?: string;
    powerState?: 'Running' | 'Stopped' | 'Paused' | 'Suspended';
    reboot?: { count?: number; type?: 'SOFT' | 'HARD' };
    host?: string;
  };
  status?: CommonStatus & {
    serverId?: string;
    host?: string;
    taskState?: string | null;
    powerState?: string;
    consoleUrl?: string;
    launchedAt?: string;
    rebootsDone?: number;
    fault?: { code: number; message: string; details?: string; created: string };
    allocation?: Resources;
  };
}

export interface Keypair {
  apiVersion: string;
  kind: 'Keypair';
  metadata: Meta;
  spec: { publicKey: string; type?: 'ssh' | 'x509' };
  status?: CommonStatus & { fingerprint?: string };
}

export interface ServerGroup {
  apiVersion: string;
  kind: 'ServerGroup';
  metadata: Meta;
  spec: { policy: 'affinity' | 'anti-affinity' | 'soft-affinity' | 'soft-anti-affinity'; rules?: { maxServerPerHost?: number } };
  status?: CommonStatus & { groupId?: string; members?: string[] };
}

export const keyOf = (o: { metadata: Meta }) => `${o.metadata.namespace}/${o.metadata.name}`;
