/**
 * Cinder's list queries on any collection: filters on the view's fields (name, status, metadata={…}, …),
 * sort (sort=key:dir,… or sort_key/sort_dir; newest first by default), marker and limit with a next link.
 */
import type { ApiRequest, ApiResponse } from '@stratus/runtime';
import { badRequest, notFound } from './errors.js';

type View = Record<string, unknown>;
const PAGING = new Set(['limit', 'marker', 'sort', 'sort_key', 'sort_dir', 'all_tenants', 'project_id', 'offset', 'with_count']);

/** A dict as Cinder takes it in a query: JSON, or Python's repr ({'k': 'v'}). */
function dictOf(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text);
  } catch {
    try {
      return JSON.parse(text.replace(/'/g, '"').replace(/\bTrue\b/g, 'true').replace(/\bFalse\b/g, 'false').replace(/\bNone\b/g, 'null'));
    } catch {
      throw badRequest(`Invalid input received: ${text} is not a dictionary.`);
    }
  }
}

export function matches(view: View, query: URLSearchParams): boolean {
  for (const [k, v] of query) {
    if (PAGING.has(k)) continue;
    const key = k === 'display_name' ? 'name' : k === 'display_description' ? 'description' : k;
    if (key === 'metadata' || key === 'volume_image_metadata') {
      const want = dictOf(v);
      const have = (view[key] ?? {}) as Record<string, unknown>;
      if (!Object.entries(want).every(([mk, mv]) => String(have[mk]) === String(mv))) return false;
      continue;
    }
    if (key.endsWith('~')) {
      if (!String(view[key.slice(0, -1)] ?? '').includes(v)) return false;
      continue;
    }
    if (!(key in view)) continue; // Cinder ignores filters it does not know on a collection
    const have = view[key];
    if (typeof have === 'boolean' ? String(have) !== v.toLowerCase() : String(have ?? '') !== v) return false;
  }
  return true;
}

/** Columns Cinder sorts on whatever a list holds (so an empty list takes them too). */
const SORTABLE = new Set(['id', 'name', 'status', 'size', 'created_at', 'updated_at', 'availability_zone', 'volume_id', 'volume_type', 'project_id', 'user_id', 'bootable', 'description', 'host']);

function sortKeys(query: URLSearchParams): Array<[string, 'asc' | 'desc']> {
  const sort = query.get('sort');
  const pairs: Array<[string, string]> = sort
    ? sort.split(',').map((p) => p.split(':') as [string, string])
    : (query.get('sort_key') ?? 'created_at').split(',').map((k, i) => [k, (query.get('sort_dir') ?? 'desc').split(',')[i] ?? 'desc']);
  return pairs.map(([k, d]) => {
    const dir = (d ?? 'desc').toLowerCase();
    if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Invalid input received: Unknown sort direction, must be 'desc' or 'asc'`);
    return [k === 'display_name' ? 'name' : k, dir];
  });
}

export function listAnswer(req: ApiRequest<unknown>, views: View[], key: string, base: string, summarize: ((v: View) => View) | undefined, path: string): ApiResponse {
  const q = req.query;
  let out = views.filter((v) => matches(v, q));
  const asked = sortKeys(q);
  // Cinder's database refuses a key that is no column; here, one no object shows (nor any of Cinder's columns).
  for (const [k] of asked) if (!SORTABLE.has(k) && !views.some((v) => k in v)) throw badRequest(`Invalid input received: Invalid sort key ${k}`);
  const keys = [...asked, ['id', 'desc'] as [string, 'asc' | 'desc']];
  const cmp = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a ?? '').localeCompare(String(b ?? '')));
  out.sort((a, b) => {
    for (const [k, d] of keys) {
      const c = cmp(a[k], b[k]);
      if (c) return d === 'asc' ? c : -c;
    }
    return 0;
  });
  const marker = q.get('marker');
  if (marker) {
    const at = out.findIndex((v) => v.id === marker);
    if (at < 0) throw notFound(`Marker ${marker} could not be found.`); // Cinder's MarkerNotFound
    out = out.slice(at + 1);
  }
  const offset = q.get('offset');
  if (offset) out = out.slice(Number(offset) || 0);
  const limitText = q.get('limit');
  let next: string | undefined;
  if (limitText !== null) {
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 0) throw badRequest('Invalid input received: limit must be a non-negative integer.');
    // Cinder links a next page whenever this one is full (an empty last page follows an exact fit).
    if (out.length >= limit && limit > 0) {
      out = out.slice(0, limit);
      const params = new URLSearchParams(q);
      params.set('marker', String(out[out.length - 1].id));
      next = `${base}/${path}?${params}`;
    }
    out = out.slice(0, limit);
  }
  return { status: 200, body: { [key]: summarize ? out.map(summarize) : out, ...(next ? { [`${key}_links`]: [{ href: next, rel: 'next' }] } : {}), ...(q.get('with_count') === 'true' ? { count: views.filter((v) => matches(v, q)).length } : {}) } };
}
