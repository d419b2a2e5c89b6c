/**
 * The verbs on resources, independent of HTTP: each takes a resource type and plain values, and returns the
 * object written or read, or throws an ApiError. This is where Kubernetes' object semantics live.
 */
import { randomUUID } from 'node:crypto';
import {
  alreadyExists,
  applyConflict,
  strategicPatchUnsupported,
  ApiError,
  badRequest,
  conflict,
  invalid,
  notFound,
  type ErrorSubject,
  type StatusCause,
} from './errors.js';
import { recordUpdate, serverSideApply } from './managedfields.js';
import { objectShape, type Shape } from './listTypes.js';
import { deepEqual, isPlainObject, jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import type { Registry } from './registry.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { Store, Stored } from './store.js';
import { apiVersionOf, type KObject, type ResourceType } from './types.js';
import { CRD_STORAGE_KEY, NAMESPACE_STORAGE_KEY, SECRET_STORAGE_KEY } from './builtin.js';
import { validateCrd } from './registry.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  dryRun?: boolean;
  /** Server-side apply's own field set for an object it creates (instead of an Update entry). */
  appliedFields?: KObject['metadata']['managedFields'];
  fieldManager?: string;
  fieldValidation?: FieldValidation;
  /** Collects `Warning` headers for the response. */
  warnings?: string[];
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

export interface ListOptions {
  labelSelector?: string | null;
  fieldSelector?: string | null;
  limit?: number;
  continueToken?: string | null;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export const FOREGROUND_FINALIZER = 'foregroundDeletion';
export const ORPHAN_FINALIZER = 'orphan';
export const NAMESPACE_FINALIZER = 'kubernetes';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const META_FIELDS = new Set([
  'name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp',
  'deletionGracePeriodSeconds', 'labels', 'annotations', 'finalizers', 'ownerReferences', 'managedFields', 'selfLink',
]);
const GENERATE_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** RFC 3339 at second precision, as Kubernetes stamps metav1.Time. */
export const timestamp = (d = new Date()) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export const subjectOf = (t: ResourceType, name?: string): ErrorSubject => ({ group: t.group, resource: t.resource, kind: t.kind, name });

/** An object as read through a given version: the stored object with that version's apiVersion. */
export function asVersion(t: ResourceType, obj: KObject): KObject {
  const apiVersion = apiVersionOf(t);
  return obj.apiVersion === apiVersion ? obj : { ...obj, apiVersion };
}

const shapes = new WeakMap<ResourceType, Shape>();
/** How this type's lists merge under apply and strategic merge patch (its CRD's schema, or the built-in shape). */
function shapeOf(t: ResourceType): Shape {
  let s = shapes.get(t);
  if (!s) shapes.set(t, (s = objectShape(t.storageKey, t.schema?.openapi)));
  return s;
}

/** The parts of an object that count as spec for `metadata.generation`: everything but metadata and status. */
function specPart(obj: KObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

export class Resources {
  constructor(
    readonly store: Store,
    readonly registry: Registry,
  ) {}

  get(t: ResourceType, namespace: string | undefined, name: string): KObject {
    const stored = this.store.get(t.storageKey, scopedNamespace(t, namespace), name);
    if (!stored) throw notFound(subjectOf(t, name));
    return asVersion(t, stored.obj);
  }

  getStored(t: ResourceType, namespace: string | undefined, name: string): Stored | undefined {
    return this.store.get(t.storageKey, scopedNamespace(t, namespace), name);
  }

  /** Objects matching the selectors, paged by `limit` and an opaque continue token. */
  list(t: ResourceType, namespace: string | undefined, opts: ListOptions): { items: Stored[]; revision: number; continueToken?: string; remaining?: number } {
    const labels = parseLabelSelector(opts.labelSelector);
    const fields = parseFieldSelector(opts.fieldSelector);
    // No namespace on a namespaced kind means every namespace (GET /apis/g/v/plural, kubectl -A), not "default".
    let all = this.store.list(t.storageKey, t.namespaced ? namespace : undefined).filter((s) => labels(s.obj) && fields(s.obj));
    let revision = this.store.currentRevision();
    if (opts.continueToken) {
      const token = decodeContinue(opts.continueToken);
      revision = token.rv;
      all = all.filter((s) => itemOrderKey(s.obj) > token.start);
    }
    if (opts.limit && opts.limit > 0 && all.length > opts.limit) {
      const page = all.slice(0, opts.limit);
      const start = itemOrderKey(page[page.length - 1].obj);
      return { items: page, revision, continueToken: encodeContinue({ rv: revision, start }), remaining: all.length - page.length };
    }
    return { items: all, revision };
  }

  create(t: ResourceType, namespace: string | undefined, body: unknown, opts: WriteOptions): KObject {
    const obj = this.checkBody(t, body, namespace);
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = generateName(meta.generateName);
    if (!meta.name) throw invalid(subjectOf(t), [{ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' }]);
    const ns = scopedNamespace(t, namespace ?? meta.namespace);
    if (t.namespaced) this.requireActiveNamespace(ns!);
    if (this.store.get(t.storageKey, ns, meta.name)) throw alreadyExists(subjectOf(t, meta.name));
    const now = timestamp();
    obj.metadata = {
      ...meta,
      ...(t.namespaced ? { namespace: ns } : {}),
      uid: randomUUID(),
      creationTimestamp: now,
      generation: 1,
    };
    delete obj.metadata.resourceVersion;
    delete obj.metadata.deletionTimestamp;
    delete obj.metadata.deletionGracePeriodSeconds;
    if (t.hasStatus && t.schema) delete obj.status;
    // kube-apiserver's defaulting for the built-in kinds that have any.
    if (t.storageKey === SECRET_STORAGE_KEY && !obj.type) obj.type = 'Opaque';
    if (t.storageKey === NAMESPACE_STORAGE_KEY) {
      obj.spec = { finalizers: [NAMESPACE_FINALIZER] };
      obj.status = { phase: 'Active' };
    }
    this.admit(t, obj, opts);
    obj.metadata.managedFields = opts.appliedFields ?? recordUpdate(undefined, obj, opts.fieldManager ?? 'unknown', undefined, now, shapeOf(t));
    return this.write(t, obj, opts);
  }

  /** PUT: replaces the object (or only its status through the status subresource). */
  update(t: ResourceType, namespace: string | undefined, name: string, body: unknown, opts: WriteOptions, subresource?: string): KObject {
    const incoming = this.checkBody(t, body, namespace);
    if (incoming.metadata.name && incoming.metadata.name !== name)
      throw badRequest(`the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`);
    incoming.metadata.name = name;
    const current = this.getStored(t, namespace, name);
    if (!current) {
      if (subresource) throw notFound(subjectOf(t, name));
      return this.create(t, namespace, incoming, opts);
    }
    if (incoming.metadata.resourceVersion && incoming.metadata.resourceVersion !== current.obj.metadata.resourceVersion)
      throw conflict(subjectOf(t, name), 'the object has been modified; please apply your changes to the latest version and try again');
    return this.replace(t, current.obj, incoming, opts, subresource);
  }

  patch(t: ResourceType, namespace: string | undefined, name: string, type: PatchType, patch: unknown, opts: WriteOptions & { force?: boolean }, subresource?: string): KObject {
    const current = this.getStored(t, namespace, name);
    if (type === 'apply') return this.apply(t, namespace, name, current?.obj, patch, opts, subresource);
    if (!current) throw notFound(subjectOf(t, name));
    const live = asVersion(t, current.obj);
    let next: unknown;
    if (type === 'json') next = jsonPatch(live, patch, subjectOf(t, name));
    else if (!isPlainObject(patch)) throw badRequest('patch body must be a JSON object');
    else if (type === 'merge') next = mergePatch(live, patch);
    else if (t.crdName) throw strategicPatchUnsupported();
    else next = strategicMergePatch(live, patch, shapeOf(t));
    const obj = this.checkBody(t, next, namespace);
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== current.obj.metadata.resourceVersion)
      throw conflict(subjectOf(t, name), 'the object has been modified; please apply your changes to the latest version and try again');
    return this.replace(t, current.obj, obj, opts, subresource);
  }

  /** DELETE: removes the object, or marks it terminating while finalizers (or dependents, in foreground) remain. */
  delete(t: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions): KObject {
    const current = this.getStored(t, namespace, name);
    if (!current) throw notFound(subjectOf(t, name));
    const obj = current.obj;
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== obj.metadata.uid)
      throw conflict(subjectOf(t, name), `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`);
    if (pre?.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion)
      throw conflict(subjectOf(t, name), `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`);

    const finalizers = [...(obj.metadata.finalizers ?? [])];
    const policy = opts.propagationPolicy ?? 'Background';
    if (policy === 'Foreground' && !finalizers.includes(FOREGROUND_FINALIZER)) finalizers.push(FOREGROUND_FINALIZER);
    if (policy === 'Orphan' && !finalizers.includes(ORPHAN_FINALIZER)) finalizers.push(ORPHAN_FINALIZER);
    const isNamespace = t.storageKey === NAMESPACE_STORAGE_KEY;

    if (finalizers.length === 0 && !isNamespace) {
      if (opts.dryRun) return asVersion(t, obj);
      return asVersion(t, this.store.remove(t.storageKey, obj.metadata.namespace, name)!.obj);
    }
    if (obj.metadata.deletionTimestamp && deepEqual(finalizers, obj.metadata.finalizers ?? [])) return asVersion(t, obj);
    const terminating: KObject = {
      ...obj,
      metadata: { ...obj.metadata, finalizers, deletionTimestamp: obj.metadata.deletionTimestamp ?? timestamp(), deletionGracePeriodSeconds: 0 },
    };
    if (isNamespace) terminating.status = { ...(obj.status as object), phase: 'Terminating' };
    if (finalizers.length === 0) delete terminating.metadata.finalizers;
    if (opts.dryRun) return asVersion(t, terminating);
    return asVersion(t, this.store.put(t.storageKey, terminating).obj);
  }

  /** Writes an object the server itself changes (controllers): no admission, just the store's semantics. */
  writeInternal(t: ResourceType, obj: KObject): KObject {
    return this.write(t, obj, {});
  }

  private apply(t: ResourceType, namespace: string | undefined, name: string, live: KObject | undefined, patch: unknown, opts: WriteOptions & { force?: boolean }, subresource?: string): KObject {
    if (!opts.fieldManager) throw badRequest('PATCH, fieldManager: Required value: is required for apply patch');
    const applied = this.checkBody(t, patch, namespace);
    if (!applied.apiVersion || !applied.kind) throw badRequest('apply patch must name apiVersion and kind');
    if (applied.metadata.name && applied.metadata.name !== name)
      throw badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`);
    applied.metadata.name = name;
    if (live && applied.metadata.resourceVersion && applied.metadata.resourceVersion !== live.metadata.resourceVersion)
      throw conflict(subjectOf(t, name), 'the object has been modified; please apply your changes to the latest version and try again');
    const now = timestamp();
    const skipStatus = t.hasStatus && subresource !== 'status';
    const result = serverSideApply(live ? asVersion(t, live) : undefined, applied, opts.fieldManager, !!opts.force, skipStatus, now, shapeOf(t));
    if (result.conflicts.length) throw applyConflict(subjectOf(t, name), result.conflicts);
    if (!live) return this.create(t, namespace, result.object, { ...opts, appliedFields: result.object.metadata.managedFields });
    return this.replace(t, live, result.object, { ...opts, keepManagedFields: true } as WriteOptions, subresource);
  }

  /** The shared update path: status split, immutable metadata, generation, admission, finalization. */
  private replace(t: ResourceType, current: KObject, incoming: KObject, opts: WriteOptions & { keepManagedFields?: boolean }, subresource?: string): KObject {
    if (subresource && subresource !== 'status') throw notFound({ ...subjectOf(t, current.metadata.name), resource: `${t.resource}/${subresource}` });
    if (subresource === 'status' && !t.hasStatus) throw notFound(subjectOf(t, current.metadata.name));
    let next: KObject;
    if (subresource === 'status') {
      next = { ...current, status: incoming.status };
      if (incoming.status === undefined) delete next.status;
    } else {
      next = { ...incoming, metadata: { ...incoming.metadata } };
      if (t.hasStatus) {
        if (current.status === undefined) delete next.status;
        else next.status = current.status;
      }
    }
    const m = next.metadata;
    const cm = current.metadata;
    m.name = cm.name;
    if (t.namespaced) m.namespace = cm.namespace;
    m.uid = cm.uid;
    m.creationTimestamp = cm.creationTimestamp;
    m.resourceVersion = cm.resourceVersion;
    if (cm.deletionTimestamp) {
      m.deletionTimestamp = cm.deletionTimestamp;
      m.deletionGracePeriodSeconds = cm.deletionGracePeriodSeconds;
    } else {
      delete m.deletionTimestamp;
      delete m.deletionGracePeriodSeconds;
    }
    if (subresource === 'status') m.generation = cm.generation;
    else m.generation = deepEqual(specPart(current), specPart(next)) ? cm.generation : (cm.generation ?? 1) + 1;
    if (t.storageKey === NAMESPACE_STORAGE_KEY && subresource !== 'status') {
      next.spec = current.spec;
    }
    if (cm.deletionTimestamp) {
      const added = (m.finalizers ?? []).filter((f) => !(cm.finalizers ?? []).includes(f));
      if (added.length)
        throw invalid(subjectOf(t, cm.name), [{ reason: 'FieldValueForbidden', message: 'Forbidden: no new finalizers can be added if the object is being deleted', field: 'metadata.finalizers' }]);
    }
    if (subresource !== 'status') this.admit(t, next, opts, asVersion(t, current));
    if (!opts.keepManagedFields) m.managedFields = recordUpdate(asVersion(t, current), next, opts.fieldManager ?? 'unknown', subresource, timestamp(), shapeOf(t));
    else if (subresource === 'status') m.managedFields = next.metadata.managedFields;
    // A no-op write (an apply of what is there already) changes nothing, not even its managers' times, as
    // Kubernetes skips it: the resourceVersion stays, and nothing watching sees an update.
    if (deepEqual(withoutVolatile(current), withoutVolatile(next)) && deepEqual(untimed(current.metadata.managedFields), untimed(m.managedFields))) return asVersion(t, current);

    // The last finalizer gone from a terminating object: the object goes (namespaces have their own).
    if (cm.deletionTimestamp && !(m.finalizers?.length) && t.storageKey !== NAMESPACE_STORAGE_KEY) {
      if (opts.dryRun) return asVersion(t, next);
      return asVersion(t, this.store.remove(t.storageKey, cm.namespace, cm.name!)!.obj);
    }
    return this.write(t, next, opts);
  }

  private write(t: ResourceType, obj: KObject, opts: WriteOptions): KObject {
    const storageType = this.registry.storageType(t.storageKey) ?? t;
    const stored = { ...obj, apiVersion: apiVersionOf(storageType) };
    if (!stored.metadata.finalizers?.length) delete stored.metadata.finalizers;
    if (opts.dryRun) return asVersion(t, stored);
    return asVersion(t, this.store.put(t.storageKey, stored).obj);
  }

  /** Schema pruning, defaulting, validation and CEL rules (custom resources), and metadata validation (all kinds). */
  private admit(t: ResourceType, obj: KObject, opts: WriteOptions, old?: KObject): void {
    const causes: StatusCause[] = [];
    const pruned = pruneMetadata(obj);
    if (t.schema) {
      pruned.push(...t.schema.prune(obj));
      const validation = opts.fieldValidation ?? 'Ignore';
      if (pruned.length && validation === 'Strict')
        throw badRequest(
          `${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: strict decoding error: ${pruned.map((p) => `unknown field "${p}"`).join(', ')}`,
          pruned.map((p) => ({ reason: 'FieldValueInvalid', message: `unknown field "${p}"`, field: p })),
        );
      if (pruned.length && validation === 'Warn') opts.warnings?.push(...pruned.map((p) => `unknown field "${p}"`));
      t.schema.applyDefaults(obj);
      const checked = t.hasStatus ? { ...obj, status: undefined } : obj;
      if (t.hasStatus) delete (checked as Record<string, unknown>).status;
      causes.push(...t.schema.validate(checked));
      // CEL rules see a value only once it has its schema's shape, as Kubernetes evaluates them after it.
      if (!causes.length) causes.push(...t.schema.validateRules(checked, old && t.hasStatus ? { ...old, status: undefined } : old));
    }
    causes.push(...validateMetadata(t, obj));
    if (causes.length === 0 && t.storageKey === CRD_STORAGE_KEY) validateCrd(obj);
    if (causes.length) throw invalid(subjectOf(t, obj.metadata.name), causes);
  }

  /** Parses a request body into an object of this type, checking apiVersion and kind when given. */
  private checkBody(t: ResourceType, body: unknown, namespace: string | undefined): KObject {
    if (!isPlainObject(body)) throw badRequest('the body of the request must be a JSON or YAML object');
    const obj = structuredClone(body) as KObject;
    const apiVersion = apiVersionOf(t);
    if (obj.kind !== undefined && obj.kind !== t.kind)
      throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${t.kind})`);
    if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion)
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersion})`);
    obj.apiVersion = apiVersion;
    obj.kind = t.kind;
    if (obj.metadata !== undefined && !isPlainObject(obj.metadata)) throw badRequest('metadata must be an object');
    obj.metadata = { ...(obj.metadata ?? {}) };
    if (t.storageKey === SECRET_STORAGE_KEY) mergeStringData(obj);
    if (t.namespaced && namespace && obj.metadata.namespace && obj.metadata.namespace !== namespace)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    return obj;
  }

  private requireActiveNamespace(ns: string): void {
    const stored = this.store.get(NAMESPACE_STORAGE_KEY, undefined, ns);
    if (!stored) throw notFound({ group: '', resource: 'namespaces', name: ns });
    if (stored.obj.metadata.deletionTimestamp)
      throw new ApiError(403, 'Forbidden', `unable to create new content in namespace ${ns} because it is being terminated`, { name: ns, kind: 'namespaces' });
  }
}

/**
 * A Secret's stringData is write-only, as kube-apiserver converts it: each value is stored base64-encoded
 * under data (over a data key of the same name), and stringData itself is never stored or returned.
 */
function mergeStringData(obj: KObject): void {
  const secret = obj as KObject & { stringData?: unknown; data?: unknown };
  const { stringData } = secret;
  if (stringData === undefined || stringData === null) return void delete secret.stringData;
  if (!isPlainObject(stringData)) throw badRequest('stringData must be an object of strings');
  const data: Record<string, unknown> = isPlainObject(secret.data) ? { ...(secret.data as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(stringData)) {
    if (typeof v !== 'string') throw invalid({ group: '', resource: 'secrets', kind: 'Secret', name: obj.metadata.name }, [{ reason: 'FieldValueInvalid', message: `Invalid value: stringData values must be strings`, field: `stringData[${k}]` }]);
    data[k] = Buffer.from(v, 'utf8').toString('base64');
  }
  secret.data = data;
  delete secret.stringData;
}

function scopedNamespace(t: ResourceType, namespace: string | undefined): string | undefined {
  return t.namespaced ? (namespace ?? 'default') : undefined;
}

function pruneMetadata(obj: KObject): string[] {
  const pruned: string[] = [];
  for (const k of Object.keys(obj.metadata)) {
    if (!META_FIELDS.has(k)) {
      delete obj.metadata[k];
      pruned.push(`metadata.${k}`);
    }
  }
  return pruned;
}

function validateMetadata(t: ResourceType, obj: KObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const m = obj.metadata;
  const name = m.name ?? '';
  // RBAC objects are named by path segments (Kubernetes' ValidateRBACName: `system:discovery` is a name).
  if (t.group === 'rbac.authorization.k8s.io') {
    if (!name || name === '.' || name === '..' || /[/%]/.test(name))
      causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(name)}: may not be '.' or '..', and may not contain '/' or '%'`, field: 'metadata.name' });
  } else {
    const nameRule = t.storageKey === NAMESPACE_STORAGE_KEY ? DNS_LABEL : DNS_SUBDOMAIN;
    const maxLen = t.storageKey === NAMESPACE_STORAGE_KEY ? 63 : 253;
    if (!nameRule.test(name) || name.length > maxLen)
    causes.push({
      reason: 'FieldValueInvalid',
      message: `Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 ${nameRule === DNS_LABEL ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      field: 'metadata.name',
    });
  }
  for (const [k, v] of Object.entries(m.labels ?? {})) {
    if (!LABEL_KEY.test(k)) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(k)}: name part must consist of alphanumeric characters, '-', '_' or '.'`, field: 'metadata.labels' });
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v))
      causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`, field: `metadata.labels` });
  }
  for (const [k, v] of Object.entries(m.annotations ?? {}))
    if (typeof v !== 'string') causes.push({ reason: 'FieldValueTypeInvalid', message: `Invalid value: ${JSON.stringify(v)}: annotation values must be strings`, field: `metadata.annotations.${k}` });
  if (m.finalizers !== undefined && (!Array.isArray(m.finalizers) || m.finalizers.some((f) => typeof f !== 'string')))
    causes.push({ reason: 'FieldValueTypeInvalid', message: 'Invalid value: finalizers must be a list of strings', field: 'metadata.finalizers' });
  (m.ownerReferences ?? []).forEach((r, i) => {
    for (const f of ['apiVersion', 'kind', 'name', 'uid'] as const)
      if (!r?.[f]) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: `metadata.ownerReferences[${i}].${f}` });
  });
  return causes;
}

function withoutVolatile(obj: KObject): KObject {
  const { managedFields: _mf, resourceVersion: _rv, ...meta } = obj.metadata;
  return { ...obj, metadata: meta };
}

function generateName(prefix: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += GENERATE_SUFFIX_ALPHABET[Math.floor(Math.random() * GENERATE_SUFFIX_ALPHABET.length)];
  return `${prefix}${suffix}`;
}

const itemOrderKey = (o: KObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function encodeContinue(token: { rv: number; start: string }): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof t.rv === 'number' && typeof t.start === 'string') return t;
  } catch {
    /* fall through to the error below */
  }
  throw badRequest(`continue key is not valid: ${token}`);
}

/** managedFields without their times, to tell a no-op write from a real one. */
function untimed(fields: unknown): unknown {
  return Array.isArray(fields) ? fields.map(({ time: _, ...rest }) => rest) : fields;
}
