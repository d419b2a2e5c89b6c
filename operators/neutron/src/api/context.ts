/** What every Networking API route works with, and the steps several of them share. */
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeApiError, objectNameFor, waitUntil, type Handler, type IndexedCache, type KubeClient, type Logger, type ResourceRef, type Router, type TokenAuth } from '@stratus/runtime';
import { FIELD_MANAGER } from '../resources.js';
import { TAG_FILTERS, tagsMatcher } from '../tags.js';
import type { NetworkDirectory } from './directory.js';
import { NeutronError, badRequest, conflict, forbidden, notFound, unavailable } from './errors.js';

export const API_FIELD_MANAGER = `${FIELD_MANAGER}-api`;
export type NetAuth = TokenAuth;
export type NetRouter = Router<NetAuth>;

export interface NetApi {
  dir: NetworkDirectory;
  client: KubeClient;
  log: Logger;
}

/** How long a create waits for its reconciler's verdict (addresses, a refusal) before answering with what it has. */
const SETTLE_MS = 30_000;

/** The namespace a caller writes in: its project's, or (admins only) the project named in the body. */
export function targetNamespace(api: NetApi, auth: NetAuth, body: Record<string, unknown>): string {
  const project = (body.project_id ?? body.tenant_id) as string | undefined;
  if (project && project !== auth.projectId) {
    if (!auth.admin) throw forbidden(`Only admins may create resources for another project (${project}).`);
    const t = api.dir.tenantByProjectId(project);
    if (!t) throw notFound('ProjectNotFound', `Project ${project} could not be found.`);
    return t.metadata.name;
  }
  if (!auth.tenant) throw forbidden('The token is not scoped to a project.');
  return auth.tenant;
}

/** Whether the caller may see an object of this namespace as its owner (admins see all). */
export const owns = (auth: NetAuth, o: KubernetesObject) => auth.admin || o.metadata?.namespace === auth.tenant;

/** A visible object the caller may change: its own (an admin's any), else Neutron's policy 403 naming it (`what` as in Neutron's message). */
export function modifiable<T extends KubernetesObject>(auth: NetAuth, o: T, what: string, id: string): T {
  if (!owns(auth, o)) throw forbidden(`Tenant ${auth.projectId} not allowed to modify ${what} ${id}`);
  return o;
}

/** The body's resource object (`{"network": {…}}`), or 400 naming what is missing. */
export function resourceBody(body: unknown, key: string): Record<string, unknown> {
  const r = (body as Record<string, unknown> | undefined)?.[key];
  if (!r || typeof r !== 'object' || Array.isArray(r)) throw badRequest(`Resource body required: '${key}' is missing from the request body.`);
  return r as Record<string, unknown>;
}

/** Refuses attributes this API does not know, or may not be changed, as Neutron's attribute checks do. */
export function onlyKnown(r: Record<string, unknown>, allowed: string[], what: string): void {
  const unknown = Object.keys(r).find((k) => !allowed.includes(k));
  if (unknown) throw badRequest(`Unrecognized attribute(s) '${unknown}'${what ? ` of ${what}` : ''}`);
}

export const str = (v: unknown, field: string, max = 255): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`Invalid input for ${field}. Reason: '${JSON.stringify(v)}' is not a valid string.`);
  if (v.length > max) throw badRequest(`Invalid input for ${field}. Reason: '${v.slice(0, 40)}…' exceeds maximum length of ${max}.`);
  return v;
};
export const bool = (v: unknown, field: string): boolean | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True') return true;
  if (v === 'false' || v === 'False') return false;
  throw badRequest(`Invalid input for ${field}. Reason: '${String(v)}' cannot be converted to boolean.`);
};

/** A name for the new object: the OpenStack name where it is a free DNS label, else its slug and a suffix. */
export const newObjectName = <T extends KubernetesObject>(cache: IndexedCache<T>, namespace: string, display: string | undefined, fallback: string) =>
  objectNameFor(display || fallback, (n) => !!cache.get(n, namespace), fallback);

/** Kubernetes errors on the way out, as Neutron would say them. */
export function fromKubernetes(e: unknown, what: string): never {
  if (e instanceof KubeApiError) {
    if (e.code === 409) throw conflict('Conflict', `${what} was changed by someone else at the same time; try again.`);
    if (e.code === 422 || e.code === 400) throw badRequest(`Invalid input for ${what}: ${e.message}`);
    if (e.code === 404) throw notFound('NotFound', `${what} could not be found.`);
  }
  throw e;
}

/**
 * Creates the object, then waits until its reconciler has spoken: `verdict` says 'ok', an error to answer
 * with (the object is then deleted: nothing half-made stays), or undefined to go on waiting.
 */
export async function createAndSettle<T extends KubernetesObject>(api: NetApi, ref: ResourceRef, cache: IndexedCache<T>, body: T, verdict: (o: T) => 'ok' | NeutronError | undefined, what: string): Promise<T> {
  await namespaceMade(api, body.metadata!.namespace!);
  let made: T;
  try {
    made = await api.client.create<T>(ref, body, API_FIELD_MANAGER);
  } catch (e) {
    fromKubernetes(e, what);
  }
  let outcome: 'ok' | NeutronError | undefined;
  let latest = made;
  await cache.until(made, (o) => {
    if (o) latest = o;
    outcome = o ? verdict(o) : undefined;
    return outcome !== undefined;
  }, SETTLE_MS);
  if (outcome instanceof NeutronError) {
    await api.client.delete(ref, made.metadata!.namespace, made.metadata!.name!).catch(() => {});
    throw outcome;
  }
  return latest;
}

/** How long a create for a project made a moment ago waits for the project's namespace. */
const NAMESPACE_WAIT_MS = 30_000;

/**
 * Waits until the Tenant of `namespace` has made its namespace: Keystone answers a project's create before its
 * reconciler makes the namespace, and an admin may create for the project at once (`project_id` in the body),
 * as Keystone's role grant waits for it too. 503 if it does not come.
 */
async function namespaceMade(api: NetApi, namespace: string): Promise<void> {
  const made = () => !!api.dir.tenant(namespace)?.status?.namespace;
  if (!api.dir.tenant(namespace) || made()) return;
  if (!(await waitUntil(made, NAMESPACE_WAIT_MS))) throw unavailable(`The namespace of project ${api.dir.projectIdOf(namespace)} is not ready yet; try again.`);
}

/** The Stalled condition's reason and message, when the reconciler refused the object as it is now. */
export function refusal(o: { metadata?: { generation?: number }; status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string; observedGeneration?: number }> } }): { reason: string; message: string } | undefined {
  const c = o.status?.conditions?.find((x) => x.type === 'Stalled' && x.status === 'True');
  return c && (c.observedGeneration === undefined || c.observedGeneration === o.metadata?.generation) ? { reason: c.reason ?? 'Error', message: c.message ?? '' } : undefined;
}

/** Neutron's list filters on top-level fields (`?name=x&shared=true`), and `fields`. */
export function listFilter(query: URLSearchParams, ignore: string[] = []): { matches: (view: Record<string, unknown>) => boolean; fields: string[] } {
  const skip = new Set(['fields', 'limit', 'marker', 'page_reverse', 'sort_key', 'sort_dir', ...TAG_FILTERS, ...ignore]);
  const wanted = new Map<string, string[]>();
  for (const [k, v] of query) if (!skip.has(k)) wanted.set(k, [...(wanted.get(k) ?? []), v]);
  const tagged = tagsMatcher(query);
  return {
    fields: query.getAll('fields'),
    matches: (view) =>
      tagged(Array.isArray(view.tags) ? (view.tags as string[]) : []) &&
      [...wanted].every(([k, vs]) => {
        // A filter on what the resource does not have is ignored, as Neutron without filter-validation does.
        if (!(k in view)) return true;
        const have = view[k];
        if (Array.isArray(have)) return vs.some((v) => have.map(String).includes(v));
        return vs.some((v) => String(have) === v || (typeof have === 'boolean' && String(have) === v.toLowerCase()));
      }),
  };
}

/**
 * Neutron's bulk create (`{"ports": [{…}, {…}]}`) on top of a single create: each made in turn, and all or
 * nothing: when one is refused, those made before it are removed (`undo` with each one's ID) and the refusal
 * is the answer.
 */
export function withBulk(singular: string, plural: string, undo: (id: string) => Promise<unknown>, create: Handler<NetAuth>): Handler<NetAuth> {
  return async (req) => {
    const many = (req.body as Record<string, unknown> | undefined)?.[plural];
    if (!Array.isArray(many)) return create(req);
    if (!many.length) throw badRequest(`Resource body required: '${plural}' is empty.`);
    const made: Array<Record<string, unknown>> = [];
    try {
      for (const item of many) {
        const res = await create({ ...req, body: { [singular]: item } });
        made.push((res.body as Record<string, Record<string, unknown>>)[singular]);
      }
    } catch (e) {
      for (const m of made.reverse()) await undo(String(m.id)).catch(() => {});
      throw e;
    }
    return { status: 201, body: { [plural]: made } };
  };
}
