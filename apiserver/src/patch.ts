/** PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch. */
import fastJsonPatch from 'fast-json-patch';
import { badRequest, invalid, type ErrorSubject } from './errors.js';

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

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

/**
 * Strategic merge patch as merge patch plus its directives: `$patch: delete|replace` on maps, and the
 * `$setElementOrder`, `$retainKeys` and `$deleteFromPrimitiveList` bookkeeping keys, which are dropped.
 * Lists replace wholesale: none of the built-in kinds served here has list merge keys that matter.
 */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(stripDirectives(patch));
  if (patch.$patch === 'delete') return undefined;
  if (patch.$patch === 'replace') return stripDirectives(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) delete out[k];
    else {
      const merged = strategicMergePatch(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
  }
  return out;
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
