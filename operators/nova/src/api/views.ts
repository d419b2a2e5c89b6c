/**
 * The Compute API's documents, made from resources as Nova's view builders make them, per microversion.
 * Pure: each takes the resource and what the caller may see, and nothing else.
 */
import { createHash } from 'node:crypto';
import { displayNameOf } from '@stratus/runtime';
import { DEFAULT_AVAILABILITY_ZONE } from '../kinds.js';
import { flavorSnapshot, integerIdOf, type Flavor, type FlavorSnapshot, type Hypervisor, type Instance, type Keypair, type ObservedPowerState, type ServerGroup } from '../resources.js';
import type { Microversion } from './microversion.js';

export interface ViewContext {
  /** The API's base URL as the caller reached it: http://host/compute/v2.1. */
  base: string;
  version: Microversion;
  admin: boolean;
  projectIdOf(namespace: string): string;
}

const link = (ctx: ViewContext, collection: string, id: string) => [
  { rel: 'self', href: `${ctx.base}/${collection}/${id}` },
  { rel: 'bookmark', href: `${ctx.base.replace(/\/v2(\.1)?$/, '')}/${collection}/${id}` },
];
const bookmark = (ctx: ViewContext, collection: string, id: string) => [{ rel: 'bookmark', href: `${ctx.base.replace(/\/v2(\.1)?$/, '')}/${collection}/${id}` }];
/** Nova's timestamps: microseconds, no zone letter (2026-11-28T10:05:39.123000). */
export const novaTime = (t: string | number | Date | undefined | null) => (t === undefined || t === null || t === '' ? null : new Date(t).toISOString().replace(/Z$/, '000'));
const iso = (t: Date | string | undefined) => (t ? new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z') : null);
/** Nova's launched_at: microseconds and no zone, as Python prints a naive datetime. */
const usageTime = (t: string | undefined) => (t ? new Date(t).toISOString().replace('Z', '000') : null);

/** vm_state, as Nova keeps it, for each server status. */
const VM_STATES: Record<string, string> = {
  BUILD: 'building',
  ACTIVE: 'active',
  SHUTOFF: 'stopped',
  PAUSED: 'paused',
  SUSPENDED: 'suspended',
  REBOOT: 'active',
  HARD_REBOOT: 'active',
  REBUILD: 'active',
  RESIZE: 'active',
  VERIFY_RESIZE: 'resized',
  REVERT_RESIZE: 'resized',
  RESCUE: 'rescued',
  SHELVED: 'shelved',
  SHELVED_OFFLOADED: 'shelved_offloaded',
  ERROR: 'error',
  DELETED: 'deleted',
};
export const vmStateOf = (inst: Instance) => VM_STATES[presentState(inst).status] ?? 'building';

const pending = (asked: number | undefined, done: number | undefined) => (asked ?? 0) > (done ?? 0);

/**
 * The server's status and task_state as Nova shows them: Nova's API records an action's task before it
 * answers, so a client polling right after sees the action under way. Here the API only states what is
 * wanted (spec), so what spec asks and the node agent has not done yet is shown as the task it will be.
 */
export function presentState(inst: Instance): { status: string; taskState: string | null } {
  const { spec, metadata } = inst;
  const s = inst.status ?? {};
  const status = s.phase ?? 'BUILD';
  if (metadata.deletionTimestamp) return { status, taskState: 'deleting' };
  if (s.taskState) return { status, taskState: s.taskState };
  if (status === 'BUILD') return { status, taskState: s.host ? 'spawning' : 'scheduling' };
  const hard = spec.reboot?.type === 'HARD';
  if (status === 'ERROR') return pending(spec.reboot?.count, s.rebootsDone) && hard ? { status: 'HARD_REBOOT', taskState: 'reboot_pending_hard' } : { status, taskState: null };
  if ((s.image && spec.image && (s.image.name !== spec.image.name || s.image.namespace !== (spec.image.namespace ?? metadata.namespace))) || pending(spec.rebuild?.count, s.rebuildsDone)) return { status: 'REBUILD', taskState: 'rebuilding' };
  if (s.flavor && spec.flavor !== s.flavor.name) return s.resize?.fromFlavor.name === spec.flavor ? { status: 'REVERT_RESIZE', taskState: 'resize_reverting' } : { status: 'RESIZE', taskState: 'resize_prep' };
  if (pending(spec.reboot?.count, s.rebootsDone)) return hard ? { status: 'HARD_REBOOT', taskState: 'reboot_pending_hard' } : { status: 'REBOOT', taskState: 'reboot_pending' };
  const shelved = status === 'SHELVED' || status === 'SHELVED_OFFLOADED';
  if (spec.shelved && !shelved) return { status, taskState: 'shelving' };
  if (!spec.shelved && shelved) return { status, taskState: 'unshelving' };
  if (!!spec.rescue !== (status === 'RESCUE')) return { status, taskState: spec.rescue ? 'rescuing' : 'unrescuing' };
  const want = spec.powerState ?? 'Running';
  const task: Record<string, Partial<Record<string, string>>> = {
    ACTIVE: { Stopped: 'powering-off', Paused: 'pausing', Suspended: 'suspending' },
    SHUTOFF: { Running: 'powering-on', Paused: 'powering-on' },
    PAUSED: { Running: 'unpausing', Stopped: 'powering-off', Suspended: 'suspending' },
    SUSPENDED: { Running: 'resuming', Paused: 'resuming', Stopped: 'powering-off' },
  };
  return { status, taskState: task[status]?.[want] ?? null };
}
const POWER_STATES: Record<ObservedPowerState, number> = { NoState: 0, Running: 1, Paused: 3, Shutdown: 4, Crashed: 6, Suspended: 7 };

export const serverIdOf = (inst: Instance) => inst.metadata.uid!;
export const serverNameOf = (inst: Instance) => displayNameOf(inst);
/** The user who created it through the API, when known. */
export const CREATOR_ANNOTATION = 'compute.stratus.io/user-id';
/** The reservation (one multiple-create request) a server was made in, and its index there: Nova's reservation_id and launch_index. */
export const RESERVATION_ANNOTATION = 'compute.stratus.io/reservation-id';
export const LAUNCH_INDEX_ANNOTATION = 'compute.stratus.io/launch-index';

/** Nova's hostId: a hash of the host and project, so tenants can tell co-located servers apart without learning host names. */
export const hostIdOf = (host: string | undefined, projectId: string) => (host ? createHash('sha224').update(projectId + host).digest('hex') : '');

export function serverSummary(inst: Instance, ctx: ViewContext) {
  return { id: serverIdOf(inst), name: serverNameOf(inst), links: link(ctx, 'servers', serverIdOf(inst)) };
}

export interface ServerExtras {
  /** The flavor as the server runs it (or will: from spec until the agent reports). */
  flavor?: FlavorSnapshot;
  imageId?: string;
  /** The server groups it belongs to (IDs). */
  groups: string[];
  /** Its hypervisor's availability zone and whether it is up (admin: host_status). */
  zone?: string;
  hostStatus?: 'UP' | 'DOWN' | 'MAINTENANCE' | 'UNKNOWN' | '';
  /** The OpenStack name of its keypair. */
  keyName?: string;
  /** Its volumes (Cinder IDs), as os-extended-volumes shows them. */
  volumes?: Array<{ id: string; deleteOnTermination: boolean }>;
  /** The OpenStack names of its security groups (none: the key is left out). */
  securityGroups: string[];
}

export function serverView(inst: Instance, x: ServerExtras, ctx: ViewContext) {
  const { version: v } = ctx;
  const s = inst.status ?? {};
  const id = serverIdOf(inst);
  const projectId = ctx.projectIdOf(inst.metadata.namespace!);
  const { status, taskState } = presentState(inst);
  const flavor = x.flavor;
  const doc: Record<string, unknown> = {
    id,
    name: serverNameOf(inst),
    status,
    tenant_id: projectId,
    user_id: inst.metadata.annotations?.[CREATOR_ANNOTATION] ?? '',
    metadata: inst.spec.metadata ?? {},
    hostId: hostIdOf(s.host, projectId),
    image: x.imageId ? { id: x.imageId, links: bookmark(ctx, 'images', x.imageId) } : '',
    flavor: !flavor
      ? {}
      : v.atLeast('2.47')
        ? { vcpus: flavor.vcpus, ram: flavor.ramMiB, disk: flavor.diskGiB, ephemeral: flavor.ephemeralGiB ?? 0, swap: flavor.swapMiB ?? 0, original_name: flavor.name, extra_specs: flavor.extraSpecs ?? {} }
        : { id: flavor.name, links: bookmark(ctx, 'flavors', flavor.name) },
    created: iso(inst.metadata.creationTimestamp),
    updated: iso(lastChange(inst)),
    addresses: addressesOf(inst),
    accessIPv4: inst.spec.accessIPv4 ?? '',
    accessIPv6: inst.spec.accessIPv6 ?? '',
    links: link(ctx, 'servers', id),
    'OS-DCF:diskConfig': 'MANUAL',
    'OS-EXT-AZ:availability_zone': x.zone ?? inst.spec.availabilityZone ?? (s.host ? DEFAULT_AVAILABILITY_ZONE : ''),
    config_drive: 'True',
    key_name: x.keyName ?? null,
    'OS-SRV-USG:launched_at': usageTime(s.launchedAt),
    'OS-SRV-USG:terminated_at': null,
    'OS-EXT-STS:task_state': taskState,
    'OS-EXT-STS:vm_state': vmStateOf(inst),
    'OS-EXT-STS:power_state': POWER_STATES[s.powerState ?? 'NoState'],
    'os-extended-volumes:volumes_attached': (x.volumes ?? []).map((v) => ({ id: v.id, ...(ctx.version.atLeast('2.3') ? { delete_on_termination: v.deleteOnTermination } : {}) })),
  };
  // A server in no group shows none (Nova leaves the key out), as after removing its last one.
  if (x.securityGroups.length) doc.security_groups = x.securityGroups.map((name) => ({ name }));
  // Nova's progress: 0 while it builds, rebuilds or resizes, 100 once done.
  if (['ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE'].includes(status)) doc.progress = status === 'ACTIVE' || status === 'VERIFY_RESIZE' ? 100 : 0;
  if (status === 'ERROR' && s.fault) doc.fault = { code: s.fault.code, created: iso(s.fault.created), message: s.fault.message, ...(ctx.admin && s.fault.details ? { details: s.fault.details } : {}) };
  if (ctx.admin) {
    Object.assign(doc, { 'OS-EXT-SRV-ATTR:host': s.host ?? null, 'OS-EXT-SRV-ATTR:instance_name': s.instanceName ?? '', 'OS-EXT-SRV-ATTR:hypervisor_hostname': s.host ?? null });
    if (v.atLeast('2.3'))
      Object.assign(doc, {
        'OS-EXT-SRV-ATTR:reservation_id': inst.metadata.annotations?.[RESERVATION_ANNOTATION] ?? `r-${id.slice(0, 8)}`,
        'OS-EXT-SRV-ATTR:launch_index': Number(inst.metadata.annotations?.[LAUNCH_INDEX_ANNOTATION] ?? 0),
        'OS-EXT-SRV-ATTR:hostname': inst.spec.hostname ?? inst.metadata.name,
        'OS-EXT-SRV-ATTR:kernel_id': '',
        'OS-EXT-SRV-ATTR:ramdisk_id': '',
        'OS-EXT-SRV-ATTR:root_device_name': '/dev/vda',
        'OS-EXT-SRV-ATTR:user_data': inst.spec.userData ?? null,
      });
    if (v.atLeast('2.16')) doc.host_status = x.hostStatus ?? '';
  }
  if (v.atLeast('2.9')) doc.locked = !!inst.spec.lock;
  if (v.atLeast('2.19')) doc.description = inst.spec.description ?? null;
  if (v.atLeast('2.26')) doc.tags = inst.spec.tags ?? [];
  if (v.atLeast('2.63')) doc.trusted_image_certificates = null;
  if (v.atLeast('2.71')) doc.server_groups = x.groups;
  if (v.atLeast('2.73')) doc.locked_reason = inst.spec.lock?.reason ?? null;
  return doc;
}

/** What update and rebuild answer: the server without the extended attributes a show adds (Nova's schema). */
const UPDATE_KEYS = ['id', 'name', 'status', 'image', 'flavor', 'fault', 'user_id', 'tenant_id', 'created', 'updated', 'progress', 'metadata', 'links', 'addresses', 'hostId', 'OS-DCF:diskConfig', 'accessIPv4', 'accessIPv6', 'locked', 'locked_reason', 'description', 'tags', 'trusted_image_certificates', 'server_groups'];
export function serverUpdateView(inst: Instance, x: ServerExtras, ctx: ViewContext) {
  // Nova builds these answers with extend_address=False: each address only its version and addr.
  const doc: Record<string, unknown> = { ...serverView(inst, x, ctx), addresses: addressesOf(inst, false) };
  return Object.fromEntries(UPDATE_KEYS.filter((k) => k in doc).map((k) => [k, doc[k]]));
}

/** When the object last changed, as managedFields record it. */
function lastChange(inst: Instance): string | Date | undefined {
  const times = ((inst.metadata as { managedFields?: Array<{ time?: string | Date }> }).managedFields ?? []).map((m) => m.time).filter(Boolean) as Array<string | Date>;
  return times.length ? times.map((t) => new Date(t)).sort((a, b) => b.getTime() - a.getTime())[0] : inst.metadata.creationTimestamp;
}

export const flavorIdOf = (f: Flavor) => f.metadata.name;

export function flavorSummary(f: Flavor, ctx: ViewContext) {
  return { id: flavorIdOf(f), name: displayNameOf(f), links: link(ctx, 'flavors', flavorIdOf(f)), ...(ctx.version.atLeast('2.55') ? { description: f.spec.description ?? null } : {}) };
}

export function flavorView(f: Flavor, ctx: ViewContext) {
  const snap = flavorSnapshot(f);
  return {
    ...flavorSummary(f, ctx),
    ram: snap.ramMiB,
    disk: snap.diskGiB,
    vcpus: snap.vcpus,
    'OS-FLV-EXT-DATA:ephemeral': snap.ephemeralGiB,
    'OS-FLV-DISABLED:disabled': false,
    // Before 2.75 Nova shows no swap as an empty string.
    swap: snap.swapMiB || '',
    rxtx_factor: 1.0,
    'os-flavor-access:is_public': f.spec.isPublic ?? true,
    ...(ctx.version.atLeast('2.61') ? { extra_specs: f.spec.extraSpecs ?? {} } : {}),
  };
}

export function keypairView(k: Keypair, ctx: ViewContext, detail: boolean, userId: string) {
  return {
    name: displayNameOf(k),
    public_key: k.spec.publicKey,
    fingerprint: k.status?.fingerprint ?? '',
    ...(ctx.version.atLeast('2.2') ? { type: k.spec.type ?? 'ssh' } : {}),
    ...(detail ? { user_id: k.spec.user ?? userId, created_at: iso(k.metadata.creationTimestamp), deleted: false, deleted_at: null, updated_at: null, id: integerIdOf(k.metadata.uid ?? k.metadata.name) } : {}),
  };
}


export const groupNameOf = (g: ServerGroup) => displayNameOf(g);

export function serverGroupView(g: ServerGroup, memberIds: string[], ctx: ViewContext, userId: string) {
  const v = ctx.version;
  const policy = v.atLeast('2.64')
    ? { policy: g.spec.policy, rules: g.spec.rules?.maxServerPerHost ? { max_server_per_host: g.spec.rules.maxServerPerHost } : {} }
    : { policies: [g.spec.policy], metadata: {} };
  return {
    id: g.metadata.uid!,
    name: groupNameOf(g),
    ...policy,
    members: memberIds,
    ...(v.atLeast('2.13') ? { project_id: ctx.projectIdOf(g.metadata.namespace!), user_id: userId } : {}),
  };
}

/** QEMU 7.2.22 → 7002022, as Nova shows hypervisor_version. */
export const versionNumber = (text: string | undefined) => {
  const [a = 0, b = 0, c = 0] = (text ?? '').split('.').map((n) => Number(n) || 0);
  return a * 1_000_000 + b * 1000 + c;
};

export function hypervisorSummary(hv: Hypervisor, up: boolean) {
  return { id: hv.metadata.uid!, hypervisor_hostname: hv.spec.hostname ?? hv.metadata.name, state: up ? 'up' : 'down', status: hv.spec.disabled ? 'disabled' : 'enabled' };
}

export function hypervisorView(hv: Hypervisor, up: boolean, ctx: ViewContext) {
  const cap = { vcpus: 0, ramMiB: 0, diskGiB: 0, ...hv.spec.capacity };
  const used = hv.status?.allocated ?? { vcpus: 0, ramMiB: 0, diskGiB: 0 };
  const cpuInfo = { arch: hv.spec.properties?.architecture ?? 'x86_64', model: hv.status?.hypervisorType === 'KVM' ? 'host-model' : 'qemu64', vendor: 'Stratus', topology: { cells: 1, sockets: 1, cores: cap.vcpus, threads: 1 }, features: [] };
  return {
    ...hypervisorSummary(hv, up),
    host_ip: '127.0.0.1',
    hypervisor_type: hv.status?.hypervisorType ?? 'QEMU',
    hypervisor_version: versionNumber(hv.status?.hypervisorVersion),
    vcpus: cap.vcpus,
    memory_mb: cap.ramMiB,
    local_gb: cap.diskGiB,
    vcpus_used: used.vcpus,
    memory_mb_used: used.ramMiB,
    local_gb_used: used.diskGiB,
    free_ram_mb: cap.ramMiB - used.ramMiB,
    free_disk_gb: cap.diskGiB - used.diskGiB,
    current_workload: 0,
    running_vms: hv.status?.runningVMs ?? 0,
    disk_available_least: cap.diskGiB - used.diskGiB,
    cpu_info: ctx.version.atLeast('2.28') ? cpuInfo : JSON.stringify(cpuInfo),
    service: { host: hv.metadata.name, id: hv.metadata.uid!, disabled_reason: hv.spec.disabledReason ?? null },
  };
}

/** The server's addresses as Nova shows them: by network name, each with its version (and, extended, its MAC and type). */
export function addressesOf(inst: Instance, extended = true): Record<string, Array<Record<string, unknown>>> {
  const out: Record<string, Array<Record<string, unknown>>> = {};
  for (const nic of inst.status?.addresses ?? [])
    for (const addr of nic.ips) (out[nic.networkName ?? nic.network] ??= []).push({ version: addr.includes(':') ? 6 : 4, addr, ...(extended ? { 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': nic.mac } : {}) });
  return out;
}
