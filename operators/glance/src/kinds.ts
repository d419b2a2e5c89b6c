/** The image.stratus.io kinds: the one definition each CRD under crds/ is generated from. */
import type { KindDefinition } from '@stratus/runtime';

/** Glance's disk formats, and the qemu-img driver that reads each (undefined: not a disk qemu-img can inspect). */
export const DISK_FORMATS: Record<string, string | undefined> = {
  raw: 'raw',
  qcow2: 'qcow2',
  iso: 'raw',
  vmdk: 'vmdk',
  vdi: 'vdi',
  vhd: 'vpc',
  vhdx: 'vhdx',
  ploop: 'parallels',
  ami: 'raw',
  ari: undefined,
  aki: undefined,
};
export const CONTAINER_FORMATS = ['bare', 'ovf', 'ova', 'ami', 'ari', 'aki', 'docker', 'compressed'];
export const VISIBILITIES = ['public', 'private', 'shared', 'community'] as const;
export type Visibility = (typeof VISIBILITIES)[number];
/** Glance's image status words. */
export const IMAGE_PHASES = ['queued', 'saving', 'importing', 'active', 'killed', 'deactivated'] as const;
export type ImagePhase = (typeof IMAGE_PHASES)[number];

export const ImageKind: KindDefinition = {
  group: 'image.stratus.io',
  version: 'v1alpha1',
  kind: 'Image',
  plural: 'images',
  scope: 'Namespaced',
  shortNames: ['img'],
  description:
    "A disk image (an OpenStack Glance image) in its tenant's namespace, its data in S3. The data comes from an upload through the Image API, an HTTP(S) URL, or a copy of another image.",
  spec: {
    properties: {
      displayName: { type: 'string', maxLength: 255, description: "The image's OpenStack name; metadata.name when unset." },
      diskFormat: { type: 'string', enum: Object.keys(DISK_FORMATS), description: 'The format of the disk data; checked against the data with qemu-img.' },
      containerFormat: { type: 'string', enum: CONTAINER_FORMATS, default: 'bare' },
      visibility: {
        type: 'string',
        enum: [...VISIBILITIES],
        default: 'shared',
        description: 'public: every tenant sees it; community: every tenant may use it but lists show it only when asked; shared: the owner and spec.members; private: the owner only.',
      },
      members: { type: 'array', items: { type: 'string' }, description: 'Tenants a shared image is shared with (the owner says who).' },
      owner: { type: 'string', maxLength: 255, description: "Glance's owner (a project ID) where an admin named one other than the tenant whose namespace holds the image; that project owns it." },
      memberStatus: {
        type: 'object',
        description: "Each member's answer, which only that member gives through the Image API: pending (unset), accepted (its lists show the image) or rejected.",
        additionalProperties: {
          type: 'object',
          properties: {
            status: { type: 'string', enum: ['pending', 'accepted', 'rejected'] },
            createdAt: { type: 'string', format: 'date-time' },
            updatedAt: { type: 'string', format: 'date-time' },
          },
        },
      },
      minDisk: { type: 'integer', minimum: 0, maximum: 2147483647, default: 0, description: 'GiB of disk an instance needs to boot it.' },
      minRam: { type: 'integer', minimum: 0, maximum: 2147483647, default: 0, description: 'MiB of RAM an instance needs to boot it.' },
      protected: { type: 'boolean', default: false, description: 'A protected image cannot be deleted until this is false.' },
      hidden: { type: 'boolean', default: false, description: "Glance's os_hidden: left out of lists unless asked for." },
      deactivated: { type: 'boolean', default: false, description: 'A deactivated image keeps its data, but only admins may download or boot it.' },
      tags: { type: 'array', items: { type: 'string', maxLength: 255 } },
      properties: { type: 'object', additionalProperties: { type: 'string' }, description: 'Free-form key/value properties (hw_*, os_distro, …).' },
      source: {
        type: 'object',
        description: 'Where the data comes from; empty means it is uploaded through the Image API (PUT /v2/images/{id}/file).',
        maxProperties: 2,
        properties: {
          url: { type: 'string', pattern: '^https?://', description: 'Import from this HTTP(S) URL (web-download).' },
          copyFrom: {
            type: 'object',
            required: ['name'],
            description: 'Copy the data of another image this tenant may see.',
            properties: { namespace: { type: 'string', description: "The source image's namespace; this image's when unset." }, name: { type: 'string' } },
          },
          checksum: { type: 'string', pattern: '^[0-9a-fA-F]{32}$', description: 'The md5 the imported data must have; a mismatch kills the image.' },
          instance: {
            type: 'object',
            required: ['name'],
            description: "A snapshot of an Instance in this namespace: the node agent running it writes the data (Nova's createImage).",
            properties: { name: { type: 'string' } },
          },
          volume: {
            type: 'object',
            required: ['name'],
            description: "A copy of a Volume in this namespace: the block storage service writes the data (Cinder's os-volume_upload_image).",
            properties: { name: { type: 'string' } },
          },
        },
      },
    },
  },
  status: {
    imageId: { type: 'string', description: 'The OpenStack image ID.' },
    owner: { type: 'string', description: 'The project ID of the owning tenant.' },
    size: { type: 'integer', format: 'int64', description: 'Bytes of image data.' },
    virtualSize: { type: 'integer', format: 'int64', description: 'The disk size the data describes, from qemu-img info.' },
    checksum: { type: 'string', description: 'md5 of the data, hex.' },
    osHashAlgo: { type: 'string' },
    osHashValue: { type: 'string' },
    location: { type: 'string', description: 'Where the data is stored: s3://bucket/key.' },
    uploadStartedAt: { type: 'string', format: 'date-time' },
    uploadHeartbeat: { type: 'string', format: 'date-time', description: 'Renewed while an upload is under way; a stale one means the uploader died.' },
  },
  phases: [...IMAGE_PHASES],
  columns: [
    { name: 'Display Name', type: 'string', jsonPath: '.spec.displayName' },
    { name: 'Disk Format', type: 'string', jsonPath: '.spec.diskFormat' },
    { name: 'Visibility', type: 'string', jsonPath: '.spec.visibility' },
    { name: 'Size', type: 'integer', jsonPath: '.status.size' },
    { name: 'ID', type: 'string', jsonPath: '.status.imageId', priority: 1 },
    { name: 'Checksum', type: 'string', jsonPath: '.status.checksum', priority: 1 },
  ],
};

const free = (description: string) => ({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description });

export const MetadefNamespaceKind: KindDefinition = {
  group: 'image.stratus.io',
  version: 'v1alpha1',
  kind: 'MetadefNamespace',
  plural: 'metadefnamespaces',
  scope: 'Cluster',
  shortNames: ['mdns'],
  description: "A namespace of Glance's metadata definitions catalog: property schemas, objects and tags that tools (Horizon's image metadata forms) offer for the resource types it is associated with.",
  spec: {
    required: ['namespace'],
    properties: {
      namespace: { type: 'string', minLength: 1, maxLength: 80, description: "The namespace's unique name, as Glance's API names it." },
      displayName: { type: 'string', maxLength: 80 },
      description: { type: 'string', maxLength: 500 },
      visibility: { type: 'string', enum: ['public', 'private'], default: 'private' },
      protected: { type: 'boolean', default: false, description: 'A protected namespace cannot be deleted.' },
      owner: { type: 'string', description: 'The owning project ID.' },
      resourceTypeAssociations: { type: 'array', items: free('A resource type association: name, prefix, properties_target.') },
      properties: free('Property definitions (JSON schema), by name.'),
      objects: { type: 'array', items: free('An object: name, description, required, properties.') },
      tags: { type: 'array', items: free('A tag: name.') },
    },
  },
  phases: ['Active'],
  columns: [{ name: 'Namespace', type: 'string', jsonPath: '.spec.namespace' }, { name: 'Visibility', type: 'string', jsonPath: '.spec.visibility' }],
};

export const KINDS = [ImageKind, MetadefNamespaceKind];
