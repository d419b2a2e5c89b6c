/** The blockstorage.stratus.io kinds: the one definition each CRD under crds/ is generated from. */
import { DISPLAY_NAME_COLUMN, displayNameField, type KindDefinition } from '@stratus/runtime';
import { CONTROL_LOCATIONS } from './encryption.js';

const GROUP = 'blockstorage.stratus.io';
const VERSION = 'v1alpha1';
/** Cinder's volume status words. */
export const VOLUME_PHASES = ['creating', 'available', 'awaiting-transfer', 'reserved', 'attaching', 'in-use', 'detaching', 'extending', 'backing-up', 'restoring-backup', 'downloading', 'uploading', 'deleting', 'error', 'error_deleting', 'error_extending', 'maintenance'];
export const SNAPSHOT_PHASES = ['creating', 'available', 'deleting', 'error', 'error_deleting', 'backing-up', 'restoring'];
export const BACKUP_PHASES = ['creating', 'available', 'restoring', 'deleting', 'error', 'error_deleting'];
export const ATTACHMENT_PHASES = ['reserved', 'attaching', 'attached', 'detaching', 'error'];

/** The last os-reset_status applied (statusReset.ts): the word shown while what it covers stays. */
const RESET_MARK = {
  type: 'object',
  description: "An admin's os-reset_status, as applied: `status` is shown while the computed word stays `over` and the spec stays at `generation`.",
  properties: { at: { type: 'string' }, status: { type: 'string' }, over: { type: 'string' }, generation: { type: 'integer' }, ended: { type: 'boolean' } },
};
const stringMap = (description: string) => ({ type: 'object', additionalProperties: { type: 'string' }, description });
/** How a hypervisor reaches a volume: a file on the shared pool (path, format), or a network disk (rbd: pool/image, monitors). */
const CONNECTION = {
  type: 'object',
  properties: {
    driverVolumeType: { type: 'string', description: 'file, or rbd' },
    path: { type: 'string' },
    format: { type: 'string' },
    name: { type: 'string', description: 'rbd: pool/image' },
    hosts: { type: 'array', items: { type: 'string' }, description: "rbd: the monitors' addresses" },
    ports: { type: 'array', items: { type: 'string' }, description: "rbd: the monitors' ports, one per host" },
    authUsername: { type: 'string', description: 'rbd: the cephx user' },
    secretType: { type: 'string', description: 'rbd: ceph' },
    secretUuid: { type: 'string', description: "rbd: the libvirt secret holding the user's key on every compute node" },
    qosSpecs: stringMap("The front-end QoS specs of the volume's type (Cinder's qos_specs in the connection info), which the hypervisor applies to the disk (libvirt's iotune)."),
  },
};
/** Cinder's QoS consumers: who applies the specs (the hypervisor, the backend, or both). */
export const QOS_CONSUMERS = ['front-end', 'back-end', 'both'];
const ID_COLUMN = { name: 'ID', type: 'string', jsonPath: '.metadata.uid', priority: 1 } as const;

export const VolumeTypeKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'VolumeType',
  plural: 'volumetypes',
  scope: 'Cluster',
  shortNames: ['voltype'],
  description: "A kind of volume users choose (a Cinder volume type): which backend holds its volumes, with extra specs the scheduler matches.",
  spec: {
    properties: {
      displayName: displayNameField(255, 'volume type'),
      description: { type: 'string', maxLength: 255 },
      backend: { type: 'string', description: "The backend (volume_backend_name) its volumes go to; unset: any backend." },
      extraSpecs: stringMap('Extra specs (volume_backend_name, multiattach "<is> True", …).'),
      isPublic: { type: 'boolean', default: true, description: 'Every project may use it; false: only projects in `projects`.' },
      projects: { type: 'array', items: { type: 'string' }, description: 'Project IDs given access to a private type.' },
      qosSpec: { type: 'string', description: "The QosSpec (object name) its volumes get (Cinder's QoS association); unset: none." },
      encryption: {
        type: 'object',
        description: "How its volumes are encrypted (Cinder's volume type encryption). Volumes of an encrypted type need a key manager, which this cloud has not: they are refused.",
        required: ['provider', 'controlLocation'],
        properties: {
          provider: { type: 'string', maxLength: 255, description: 'The encryptor: luks, plain, or a class name (LuksEncryptor).' },
          controlLocation: { type: 'string', enum: [...CONTROL_LOCATIONS], description: 'Who encrypts: front-end (the hypervisor) or back-end (the storage).' },
          cipher: { type: 'string', nullable: true, maxLength: 255, description: 'The cipher, as dm-crypt names it (aes-xts-plain64).' },
          keySize: { type: 'integer', nullable: true, minimum: 0, description: "The key's size in bits." },
        },
      },
    },
  },
  status: { id: { type: 'string', description: "The volume type's OpenStack ID." } },
  phases: ['available', 'error'],
  columns: [DISPLAY_NAME_COLUMN, { name: 'Backend', type: 'string', jsonPath: '.spec.backend' }, { name: 'Public', type: 'boolean', jsonPath: '.spec.isPublic' }],
};

export const QosSpecKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'QosSpec',
  plural: 'qosspecs',
  scope: 'Cluster',
  shortNames: ['qos'],
  description: "Limits on a volume's I/O (Cinder's QoS specs), given to the volumes of the VolumeTypes naming it: front-end specs are applied by the hypervisor to the guest's disk.",
  spec: {
    properties: {
      displayName: displayNameField(255, 'QoS spec'),
      consumer: { type: 'string', enum: QOS_CONSUMERS, default: 'back-end', description: 'Who applies the specs: front-end (the hypervisor), back-end (the storage backend) or both.' },
      specs: stringMap('The limits: total_iops_sec, read_bytes_sec, … (libvirt applies total/read/write bytes_sec and iops_sec, their _max and _max_length, and size_iops_sec).'),
    },
  },
  status: { id: { type: 'string', description: "The QoS spec's OpenStack ID." } },
  phases: ['available'],
  columns: [DISPLAY_NAME_COLUMN, { name: 'Consumer', type: 'string', jsonPath: '.spec.consumer' }],
};

export const VolumeGroupTypeKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'VolumeGroupType',
  plural: 'volumegrouptypes',
  scope: 'Cluster',
  shortNames: ['vgtype'],
  description: "A kind of volume group users choose (a Cinder group type, API 3.11 and later): a name, a description and group specs, which the group's backend reads (consistent_group_snapshot_enabled, …).",
  spec: {
    properties: {
      displayName: displayNameField(255, 'group type'),
      description: { type: 'string', maxLength: 255 },
      groupSpecs: stringMap('Group specs: keys and values of up to 255 characters each.'),
      isPublic: { type: 'boolean', default: true, description: "Every project sees it; false: only admins (Cinder offers no access list for group types)." },
    },
  },
  status: { id: { type: 'string', description: "The group type's OpenStack ID." } },
  phases: ['available'],
  columns: [DISPLAY_NAME_COLUMN, { name: 'Public', type: 'boolean', jsonPath: '.spec.isPublic' }],
};

export const GROUP_PHASES = ['creating', 'available', 'updating', 'deleting', 'error', 'error_deleting'];

export const VolumeGroupKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'VolumeGroup',
  plural: 'volumegroups',
  scope: 'Namespaced',
  shortNames: ['vgroup'],
  description: "A generic volume group of the tenant whose namespace holds it (a Cinder group, API 3.13 and later): volumes of the group's volume types that name it in spec.group. Deleted, it waits until no volume names it.",
  spec: {
    required: ['groupType', 'volumeTypes'],
    properties: {
      displayName: displayNameField(255, 'group'),
      description: { type: 'string', maxLength: 255 },
      groupType: { type: 'string', description: 'The VolumeGroupType (object name).' },
      volumeTypes: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'The VolumeTypes (object names) its volumes may be of.' },
      availabilityZone: { type: 'string', default: 'nova' },
      sourceGroup: { type: 'string', description: "The VolumeGroup (this namespace) it was made from (create-from-src): its volumes were cloned into this group once." },
      sourceGroupSnapshot: { type: 'string', description: 'The VolumeGroupSnapshot (this namespace) it was made from: a volume of each of its snapshots was made in this group once.' },
    },
  },
  status: {
    id: { type: 'string', description: "The group's OpenStack ID." },
    reset: RESET_MARK,
    populated: { type: 'boolean', description: 'A group made from another: every clone of its volumes has been available once.' },
  },
  phases: GROUP_PHASES,
  columns: [DISPLAY_NAME_COLUMN, { name: 'Type', type: 'string', jsonPath: '.spec.groupType' }],
};

export const GROUP_SNAPSHOT_PHASES = ['creating', 'available', 'deleting', 'error', 'error_deleting'];

export const VolumeGroupSnapshotKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'VolumeGroupSnapshot',
  plural: 'volumegroupsnapshots',
  scope: 'Namespaced',
  shortNames: ['vgsnap'],
  description: "A snapshot of a VolumeGroup's volumes taken together (a Cinder group snapshot, API 3.14 and later): one VolumeSnapshot of each volume in the group when it is taken, labelled with its name, deleted with it.",
  spec: {
    required: ['group'],
    properties: {
      displayName: displayNameField(255, 'group snapshot'),
      description: { type: 'string', maxLength: 255 },
      group: { type: 'string', description: 'The VolumeGroup (this namespace) whose volumes it snapshots.' },
    },
  },
  status: {
    id: { type: 'string', description: "The group snapshot's OpenStack ID." },
    reset: RESET_MARK,
    taken: { type: 'boolean', description: "Its VolumeSnapshots are made: volumes that join the group later are not in it." },
  },
  phases: GROUP_SNAPSHOT_PHASES,
  columns: [DISPLAY_NAME_COLUMN, { name: 'Group', type: 'string', jsonPath: '.spec.group' }],
};

export const VolumeKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Volume',
  plural: 'volumes',
  scope: 'Namespaced',
  shortNames: ['vol'],
  description: "A block device of the tenant whose namespace holds it (a Cinder volume): made blank or from an image, snapshot, volume or backup, in a backend's pool, attachable to its servers.",
  spec: {
    required: ['sizeGiB'],
    properties: {
      displayName: displayNameField(255, 'volume'),
      description: { type: 'string', maxLength: 255 },
      sizeGiB: { type: 'integer', minimum: 1, description: 'Its size. Raising it extends the volume (online, when attached); it never shrinks.' },
      volumeType: { type: 'string', description: 'The VolumeType (object name); unset: the default type.' },
      availabilityZone: { type: 'string', default: 'nova' },
      source: {
        type: 'object',
        maxProperties: 1,
        description: 'What it is made from, once: unset is blank. An image (in this namespace, or a public one of another), a VolumeSnapshot, a Volume or a VolumeBackup of this namespace.',
        properties: {
          image: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, namespace: { type: 'string' } } },
          snapshot: { type: 'string' },
          volume: { type: 'string' },
          backup: { type: 'string' },
        },
      },
      bootable: { type: 'boolean', description: 'A server may boot from it; unset: true when made from an image.' },
      readOnly: { type: 'boolean', default: false },
      group: { type: 'string', description: "The VolumeGroup (object name, this namespace) it belongs to: its type must be one of the group's." },
      metadata: stringMap("The volume's metadata (Cinder's key/value pairs)."),
      imageMetadata: stringMap("Cinder's volume_image_metadata, as set (os-set_image_metadata): replaces what status.imageMetadata says of the image it was made from. Nova reads it when the volume boots (hw_disk_bus, …), and an image uploaded from the volume takes it."),
      restoreFromBackup: {
        type: 'object',
        description: "A restore into this existing volume: raising `count` writes the backup's data over it.",
        properties: { backup: { type: 'string' }, count: { type: 'integer', minimum: 0 } },
      },
    },
  },
  status: {
    id: { type: 'string', description: "The volume's OpenStack ID: its UID, or for a volume transferred from another project, the UID it was first made with." },
    projectId: { type: 'string' },
    sizeGiB: { type: 'integer', description: 'The size the backend has made.' },
    backend: { type: 'string', description: 'The backend holding it.' },
    pool: { type: 'string', description: "The backend's pool (Cinder's host@backend#pool)." },
    volumeType: { type: 'string', description: 'The type it was made with (object name).' },
    bootable: { type: 'boolean' },
    imageMetadata: stringMap("The properties of the image it was made from (Cinder's volume_image_metadata)."),
    connection: { ...CONNECTION, description: "How a hypervisor attaches it (what Cinder's initialize_connection returns): a file on the shared pool, or a network disk." },
    attachments: {
      type: 'array',
      description: 'Who has it attached (from its VolumeAttachments).',
      items: { type: 'object', properties: { attachment: { type: 'string' }, attachmentId: { type: 'string' }, serverId: { type: 'string' }, host: { type: 'string' }, device: { type: 'string' }, attachedAt: { type: 'string' } } },
    },
    restoresDone: { type: 'integer' },
    madeFrom: { type: 'string', description: 'What its data came from, as made: blank, image:<id>, snapshot:<id>, volume:<id>, backup:<id>.' },
    reset: RESET_MARK,
  },
  phases: VOLUME_PHASES,
  columns: [DISPLAY_NAME_COLUMN, { name: 'Size', type: 'integer', jsonPath: '.status.sizeGiB' }, { name: 'Type', type: 'string', jsonPath: '.status.volumeType' }, { name: 'Bootable', type: 'boolean', jsonPath: '.status.bootable', priority: 1 }, { ...ID_COLUMN, jsonPath: '.status.id' }],
};

export const VolumeSnapshotKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'VolumeSnapshot',
  plural: 'volumesnapshots',
  scope: 'Namespaced',
  shortNames: ['volsnap'],
  description: "A point-in-time copy of a Volume of its namespace (a Cinder snapshot), in the volume's backend: new volumes can be made from it.",
  spec: {
    required: ['volume'],
    properties: {
      displayName: displayNameField(255, 'snapshot'),
      description: { type: 'string', maxLength: 255 },
      volume: { type: 'string', minLength: 1, description: 'The Volume (object name).' },
      force: { type: 'boolean', default: false, description: 'Take it even while the volume is attached (crash-consistent).' },
      metadata: stringMap("The snapshot's metadata."),
    },
  },
  status: {
    id: { type: 'string' },
    projectId: { type: 'string' },
    volumeId: { type: 'string' },
    sizeGiB: { type: 'integer' },
    backend: { type: 'string' },
    reset: RESET_MARK,
  },
  phases: SNAPSHOT_PHASES,
  columns: [DISPLAY_NAME_COLUMN, { name: 'Volume', type: 'string', jsonPath: '.spec.volume' }, { name: 'Size', type: 'integer', jsonPath: '.status.sizeGiB' }, ID_COLUMN],
};

export const VolumeBackupKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'VolumeBackup',
  plural: 'volumebackups',
  scope: 'Namespaced',
  shortNames: ['volbak'],
  description:
    "A copy of a Volume's data in the S3-compatible store (a Cinder backup), in chunks under its own prefix: full, or incremental (only the chunks changed since the volume's last backup). It outlives the volume; a volume can be made or restored from it.",
  spec: {
    required: ['volume'],
    properties: {
      displayName: displayNameField(255, 'backup'),
      description: { type: 'string', maxLength: 255 },
      volume: { type: 'string', minLength: 1, description: 'The Volume (object name) backed up.' },
      snapshot: { type: 'string', minLength: 1, description: "A VolumeSnapshot of that volume (object name): its data is backed up instead of the volume's as it is now." },
      container: { type: 'string', minLength: 3, maxLength: 63, pattern: '^[a-z0-9][a-z0-9.-]*[a-z0-9]$', description: "The bucket its chunks go in (Cinder's container), made if missing; unset: its parent's (incremental), else the default." },
      incremental: { type: 'boolean', default: false, description: 'Store only the chunks that changed since the latest backup of the volume.' },
      force: { type: 'boolean', default: false, description: 'Back it up even while attached.' },
    },
  },
  status: {
    id: { type: 'string' },
    projectId: { type: 'string' },
    volumeId: { type: 'string' },
    snapshotId: { type: 'string' },
    volumeMetadata: stringMap("The volume's metadata when backed up: a restore gives it to the volume restored into, as Cinder's does."),
    sizeGiB: { type: 'integer' },
    container: { type: 'string', description: 'The bucket holding its chunks.' },
    prefix: { type: 'string', description: 'The key prefix of its manifest and chunks.' },
    parent: { type: 'string', description: 'The backup (object name) an incremental one builds on.' },
    parentId: { type: 'string' },
    objectCount: { type: 'integer', description: 'Chunks this backup stored itself.' },
    dataBytes: { type: 'integer' },
    hasDependentBackups: { type: 'boolean' },
    restoring: { type: 'string', description: 'The volume a restore is writing into now.' },
    reset: RESET_MARK,
  },
  phases: BACKUP_PHASES,
  columns: [DISPLAY_NAME_COLUMN, { name: 'Volume', type: 'string', jsonPath: '.spec.volume' }, { name: 'Incremental', type: 'boolean', jsonPath: '.spec.incremental' }, { name: 'Size', type: 'integer', jsonPath: '.status.sizeGiB' }, ID_COLUMN],
};

export const VolumeAttachmentKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'VolumeAttachment',
  plural: 'volumeattachments',
  scope: 'Namespaced',
  shortNames: ['volattach'],
  description:
    "A Volume attached to an Instance of the same namespace (a Cinder attachment, Nova's volume attachment): Cinder reserves the volume and says how to reach it; the instance's node plugs it into the guest (hot-plug while it runs). Deleting it detaches.",
  spec: {
    required: ['volume', 'instance'],
    properties: {
      volume: { type: 'string', minLength: 1, description: 'The Volume (object name).' },
      instance: { type: 'string', minLength: 1, description: 'The Instance (object name).' },
      device: { type: 'string', pattern: '^/dev/[a-z]+$', description: 'The device name asked for (/dev/vdb); unset: the next free one.' },
      bootIndex: { type: 'integer', minimum: 0, description: '0: the instance boots from it (boot from volume).' },
      deleteOnTermination: { type: 'boolean', default: false, description: 'Delete the volume when the instance is deleted.' },
      tag: { type: 'string', maxLength: 60, description: 'A device tag the guest sees in its metadata.' },
    },
  },
  status: {
    id: { type: 'string', description: "The attachment's ID (Nova's and Cinder's attachment_id)." },
    volumeId: { type: 'string' },
    serverId: { type: 'string', description: 'The instance as the node found it.' },
    host: { type: 'string', description: 'The compute node it is plugged in on.' },
    device: { type: 'string', description: 'The device the guest has it as.' },
    attachedAt: { type: 'string', format: 'date-time' },
    sizeGiB: { type: 'integer', description: 'The size the guest was last given (online extend).' },
    connection: { ...CONNECTION, description: "What Cinder handed out for this attachment (initialize_connection's connection info)." },
  },
  phases: ATTACHMENT_PHASES,
  columns: [{ name: 'Volume', type: 'string', jsonPath: '.spec.volume' }, { name: 'Instance', type: 'string', jsonPath: '.spec.instance' }, { name: 'Device', type: 'string', jsonPath: '.status.device' }, ID_COLUMN],
};

export const KINDS: KindDefinition[] = [VolumeTypeKind, QosSpecKind, VolumeGroupTypeKind, VolumeGroupKind, VolumeGroupSnapshotKind, VolumeKind, VolumeSnapshotKind, VolumeBackupKind, VolumeAttachmentKind];
