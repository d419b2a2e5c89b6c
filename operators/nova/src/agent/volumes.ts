/**
 * Block storage volumes on this node (os-brick's and Nova's volume driver part): an instance's
 * VolumeAttachments that Cinder has reserved become disks of its guest (hot-plugged while it runs), with the
 * node's finalizer held while plugged; an attachment being deleted is unplugged and let go. Deciding which
 * device a volume gets is pure; the rest is I/O.
 */
import { truncate } from 'node:fs/promises';
import { PLUGGED_FINALIZER, VOLUMES, VOLUME_ATTACHMENTS, idOf as volumeIdOf, type Connection, type Volume, type VolumeAttachment } from '@stratus/cinder';
import { addFinalizerPatch, ignoreNotFound, isDeleting, now, patchStatusChanges, removeFinalizerPatch, type KubeClient } from '@stratus/runtime';
import type { GuestDisk } from '../driver/types.js';
import type { Instance } from '../resources.js';

const GiB = 1024 ** 3;

/** The instance's attachments (its namespace's VolumeAttachments naming it). */
export async function attachmentsOfInstance(client: KubeClient, inst: Instance): Promise<VolumeAttachment[]> {
  return (await client.list<VolumeAttachment>(VOLUME_ATTACHMENTS, inst.metadata.namespace)).items.filter((a) => a.spec.instance === inst.metadata.name);
}

/** The boot volume's attachment (boot index 0), if the instance boots from a volume. */
export const bootAttachment = (atts: VolumeAttachment[]) => atts.find((a) => a.spec.bootIndex === 0 && !isDeleting(a));

/** An attachment Cinder has handed a connection to, ready for the node to plug. */
export const plugReady = (a: VolumeAttachment) => !isDeleting(a) && a.status?.phase !== 'error' && !!(a.status?.connection?.path || a.status?.connection?.name);

/**
 * The device a new disk gets: the one asked for when it is free, else the next free name on the bus
 * (vdb, vdc, …). Pure.
 */
export function nextTarget(disks: ReadonlyArray<{ target: string }>, wanted?: string, prefix = 'vd'): string {
  const used = new Set(disks.map((d) => d.target));
  const asked = wanted?.replace(/^\/dev\//, '');
  if (asked && asked.startsWith(prefix) && !used.has(asked)) return asked;
  for (let i = 0; i < 26; i++) {
    const t = `${prefix}${String.fromCharCode(97 + i)}`;
    if (!used.has(t)) return t;
  }
  throw new Error('no free device name is left on the bus');
}

/** Where a connection's disk is: its file, or its RBD image over the network (os-brick's connectors). Pure. */
export function diskSourceOf(c: Connection, volume: string): Pick<GuestDisk, 'path' | 'network'> {
  if (c.driverVolumeType === 'file' && c.path) return { path: c.path };
  if (c.driverVolumeType === 'rbd' && c.name && c.hosts?.length) {
    const auth = c.authUsername && c.secretUuid ? { auth: { username: c.authUsername, secretUuid: c.secretUuid } } : {};
    return { path: `rbd:${c.name}`, network: { protocol: 'rbd', name: c.name, hosts: c.hosts.map((h, i) => ({ name: h, port: c.ports?.[i] ?? '6789' })), ...auth } };
  }
  throw new Error(`volume ${volume}: connection type ${c.driverVolumeType} is not one this node attaches`);
}

/** The QoS keys Nova's libvirt volume driver applies to a disk (libvirt's <iotune>), bursts included. */
const IOTUNE_KEYS = ['total', 'read', 'write'].flatMap((dir) => ['bytes_sec', 'iops_sec'].flatMap((what) => [`${dir}_${what}`, `${dir}_${what}_max`, `${dir}_${what}_max_length`])).concat('size_iops_sec');

/**
 * The limits a connection's front-end QoS specs put on the disk: the keys libvirt knows, with whole numbers;
 * others are left out, as Nova leaves them (a back-end key is the backend's). Pure.
 */
export function iotuneOf(specs: Record<string, string> | undefined): Record<string, number> | undefined {
  const tune = Object.fromEntries(Object.entries(specs ?? {}).filter(([k, v]) => IOTUNE_KEYS.includes(k) && /^\d+$/.test(v.trim())).map(([k, v]) => [k, Number(v)]));
  return Object.keys(tune).length ? tune : undefined;
}

/** The disk a volume's connection makes, at `target`. */
export function volumeDisk(a: VolumeAttachment, target: string, bootOrder?: number): GuestDisk {
  const c = a.status!.connection!;
  return {
    ...diskSourceOf(c, a.spec.volume),
    format: c.format === 'qcow2' ? 'qcow2' : 'raw',
    device: 'disk',
    bus: 'virtio',
    target,
    serial: (a.status?.volumeId ?? '').slice(0, 20),
    attachment: a.metadata.name,
    ...(bootOrder ? { bootOrder } : {}),
    ...(iotuneOf(c.qosSpecs) ? { iotune: iotuneOf(c.qosSpecs) } : {}),
  };
}

/** The node's hold on an attachment while its disk is plugged. */
export async function holdAttachment(client: KubeClient, a: VolumeAttachment, manager: string): Promise<void> {
  const patch = addFinalizerPatch(a, PLUGGED_FINALIZER);
  if (patch) await client.patch(VOLUME_ATTACHMENTS, a.metadata.namespace, a.metadata.name, patch, manager);
}

/**
 * Lets go of the node's hold once its disk is unplugged. An attachment gone already is let go; any other failure
 * (a conflict with a newer copy, the API unreachable) goes to the caller, whose reconcile is tried again, so the
 * hold is never left behind unsaid.
 */
export async function releaseAttachment(client: KubeClient, a: VolumeAttachment, manager: string): Promise<void> {
  const patch = removeFinalizerPatch(a, PLUGGED_FINALIZER);
  if (patch) await client.patch(VOLUME_ATTACHMENTS, a.metadata.namespace, a.metadata.name, patch, manager).catch(ignoreNotFound);
}

/** An attachment whose disk left with its guest (a shelve's offload): the node's hold let go, and no host named. */
export async function unplugAttachment(client: KubeClient, a: VolumeAttachment, manager: string): Promise<void> {
  await releaseAttachment(client, a, manager);
  if (a.status?.host) await patchStatusChanges(client, VOLUME_ATTACHMENTS, a, { host: null }, manager, { precondition: false, observedGeneration: false });
}

/** Says the attachment is plugged in on this host, as `device`, at the volume's size. */
export async function markAttached(client: KubeClient, a: VolumeAttachment, inst: Instance, host: string, target: string, manager: string): Promise<void> {
  const vol = await client.get<Volume>(VOLUMES, a.metadata.namespace, a.spec.volume);
  await patchStatusChanges(
    client,
    VOLUME_ATTACHMENTS,
    a,
    { phase: 'attached', serverId: inst.metadata.uid!, host, device: `/dev/${target}`, attachedAt: a.status?.attachedAt ?? now(), sizeGiB: vol?.status?.sizeGiB ?? vol?.spec.sizeGiB },
    manager,
    { precondition: false, observedGeneration: false },
  );
}

/**
 * Grows what the guest sees of an attached volume whose size was raised (Cinder's extend, online): the
 * running guest's hypervisor grows it; a stopped guest's file is grown here. Returns the new size, if any.
 */
export async function growIfRaised(client: KubeClient, a: VolumeAttachment, disk: GuestDisk, running: boolean, resize: (target: string, bytes: number) => Promise<void>, manager: string): Promise<number | undefined> {
  const vol = await client.get<Volume>(VOLUMES, a.metadata.namespace, a.spec.volume);
  const want = vol?.spec.sizeGiB ?? 0;
  if (!vol || want <= (a.status?.sizeGiB ?? want)) return undefined;
  // A stopped guest's file is grown here; an RBD image was grown by Cinder already.
  if (running) await resize(disk.target, want * GiB);
  else if (!disk.network) await truncate(disk.path, want * GiB);
  await patchStatusChanges(client, VOLUME_ATTACHMENTS, a, { sizeGiB: want }, manager, { precondition: false, observedGeneration: false });
  return want;
}

export { volumeIdOf };
