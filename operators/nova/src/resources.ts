/** Typed shapes and API references for the compute kinds and what Nova reads of other services. */
import { createHash } from 'node:crypto';
import { now, resourceOf, type Condition, type ResourceRef } from '@stratus/runtime';
import { AggregateKind, FlavorKind, HypervisorKind, INSTANCE_PHASES, InstanceKind, KeypairKind, OBSERVED_POWER_STATES, ServerGroupKind } from './kinds.js';
import type { Resources } from './scheduler/types.js';

export const FLAVORS = resourceOf(FlavorKind);
export const INSTANCES = resourceOf(InstanceKind);
export const KEYPAIRS = resourceOf(KeypairKind);
export const SECRETS: ResourceRef = { group: '', version: 'v1', plural: 'secrets', namespaced: true };
export const CONFIGMAPS: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', namespaced: true };
/** Kubernetes' core Events (one definition, the runtime's). */
export { EVENTS } from '@stratus/runtime';
/** The key of an instance's admin password in its adminPassSecret. */
export const ADMIN_PASS_KEY = 'adminPass';
export const SERVER_GROUPS = resourceOf(ServerGroupKind);
export const HYPERVISORS = resourceOf(HypervisorKind);
export const AGGREGATES = resourceOf(AggregateKind);
/** Images are Glance's: its resource reference and type. */
export { IMAGES, type Image } from '@stratus/glance';
export const FIELD_MANAGER = 'stratus-nova';
/** Guards an instance's guest and files on its host: the node agent removes it once both are gone. */
export const GUEST_FINALIZER = 'compute.stratus.io/guest';
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
  annotations?: Record<string, string>;
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
  spec: { displayName?: string; vcpus: number; ramMiB: number; diskGiB?: number; ephemeralGiB?: number; swapMiB?: number; isPublic?: boolean; projects?: string[]; description?: string; extraSpecs?: Record<string, string> };
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
    /** How many instances the ledger holds. */
    instances?: number;
    runningVMs?: number;
    hypervisorType?: string;
    hypervisorVersion?: string;
    agentUrl?: string;
  };
}

export interface Instance {
  apiVersion: string;
  kind: 'Instance';
  metadata: Meta & { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    displayName?: string;
    description?: string;
    flavor: string;
    image?: { name: string; namespace?: string };
    keypair?: string;
    networks?: InstanceNetwork[];
    securityGroups?: string[];
    userData?: string;
    adminPassSecret?: string;
    tags?: string[];
    accessIPv4?: string;
    accessIPv6?: string;
    lock?: { reason?: string; byAdmin?: boolean };
    metadata?: Record<string, string>;
    availabilityZone?: string;
    serverGroup?: string;
    hostname?: string;
    powerState?: 'Running' | 'Stopped' | 'Paused' | 'Suspended';
    reboot?: { count?: number; type?: 'SOFT' | 'HARD' };
    rebuild?: { count?: number };
    confirmResize?: boolean;
    host?: string;
    shelved?: boolean;
    rescue?: { image?: { name: string; namespace?: string } } | null;
  };
  status?: InstanceStatus;
}

/** Nova's power_state, as the hypervisor reports it. */
export type ObservedPowerState = (typeof OBSERVED_POWER_STATES)[number];
export type InstancePhase = (typeof INSTANCE_PHASES)[number];

/** A flavor as an instance runs it: copied in, so the instance keeps it if the Flavor changes or goes. */
export interface FlavorSnapshot {
  name: string;
  vcpus: number;
  ramMiB: number;
  diskGiB: number;
  ephemeralGiB?: number;
  swapMiB?: number;
  extraSpecs?: Record<string, string>;
}

/** A Nova fault, keeping the first time it was seen while its message stays the same (no needless writes). */
export function faultOf(prev: Fault | null | undefined, code: number, message: string): Fault {
  return prev?.message === message && prev.code === code ? prev : { code, message, created: now() };
}

export interface Fault {
  code: number;
  message: string;
  details?: string;
  created: string;
}

export interface InstanceStatus extends CommonStatus {
  phase?: InstancePhase;
  serverId?: string;
  host?: string;
  instanceName?: string;
  taskState?: string | null;
  taskStartedAt?: string | null;
  powerState?: ObservedPowerState;
  consoleUrl?: string;
  addresses?: InstanceAddress[];
  launchedAt?: string;
  rebootsDone?: number;
  rebuildsDone?: number;
  flavor?: FlavorSnapshot;
  /** The image the root disk was made from; `uid` names its copy in the host's image cache. */
  image?: { name: string; namespace: string; id?: string; uid?: string };
  resize?: { fromFlavor: FlavorSnapshot; fromAllocation: Resources } | null;
  fault?: Fault | null;
  allocation?: Resources;
  shelvedImage?: string | null;
  rescued?: boolean | null;
}

export interface Keypair {
  apiVersion: string;
  kind: 'Keypair';
  metadata: Meta;
  spec: { displayName?: string; user?: string; publicKey: string; type?: 'ssh' | 'x509' };
  status?: CommonStatus & { fingerprint?: string };
}

export interface ServerGroup {
  apiVersion: string;
  kind: 'ServerGroup';
  metadata: Meta;
  spec: { displayName?: string; policy: 'affinity' | 'anti-affinity' | 'soft-affinity' | 'soft-anti-affinity'; rules?: { maxServerPerHost?: number } };
  status?: CommonStatus & { groupId?: string; members?: string[] };
}

export interface Aggregate {
  apiVersion: string;
  kind: 'Aggregate';
  metadata: Meta;
  spec: { displayName?: string; availabilityZone?: string; hosts?: string[]; metadata?: Record<string, string> };
  status?: CommonStatus & { aggregateId?: number; unknownHosts?: string[] };
}

/** A stable small integer from a UID, where Nova shows a database ID (keypairs, services, aggregates, migrations). */
export const integerIdOf = (uid: string) => Number.parseInt(createHash('sha1').update(uid).digest('hex').slice(0, 7), 16);

export const keyOf = (o: { metadata: Meta }) => `${o.metadata.namespace}/${o.metadata.name}`;

/** What a flavor asks of a host: its root disk is the flavor's, or the image's size when the flavor says 0. */
export function flavorSnapshot(flavor: Flavor): FlavorSnapshot {
  const { vcpus, ramMiB, diskGiB = 0, ephemeralGiB = 0, swapMiB = 0, extraSpecs } = flavor.spec;
  return { name: flavor.metadata.name, vcpus, ramMiB, diskGiB, ephemeralGiB, swapMiB, ...(extraSpecs && Object.keys(extraSpecs).length ? { extraSpecs } : {}) };
}

/** One NIC an instance asks for: a Port, or a Network to make one on. */
export interface InstanceNetwork {
  port?: string;
  network?: string;
  networkNamespace?: string;
  fixedIP?: string;
}

/** One NIC as the instance has it. */
export interface InstanceAddress {
  port: string;
  network: string;
  /** The network's OpenStack name (Nova's addresses are keyed by it). */
  networkName?: string;
  networkId?: string;
  mac: string;
  ips: string[];
}
