/**
 * Field ownership (metadata.managedFields) and server-side apply.
 *
 * Ownership is tracked per leaf field; maps merge key by key and lists are atomic (a list is one field),
 * which is what Kubernetes does for lists without `x-kubernetes-list-type: map|set`.
 */
import { isPlainObject, deepEqual } from './patch.js';
import type { StatusCause } from './errors.js';
import type { KObject, ManagedFieldsEntry } from './types.js';

type Path = string[];
const SEP = '\u0000';
const keyOf = (p: Path) => p.join(SEP);
const pathOf = (k: string): Path => k.split(SEP);

/** Metadata fields the server owns: never part of anyone's field set. */
const SERVER_METADATA = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink', 'generateName']);

/** The leaf fields an object sets, excluding identity and server-owned metadata. */
export function leafFields(obj: Record<string, unknown>, skipStatus: boolean): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown, path: Path) => {
    if (isPlainObject(v) && Object.keys(v).length > 0) {
      for (const [k, x] of Object.entries(v)) {
        if (path.length === 0 && (k === 'apiVersion' || k === 'kind' || (skipStatus && k === 'status'))) continue;
        if (path.length === 1 && path[0] === 'metadata' && SERVER_METADATA.has(k)) continue;
        walk(x, [...path, k]);
      }
    } else if (path.length > 0) out.add(keyOf(path));
  };
  walk(obj, []);
  return out;
}

export function toFieldsV1(fields: Set<string>): Record<string, unknown> {
  const root: Record<string, any> = {};
  for (const k of fields) {
    let cur = root;
    for (const seg of pathOf(k)) cur = cur[`f:${seg}`] ??= {};
  }
  return root;
}

export function fromFieldsV1(f: Record<string, unknown> | undefined): Set<string> {
  const out = new Set<string>();
  const walk = (node: Record<string, unknown>, path: Path) => {
    const keys = Object.keys(node).filter((k) => k.startsWith('f:'));
    if (keys.length === 0 && path.length) out.add(keyOf(path));
    for (const k of keys) walk(node[k] as Record<string, unknown>, [...path, k.slice(2)]);
  };
  if (f) walk(f, []);
  return out;
}

function valueAt(obj: unknown, path: Path): unknown {
  let cur: any = obj;
  for (const seg of path) cur = isPlainObject(cur) ? cur[seg] : undefined;
  return cur;
}

function deleteAt(obj: Record<string, unknown>, path: Path): void {
  const parents: Record<string, unknown>[] = [];
  let cur: any = obj;
  for (const seg of path.slice(0, -1)) {
    if (!isPlainObject(cur[seg])) return;
    parents.push(cur);
    cur = cur[seg];
  }
  delete cur[path[path.length - 1]];
  // Remove maps the deletion left empty, as the fields that made them are gone.
  for (let i = path.length - 2; i >= 0; i--) {
    const parent = parents[i];
    const child = parent[path[i]];
    if (isPlainObject(child) && Object.keys(child).length === 0) delete parent[path[i]];
    else break;
  }
}

/** Merges an applied configuration into a live object: maps merge, everything else replaces. */
function mergeApplied(live: unknown, applied: unknown): unknown {
  if (!isPlainObject(applied) || !isPlainObject(live)) return structuredClone(applied);
  const out: Record<string, unknown> = { ...live };
  for (const [k, v] of Object.entries(applied)) out[k] = mergeApplied(out[k], v);
  return out;
}

const overlaps = (a: string, b: string) => a === b || a.startsWith(b + SEP) || b.startsWith(a + SEP);

interface Entry {
  manager: string;
  operation: 'Apply' | 'Update';
  subresource?: string;
  apiVersion: string;
  time: string;
  fields: Set<string>;
}

const readEntries = (obj: KObject | undefined): Entry[] =>
  (obj?.metadata.managedFields ?? []).map((e) => ({
    manager: e.manager,
    operation: e.operation,
    subresource: e.subresource,
    apiVersion: e.apiVersion,
    time: e.time,
    fields: fromFieldsV1(e.fieldsV1),
  }));

const writeEntries = (entries: Entry[]): ManagedFieldsEntry[] =>
  entries
    .filter((e) => e.fields.size > 0)
    .map((e) => ({
      manager: e.manager,
      operation: e.operation,
      apiVersion: e.apiVersion,
      time: e.time,
      fieldsType: 'FieldsV1' as const,
      fieldsV1: toFieldsV1(e.fields),
      ...(e.subresource ? { subresource: e.subresource } : {}),
    }));

const sameEntry = (e: Entry, manager: string, operation: string, subresource?: string) =>
  e.manager === manager && e.operation === operation && (e.subresource ?? '') === (subresource ?? '');

/**
 * Records an ordinary write (create, update, patch): the manager takes the fields it changed, others lose them.
 * Returns the managedFields for `next`.
 */
export function recordUpdate(
  prev: KObject | undefined,
  next: KObject,
  manager: string,
  subresource: string | undefined,
  now: string,
): ManagedFieldsEntry[] {
  const onlyStatus = subresource === 'status';
  const scope = (fields: Set<string>) =>
    new Set([...fields].filter((k) => (onlyStatus ? k.startsWith(`status${SEP}`) || k === 'status' : true)));
  const before = prev ? scope(leafFields(prev as Record<string, unknown>, false)) : new Set<string>();
  const after = scope(leafFields(next as Record<string, unknown>, false));
  const changed = [...after].filter((k) => !before.has(k) || !deepEqual(valueAt(prev, pathOf(k)), valueAt(next, pathOf(k))));
  const removed = [...before].filter((k) => !after.has(k));
  const entries = readEntries(prev);
  for (const e of entries) for (const k of [...changed, ...removed]) for (const f of [...e.fields]) if (overlaps(f, k)) e.fields.delete(f);
  if (changed.length) {
    let mine = entries.find((e) => sameEntry(e, manager, 'Update', subresource));
    if (!mine) entries.push((mine = { manager, operation: 'Update', subresource, apiVersion: next.apiVersion, time: now, fields: new Set() }));
    for (const k of changed) mine.fields.add(k);
    mine.time = now;
    mine.apiVersion = next.apiVersion;
  }
  return writeEntries(entries);
}

export interface ApplyResult {
  object: KObject;
  conflicts: StatusCause[];
}

/**
 * Server-side apply: merges `applied` into `live` as `manager`, reporting conflicts with other managers'
 * differing values unless `force`, and removing fields this manager applied before but no longer does
 * (unless someone else also owns them).
 */
export function serverSideApply(
  live: KObject | undefined,
  applied: KObject,
  manager: string,
  force: boolean,
  skipStatus: boolean,
  now: string,
): ApplyResult {
  const appliedFields = leafFields(applied as Record<string, unknown>, skipStatus);
  const entries = readEntries(live);
  const conflicts: StatusCause[] = [];
  for (const e of entries) {
    if (sameEntry(e, manager, 'Apply')) continue;
    for (const owned of [...e.fields]) {
      for (const k of appliedFields) {
        if (!overlaps(owned, k)) continue;
        if (deepEqual(valueAt(live, pathOf(owned)), valueAt(applied, pathOf(owned)))) continue;
        if (force) e.fields.delete(owned);
        else
          conflicts.push({
            reason: 'FieldManagerConflict',
            message: `conflict with "${e.manager}"${e.operation === 'Update' ? ' using ' + e.apiVersion : ''}: .${pathOf(owned).join('.')}`,
            field: `.${pathOf(owned).join('.')}`,
          });
      }
    }
  }
  const mine = entries.find((e) => sameEntry(e, manager, 'Apply'));
  let object = (live ? mergeApplied(live, applied) : structuredClone(applied)) as KObject;
  if (mine) {
    for (const k of mine.fields) {
      if (appliedFields.has(k)) continue;
      const sharedWithOthers = entries.some((e) => e !== mine && [...e.fields].some((f) => overlaps(f, k)));
      if (!sharedWithOthers) deleteAt(object as Record<string, unknown>, pathOf(k));
    }
  }
  const rest = entries.filter((e) => e !== mine);
  rest.push({ manager, operation: 'Apply', apiVersion: applied.apiVersion, time: now, fields: appliedFields });
  object = { ...object, metadata: { ...object.metadata, managedFields: writeEntries(rest) } };
  return { object, conflicts };
}
