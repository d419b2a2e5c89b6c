/**
 * Block device mappings (Nova's block_device_mapping_v2, and the legacy block_device_mapping): what a server
 * create asks of block storage. Parsing and checking are pure; `prepareVolumes` makes the volumes asked for
 * (from an image, a snapshot, or blank), and `attachVolumes` records each as a VolumeAttachment of the new
 * instance, which block storage reserves and the node plugs in (the boot volume as the root disk).
 */
import { VOLUMES, VOLUME_ATTACHMENTS, VOLUME_SNAPSHOTS, isBootable, type Volume, type VolumeAttachment, type VolumeSnapshot } from '@stratus/cinder';
import { objectNameFor } from '@stratus/runtime';
import type { Instance } from '../resources.js';
import { API_FIELD_MANAGER, type ComputeApiContext } from './context.js';
import { badRequest } from './errors.js';

export interface BlockDeviceRequest {
  source: 'image' | 'volume' | 'snapshot' | 'blank';
  destination: 'volume' | 'local';
  uuid?: string;
  sizeGiB?: number;
  bootIndex?: number;
  deleteOnTermination: boolean;
  device?: string;
  tag?: string;
}

const SOURCES = ['image', 'volume', 'snapshot', 'blank'];
const GiB = 1024 ** 3;

function intOf(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${String(v)}. ${String(v)} is not of type 'integer'`);
  return n;
}

const truthy = (v: unknown) => v === true || (typeof v === 'string' && ['true', '1', 'yes', 'on'].includes(v.toLowerCase()));

/** The mappings a server create asks for (both forms), checked as Nova checks them. Pure. */
export function parseBlockDevices(s: Record<string, unknown>): BlockDeviceRequest[] {
  const out: BlockDeviceRequest[] = [];
  const legacy = s.block_device_mapping;
  if (legacy !== undefined) {
    if (!Array.isArray(legacy)) throw badRequest("Invalid input for field/attribute block_device_mapping. 'block_device_mapping' must be a list");
    for (const m of legacy as Array<Record<string, unknown>>) {
      const id = m.volume_id ?? m.snapshot_id;
      if (typeof id !== 'string') throw badRequest('Block Device Mapping is Invalid: a volume_id or snapshot_id is needed.');
      out.push({ source: m.snapshot_id ? 'snapshot' : 'volume', destination: 'volume', uuid: id, deleteOnTermination: truthy(m.delete_on_termination), device: typeof m.device_name === 'string' ? m.device_name : undefined, bootIndex: /^(\/dev\/)?[vsh]da$/.test(String(m.device_name ?? '')) ? 0 : undefined });
    }
  }
  const v2 = s.block_device_mapping_v2;
  if (v2 !== undefined) {
    if (!Array.isArray(v2)) throw badRequest("Invalid input for field/attribute block_device_mapping_v2. 'block_device_mapping_v2' must be a list");
    for (const m of v2 as Array<Record<string, unknown>>) {
      if (!m || typeof m !== 'object') throw badRequest('Block Device Mapping is Invalid: each mapping must be an object.');
      const source = String(m.source_type ?? (m.uuid ? 'volume' : 'blank'));
      if (!SOURCES.includes(source)) throw badRequest(`Invalid input for field/attribute source_type. Value: ${source}. '${source}' is not one of ${JSON.stringify(SOURCES)}`);
      const destination = String(m.destination_type ?? (source === 'image' || source === 'blank' ? 'local' : 'volume'));
      if (destination !== 'volume' && destination !== 'local') throw badRequest(`Invalid input for field/attribute destination_type. Value: ${destination}. '${destination}' is not one of ['local', 'volume']`);
      const uuid = typeof m.uuid === 'string' && m.uuid ? m.uuid : undefined;
      if (source !== 'blank' && !uuid) throw badRequest(`Block Device Mapping is Invalid: missing uuid for source_type ${source}.`);
      const bootIndex = intOf(m.boot_index, 'boot_index');
      const sizeGiB = intOf(m.volume_size, 'volume_size');
      if (sizeGiB !== undefined && sizeGiB < 1) throw badRequest(`Invalid input for field/attribute volume_size. Value: ${sizeGiB}. ${sizeGiB} is less than the minimum of 1`);
      if (source === 'blank' && destination === 'volume' && sizeGiB === undefined) throw badRequest('Block Device Mapping is Invalid: You specified more local devices than the limit allows: a blank volume needs a volume_size.');
      if (destination === 'local' && !(source === 'image' && bootIndex === 0)) throw badRequest('Block Device Mapping is Invalid: this cloud takes local disks from the flavor only (ephemeral, swap).');
      out.push({ source: source as BlockDeviceRequest['source'], destination, uuid, sizeGiB, bootIndex: bootIndex !== undefined && bootIndex >= 0 ? bootIndex : undefined, deleteOnTermination: truthy(m.delete_on_termination), device: typeof m.device_name === 'string' ? m.device_name : undefined, tag: typeof m.tag === 'string' ? m.tag : undefined });
    }
  }
  // openstack server create --image X --block-device source_type=image,uuid=X,destination_type=volume,boot_index=0
  // (the CLI's only way to ask for a volume made from an image) also sends X as a local boot disk: the volume wins.
  const boots = out.filter((d) => d.bootIndex === 0);
  const local = boots.find((d) => d.destination === 'local');
  const fromSameImage = boots.length === 2 && local && boots.some((d) => d !== local && d.destination === 'volume' && d.source === 'image' && d.uuid === local.uuid);
  if (boots.length > 1 && !fromSameImage) throw badRequest('Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.');
  return fromSameImage ? out.filter((d) => d !== local) : out;
}

/** The image a local boot mapping names (source image, destination local, boot index 0): an image boot. */
export const localBootImage = (devices: BlockDeviceRequest[]) => devices.find((d) => d.destination === 'local' && d.bootIndex === 0)?.uuid;
/** Whether the server boots from a volume. */
export const bootsFromVolume = (devices: BlockDeviceRequest[]) => devices.some((d) => d.destination === 'volume' && d.bootIndex === 0);

export interface PreparedVolume {
  request: BlockDeviceRequest;
  /** The Volume's object name. */
  volume: string;
  /** Made for this server (deleted again if the create fails). */
  made: boolean;
}

/**
 * The volumes each mapping stands for: an existing available one of the tenant's, or a new one made from an
 * image, a snapshot, or blank. Everything is checked before anything is made; what was made is undone on failure.
 */
export async function prepareVolumes(api: ComputeApiContext, ns: string, devices: BlockDeviceRequest[], imageSizeGiB: (id: string) => number | undefined): Promise<PreparedVolume[]> {
  const { dir } = api;
  const plans: Array<{ request: BlockDeviceRequest; existing?: Volume; body?: Volume }> = [];
  for (const d of devices.filter((x) => x.destination === 'volume')) {
    if (d.source === 'volume') {
      const v = dir.volumes.byId(d.uuid!);
      if (!v || v.metadata.namespace !== ns || v.metadata.deletionTimestamp) throw badRequest(`Block Device Mapping is Invalid: failed to get volume ${d.uuid}.`);
      // Nova asks Cinder's bootable flag of the volume it boots from (InvalidBDMVolumeNotBootable).
      if (d.bootIndex === 0 && !isBootable(v)) throw badRequest(`Block Device ${d.uuid} is not bootable.`);
      if (v.status?.phase !== 'available') throw badRequest(`Invalid volume: volume '${d.uuid}' status must be 'available'. Currently in '${v.status?.phase ?? 'creating'}'`);
      if (dir.volumeAttachments.list(ns).some((a) => a.spec.volume === v.metadata.name && a.status?.phase !== 'error')) throw badRequest(`Invalid volume: volume ${d.uuid} is already attached`);
      plans.push({ request: d, existing: v });
      continue;
    }
    let source: Volume['spec']['source'] | undefined;
    let minGiB = 1;
    if (d.source === 'image') {
      const img = dir.images.byId(d.uuid!);
      const size = img ? imageSizeGiB(d.uuid!) : undefined;
      if (!img || size === undefined) throw badRequest(`Block Device Mapping is Invalid: failed to get image ${d.uuid}.`);
      minGiB = Math.max(1, size);
      source = { image: { name: img.metadata.name, ...(img.metadata.namespace !== ns ? { namespace: img.metadata.namespace } : {}) } };
    } else if (d.source === 'snapshot') {
      const snap = (await api.client.list<VolumeSnapshot>(VOLUME_SNAPSHOTS, ns)).items.find((x) => x.metadata.uid === d.uuid);
      if (!snap) throw badRequest(`Block Device Mapping is Invalid: failed to get snapshot ${d.uuid}.`);
      minGiB = snap.status?.sizeGiB ?? 1;
      source = { snapshot: snap.metadata.name };
    }
    const sizeGiB = d.sizeGiB ?? minGiB;
    if (sizeGiB < minGiB) throw badRequest(`Block Device Mapping is Invalid: volume_size ${sizeGiB} is smaller than its source (${minGiB} GiB).`);
    const taken = new Set(plans.map((x) => x.body?.metadata.name));
    const name = objectNameFor('volume', (n) => taken.has(n) || !!dir.volumes.get(n, ns), 'volume');
    plans.push({ request: d, body: { apiVersion: 'blockstorage.stratus.io/v1alpha1', kind: 'Volume', metadata: { name, namespace: ns }, spec: { displayName: '', sizeGiB, ...(source ? { source } : {}) } } });
  }
  const made: PreparedVolume[] = [];
  try {
    for (const p of plans) {
      if (p.existing) {
        made.push({ request: p.request, volume: p.existing.metadata.name, made: false });
        continue;
      }
      const v = await api.client.create<Volume>(VOLUMES, p.body!, API_FIELD_MANAGER);
      made.push({ request: p.request, volume: v.metadata.name, made: true });
    }
  } catch (e) {
    await undoVolumes(api, ns, made);
    throw e;
  }
  return made;
}

/** Deletes the volumes a failed create made. */
export async function undoVolumes(api: ComputeApiContext, ns: string, prepared: PreparedVolume[]): Promise<void> {
  for (const p of prepared.filter((x) => x.made)) await api.client.delete(VOLUMES, ns, p.volume).catch(() => {});
}

/** The VolumeAttachments of the new instance, owned by it (they go when it goes). */
export async function attachVolumes(api: ComputeApiContext, inst: Instance, prepared: PreparedVolume[]): Promise<void> {
  const owner = { apiVersion: 'compute.stratus.io/v1alpha1', kind: 'Instance', name: inst.metadata.name, uid: inst.metadata.uid!, blockOwnerDeletion: false };
  for (const p of prepared) {
    const body: VolumeAttachment = {
      apiVersion: 'blockstorage.stratus.io/v1alpha1',
      kind: 'VolumeAttachment',
      metadata: { name: `${inst.metadata.name}-${p.volume}`.slice(0, 253), namespace: inst.metadata.namespace, ownerReferences: [owner] },
      spec: {
        volume: p.volume,
        instance: inst.metadata.name,
        ...(p.request.bootIndex !== undefined ? { bootIndex: p.request.bootIndex } : {}),
        deleteOnTermination: p.request.deleteOnTermination,
        ...(p.request.device && /^\/dev\/[a-z]+$/.test(p.request.device) ? { device: p.request.device } : {}),
        ...(p.request.tag ? { tag: p.request.tag } : {}),
      },
    };
    await api.client.create(VOLUME_ATTACHMENTS, body, API_FIELD_MANAGER);
  }
}

export const imageGiB = (bytes: number | undefined) => Math.max(1, Math.ceil((bytes ?? 0) / GiB));
