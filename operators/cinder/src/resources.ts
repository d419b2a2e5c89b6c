/** The blockstorage.stratus.io types, their API references, and the facts every part of the block storage service reads the same way. */
import { resourceOf, type Condition } from '@stratus/runtime';
import type { ResetMark } from './statusReset.js';
import type { TypeEncryption } from './encryption.js';
import { QosSpecKind, VolumeAttachmentKind, VolumeGroupKind, VolumeGroupSnapshotKind, VolumeGroupTypeKind, VolumeBackupKind, VolumeKind, VolumeSnapshotKind, VolumeTypeKind } from './kinds.js';

export const VOLUME_TYPES = resourceOf(VolumeTypeKind);
export const QOS_SPECS = resourceOf(QosSpecKind);
export const VOLUME_GROUP_TYPES = resourceOf(VolumeGroupTypeKind);
export const VOLUME_GROUPS = resourceOf(VolumeGroupKind);
export const VOLUME_GROUP_SNAPSHOTS = resourceOf(VolumeGroupSnapshotKind);
/** On each VolumeSnapshot a group snapshot made: the group snapshot's name. */
export const GROUP_SNAPSHOT_LABEL = 'blockstorage.stratus.io/group-snapshot';
export const VOLUMES = resourceOf(VolumeKind);
export const VOLUME_SNAPSHOTS = resourceOf(VolumeSnapshotKind);
export const VOLUME_BACKUPS = resourceOf(VolumeBackupKind);
export const VOLUME_ATTACHMENTS = resourceOf(VolumeAttachmentKind);
export const FIELD_MANAGER = 'stratus-cinder';
/** Guards a volume's, snapshot's or backup's data in its backend or bucket: removed once the data is gone. */
export const DATA_FINALIZER = 'blockstorage.stratus.io/data';
/** Held by the compute node while an attachment's disk is plugged into a guest: removed once unplugged. */
export const PLUGGED_FINALIZER = 'blockstorage.stratus.io/plugged';
/** The type volumes get when they name none (Cinder's __DEFAULT__). */
export const DEFAULT_VOLUME_TYPE = 'default';
/** The bucket backups go in unless BACKUP_BUCKET names another. */
export const DEFAULT_BACKUP_BUCKET = 'stratus-backups';

interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: Date;
  deletionTimestamp?: Date;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
}
interface CommonStatus {
  observedGeneration?: number;
  /** The last admin's os-reset_status applied (volumes, snapshots, backups). */
  reset?: ResetMark;
  phase?: string;
  conditions?: Condition[];
  id?: string;
  projectId?: string;
}

export interface VolumeType {
  apiVersion?: string;
  kind?: 'VolumeType';
  metadata: Meta;
  spec: { displayName?: string; description?: string; backend?: string; extraSpecs?: Record<string, string>; isPublic?: boolean; projects?: string[]; qosSpec?: string; encryption?: TypeEncryption };
  status?: CommonStatus;
}

export type QosConsumer = 'front-end' | 'back-end' | 'both';

export interface QosSpec {
  apiVersion?: string;
  kind?: 'QosSpec';
  metadata: Meta;
  spec: { displayName?: string; consumer?: QosConsumer; specs?: Record<string, string> };
  status?: CommonStatus;
}

export interface VolumeGroupType {
  apiVersion?: string;
  kind?: 'VolumeGroupType';
  metadata: Meta;
  spec: { displayName?: string; description?: string; groupSpecs?: Record<string, string>; isPublic?: boolean };
  status?: CommonStatus;
}

export interface VolumeGroup {
  apiVersion?: string;
  kind?: 'VolumeGroup';
  metadata: Meta;
  spec: { displayName?: string; description?: string; groupType: string; volumeTypes: string[]; availabilityZone?: string; sourceGroup?: string; sourceGroupSnapshot?: string };
  status?: CommonStatus & { populated?: boolean };
}

export interface VolumeGroupSnapshot {
  apiVersion?: string;
  kind?: 'VolumeGroupSnapshot';
  metadata: Meta;
  spec: { displayName?: string; description?: string; group: string };
  status?: CommonStatus & { taken?: boolean };
}

/** The specs the hypervisor applies (Cinder hands them out in the connection info): a front-end or both consumer's. */
export const frontEndSpecs = (q: QosSpec | undefined): Record<string, string> | undefined =>
  q && (q.spec.consumer === 'front-end' || q.spec.consumer === 'both') && Object.keys(q.spec.specs ?? {}).length ? q.spec.specs : undefined;

/** How a hypervisor reaches a volume (initialize_connection's answer): not tied to a node. */
export interface Connection {
  driverVolumeType: 'file' | 'rbd';
  /** file: the path on the pool every node mounts the same way. */
  path?: string;
  format?: 'raw' | 'qcow2';
  /** rbd: pool/image, and the monitors (hosts[i]:ports[i]) as Cinder's RBD driver hands them to Nova. */
  name?: string;
  hosts?: string[];
  ports?: string[];
  /** rbd: the cephx user (without `client.`), and the libvirt secret holding its key on every node. */
  authUsername?: string;
  secretType?: 'ceph';
  secretUuid?: string;
  /** The front-end QoS specs of the volume's type, for the hypervisor (set per attachment). */
  qosSpecs?: Record<string, string>;
}

export interface ImageRef {
  name: string;
  namespace?: string;
}

export interface VolumeSource {
  image?: ImageRef;
  snapshot?: string;
  volume?: string;
  backup?: string;
}

export interface AttachmentRecord {
  attachment: string;
  attachmentId: string;
  serverId?: string;
  host?: string;
  device?: string;
  attachedAt?: string;
}

export interface Volume {
  apiVersion?: string;
  kind?: 'Volume';
  metadata: Meta;
  spec: {
    displayName?: string;
    description?: string;
    sizeGiB: number;
    volumeType?: string;
    availabilityZone?: string;
    source?: VolumeSource;
    bootable?: boolean;
    readOnly?: boolean;
    /** The VolumeGroup (this namespace) it belongs to. */
    group?: string;
    metadata?: Record<string, string>;
    /** Cinder's volume_image_metadata as set by os-set_image_metadata; replaces the image's (status.imageMetadata). */
    imageMetadata?: Record<string, string>;
    restoreFromBackup?: { backup?: string; count?: number };
  };
  status?: CommonStatus & {
    sizeGiB?: number;
    backend?: string;
    pool?: string;
    volumeType?: string;
    bootable?: boolean;
    imageMetadata?: Record<string, string>;
    connection?: Connection;
    attachments?: AttachmentRecord[];
    restoresDone?: number;
    madeFrom?: string;
  };
}

/** The volume's image metadata (Cinder's volume_image_metadata): as set, else as made from the image. */
export const volumeImageMetadata = (v: Volume): Record<string, string> | undefined => v.spec.imageMetadata ?? v.status?.imageMetadata;

/** Whether a server may boot from the volume: as the user set it, else as made (from an image: yes; blank: no). */
export const isBootable = (v: Volume): boolean => v.spec.bootable ?? v.status?.bootable ?? false;

export interface VolumeSnapshot {
  apiVersion?: string;
  kind?: 'VolumeSnapshot';
  metadata: Meta;
  spec: { displayName?: string; description?: string; volume: string; force?: boolean; metadata?: Record<string, string> };
  status?: CommonStatus & { volumeId?: string; sizeGiB?: number; backend?: string };
}

export interface VolumeBackup {
  apiVersion?: string;
  kind?: 'VolumeBackup';
  metadata: Meta;
  spec: { displayName?: string; description?: string; volume: string; snapshot?: string; container?: string; incremental?: boolean; force?: boolean };
  status?: CommonStatus & {
    volumeId?: string;
    snapshotId?: string;
    volumeMetadata?: Record<string, string>;
    sizeGiB?: number;
    container?: string;
    prefix?: string;
    parent?: string;
    parentId?: string;
    objectCount?: number;
    dataBytes?: number;
    hasDependentBackups?: boolean;
    restoring?: string;
  };
}

export interface VolumeAttachment {
  apiVersion?: string;
  kind?: 'VolumeAttachment';
  metadata: Meta;
  spec: { volume: string; instance: string; device?: string; bootIndex?: number; deleteOnTermination?: boolean; tag?: string };
  status?: CommonStatus & { volumeId?: string; serverId?: string; host?: string; device?: string; attachedAt?: string; sizeGiB?: number; connection?: Connection };
}

/** Every block storage object's OpenStack ID is its UID (Cinder's IDs are dashed UUIDs). */
/**
 * The OpenStack ID a volume keeps when it moves to another project (a volume transfer): the new object in the
 * other namespace carries its first object's UID here. Written only by the Block Storage API (admission refuses
 * a tenant setting it), as are the two annotations beside it.
 */
export const VOLUME_ID_ANNOTATION = 'blockstorage.stratus.io/id';
/** On a volume offered for transfer: the transfer (its ID, name, when, and its auth key's salted hash), as JSON. */
export const TRANSFER_ANNOTATION = 'blockstorage.stratus.io/transfer';
/** On a volume given to another project: where it went (namespace/name); its data now belongs to that object. */
export const HANDED_OVER_ANNOTATION = 'blockstorage.stratus.io/handed-over-to';
/** On a volume taken from another project: what its first object had made (backend, pool, bootable, …), as JSON. */
export const TAKEN_OVER_ANNOTATION = 'blockstorage.stratus.io/taken-over';
/** Who made a volume (Cinder's user_id): the user who made it, or who accepted it. */
export const USER_ID_ANNOTATION = 'blockstorage.stratus.io/user-id';
/** On a backup imported from an exported record (backups/import_record): the data it names (container, prefix, …), as JSON. */
export const IMPORTED_ANNOTATION = 'blockstorage.stratus.io/imported';
/** The annotations only the Block Storage API writes on a Volume. */
export const RESERVED_ANNOTATIONS = [VOLUME_ID_ANNOTATION, TRANSFER_ANNOTATION, HANDED_OVER_ANNOTATION, TAKEN_OVER_ANNOTATION];
/** The annotations only the Block Storage API writes on a VolumeBackup: an imported backup's ID and data. */
export const BACKUP_RESERVED_ANNOTATIONS = [VOLUME_ID_ANNOTATION, IMPORTED_ANNOTATION];

/**
 * The OpenStack ID of a block storage object: its UID, or the ID it keeps from elsewhere (a volume moved from
 * another project, a backup imported from its record). Only a Volume (the one kind with a spec.sizeGiB) and a
 * VolumeBackup are read so: admission keeps the annotation from tenants' Volumes and VolumeBackups, while
 * attachments have no admission, and one set there must not take another's ID.
 */
export const idOf = (o: { kind?: string; metadata: { uid?: string; annotations?: Record<string, string> }; spec?: unknown }) =>
  ((typeof (o.spec as { sizeGiB?: unknown } | undefined)?.sizeGiB === 'number' || o.kind === 'VolumeBackup') && o.metadata.annotations?.[VOLUME_ID_ANNOTATION]) || o.metadata.uid!;

/** The VolumeType (object name) a volume counts toward: the one it asks for (a retype counts at once), else the one it was made with, else the default. */
export const volumeTypeOf = (v: Volume): string => v.spec.volumeType ?? v.status?.volumeType ?? DEFAULT_VOLUME_TYPE;
export const keyOf = (o: { metadata: { namespace?: string; name: string } }) => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name);
/** The attachments of `volume` (object name) in a list of its namespace's. */
export const attachmentsOf = (all: VolumeAttachment[], volume: string) => all.filter((a) => a.spec.volume === volume);
/** A volume type allows several attachments at once (extra spec multiattach="<is> True"). */
export const isMultiattach = (t: VolumeType | undefined) => /^\s*<is>\s*true\s*$/i.test(t?.spec.extraSpecs?.multiattach ?? '');
