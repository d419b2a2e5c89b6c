/** The metadata sub-resource Cinder gives volumes and snapshots alike: the whole set (read, merge, replace) and one key. */
import type { KubernetesObject } from '@kubernetes/client-node';
import { metadataOf, on, type VolAuth, type VolRouter } from './context.js';
import { badRequest, notFound } from './errors.js';

type WithMetadata = KubernetesObject & { spec: { metadata?: Record<string, string> } };

/**
 * Routes `/<collection>/:id/metadata[/:key]`: `find` is the caller's object with that ID (or 404), `patch`
 * merges a spec change into it and returns it as written; `what` names it in errors (Volume, Snapshot).
 */
export function metadataRoutes<T extends WithMetadata>(router: VolRouter, collection: string, what: string, find: (auth: VolAuth, id: string) => T, patch: (o: T, spec: Record<string, unknown>) => Promise<T>): void {
  const metaOf = (o: T) => o.spec.metadata ?? {};
  const missing = (id: string, key: string) => notFound(`${what} ${id} has no metadata with key ${key}.`);
  on(router, 'GET', `/${collection}/:id/metadata`, (req) => ({ status: 200, body: { metadata: metaOf(find(req.auth, req.params.id)) } }));
  const set = (replace: boolean): Parameters<VolRouter['on']>[2] => async (req) => {
    const o = find(req.auth, req.params.id);
    const metadata = metadataOf((req.body as Record<string, unknown> | undefined)?.metadata);
    if (!metadata) throw badRequest("Missing required element 'metadata' in request body.");
    // A merge patch cannot drop keys it does not name: a replacement clears the set first.
    const cleared = replace ? await patch(o, { metadata: null }) : o;
    const updated = await patch(cleared, { metadata: replace ? metadata : { ...metaOf(o), ...metadata } });
    return { status: 200, body: { metadata: metaOf(updated) } };
  };
  on(router, 'POST', `/${collection}/:id/metadata`, set(false));
  on(router, 'PUT', `/${collection}/:id/metadata`, set(true));
  on(router, 'GET', `/${collection}/:id/metadata/:key`, (req) => {
    const m = metaOf(find(req.auth, req.params.id));
    if (!Object.hasOwn(m, req.params.key)) throw missing(req.params.id, req.params.key);
    return { status: 200, body: { meta: { [req.params.key]: m[req.params.key] } } };
  });
  on(router, 'PUT', `/${collection}/:id/metadata/:key`, async (req) => {
    const o = find(req.auth, req.params.id);
    const meta = metadataOf((req.body as Record<string, unknown> | undefined)?.meta);
    if (!meta || Object.keys(meta).length !== 1 || !(req.params.key in meta)) throw badRequest('Request body and URI mismatch');
    await patch(o, { metadata: meta });
    return { status: 200, body: { meta } };
  });
  on(router, 'DELETE', `/${collection}/:id/metadata/:key`, async (req) => {
    const o = find(req.auth, req.params.id);
    if (!Object.hasOwn(metaOf(o), req.params.key)) throw missing(req.params.id, req.params.key);
    await patch(o, { metadata: { [req.params.key]: null } });
    return { status: 200 };
  });
}
