/** GET /v2/images query semantics, pure: filters, sorting and marker paging over image views. */
import { badRequest } from './errors.js';

export const DEFAULT_LIMIT = 25;
export const MAX_LIMIT = 1000;
const SORT_KEYS = new Set(['name', 'status', 'container_format', 'disk_format', 'size', 'virtual_size', 'id', 'created_at', 'updated_at', 'min_disk', 'min_ram', 'owner', 'visibility']);
/** Query keys that are not equality filters on an attribute. */
const CONTROL = new Set(['limit', 'marker', 'sort', 'sort_key', 'sort_dir', 'visibility', 'tag', 'size_min', 'size_max', 'member_status', 'os_hidden']);

export interface ListQuery {
  /** Attribute equality filters (name, status, owner, disk_format, extra properties …). */
  equals: Record<string, string>;
  tags: string[];
  sizeMin?: number;
  sizeMax?: number;
  /** undefined: the default list (no community or hidden images of others). */
  visibility?: string;
  /** Which shared images a member's list shows: those they accepted (the default), or as asked. */
  memberStatus: 'pending' | 'accepted' | 'rejected' | 'all';
  hidden: boolean;
  sort: Array<{ key: string; dir: 'asc' | 'desc' }>;
  limit: number;
  marker?: string;
}

const whole = (q: URLSearchParams, k: string) => {
  const v = q.get(k);
  if (v === null) return undefined;
  if (!/^\d+$/.test(v)) throw badRequest(`Invalid value for '${k}': ${v} is not a non-negative integer.`);
  return Number(v);
};

export function parseListQuery(q: URLSearchParams): ListQuery {
  const equals: Record<string, string> = {};
  for (const [k, v] of q) if (!CONTROL.has(k)) equals[k] = v.startsWith('in:') ? v : v;
  const visibility = q.get('visibility') ?? undefined;
  if (visibility && !['public', 'private', 'shared', 'community', 'all'].includes(visibility)) throw badRequest(`Invalid visibility value: ${visibility}`);
  const memberStatus = (q.get('member_status') ?? 'accepted') as ListQuery['memberStatus'];
  if (!['pending', 'accepted', 'rejected', 'all'].includes(memberStatus)) throw badRequest(`Invalid status value: ${memberStatus}`);
  const sort: ListQuery['sort'] = [];
  if (q.has('sort')) {
    if (q.has('sort_key') || q.has('sort_dir')) throw badRequest('The "sort" parameter cannot be combined with "sort_key" or "sort_dir".');
    for (const part of q.get('sort')!.split(',')) {
      const [key, dir = 'desc'] = part.trim().split(':');
      sort.push({ key, dir: dir as 'asc' | 'desc' });
    }
  } else {
    const keys = q.getAll('sort_key');
    const dirs = q.getAll('sort_dir');
    if (dirs.length > 1 && dirs.length !== keys.length) throw badRequest('The number of sort_dir values must match the number of sort_key values.');
    for (const [i, key] of (keys.length ? keys : ['created_at']).entries()) sort.push({ key, dir: (dirs[i] ?? dirs[0] ?? 'desc') as 'asc' | 'desc' });
  }
  for (const s of sort) {
    if (!SORT_KEYS.has(s.key)) throw badRequest(`Invalid sort key: ${s.key}. It must be one of: ${[...SORT_KEYS].join(', ')}.`);
    if (s.dir !== 'asc' && s.dir !== 'desc') throw badRequest(`Invalid sort direction: ${s.dir}. It must be asc or desc.`);
  }
  if (!sort.some((s) => s.key === 'id')) sort.push({ key: 'id', dir: 'asc' }); // a total order, so markers are stable
  const limit = whole(q, 'limit') ?? DEFAULT_LIMIT;
  return {
    equals,
    tags: q.getAll('tag'),
    sizeMin: whole(q, 'size_min'),
    sizeMax: whole(q, 'size_max'),
    visibility,
    memberStatus,
    hidden: q.get('os_hidden') === 'true',
    sort,
    limit: Math.min(limit, MAX_LIMIT),
    marker: q.get('marker') ?? undefined,
  };
}

type View = Record<string, any>;

/** Whether a view passes the query's attribute, tag and size filters (visibility is decided by the caller). */
export function matchesFilters(v: View, q: ListQuery): boolean {
  for (const [k, want] of Object.entries(q.equals)) {
    const have = v[k] === null || v[k] === undefined ? '' : String(v[k]);
    if (want.startsWith('in:') ? !want.slice(3).split(',').includes(have) : have !== want) return false;
  }
  if (q.tags.some((t) => !(v.tags as string[]).includes(t))) return false;
  if (q.sizeMin !== undefined && (v.size ?? -1) < q.sizeMin) return false;
  if (q.sizeMax !== undefined && (v.size ?? Infinity) > q.sizeMax) return false;
  if (!!v.os_hidden !== q.hidden) return false;
  return true;
}

function compare(a: View, b: View, sort: ListQuery['sort']): number {
  for (const { key, dir } of sort) {
    const x = a[key] ?? '';
    const y = b[key] ?? '';
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    if (c) return dir === 'asc' ? c : -c;
  }
  return 0;
}

/** Sorts and pages; `next` is the marker for the following page when this one is full and more remain. */
export function page(views: View[], q: ListQuery): { items: View[]; next?: string } {
  const sorted = [...views].sort((a, b) => compare(a, b, q.sort));
  let start = 0;
  if (q.marker) {
    const at = sorted.findIndex((v) => v.id === q.marker);
    if (at < 0) throw badRequest(`Invalid marker. Image ${q.marker} could not be found.`);
    start = at + 1;
  }
  const items = sorted.slice(start, start + q.limit);
  const more = start + q.limit < sorted.length;
  return { items, next: more && items.length ? items[items.length - 1].id : undefined };
}
