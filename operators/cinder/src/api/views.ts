/** How the Block Storage API shows each object, as Cinder's views do. Pure but for the directory lookups. */
import { displayNameOf, isDeleting } from '@stratus/runtime';
import { GROUP_SNAPSHOT_LABEL, TRANSFER_ANNOTATION, USER_ID_ANNOTATION, idOf, isBootable, isMultiattach, volumeImageMetadata, type Volume, type VolumeAttachment, type VolumeBackup, type VolumeGroup, type VolumeGroupSnapshot, type VolumeSnapshot, type VolumeType } from '../resources.js';
import { importedOf } from '../backupRecords.js';
import { pendingStatus, snapshotProgress } from '../statusReset.js';
import type { BlockStorageDirectory } from './directory.js';

/** Cinder's timestamps: ISO 8601 with microseconds and no zone. */
export const stamp = (t: Date | string | undefined) => (t ? new Date(t).toISOString().replace('Z', '000') : null);
const updatedAt = (o: { metadata: { creationTimestamp?: Date | string }; status?: { conditions?: Array<{ lastTransitionTime?: string }> } }) => {
  const times = (o.status?.conditions ?? []).map((c) => Date.parse(c.lastTransitionTime ?? '')).filter((t) => !Number.isNaN(t));
  return times.length ? stamp(new Date(Math.max(...times))) : stamp(o.metadata.creationTimestamp);
};
export const link = (base: string, kind: string, id: string) => [
  { rel: 'self', href: `${base}/${kind}/${id}` },
  { rel: 'bookmark', href: `${base.replace(/\/v3(\/[^/]+)?$/, '')}/${kind}/${id}` },
];

/**
 * A volume's status word, as Cinder shows it: deleting once its deletion began; extending (retyping) from the
 * moment a larger size (another type) is asked: Cinder's API sets it at once, so nobody reads the old size
 * (type) as the answer.
 */
export function volumeStatus(v: Volume): string {
  if (isDeleting(v)) return 'deleting';
  const pending = pendingStatus(v);
  if (pending) return pending;
  const phase = v.status?.phase ?? 'creating';
  const resting = phase === 'available' || phase === 'in-use';
  if (resting && v.status?.sizeGiB !== undefined && v.spec.sizeGiB > v.status.sizeGiB) return 'extending';
  // A new type asked and not yet taken (Cinder's API sets retyping at once); a retype refused stays Stalled.
  const refused = v.status?.conditions?.some((c) => c.type === 'Stalled' && c.status === 'True' && c.observedGeneration === v.metadata.generation);
  if (resting && v.spec.volumeType && v.status?.volumeType && v.spec.volumeType !== v.status.volumeType && !refused) return 'retyping';
  // Offered to another project: nothing else may be done with it until the transfer is accepted or deleted.
  if (phase === 'available' && v.metadata.annotations?.[TRANSFER_ANNOTATION]) return 'awaiting-transfer';
  if (phase === 'awaiting-transfer' && !v.metadata.annotations?.[TRANSFER_ANNOTATION]) return 'available'; // the offer withdrawn, not yet seen by the reconciler
  return phase;
}

export function attachmentView(a: VolumeAttachment, v: Volume) {
  return {
    id: idOf(v),
    attachment_id: idOf(a),
    volume_id: idOf(v),
    server_id: a.status?.serverId ?? null,
    host_name: a.status?.host ?? null,
    device: a.status?.device ?? null,
    attached_at: stamp(a.status?.attachedAt),
  };
}

/**
 * A volume as Cinder shows it: `shape` show (GET, lists) carries the extension attributes (tenant, and for
 * admins host and migration); create (POST and PUT answers) does not. Fields newer than 3.0 come at their
 * microversion (`minor`: 3.minor asked).
 */
export function volumeView(dir: BlockStorageDirectory, v: Volume, base: string, admin: boolean, minor = 0, shape: 'show' | 'create' = 'show') {
  const ns = v.metadata.namespace!;
  const src = v.spec.source ?? {};
  const type = dir.type(v.status?.volumeType ?? v.spec.volumeType ?? 'default');
  const attachments = dir.attachments.list(ns).filter((a) => a.spec.volume === v.metadata.name && a.status?.phase !== 'error' && a.status?.serverId && a.status.phase !== 'reserved');
  return {
    id: idOf(v),
    name: displayNameOf(v),
    description: v.spec.description ?? null,
    status: volumeStatus(v),
    size: v.status?.sizeGiB ?? v.spec.sizeGiB,
    availability_zone: v.spec.availabilityZone ?? 'nova',
    created_at: stamp(v.metadata.creationTimestamp),
    updated_at: updatedAt(v),
    volume_type: type ? displayNameOf(type) : (v.spec.volumeType ?? '__DEFAULT__'),
    ...(minor >= 63 ? { volume_type_id: type ? idOf(type) : null } : {}),
    snapshot_id: src.snapshot ? (dir.snapshots.get(src.snapshot, ns)?.metadata.uid ?? null) : null,
    source_volid: src.volume ? (((v) => (v ? idOf(v) : null))(dir.volumes.get(src.volume, ns))) : null,
    // No backup_id: Cinder's API reference lists it from 3.47, but Cinder's view never sends it, and Tempest's schemas refuse it.
    metadata: v.spec.metadata ?? {},
    bootable: String(isBootable(v)),
    encrypted: false,
    multiattach: isMultiattach(type),
    replication_status: null,
    consistencygroup_id: null,
    group_id: dir.groupIdOf(v),
    provider_id: null,
    service_uuid: null,
    shared_targets: false,
    ...(minor >= 61 && admin ? { cluster_name: null } : {}),
    ...(minor >= 65 ? { consumes_quota: true } : {}),
    user_id: v.metadata.annotations?.[USER_ID_ANNOTATION] ?? dir.projectIdOf(ns),
    ...(shape === 'show' ? { 'os-vol-tenant-attr:tenant_id': dir.projectIdOf(ns) } : {}),
    ...(shape === 'show' && admin ? { 'os-vol-mig-status-attr:migstat': null, 'os-vol-mig-status-attr:name_id': null, 'os-vol-host-attr:host': v.status?.pool ? `stratus@${v.status.pool}` : null, migration_status: null } : {}),
    attachments: attachments.map((a) => attachmentView(a, v)),
    ...(shape === 'show' && volumeImageMetadata(v) ? { volume_image_metadata: volumeImageMetadata(v) } : {}),
    links: link(base, 'volumes', idOf(v)),
  };
}

export const summaryView = (o: { metadata: { uid?: string; name: string }; spec?: unknown }, base: string, kind: string) => ({ id: idOf(o), name: displayNameOf(o), links: link(base, kind, idOf(o)) });

/** A snapshot as Cinder shows it; the extended attributes (progress, project) on show and detail only. */
/**
 * A snapshot's or a backup's status word, as the API shows it and as every action on it checks it: deleting, a
 * reset not yet taken, else what the reconciler wrote.
 */
const statusWord = (o: VolumeSnapshot | VolumeBackup | VolumeGroup | VolumeGroupSnapshot): string => (isDeleting(o) ? 'deleting' : (pendingStatus(o) ?? o.status?.phase ?? 'creating'));
/** A group's status word: deleting once deleted, an admin's reset before the reconciler shows it, else its phase. */
export const groupStatus = (g: VolumeGroup): string => statusWord(g);
export const groupSnapshotStatus = (gs: VolumeGroupSnapshot): string => statusWord(gs);
export const snapshotStatus: (s: VolumeSnapshot) => string = statusWord;
export const backupStatus: (b: VolumeBackup) => string = statusWord;

/**
 * A snapshot as Cinder shows it: the extension attributes on show and lists only; from 3.14 the group snapshot it
 * was taken for, from 3.41 the user who made it (`minor`: 3.minor asked).
 */
export function snapshotView(dir: BlockStorageDirectory, s: VolumeSnapshot, minor = 0, shape: 'show' | 'create' = 'show') {
  const ns = s.metadata.namespace!;
  const groupSnapshot = s.metadata.labels?.[GROUP_SNAPSHOT_LABEL];
  return {
    id: idOf(s),
    name: displayNameOf(s),
    description: s.spec.description ?? null,
    status: snapshotStatus(s),
    size: s.status?.sizeGiB ?? dir.volumes.get(s.spec.volume, s.metadata.namespace)?.status?.sizeGiB ?? 0,
    volume_id: s.status?.volumeId ?? dir.volumes.get(s.spec.volume, s.metadata.namespace)?.metadata.uid ?? null,
    metadata: s.spec.metadata ?? {},
    created_at: stamp(s.metadata.creationTimestamp),
    updated_at: updatedAt(s),
    ...(minor >= 14 ? { group_snapshot_id: groupSnapshot ? (((gs) => (gs ? idOf(gs) : null))(dir.groupSnapshots.get(groupSnapshot, ns))) : null } : {}),
    ...(minor >= 41 ? { user_id: s.metadata.annotations?.[USER_ID_ANNOTATION] ?? null } : {}),
    ...(shape === 'show' ? { 'os-extended-snapshot-attributes:project_id': dir.projectIdOf(s.metadata.namespace), 'os-extended-snapshot-attributes:progress': snapshotProgress(s, snapshotStatus(s)) } : {}),
  };
}

export function backupView(dir: BlockStorageDirectory, b: VolumeBackup, base: string) {
  const failed = b.status?.phase === 'error' ? b.status.conditions?.find((c) => c.type === 'Stalled')?.message : undefined;
  // Until it is made, a backup shows what it is of: an imported one its record's, another its volume's.
  const imported = importedOf(b);
  const vol = imported ? undefined : dir.volumes.get(b.spec.volume, b.metadata.namespace);
  return {
    id: idOf(b),
    name: displayNameOf(b),
    description: b.spec.description ?? null,
    status: backupStatus(b),
    size: b.status?.sizeGiB ?? imported?.sizeGiB ?? vol?.spec.sizeGiB ?? 0,
    volume_id: b.status?.volumeId ?? imported?.volumeId ?? (vol ? idOf(vol) : null),
    snapshot_id: b.status?.snapshotId ?? (b.spec.snapshot ? (dir.snapshots.get(b.spec.snapshot, b.metadata.namespace)?.metadata.uid ?? null) : null),
    container: b.status?.container ?? imported?.container ?? b.spec.container ?? null,
    availability_zone: 'nova',
    created_at: stamp(b.metadata.creationTimestamp),
    updated_at: updatedAt(b),
    data_timestamp: stamp(b.metadata.creationTimestamp),
    is_incremental: !!b.spec.incremental,
    has_dependent_backups: dir.backups.list(b.metadata.namespace).some((o) => o.status?.parent === b.metadata.name && !isDeleting(o)),
    object_count: b.status?.objectCount ?? 0,
    fail_reason: failed ?? null,
    'os-backup-project-attr:project_id': dir.projectIdOf(b.metadata.namespace),
    links: link(base, 'backups', idOf(b)),
  };
}

/** A volume type as Cinder shows it: in full (show, list), as made (create), or as changed (update). */
/** `qosSpecsId`: the ID of the QoS spec the type names (BlockStorageDirectory.qosIdOf). */
export function typeView(t: VolumeType, admin: boolean, shape: 'show' | 'create' | 'update' = 'show', qosSpecsId: string | null = null) {
  const isPublic = t.spec.isPublic ?? true;
  return {
    id: idOf(t),
    name: displayNameOf(t),
    description: t.spec.description ?? null,
    is_public: isPublic,
    ...(shape !== 'update' ? { 'os-volume-type-access:is_public': isPublic } : {}),
    extra_specs: admin ? { ...(t.spec.backend ? { volume_backend_name: t.spec.backend } : {}), ...(t.spec.extraSpecs ?? {}) } : {},
    ...(shape === 'show' ? { qos_specs_id: qosSpecsId } : {}),
  };
}
