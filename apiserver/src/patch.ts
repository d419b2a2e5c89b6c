/** PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch. */
import fastJsonPatch from 'fast-json-patch';
import { badRequest, invalid, type ErrorSubject } from './errors.js';
import { childShape, hasKeys, indexByKeys, isPlainObject, itemShape, patchListMerge, type ListMerge, type Shape } from './listTypes.js';

export { isPlainObject };

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** RFC 7386: objects merge key by key, null deletes, anything else replaces. Does not mutate its inputs. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const DELETE_FROM = '$deleteFromPrimitiveList/';
const SET_ORDER = '$setElementOrder/';

/**
 * Strategic merge patch (built-in kinds only; Kubernetes refuses it for custom resources): merge patch, except
 * that lists the shape marks `x-kubernetes-patch-strategy: merge` merge, by `x-kubernetes-patch-merge-key`
 * (items with the same key merge, `$patch: delete` items remove theirs, a `$patch: replace` item replaces the
 * list) or as a set of primitives; with the directives `$patch: delete|replace` on maps, `$retainKeys`,
 * `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`.
 */
export function strategicMergePatch(target: unknown, patch: unknown, shape?: Shape): unknown {
  if (!isPlainObject(patch)) return structuredClone(stripDirectives(patch));
  if (patch.$patch === 'delete') return undefined;
  if (patch.$patch === 'replace') return stripDirectives(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) delete out[k];
    else {
      const s = childShape(shape, k);
      const merged = Array.isArray(v) ? mergeList(out[k], v, patchListMerge(s), itemShape(s)) : strategicMergePatch(out[k], v, s);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
  }
  for (const [k, v] of Object.entries(patch)) {
    const field = k.slice(DELETE_FROM.length);
    if (k.startsWith(DELETE_FROM) && Array.isArray(v) && Array.isArray(out[field])) out[field] = (out[field] as unknown[]).filter((x) => !v.some((d) => deepEqual(d, x)));
  }
  for (const [k, v] of Object.entries(patch)) {
    const field = k.slice(SET_ORDER.length);
    if (k.startsWith(SET_ORDER) && Array.isArray(v) && Array.isArray(out[field])) out[field] = ordered(out[field] as unknown[], v, patchListMerge(childShape(shape, field)));
  }
  if (Array.isArray(patch.$retainKeys)) for (const k of Object.keys(out)) if (!patch.$retainKeys.includes(k)) delete out[k];
  return out;
}

function mergeList(live: unknown, patch: unknown[], how: ListMerge, items: Shape | undefined): unknown[] {
  const base = Array.isArray(live) ? live : [];
  if (how.kind === 'set') return [...base, ...patch.filter((x) => !base.some((y) => deepEqual(x, y)))].map((x) => structuredClone(x));
  if (how.kind === 'atomic' || !patch.every((x) => isPlainObject(x) && (x.$patch === 'replace' || hasKeys(x, how.keys))))
    return stripDirectives(patch) as unknown[];
  if (patch.some((x) => isPlainObject(x) && x.$patch === 'replace')) return stripDirectives(patch.filter((x) => !(isPlainObject(x) && x.$patch === 'replace'))) as unknown[];
  const out = base.map((x) => structuredClone(x));
  for (const item of patch as Record<string, unknown>[]) {
    const i = indexByKeys(out, item, how.keys);
    if (item.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
    } else if (i < 0) out.push(stripDirectives(item));
    else out[i] = strategicMergePatch(out[i], item, items);
  }
  return out;
}

/** `$setElementOrder`: the listed items in its order, then any others as they were. */
function ordered(list: unknown[], order: unknown[], how: ListMerge): unknown[] {
  const rank = (x: unknown) => (how.kind === 'map' && isPlainObject(x) ? indexByKeys(order, x, how.keys) : order.findIndex((o) => deepEqual(o, x)));
  const listed = list.filter((x) => rank(x) >= 0).sort((a, b) => rank(a) - rank(b));
  return [...listed, ...list.filter((x) => rank(x) < 0)];
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => !(isPlainObject(x) && x.$patch === 'delete')).map(stripDirectives);
  if (!isPlainObject(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith('$')).map(([k, x]) => [k, stripDirectives(x)]));
}

export function jsonPatch(target: unknown, ops: unknown, subject: ErrorSubject): unknown {
  if (!Array.isArray(ops)) throw badRequest('json patch must be an array of operations');
  const doc = structuredClone(target);
  try {
    // validate=true makes a bad path or a failing `test` throw instead of silently misapplying.
    return fastJsonPatch.applyPatch(doc, ops as fastJsonPatch.Operation[], true, true).newDocument;
  } catch (e) {
    const err = e as { name?: string; message: string; operation?: { path?: string } };
    const why = err.name === 'TEST_OPERATION_FAILED' ? 'test operation failed' : err.message.split('\n')[0];
    throw invalid(subject, [{ reason: 'FieldValueInvalid', message: `the server rejected our request due to an error in our request: ${why}`, field: err.operation?.path }]);
  }
}
