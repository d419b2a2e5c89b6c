/** /v3/volumes: create, list, show, update, delete, metadata and the volume actions, as Cinder answers them. */
import { IMAGES, canSee, type Image } from '@stratus/glance';
import type { KubernetesObject } from '@kubernetes/client-node';
import { displayNameOf, isDeleting, type ApiRequest, type ResourceRef } from '@stratus/runtime';
import { DEFAULT_VOLUME_TYPE, USER_ID_ANNOTATION, VOLUMES, VOLUME_ATTACHMENTS, VOLUME_SNAPSHOTS, idOf, volumeImageMetadata, volumeTypeOf, type Volume, type VolumeAttachment, type VolumeGroup, type VolumeSource } from '../resources.js';
import { encryptedTypeRefusal } from '../encryption.js';
import { API_FIELD_MANAGER, bool, callerNamespace, fromKubernetes, metadataOf, newObjectName, on, owns, resourceBody, sizeOf, str, visible, withinQuota, createCounted, refuseIfFrozen, requestStatus, resetStatus, type VolApi, type VolAuth, type VolRouter } from './context.js';
import { badRequest, forbidden, notFound } from './errors.js';
import { listAnswer } from './listing.js';
import { metadataRoutes } from './metadataRoutes.js';
import { minorOf } from './microversion.js';
import { retypeMigration } from '../scheduler.js';
import { poolStateOf } from '../volumes.js';
import { isReserved } from '../statusReset.js';
import { mayUse } from './typeRoutes.js';
import { groupStatus, summaryView, volumeStatus, volumeView } from './views.js';

const GiB = 1024 ** 3;
/** Cinder's words for a volume that may not be deleted as it is. */
const NOT_DELETABLE =
  'Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.';

type Req = ApiRequest<VolAuth> & { auth: VolAuth };

/** The caller's volume with this ID, or 404 as Cinder says it. */
export function volumeOf(api: VolApi, auth: VolAuth, id: string): Volume {
  const v = api.dir.volumes.byId(id);
  if (!v || !owns(auth, v)) throw notFound(`Volume ${id} could not be found.`);
  return v;
}

async function patchSpec(api: VolApi, v: Volume, spec: Record<string, unknown>): Promise<Volume> {
  try {
    return await api.client.patch<Volume>(VOLUMES, v.metadata.namespace, v.metadata.name, { spec }, API_FIELD_MANAGER);
  } catch (e) {
    fromKubernetes(e, `Volume ${idOf(v)}`);
  }
}

/** The new volume's source from the request, checked as Cinder checks it; and its size (a source's when none is given). */
function sourceOf(api: VolApi, auth: VolAuth, ns: string, r: Record<string, unknown>): { source?: VolumeSource; minGiB: number; image?: Image } {
  const snapshotId = str(r.snapshot_id, 'snapshot_id');
  const volumeId = str(r.source_volid, 'source_volid');
  const backupId = str(r.backup_id, 'backup_id');
  const imageRef = str(r.imageRef ?? r.image_id, 'imageRef');
  if ([snapshotId, volumeId, backupId, imageRef].filter(Boolean).length > 1) throw badRequest('Invalid input received: only one of snapshot_id, source_volid, backup_id and imageRef may be given.');
  if (snapshotId) {
    const s = api.dir.snapshots.byId(snapshotId);
    if (!s || !owns(auth, s) || s.metadata.namespace !== ns) throw notFound(`Snapshot ${snapshotId} could not be found.`);
    if (s.status?.phase !== 'available') throw badRequest(`Invalid snapshot: Originating snapshot status must be one of 'available' values`);
    return { source: { snapshot: s.metadata.name }, minGiB: s.status.sizeGiB ?? 1 };
  }
  if (volumeId) {
    const v = api.dir.volumes.byId(volumeId);
    if (!v || !owns(auth, v) || v.metadata.namespace !== ns || isDeleting(v)) throw notFound(`Volume ${volumeId} could not be found.`);
    if (!['available', 'in-use'].includes(volumeStatus(v))) throw badRequest(`Invalid volume: Source volume status must be available or in-use, but is ${volumeStatus(v)}.`);
    return { source: { volume: v.metadata.name }, minGiB: v.status?.sizeGiB ?? v.spec.sizeGiB };
  }
  if (backupId) {
    const b = api.dir.backups.byId(backupId);
    if (!b || !owns(auth, b) || b.metadata.namespace !== ns) throw notFound(`Backup ${backupId} could not be found.`);
    if (b.status?.phase !== 'available') throw badRequest('Invalid backup: Backup status must be available');
    return { source: { backup: b.metadata.name }, minGiB: b.status.sizeGiB ?? 1 };
  }
  if (imageRef) {
    const img = api.dir.images.byId(imageRef);
    if (!img || !canSee(img, { tenant: ns, projectId: api.dir.projectIdOf(ns), admin: auth.admin })) throw notFound(`Image ${imageRef} could not be found.`);
    if (img.status?.phase !== 'active') throw badRequest(`Invalid image identifier or unable to access requested image. Image ${imageRef} is not active.`);
    const minGiB = Math.max(img.spec.minDisk ?? 0, Math.ceil((img.status.virtualSize ?? img.status.size ?? 0) / GiB), 1);
    return { source: { image: { name: img.metadata.name, ...(img.metadata.namespace !== ns ? { namespace: img.metadata.namespace } : {}) } }, minGiB, image: img };
  }
  return { minGiB: 0 };
}

/** The group a new volume joins (group_id, 3.13 and later): the caller's, available, and taking volumes of its type. */
function groupFor(api: VolApi, auth: VolAuth, ns: string, ref: unknown, typeName: string): VolumeGroup | undefined {
  const id = str(ref, 'group_id');
  if (!id) return undefined;
  const g = api.dir.groups.byId(id);
  if (!g || g.metadata.namespace !== ns) throw notFound(`Group ${id} could not be found.`);
  const status = groupStatus(g);
  if (status !== 'available') throw badRequest(`Invalid group: Group status must be available, but current status is: ${status}.`);
  if (!g.spec.volumeTypes.includes(typeName)) throw badRequest(`Invalid input received: Invalid volume_type provided: ${typeName}. The group ${id} does not take volumes of this type.`);
  return g;
}

export async function createVolume(api: VolApi, auth: VolAuth, r: Record<string, unknown>): Promise<Volume> {
  const ns = callerNamespace(auth);
  const { source, minGiB, image } = sourceOf(api, auth, ns, r);
  if ((r.size === undefined || r.size === null) && !source) throw badRequest('Invalid input received: size is required for a volume made from nothing.');
  const size = r.size === undefined || r.size === null ? minGiB : sizeOf(r.size);
  if (size < minGiB) {
    if (image) throw badRequest(`Invalid input received: Image virtual size is ${minGiB}GB and doesn't fit in a volume of size ${size}GB.`);
    throw badRequest(`Invalid input received: Volume size '${size}'GB cannot be smaller than the source size ${minGiB}GB. They must be >= original size.`);
  }
  const typeRef = str(r.volume_type, 'volume_type');
  const type = typeRef ? api.dir.type(typeRef) : undefined;
  if (typeRef && !type) throw notFound(`Volume type with name ${typeRef} could not be found.`);
  if (type && !mayUse(type, auth)) throw notFound(`Volume type with name ${typeRef} could not be found.`);
  const encrypted = type && encryptedTypeRefusal(type);
  if (encrypted) throw badRequest(`Invalid volume type: ${encrypted}`);
  const group = groupFor(api, auth, ns, r.group_id, type?.metadata.name ?? DEFAULT_VOLUME_TYPE);
  const az = str(r.availability_zone, 'availability_zone');
  if (az && az !== 'nova') throw badRequest(`Invalid input received: Availability zone '${az}' is invalid.`);
  const display = str(r.name ?? r.display_name, 'name');
  const description = str(r.description ?? r.display_description, 'description');
  const metadata = metadataOf(r.metadata);
  const body: Volume = {
    apiVersion: 'blockstorage.stratus.io/v1alpha1',
    kind: 'Volume',
    metadata: { name: newObjectName(api.dir.volumes, ns, display, 'volume'), namespace: ns, annotations: { [USER_ID_ANNOTATION]: auth.userId } },
    spec: {
      ...(display !== undefined ? { displayName: display } : {}),
      ...(description !== undefined ? { description } : {}),
      sizeGiB: size,
      ...(type ? { volumeType: type.metadata.name } : {}),
      ...(source ? { source } : {}),
      ...(group ? { group: group.metadata.name } : {}),
      ...(metadata ? { metadata } : {}),
    },
  };
  const counted = type ?? api.dir.type(DEFAULT_VOLUME_TYPE); // what the volume's type quota counts it toward
  return createCounted(api, ns, { volumes: 1, gigabytes: size, volumeGiB: size, volumeType: counted?.metadata.name ?? DEFAULT_VOLUME_TYPE, ...(counted ? { volumeTypeName: displayNameOf(counted) } : {}) }, VOLUMES, api.dir.volumes, body, 'Volume');
}

export function volumeRoutes(router: VolRouter, api: VolApi): void {
  const baseOf = (req: Req) => `${req.base}/v3${req.params.project_id ? `/${req.params.project_id}` : ''}`;

  on(router, 'POST', '/volumes', async (req) => {
    const v = await createVolume(api, req.auth, resourceBody(req.body, 'volume'));
    return { status: 202, body: { volume: volumeView(api.dir, v, baseOf(req), req.auth.admin, minorOf(req), 'create') } };
  });
  const list = (detail: boolean) => (req: Req) => {
    const views = visible(api, req.auth, api.dir.volumes, req.query).map((v) => volumeView(api.dir, v, baseOf(req), req.auth.admin, minorOf(req)));
    return listAnswer(req, views, 'volumes', baseOf(req), detail ? undefined : (v) => summaryView({ metadata: { uid: String(v.id), name: String(v.name) } }, baseOf(req), 'volumes'), detail ? 'volumes/detail' : 'volumes');
  };
  // No ID (`/volumes/`, or a write to the collection): no such volume, as Cinder answers.
  const noId = () => {
    throw notFound('Volume could not be found.');
  };
  for (const method of ['PUT', 'DELETE']) on(router, method, '/volumes', noId);
  on(router, 'GET', '/volumes', (req) => (req.incoming.url?.split('?')[0].endsWith('/') ? noId() : list(false)(req)));
  on(router, 'GET', '/volumes/detail', list(true));
  on(router, 'GET', '/volumes/summary', (req) => {
    const vols = visible(api, req.auth, api.dir.volumes, req.query);
    return { status: 200, body: { 'volume-summary': { total_size: vols.reduce((n, v) => n + (v.status?.sizeGiB ?? v.spec.sizeGiB), 0), total_count: vols.length, metadata: {} } } };
  });
  on(router, 'GET', '/volumes/:id', (req) => ({ status: 200, body: { volume: volumeView(api.dir, volumeOf(api, req.auth, req.params.id), baseOf(req), req.auth.admin, minorOf(req)) } }));
  on(router, 'PUT', '/volumes/:id', async (req) => {
    const v = volumeOf(api, req.auth, req.params.id);
    const r = resourceBody(req.body, 'volume');
    const known = ['name', 'description', 'display_name', 'display_description', 'metadata'];
    const unknown = Object.keys(r).find((k) => !known.includes(k));
    if (unknown) throw badRequest(`Invalid input received: Additional properties are not allowed ('${unknown}' was unexpected)`);
    const display = str(r.name ?? r.display_name, 'name');
    const description = str(r.description ?? r.display_description, 'description');
    const metadata = metadataOf(r.metadata);
    const updated = await patchSpec(api, v, { ...(display !== undefined ? { displayName: display } : {}), ...(description !== undefined ? { description } : {}), ...(metadata ? { metadata: null } : {}) });
    const final = metadata ? await patchSpec(api, updated, { metadata }) : updated;
    return { status: 200, body: { volume: volumeView(api.dir, final, baseOf(req), req.auth.admin, minorOf(req), 'create') } };
  });
  on(router, 'DELETE', '/volumes/:id', async (req) => {
    const v = volumeOf(api, req.auth, req.params.id);
    const cascade = bool(req.query.get('cascade'), 'cascade') ?? false;
    const status = volumeStatus(v);
    const snaps = api.dir.snapshots.list(v.metadata.namespace).filter((s) => s.spec.volume === v.metadata.name);
    const attached = api.dir.attachments.list(v.metadata.namespace).some((a) => a.spec.volume === v.metadata.name && a.status?.phase !== 'error');
    if (status === 'deleting') return { status: 202 };
    await refuseIfFrozen(api, v.status?.backend);
    if (attached || !['available', 'error', 'error_restoring', 'error_extending', 'error_deleting'].includes(status) || (snaps.length && !cascade)) throw badRequest(NOT_DELETABLE);
    for (const s of snaps) await api.client.delete(VOLUME_SNAPSHOTS, s.metadata.namespace, s.metadata.name).catch(() => {});
    await api.client.delete(VOLUMES, v.metadata.namespace, v.metadata.name).catch((e) => fromKubernetes(e, `Volume ${idOf(v)}`));
    return { status: 202 };
  });

  metadataRoutes(router, 'volumes', 'Volume', (auth, id) => volumeOf(api, auth, id), (v, spec) => patchSpec(api, v, spec));

  on(router, 'POST', '/volumes/:id/action', async (req) => {
    const v = volumeOf(api, req.auth, req.params.id);
    const body = (req.body ?? {}) as Record<string, Record<string, unknown> | null>;
    const [action] = Object.keys(body);
    const args = (body[action] ?? {}) as Record<string, unknown>;
    const status = volumeStatus(v);
    switch (action) {
      case 'os-extend': {
        const size = sizeOf(args.new_size, 'new_size');
        const have = v.status?.sizeGiB ?? v.spec.sizeGiB;
        // Online extend (in-use) is Cinder's since 3.42; this cloud always allows it.
        if (!['available', 'in-use'].includes(status)) throw badRequest(`Invalid volume: Volume status must be 'available' or 'in-use' to extend, currently ${status}.`);
        if (size <= have) throw badRequest(`Invalid input received: New size for extend must be greater than current size. (current: ${have}, extended: ${size}).`);
        await withinQuota(api, v.metadata.namespace!, { gigabytes: size - have, volumeGiB: size, volumeType: volumeTypeOf(v) }, () => patchSpec(api, v, { sizeGiB: size }));
        return { status: 202 };
      }
      case 'os-set_bootable': {
        const bootable = bool(args.bootable, 'bootable');
        if (bootable === undefined) throw badRequest('Invalid input received: bootable must be given.');
        await patchSpec(api, v, { bootable });
        return { status: 200 };
      }
      case 'os-update_readonly_flag': {
        const readOnly = bool(args.readonly, 'readonly');
        if (readOnly === undefined) throw badRequest('Invalid input received: readonly must be given.');
        // Cinder shows the flag in the volume's metadata, in Python's words.
        await patchSpec(api, v, { readOnly, metadata: { readonly: readOnly ? 'True' : 'False' } });
        return { status: 202 };
      }
      case 'os-reset_status':
        return resetStatus(api, req.auth, VOLUMES, v, 'volume', args, `Volume ${idOf(v)}`);
      case 'os-force_delete': {
        if (!req.auth.admin) throw forbidden();
        await refuseIfFrozen(api, v.status?.backend);
        await api.client.delete(VOLUMES, v.metadata.namespace, v.metadata.name).catch((e) => fromKubernetes(e, `Volume ${idOf(v)}`));
        return { status: 202 };
      }
      case 'os-show_image_metadata':
        return { status: 200, body: { metadata: volumeImageMetadata(v) ?? {} } };
      case 'os-set_image_metadata':
      case 'os-unset_image_metadata':
        return setImageMetadata(api, v, status, action === 'os-set_image_metadata' ? { set: args.metadata } : { unset: args.key });
      case 'os-volume_upload_image':
        return uploadToImage(api, req, v, args);
      case 'os-attach':
        return attachTo(api, v, args);
      case 'os-force_detach':
      case 'os-detach': {
        // An admin's force detach is the same here: the attachment goes, and its node unplugs the disk.
        if (action === 'os-force_detach' && !req.auth.admin) throw forbidden();
        const atts = api.dir.attachments.list(v.metadata.namespace).filter((a) => a.spec.volume === v.metadata.name && a.status?.phase !== 'error' && !a.metadata.deletionTimestamp);
        const wanted = str(args.attachment_id, 'attachment_id');
        const target = wanted ? atts.filter((a) => idOf(a) === wanted) : atts;
        // Cinder's API casts the detach and answers 202 whatever is attached (its manager finds nothing to do);
        // only a volume under maintenance is refused.
        if (status === 'maintenance') throw badRequest('Invalid volume: Volume status must not be maintenance to detach.');
        if (!target.length) return { status: 202 };
        for (const a of target) await api.client.delete(VOLUME_ATTACHMENTS, a.metadata.namespace, a.metadata.name).catch((e) => fromKubernetes(e, `Attachment ${idOf(a)}`));
        return { status: 202 };
      }
      case 'os-retype':
        return retype(api, req.auth, v, args);
      case 'os-reserve':
        // Cinder's older attach protocol marks the volume attaching (nobody else may take it) before the
        // hypervisor connects; here a status request the reconciler shows until the volume changes.
        if (status !== 'available') throw badRequest(`Invalid volume: Volume status must be available to reserve, but the status is ${status}.`);
        await requestStatus(api, VOLUMES, v, 'attaching', `Volume ${idOf(v)}`);
        return { status: 202 };
      case 'os-unreserve':
        if (isReserved(v, status)) await requestStatus(api, VOLUMES, v, undefined, `Volume ${idOf(v)}`);
        return { status: 202 };
      case 'os-begin_detaching':
      case 'os-roll_detaching':
      case 'os-initialize_connection':
      case 'os-terminate_connection':
        // The steps of Cinder's older attach protocol are the node's here: an os-attach makes the attachment whole.
        throw badRequest(`Invalid input received: ${action} is not offered: attach with os-attach, through the Compute API (server add volume) or a VolumeAttachment.`);
      default:
        throw badRequest(`There is no such action: ${action ?? '(none)'}`);
    }
  });
}

/** os-volume_upload_image: a new Image whose data the block storage service copies from the volume. */
async function uploadToImage(api: VolApi, req: Req, v: Volume, args: Record<string, unknown>) {
  const status = volumeStatus(v);
  const force = bool(args.force, 'force') ?? false;
  if (status !== 'available' && !(status === 'in-use' && force)) throw badRequest(`Invalid volume: Volume status must be available or in-use (with force), but current status is: ${status}.`);
  const imageName = str(args.image_name, 'image_name');
  if (!imageName) throw badRequest('Invalid input received: image_name must be given.');
  const diskFormat = str(args.disk_format, 'disk_format') ?? 'raw';
  if (!['raw', 'qcow2', 'vmdk', 'vdi', 'vhd', 'vhdx'].includes(diskFormat)) throw badRequest(`Invalid disk-format '${diskFormat}' specified. Allowed disk-formats are raw, vmdk, vdi, qcow2, vhd, vhdx.`);
  if (diskFormat !== 'raw') throw badRequest(`Invalid input received: this cloud uploads volumes as raw images only (asked: ${diskFormat}).`);
  const visibility = str(args.visibility, 'visibility') ?? 'private';
  if (visibility === 'public' && !req.auth.admin) throw forbidden("Policy doesn't allow volume_extension:volume_actions:upload_public to be performed.");
  const ns = v.metadata.namespace!;
  const image: Image = {
    apiVersion: 'image.stratus.io/v1alpha1',
    kind: 'Image',
    metadata: { name: newObjectName(api.dir.images, ns, imageName, 'image'), namespace: ns },
    spec: {
      displayName: imageName,
      diskFormat: 'raw',
      containerFormat: str(args.container_format, 'container_format') ?? 'bare',
      visibility: visibility as 'private',
      protected: bool(args.protected, 'protected') ?? false,
      minDisk: v.status?.sizeGiB ?? v.spec.sizeGiB,
      properties: Object.fromEntries(Object.entries(volumeImageMetadata(v) ?? {}).filter(([k]) => !['image_id', 'image_name', 'checksum', 'size', 'disk_format', 'container_format', 'min_disk', 'min_ram'].includes(k))),
      source: { volume: { name: v.metadata.name } },
    },
  } as Image;
  let made: Image;
  try {
    made = await api.client.create<Image>(IMAGES, image, API_FIELD_MANAGER);
  } catch (e) {
    fromKubernetes(e, 'Image');
  }
  return {
    status: 202,
    body: {
      'os-volume_upload_image': {
        id: idOf(v),
        updated_at: new Date().toISOString().replace('Z', '000'),
        status: 'uploading',
        display_description: v.spec.description ?? null,
        size: v.status?.sizeGiB ?? v.spec.sizeGiB,
        volume_type: null,
        image_id: made.metadata.uid,
        container_format: image.spec.containerFormat,
        disk_format: 'raw',
        image_name: displayNameOf(made),
        visibility,
        protected: image.spec.protected,
      },
    },
  };
}

/**
 * The Compute service's Instances, read to find the server an os-attach names. Block storage cannot import
 * Nova (Nova builds on it), so the reference is written here; it is the one the chart's RBAC grants.
 */
const INSTANCES: ResourceRef = { group: 'compute.stratus.io', version: 'v1alpha1', plural: 'instances', namespaced: true };

/**
 * os-attach (Cinder's volume action, as Nova called it before attachments): the volume attached to the
 * server `instance_uuid` names, at `mountpoint`; here it is a VolumeAttachment, which the server's node plugs.
 */
async function attachTo(api: VolApi, v: Volume, args: Record<string, unknown>) {
  const instanceId = str(args.instance_uuid, 'instance_uuid');
  if (!instanceId) throw badRequest('Invalid input received: instance_uuid is required (attaching to a host is not offered).');
  const mountpoint = str(args.mountpoint, 'mountpoint');
  if (mountpoint !== undefined && !/^\/dev\/[a-z]+$/.test(mountpoint)) throw badRequest(`Invalid input received: mountpoint ${mountpoint} is not a device path (/dev/vdb).`);
  // Reserved first (os-reserve: attaching) is the older protocol's way; straight from available is Nova's.
  const status = volumeStatus(v);
  if (status !== 'available' && !isReserved(v, status)) throw badRequest(`Invalid volume: volume ${idOf(v)} status must be 'available', but it is '${status}'.`);
  const inst = (await api.client.list<KubernetesObject>(INSTANCES, v.metadata.namespace)).items.find((i) => i.metadata?.uid === instanceId && !i.metadata.deletionTimestamp);
  if (!inst) throw notFound(`Instance ${instanceId} could not be found.`);
  const owner = { apiVersion: 'compute.stratus.io/v1alpha1', kind: 'Instance', name: inst.metadata!.name!, uid: instanceId, blockOwnerDeletion: false };
  const body = {
    apiVersion: 'blockstorage.stratus.io/v1alpha1',
    kind: 'VolumeAttachment',
    metadata: { generateName: `${inst.metadata!.name}-`.slice(0, 50), namespace: v.metadata.namespace, ownerReferences: [owner] },
    spec: { volume: v.metadata.name, instance: inst.metadata!.name!, ...(mountpoint ? { device: mountpoint } : {}) },
  } as unknown as VolumeAttachment;
  const made = await api.client.create<VolumeAttachment>(VOLUME_ATTACHMENTS, body, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'Attachment'));
  await api.dir.attachments.seen(made);
  return { status: 202 };
}

/**
 * os-set_image_metadata and os-unset_image_metadata: the volume's image metadata changed. The whole set is
 * written to spec.imageMetadata (from then on it replaces what the volume was made from), so a key of the image
 * is dropped as well as one set before.
 */
async function setImageMetadata(api: VolApi, v: Volume, status: string, change: { set?: unknown; unset?: unknown }) {
  const now = volumeImageMetadata(v) ?? {};
  let wanted: Record<string, string>;
  if ('set' in change) {
    const metadata = metadataOf(change.set);
    if (!metadata) throw badRequest("Invalid input received: 'metadata' is a required property");
    wanted = { ...now, ...metadata };
  } else {
    const key = str(change.unset, 'key');
    if (!key) throw badRequest('The key cannot be None.');
    if (!Object.hasOwn(now, key)) throw notFound('Metadata item was not found.');
    wanted = Object.fromEntries(Object.entries(now).filter(([k]) => k !== key));
  }
  if (status === 'maintenance' || status === 'uploading') throw badRequest(`Invalid volume: The volume metadata cannot be updated when the volume is in ${status} status.`);
  // A merge patch keeps keys it does not name: the ones dropped are named with null.
  const dropped = Object.fromEntries(Object.keys(v.spec.imageMetadata ?? {}).filter((k) => !Object.hasOwn(wanted, k)).map((k) => [k, null]));
  const written = await patchSpec(api, v, { imageMetadata: { ...dropped, ...wanted } });
  return 'set' in change ? { status: 200, body: { metadata: volumeImageMetadata(written) ?? {} } } : { status: 200 };
}

/**
 * os-retype: the volume takes another type. Without migration only: the new type must place volumes on the
 * backend holding it (or name none); moving data between backends is not offered, and says so.
 */
async function retype(api: VolApi, auth: VolAuth, v: Volume, args: Record<string, unknown>) {
  const ref = str(args.new_type, 'new_type');
  if (!ref) throw badRequest("Invalid input received: 'new_type' is a required property");
  const policy = str(args.migration_policy, 'migration_policy') ?? 'never';
  if (policy !== 'never' && policy !== 'on-demand') throw badRequest(`Invalid input received: migration_policy must be 'never' or 'on-demand', not ${policy}.`);
  const type = api.dir.type(ref);
  if (!type || !mayUse(type, auth)) throw notFound(`Volume type with name ${ref} could not be found.`);
  const status = volumeStatus(v);
  if (status !== 'available' && status !== 'in-use') throw badRequest(`Invalid volume: Volume status must be available or in-use, but current status is: ${status}.`);
  const current = v.status?.volumeType ?? v.spec.volumeType;
  if (current === type.metadata.name) throw badRequest(`Invalid input received: New volume_type same as original: ${ref}.`);
  const encrypted = encryptedTypeRefusal(type);
  if (encrypted) throw badRequest(`Invalid volume type: ${encrypted}`);
  const group = v.spec.group ? api.dir.groups.get(v.spec.group, v.metadata.namespace) : undefined;
  if (group && !group.spec.volumeTypes.includes(type.metadata.name)) throw badRequest(`Invalid input received: Volume ${idOf(v)} is in group ${idOf(group)}, which does not take volume type ${ref}.`);
  const why = retypeMigration(type, v.status?.backend, await poolStateOf({ backends: api.backends ?? [] }, v.status?.backend));
  if (why) throw badRequest(policy === 'never' ? 'Invalid volume: Retype requires migration but is not allowed.' : `Invalid input received: Retype to ${ref} would move the volume (${why}), and this cloud does not migrate volumes between backends.`);
  // Cinder reserves the volume in the new type's own quota (volumes_<type>, gigabytes_<type>) before retyping.
  const size = v.status?.sizeGiB ?? v.spec.sizeGiB;
  await withinQuota(api, v.metadata.namespace!, { volumes: 1, gigabytes: size, volumeType: type.metadata.name, volumeTypeName: displayNameOf(type), typeOnly: true }, () => patchSpec(api, v, { volumeType: type.metadata.name }));
  return { status: 202 };
}

