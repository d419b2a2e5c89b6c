/**
 * Nova's volume proxy (os-volumes and os-snapshots; deprecated at microversion 2.36 and gone after, as in Nova).
 * As Nova's, each call is made to the Block Storage API with the caller's own token, at the endpoint the
 * caller's catalog names: Cinder's checks, quota and errors apply, and Nova's camelCase shapes are put on
 * its answers.
 */
import { type ComputeApiContext, type ComputeRequest, type ComputeRouter } from './context.js';
import { badRequest, wholeQuery } from './errors.js';
import { BLOCK_STORAGE, callService, emptyIdNotFound, proxyRoutes } from './serviceProxy.js';

/** Nova's [api] max_limit: a list's longest page. */
const MAX_LIMIT = 1000;

interface CinderAttachment {
  server_id?: string;
  device?: string;
}
interface CinderVolume {
  id: string;
  status: string;
  size: number;
  availability_zone?: string;
  created_at: string;
  name?: string | null;
  description?: string | null;
  volume_type?: string | null;
  snapshot_id?: string | null;
  metadata?: Record<string, string>;
  attachments?: CinderAttachment[];
}
interface CinderSnapshot {
  id: string;
  volume_id: string;
  status: string;
  size: number;
  created_at: string;
  name?: string | null;
  description?: string | null;
}

/** A volume as Nova's proxy shows it; an unattached one has `[{}]` as its attachments, as Nova's does. Pure. */
export function novaVolume(v: CinderVolume) {
  const attached = (v.attachments ?? []).filter((a) => a.server_id);
  return {
    id: v.id,
    status: v.status,
    size: v.size,
    availabilityZone: v.availability_zone ?? 'nova',
    createdAt: v.created_at,
    attachments: attached.length ? attached.slice(0, 1).map((a) => ({ id: v.id, volumeId: v.id, serverId: a.server_id, ...(a.device ? { device: a.device } : {}) })) : [{}],
    displayName: v.name ?? null,
    displayDescription: v.description ?? null,
    volumeType: v.volume_type ?? null,
    snapshotId: v.snapshot_id ?? null,
    metadata: v.metadata ?? {},
  };
}

/** A snapshot as Nova's proxy shows it: its size is its volume's. Pure. */
export function novaSnapshot(s: CinderSnapshot) {
  return { id: s.id, volumeId: s.volume_id, status: s.status, size: s.size, createdAt: s.created_at, displayName: s.name ?? null, displayDescription: s.description ?? null };
}

/** Nova's common.limited: `offset` and `limit` (0 or absent: max_limit) applied to the whole list. */
function limited<T>(q: URLSearchParams, items: T[]): T[] {
  const offset = wholeQuery(q, 'offset') ?? 0;
  const limit = Math.min(MAX_LIMIT, wholeQuery(q, 'limit') || MAX_LIMIT);
  return items.slice(offset, offset + limit);
}

type FieldRules = Record<string, { to: string; type: 'string' | 'object' | 'size' | 'boolean' }>;

/** The body of a create, checked as Nova's schema checks it (400 naming the field); `fields` maps Nova's names to Cinder's. */
function checkedBody(body: unknown, key: string, fields: FieldRules, required: string): Record<string, unknown> {
  const inner = (body as Record<string, unknown> | undefined)?.[key];
  if (!inner || typeof inner !== 'object' || Array.isArray(inner)) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(inner ?? null)}. '${key}' is a required property`);
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(inner)) {
    const rule = fields[field];
    if (!rule) throw badRequest(`Additional properties are not allowed ('${field}' was unexpected)`);
    const bad = () => badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(value)}. ${JSON.stringify(value)} is not valid for '${field}'`);
    if (rule.type === 'size') {
      const n = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw bad();
      out[rule.to] = n;
    } else if (rule.type === 'boolean') {
      if (typeof value !== 'boolean' && !['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(String(value).toLowerCase())) throw bad();
      out[rule.to] = typeof value === 'boolean' ? value : ['true', '1', 'yes', 'on'].includes(String(value).toLowerCase());
    } else {
      if (rule.type === 'object' ? !value || typeof value !== 'object' || Array.isArray(value) : typeof value !== 'string') throw bad();
      out[rule.to] = value;
    }
  }
  if (!(required in (inner as object))) throw badRequest(`Invalid input for field/attribute ${key}. '${required}' is a required property`);
  return out;
}

const VOLUME_FIELDS = {
  size: { to: 'size', type: 'size' },
  display_name: { to: 'name', type: 'string' },
  display_description: { to: 'description', type: 'string' },
  volume_type: { to: 'volume_type', type: 'string' },
  metadata: { to: 'metadata', type: 'object' },
  availability_zone: { to: 'availability_zone', type: 'string' },
  snapshot_id: { to: 'snapshot_id', type: 'string' },
} as const;
const SNAPSHOT_FIELDS = {
  volume_id: { to: 'volume_id', type: 'string' },
  force: { to: 'force', type: 'boolean' },
  display_name: { to: 'name', type: 'string' },
  display_description: { to: 'description', type: 'string' },
} as const;

/** What Cinder answers with, for either kind (each view reads the fields of its own). */
type CinderObject = CinderVolume & CinderSnapshot;

/** One kind Nova's proxy serves, and how it maps onto Cinder's. */
interface ProxiedKind {
  /** Nova's collection (`/os-volumes`) and Cinder's (`/volumes`). */
  nova: string;
  cinder: string;
  /** The body's key for one and for many. */
  one: string;
  many: string;
  view: (c: CinderObject) => unknown;
  fields: FieldRules;
  required: string;
  /** Whether a create's answer says where the new one is (Nova's volume create does; its snapshot create does not). */
  location: boolean;
}

const KINDS: ProxiedKind[] = [
  { nova: '/os-volumes', cinder: '/volumes', one: 'volume', many: 'volumes', view: novaVolume, fields: VOLUME_FIELDS, required: 'size', location: true },
  { nova: '/os-snapshots', cinder: '/snapshots', one: 'snapshot', many: 'snapshots', view: novaSnapshot, fields: SNAPSHOT_FIELDS, required: 'volume_id', location: false },
];

export function volumeProxyRoutes(router: ComputeRouter, api: ComputeApiContext) {
  const cinder = <T>(req: ComputeRequest, method: string, path: string, body?: unknown) => callService<T>(api, req, BLOCK_STORAGE, method, path, body);
  const on = proxyRoutes(router);
  emptyIdNotFound(router, KINDS.map((k) => `${k.nova}/`));
  for (const kind of KINDS) {
    const one = (req: ComputeRequest) => `${kind.cinder}/${encodeURIComponent(req.params.id)}`;
    // Nova's list and detail show the same fields.
    const list = async (req: ComputeRequest) => {
      const all = (await cinder<Record<string, CinderObject[]>>(req, 'GET', `${kind.cinder}/detail`))[kind.many];
      return { status: 200, body: { [kind.many]: limited(req.query, all.map(kind.view)) } };
    };
    on('GET', kind.nova, list);
    on('GET', `${kind.nova}/detail`, list);
    on('POST', kind.nova, async (req) => {
      const asked = checkedBody(req.body, kind.one, kind.fields, kind.required);
      const made = (await cinder<Record<string, CinderObject>>(req, 'POST', kind.cinder, { [kind.one]: asked }))[kind.one];
      return { status: 200, ...(kind.location ? { headers: { Location: `${req.base}${kind.nova}/${made.id}` } } : {}), body: { [kind.one]: kind.view(made) } };
    });
    on('GET', `${kind.nova}/:id`, async (req) => ({ status: 200, body: { [kind.one]: kind.view((await cinder<Record<string, CinderObject>>(req, 'GET', one(req)))[kind.one]) } }));
    on('DELETE', `${kind.nova}/:id`, async (req) => {
      await cinder(req, 'DELETE', one(req));
      return { status: 202 };
    });
  }
}
