/**
 * Field ownership (metadata.managedFields) and server-side apply.
 *
 * Ownership is tracked per leaf field, in managedFields' own path syntax: `f:name` for a map key,
 * `k:{"name":"eth0"}` for an item of a `x-kubernetes-list-type: map` list, `v:"x"` for an item of a set,
 * `.` for a map list's item itself. Maps merge key by key, map lists item by item, sets value by value; other
 * lists are atomic (a list is one field), as Kubernetes does.
 */
import { isPlainObject, deepEqual } from './patch.js';
import { applyListMerge, childShape, hasKeys, indexByKeys, itemShape, keyJson, type Shape } from './listTypes.js';
import type { StatusCause } from './errors.js';
import type { KObject, ManagedFieldsEntry } from './types.js';

type Path = string[];
const SEP = '\u0000';
const keyOf = (p: Path) => p.join(SEP);
const pathOf = (k: string): Path => k.split(SEP);
const SELF = '.';

/** Metadata fields the server owns: never part of anyone's field set. */
const SERVER_METADATA = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink', 'generateName']);

/** The leaf fields an object sets, excluding identity and server-owned metadata. */
export function leafFields(obj: Record<string, unknown>, skipStatus: boolean, shape?: Shape): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown, path: Path, s: Shape | undefined) => {
    if (isPlainObject(v) && Object.keys(v).length > 0) {
      for (const [k, x] of Object.entries(v)) {
        if (path.length === 0 && (k === 'apiVersion' || k === 'kind' || (skipStatus && k === 'status'))) continue;
        if (path.length === 1 && path[0] === 'f:metadata' && SERVER_METADATA.has(k)) continue;
        walk(x, [...path, `f:${k}`], childShape(s, k));
      }
      return;
    }
    const items = Array.isArray(v) && v.length > 0 ? (v as unknown[]) : undefined;
    const list = items ? applyListMerge(s) : undefined;
    if (items && list?.kind === 'map' && items.every((item) => hasKeys(item, list.keys))) {
      for (const item of items as Record<string, unknown>[]) {
        const at = [...path, `k:${keyJson(item, list.keys)}`];
        out.add(keyOf([...at, SELF]));
        for (const [k, x] of Object.entries(item)) if (!list.keys.includes(k)) walk(x, [...at, `f:${k}`], childShape(itemShape(s), k));
      }
    } else if (items && list?.kind === 'set') for (const item of items) out.add(keyOf([...path, `v:${JSON.stringify(item)}`]));
    else if (path.length > 0) out.add(keyOf(path));
  };
  walk(obj, [], shape);
  return out;
}

export function toFieldsV1(fields: Set<string>): Record<string, unknown> {
  const root: Record<string, any> = {};
  for (const k of fields) {
    let cur = root;
    for (const seg of pathOf(k)) cur = cur[seg] ??= {};
  }
  return root;
}

export function fromFieldsV1(f: Record<string, unknown> | undefined): Set<string> {
  const out = new Set<string>();
  const walk = (node: Record<string, unknown>, path: Path) => {
    const keys = Object.keys(node);
    if (keys.length === 0 && path.length) out.add(keyOf(path));
    for (const k of keys) walk(node[k] as Record<string, unknown>, [...path, k]);
  };
  if (f) walk(f, []);
  return out;
}

/** The map or list item a path segment names inside `cur`, or undefined. */
function step(cur: unknown, seg: string): unknown {
  if (seg.startsWith('f:')) return isPlainObject(cur) ? cur[seg.slice(2)] : undefined;
  if (!Array.isArray(cur)) return undefined;
  if (seg.startsWith('k:')) {
    const key = JSON.parse(seg.slice(2)) as Record<string, unknown>;
    const i = indexByKeys(cur, key, Object.keys(key));
    return i < 0 ? undefined : cur[i];
  }
  if (seg.startsWith('v:')) {
    const value = JSON.parse(seg.slice(2));
    return cur.some((x) => deepEqual(x, value)) ? value : undefined;
  }
  return undefined;
}

function valueAt(obj: unknown, path: Path): unknown {
  let cur: unknown = obj;
  for (const seg of path) {
    // A map list item's own field: present or not (its key fields are the same on both sides by construction).
    if (seg === SELF) return cur === undefined ? undefined : true;
    cur = step(cur, seg);
  }
  return cur;
}

/** Removes what a path names; a map list item goes only when nothing but its keys is left in it. */
function deleteAt(obj: Record<string, unknown>, path: Path): void {
  const chain: unknown[] = [obj];
  for (const seg of path.slice(0, -1)) {
    const next = step(chain[chain.length - 1], seg);
    if (next === undefined) return;
    chain.push(next);
  }
  const last = path[path.length - 1];
  const holder = chain[chain.length - 1];
  if (last.startsWith('f:') && isPlainObject(holder)) delete holder[last.slice(2)];
  else if (last.startsWith('v:') && Array.isArray(holder)) {
    const value = JSON.parse(last.slice(2));
    const i = holder.findIndex((x) => deepEqual(x, value));
    if (i >= 0) holder.splice(i, 1);
  } else if (last === SELF && chain.length >= 2) {
    const item = holder as Record<string, unknown>;
    const keys = Object.keys(JSON.parse(path[path.length - 2].slice(2)));
    const list = chain[chain.length - 2] as unknown[];
    if (Object.keys(item).every((k) => keys.includes(k))) list.splice(list.indexOf(item), 1);
  }
  // Remove maps and lists the deletion left empty, as the fields that made them are gone.
  for (let i = chain.length - 1; i >= 1; i--) {
    const child = chain[i];
    const empty = isPlainObject(child) ? Object.keys(child).length === 0 : Array.isArray(child) && child.length === 0;
    if (!empty) break;
    const parent = chain[i - 1];
    if (isPlainObject(parent)) delete parent[path[i - 1].slice(2)];
    else if (Array.isArray(parent)) parent.splice(parent.indexOf(child), 1);
  }
}

/** Merges an applied configuration into a live object: maps merge, map lists by key, sets by value, others replace. */
function mergeApplied(live: unknown, applied: unknown, s: Shape | undefined): unknown {
  if (Array.isArray(applied) && Array.isArray(live)) {
    const list = applyListMerge(s);
    if (list.kind === 'set') return [...live, ...applied.filter((x) => !live.some((y) => deepEqual(x, y)))].map((x) => structuredClone(x));
    if (list.kind === 'map' && [...live, ...applied].every((x) => hasKeys(x, list.keys))) {
      const out = live.map((x) => structuredClone(x)) as Record<string, unknown>[];
      for (const item of applied as Record<string, unknown>[]) {
        const i = indexByKeys(out, item, list.keys);
        if (i < 0) out.push(structuredClone(item));
        else out[i] = mergeApplied(out[i], item, itemShape(s)) as Record<string, unknown>;
      }
      return out;
    }
    return structuredClone(applied);
  }
  if (!isPlainObject(applied) || !isPlainObject(live)) return structuredClone(applied);
  const out: Record<string, unknown> = { ...live };
  for (const [k, v] of Object.entries(applied)) out[k] = mergeApplied(out[k], v, childShape(s, k));
  return out;
}

/** A field path as Kubernetes prints it in conflicts: `.spec.ports[port=80,protocol="TCP"].name`. */
function fieldPathOf(k: string): string {
  let out = '';
  for (const seg of pathOf(k)) {
    if (seg.startsWith('f:')) out += `.${seg.slice(2)}`;
    else if (seg.startsWith('k:')) out += `[${Object.entries(JSON.parse(seg.slice(2))).map(([n, v]) => `${n}=${JSON.stringify(v)}`).join(',')}]`;
    else if (seg.startsWith('v:')) out += `[=${seg.slice(2)}]`;
  }
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
  shape?: Shape,
): ManagedFieldsEntry[] {
  const onlyStatus = subresource === 'status';
  const scope = (fields: Set<string>) =>
    new Set([...fields].filter((k) => (onlyStatus ? k.startsWith(`f:status${SEP}`) || k === 'f:status' : true)));
  const before = prev ? scope(leafFields(prev as Record<string, unknown>, false, shape)) : new Set<string>();
  const after = scope(leafFields(next as Record<string, unknown>, false, shape));
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
  shape?: Shape,
): ApplyResult {
  const appliedFields = leafFields(applied as Record<string, unknown>, skipStatus, shape);
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
            message: `conflict with "${e.manager}"${e.operation === 'Update' ? ' using ' + e.apiVersion : ''}: ${fieldPathOf(owned)}`,
            field: fieldPathOf(owned),
          });
      }
    }
  }
  const mine = entries.find((e) => sameEntry(e, manager, 'Apply'));
  let object = (live ? mergeApplied(live, applied, shape) : structuredClone(applied)) as KObject;
  if (mine) {
    // An item's own field last: it goes once the fields in it have.
    const dropped = [...mine.fields].filter((k) => !appliedFields.has(k)).sort((a, b) => Number(a.endsWith(SELF)) - Number(b.endsWith(SELF)));
    for (const k of dropped) {
      const path = pathOf(k);
      const held = keyOf(path[path.length - 1] === SELF ? path.slice(0, -1) : path);
      const sharedWithOthers = entries.some((e) => e !== mine && [...e.fields].some((f) => overlaps(f, held)));
      if (!sharedWithOthers) deleteAt(object as Record<string, unknown>, path);
    }
  }
  const rest = entries.filter((e) => e !== mine);
  rest.push({ manager, operation: 'Apply', apiVersion: applied.apiVersion, time: now, fields: appliedFields });
  object = { ...object, metadata: { ...object.metadata, managedFields: writeEntries(rest) } };
  return { object, conflicts };
}
