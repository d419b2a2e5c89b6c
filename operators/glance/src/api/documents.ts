/**
 * Glance's image document and the Image resource, each way: the JSON clients send and read, the spec it is
 * kept in. Core attributes map to spec fields; every other string attribute is a free-form property.
 */
import { CONTAINER_FORMATS, DISK_FORMATS, VISIBILITIES } from '../kinds.js';
import { imageIdOf, isUuid, type Image, type ImageSpec } from '../resources.js';
import { badRequest, conflict, forbidden } from './errors.js';

/** Attributes a client may set, and the spec field each lives in. */
const WRITABLE: Record<string, keyof ImageSpec> = {
  name: 'displayName',
  visibility: 'visibility',
  protected: 'protected',
  os_hidden: 'hidden',
  min_disk: 'minDisk',
  min_ram: 'minRam',
  disk_format: 'diskFormat',
  container_format: 'containerFormat',
  tags: 'tags',
  owner: 'owner',
};
/** Attributes Glance computes; a client may not set them (403, as Glance says it). */
export const READ_ONLY = new Set([
  'id', 'status', 'checksum', 'os_hash_algo', 'os_hash_value', 'size', 'virtual_size', 'created_at', 'updated_at', 'self', 'file', 'schema',
  'locations', 'direct_url', 'stores', 'os_glance_import_task', 'deleted', 'deleted_at',
]);

/** The attributes a client may change, as a flat Glance document (properties at the top level). */
export type ImageDoc = Record<string, unknown>;

export function docOfSpec(spec: ImageSpec): ImageDoc {
  const doc: ImageDoc = { ...(spec.properties ?? {}) };
  for (const [attr, field] of Object.entries(WRITABLE)) if (spec[field] !== undefined) doc[attr] = spec[field];
  return doc;
}

/** Checks a document's values, naming the attribute that is wrong as Glance does. */
export function validateDoc(doc: ImageDoc): void {
  const invalid = (attr: string, why: string) => badRequest(`Invalid value for '${attr}': ${why}`);
  for (const [attr, v] of Object.entries(doc)) {
    if (v === null || v === undefined) continue;
    switch (attr) {
      case 'name':
        if (typeof v !== 'string' || v.length > 255) throw invalid(attr, 'a string of at most 255 characters');
        break;
      case 'visibility':
        if (!VISIBILITIES.includes(v as never)) throw invalid(attr, `one of ${VISIBILITIES.join(', ')}`);
        break;
      case 'disk_format':
        if (!(String(v) in DISK_FORMATS)) throw invalid(attr, `one of ${Object.keys(DISK_FORMATS).join(', ')}`);
        break;
      case 'container_format':
        if (!CONTAINER_FORMATS.includes(String(v))) throw invalid(attr, `one of ${CONTAINER_FORMATS.join(', ')}`);
        break;
      case 'protected':
      case 'os_hidden':
        if (typeof v !== 'boolean') throw invalid(attr, 'true or false');
        break;
      case 'min_disk':
      case 'min_ram':
        // Glance keeps them as 32-bit integers: 1e300 is not a size.
        if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0x7fffffff) throw invalid(attr, 'a whole number from 0 to 2147483647');
        break;
      case 'owner':
        if (typeof v !== 'string' || !v || v.length > 255) throw invalid(attr, 'a project ID of at most 255 characters');
        break;
      case 'tags':
        if (!Array.isArray(v) || v.some((t) => typeof t !== 'string' || t.length > 255)) throw invalid(attr, 'a list of strings of at most 255 characters');
        break;
      default:
        if (READ_ONLY.has(attr)) throw forbidden(`Attribute '${attr}' is read-only.`);
        if (typeof v !== 'string') throw invalid(attr, 'an extra property must be a string');
        if (attr.length > 255) throw badRequest(`Property name '${attr.slice(0, 40)}…' is longer than 255 characters.`);
    }
  }
}

/** The spec a document describes, keeping what the document cannot say (source, members, deactivated). */
export function specOfDoc(doc: ImageDoc, base: ImageSpec = {}): ImageSpec {
  const spec: ImageSpec = { source: base.source, members: base.members, deactivated: base.deactivated };
  const properties: Record<string, string> = {};
  for (const [attr, v] of Object.entries(doc)) {
    if (v === null || v === undefined) continue;
    const field = WRITABLE[attr];
    if (field) (spec as Record<string, unknown>)[field] = attr === 'tags' ? [...new Set(v as string[])] : v;
    else properties[attr] = v as string;
  }
  if (Object.keys(properties).length) spec.properties = properties;
  return JSON.parse(JSON.stringify(spec));
}

export interface PatchOp {
  op: string;
  path: string;
  value?: unknown;
}

/**
 * Applies an openstack-images-v2.1-json-patch to the document. Paths name one attribute (`/name`); Glance's
 * rules: read-only attributes are 403, replacing or removing an absent property is 409, formats change
 * only while the image has no data.
 */
export function applyPatch(doc: ImageDoc, ops: unknown, opts: { hasData: boolean; dialect?: '2.0' | '2.1' }): ImageDoc {
  if (!Array.isArray(ops)) throw badRequest('The request body must be a JSON array of patch operations.');
  const out: ImageDoc = { ...doc };
  for (const given of ops as PatchOp[]) {
    const raw = opts.dialect === '2.0' ? fromV20(given) : given;
    if (!raw || typeof raw !== 'object' || typeof raw.path !== 'string') throw badRequest('Each patch operation needs "op" and "path".');
    const attr = raw.path.replace(/^\//, '').replace(/~1/g, '/').replace(/~0/g, '~');
    if (!attr || (attr.includes('/') && !attr.startsWith('tags'))) throw badRequest(`Invalid JSON pointer for this resource: '${raw.path}'`);
    if (READ_ONLY.has(attr)) throw forbidden(`Attribute '${attr}' is read-only.`);
    if ((attr === 'disk_format' || attr === 'container_format') && opts.hasData) throw forbidden(`Attribute ${attr} can be only replaced for a queued image.`);
    switch (raw.op) {
      case 'add':
        out[attr] = raw.value;
        break;
      case 'replace':
        if (!(attr in WRITABLE) && !(attr in out)) throw conflict(`Property ${attr} does not exist.`);
        out[attr] = raw.value;
        break;
      case 'remove':
        if (attr in WRITABLE && attr !== 'tags') throw forbidden(`Attribute '${attr}' cannot be removed.`);
        if (!(attr in out)) throw conflict(`Property ${attr} does not exist.`);
        delete out[attr];
        break;
      default:
        throw badRequest(`Invalid operation: '${raw.op}'. It must be one of: add, replace, remove.`);
    }
  }
  validateDoc(out);
  return out;
}

const PATCH_OPS = ['add', 'replace', 'remove'] as const;

/**
 * An operation of openstack-images-v2.0-json-patch, where the operation names its path (`{"replace":
 * "/name", "value": …}`), in the 2.1 form (`{"op": "replace", "path": "/name", …}`).
 */
function fromV20(op: unknown): PatchOp {
  if (!op || typeof op !== 'object') return op as PatchOp;
  const o = op as Record<string, unknown>;
  const named = PATCH_OPS.filter((k) => typeof o[k] === 'string');
  if (named.length !== 1) throw badRequest('Each patch operation needs exactly one of "add", "replace" or "remove", naming its path.');
  return { op: named[0], path: o[named[0]] as string, ...('value' in o ? { value: o.value } : {}) } as PatchOp;
}

const iso = (t: Date | string | undefined) => (t ? new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z') : null);

/** The image as Glance shows it: core attributes, status fields, links, then its properties at the top level. */
export function imageView(img: Image, owner: string | undefined): Record<string, unknown> {
  const { spec, status = {} } = img;
  const id = imageIdOf(img);
  const times = (img.metadata.managedFields ?? []).map((f) => (f.time ? Date.parse(String(f.time)) : 0));
  const created = iso(img.metadata.creationTimestamp);
  const updated = times.length ? iso(new Date(Math.max(...times, Date.parse(created ?? '0')))) : created;
  return {
    ...(spec.properties ?? {}),
    id,
    // Images made through this API are named by their ID; without a display name Glance shows null.
    name: spec.displayName ?? (isUuid(img.metadata.name) ? null : img.metadata.name),
    status: status.phase ?? 'queued',
    visibility: spec.visibility ?? 'shared',
    protected: spec.protected ?? false,
    os_hidden: spec.hidden ?? false,
    checksum: status.checksum ?? null,
    os_hash_algo: status.osHashAlgo ?? null,
    os_hash_value: status.osHashValue ?? null,
    owner: spec.owner ?? owner ?? status.owner ?? null,
    size: status.size ?? null,
    virtual_size: status.virtualSize ?? null,
    min_disk: spec.minDisk ?? 0,
    min_ram: spec.minRam ?? 0,
    disk_format: spec.diskFormat ?? null,
    container_format: spec.containerFormat ?? null,
    tags: spec.tags ?? [],
    created_at: created,
    updated_at: updated,
    ...(status.location ? { stores: 's3' } : {}),
    self: `/v2/images/${id}`,
    file: `/v2/images/${id}/file`,
    schema: '/v2/schemas/image',
  };
}

/** GET /v2/schemas/image: the document a client may send and will read. */
export function imageSchema(): Record<string, unknown> {
  const str = (description: string, extra: object = {}) => ({ type: ['null', 'string'], description, ...extra });
  return {
    name: 'image',
    additionalProperties: { type: 'string' },
    properties: {
      id: { type: 'string', pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$', description: 'An identifier for the image' },
      name: str('Descriptive name for the image', { maxLength: 255 }),
      status: { type: 'string', readOnly: true, enum: ['queued', 'saving', 'active', 'killed', 'deleted', 'uploading', 'importing', 'pending_delete', 'deactivated'], description: 'Status of the image' },
      visibility: { type: 'string', enum: [...VISIBILITIES], description: 'Scope of image accessibility' },
      protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
      os_hidden: { type: 'boolean', description: 'If true, image will not appear in default image list response.' },
      checksum: str('md5 hash of image contents.', { readOnly: true, maxLength: 32 }),
      os_hash_algo: str('Algorithm to calculate the os_hash_value', { readOnly: true, maxLength: 64 }),
      os_hash_value: str('Hexdigest of the image contents using the algorithm specified by the os_hash_algo', { readOnly: true, maxLength: 128 }),
      owner: str('Owner of the image', { maxLength: 255 }),
      size: { type: ['null', 'integer'], readOnly: true, description: 'Size of image file in bytes' },
      virtual_size: { type: ['null', 'integer'], readOnly: true, description: 'Virtual size of image in bytes' },
      container_format: { type: ['null', 'string'], enum: [null, ...CONTAINER_FORMATS], description: 'Format of the container' },
      disk_format: { type: ['null', 'string'], enum: [null, ...Object.keys(DISK_FORMATS)], description: 'Format of the disk' },
      created_at: { type: 'string', readOnly: true, description: 'Date and time of image registration' },
      updated_at: { type: 'string', readOnly: true, description: 'Date and time of the last image modification' },
      tags: { type: 'array', items: { type: 'string', maxLength: 255 }, description: 'List of strings related to the image' },
      min_ram: { type: 'integer', description: 'Amount of ram (in MB) required to boot image.' },
      min_disk: { type: 'integer', description: 'Amount of disk space (in GB) required to boot image.' },
      self: { type: 'string', readOnly: true, description: 'An image self url' },
      file: { type: 'string', readOnly: true, description: 'An image file url' },
      stores: { type: 'string', readOnly: true, description: 'Store in which image data resides.' },
      schema: { type: 'string', readOnly: true, description: 'An image schema url' },
    },
    links: [
      { rel: 'self', href: '{self}' },
      { rel: 'enclosure', href: '{file}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}
