/** /v2/images: create, list, show, update (JSON patch), delete, tags, deactivate/reactivate, web-download import. */
import { urlRefusal } from '../importFilter.js';
import { DATA_FINALIZER, IMAGES, isUploadSource, isUuid, type Image } from '../resources.js';
import { canModify, canSee, listedByDefault, mayPublicize } from '../visibility.js';
import { API_FIELD_MANAGER, fromKubernetes, modifiable, newImageId, updateImage, type GlanceApi, type GlanceRouter } from './context.js';
import { applyPatch, docOfSpec, imageView, specOfDoc, validateDoc, type ImageDoc } from './documents.js';
import { badRequest, conflict, forbidden, notFound, unsupportedMediaType } from './errors.js';
import { matchesFilters, page, parseListQuery } from './listing.js';
import type { ImageAuth } from './tokens.js';

const PATCH_TYPES = ['application/openstack-images-v2.1-json-patch', 'application/openstack-images-v2.0-json-patch'];
export const IMPORT_METHODS = ['web-download'];
const hasData = (img: Image) => !!img.status?.location || ['saving', 'importing', 'active', 'deactivated'].includes(img.status?.phase ?? 'queued');

export function imageRoutes(router: GlanceRouter, api: GlanceApi) {
  const view = (img: Image) => imageView(img, api.dir.projectIdOf(img.metadata.namespace));

  // `/v2/images/` names an image with an empty ID: Glance answers 404 to it, not the list (nor 405).
  for (const method of ['GET', 'PATCH', 'PUT', 'DELETE'])
    router.on(method, '/images/', () => {
      throw notFound('The resource could not be found.');
    });

  router.on('POST', '/images', async (req) => {
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The request body must be a JSON object describing the image.');
    const { id = newImageId(), owner, ...doc } = body as ImageDoc;
    if (typeof id !== 'string' || !isUuid(id)) throw badRequest(`Invalid value for 'id': ${String(id)} is not a UUID.`);
    if (api.dir.byImageId(id)) throw conflict(`An image with identifier ${id} already exists.`);
    validateDoc(doc);
    const namespace = tenantFor(api, req.auth, owner);
    // An owner no project here has (Glance takes any): the image stays with its maker, and names it.
    const namedOwner = owner !== undefined && owner !== null && owner !== req.auth.projectId && !api.dir.tenantByProjectId(String(owner)) ? String(owner) : undefined;
    if (doc.visibility === 'public' && !mayPublicize(req.auth)) throw forbidden('You are not authorized to create public images; only admins may publicize an image.');
    const spec = { ...specOfDoc(doc), ...(namedOwner ? { owner: namedOwner } : {}) };
    const created = await api.client
      .create<Image>(IMAGES, { apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name: id, namespace, finalizers: [DATA_FINALIZER] }, spec }, API_FIELD_MANAGER)
      .catch((e) => fromKubernetes(e, `Image ${id}`));
    await api.dir.seen(created);
    api.log.info('image created', { namespace, name: id });
    return { status: 201, headers: { Location: `${req.base}/images/${id}`, 'OpenStack-image-import-methods': IMPORT_METHODS.join(',') }, body: view(created) };
  });

  router.on('GET', '/images', (req) => {
    const q = parseListQuery(req.query);
    const views = api.dir
      .all()
      .filter((img) => !img.metadata.deletionTimestamp)
      .filter((img) => {
        const visibility = img.spec.visibility ?? 'shared';
        // The default list and visibility=shared show a member's shares by their answer (member_status).
        if (q.visibility === undefined || q.visibility === 'shared') return listedByDefault(img, req.auth, q.memberStatus) && (q.visibility === undefined || visibility === 'shared');
        return canSee(img, req.auth) && (q.visibility === 'all' || visibility === q.visibility);
      })
      .map(view)
      .filter((v) => matchesFilters(v, q));
    const { items, next } = page(views, q);
    const nextQuery = new URLSearchParams(req.query);
    if (next) nextQuery.set('marker', next);
    return {
      status: 200,
      body: { images: items, first: `/v2/images${req.query.size ? `?${req.query}` : ''}`, schema: '/v2/schemas/images', ...(next ? { next: `/v2/images?${nextQuery}` } : {}) },
    };
  });

  router.on('GET', '/images/:id', (req) => ({ status: 200, body: view(api.dir.visible(req.params.id, req.auth)) }));

  router.on('PATCH', '/images/:id', async (req) => {
    const type = String(req.headers['content-type'] ?? '').split(';')[0].trim();
    if (!PATCH_TYPES.includes(type)) throw unsupportedMediaType(`Unsupported Content-Type; use ${PATCH_TYPES[0]}.`);
    const written = await updateImage(
      api,
      modifiable(api, req.params.id, req.auth),
      (img) => {
        const doc = applyPatch(docOfSpec(img.spec), req.body, { hasData: hasData(img), dialect: type === PATCH_TYPES[1] ? '2.0' : '2.1' });
        if (doc.visibility === 'public' && img.spec.visibility !== 'public' && !mayPublicize(req.auth)) throw forbidden('You are not authorized to publicize this image; only admins may.');
        if (doc.owner !== img.spec.owner && !req.auth.admin) throw forbidden("Only admins may change an image's owner.");
        const spec = specOfDoc(doc, img.spec);
        // A merge patch cannot drop a key it does not name: removed properties are named with null.
        const removed = Object.fromEntries(Object.keys(img.spec.properties ?? {}).filter((k) => !(k in (spec.properties ?? {}))).map((k) => [k, null]));
        return { spec: { ...spec, properties: { ...(spec.properties ?? {}), ...removed } } };
      },
      `Image ${req.params.id}`,
    );
    return { status: 200, body: view(written) };
  });

  router.on('DELETE', '/images/:id', async (req) => {
    const img = modifiable(api, req.params.id, req.auth);
    if (img.spec.protected) throw forbidden(`Image ${req.params.id} is protected and cannot be deleted.`);
    await api.client.delete(IMAGES, img.metadata.namespace, img.metadata.name);
    await api.dir.until(img, (c) => !c || !!c.metadata.deletionTimestamp);
    api.log.info('image deleted', { namespace: img.metadata.namespace, name: img.metadata.name });
    return { status: 204 };
  });

  router.on('PUT', '/images/:id/tags/:tag', async (req) => {
    const img = modifiable(api, req.params.id, req.auth);
    if (req.params.tag.length > 255) throw badRequest('A tag is at most 255 characters.');
    if (!(img.spec.tags ?? []).includes(req.params.tag)) await updateImage(api, img, (cur) => ({ spec: { tags: [...new Set([...(cur.spec.tags ?? []), req.params.tag])] } }), `Image ${req.params.id}`);
    return { status: 204 };
  });

  router.on('DELETE', '/images/:id/tags/:tag', async (req) => {
    const img = modifiable(api, req.params.id, req.auth);
    if (!(img.spec.tags ?? []).includes(req.params.tag)) throw noTag(req.params.tag);
    await updateImage(api, img, (cur) => ({ spec: { tags: (cur.spec.tags ?? []).filter((t) => t !== req.params.tag) } }), `Image ${req.params.id}`);
    return { status: 204 };
  });

  for (const action of ['deactivate', 'reactivate'] as const)
    router.on('POST', `/images/:id/actions/${action}`, async (req) => {
      const img = api.dir.visible(req.params.id, req.auth);
      // Glance's policy since Xena: admins, or the owning project's members.
      if (!canModify(img, req.auth)) throw forbidden(`You are not authorized to ${action} image ${req.params.id}: it belongs to another project.`);
      const phase = img.status?.phase ?? 'queued';
      if (phase !== 'active' && phase !== 'deactivated') throw forbidden(`Not allowed to ${action} image in status '${phase}'.`);
      const want = action === 'deactivate' ? 'deactivated' : 'active';
      if (phase !== want) {
        await updateImage(api, img, () => ({ spec: { deactivated: action === 'deactivate' } }), `Image ${req.params.id}`);
        await api.dir.until(img, (c) => c?.status?.phase === want); // the reconciler moves the phase
      }
      return { status: 204 };
    });

  router.on('POST', '/images/:id/import', async (req) => {
    const method = req.body?.method;
    if (!method || typeof method.name !== 'string') throw badRequest('The request body needs "method": {"name": …}.');
    if (!IMPORT_METHODS.includes(method.name)) throw badRequest(`Import method ${method.name} is not supported here; available: ${IMPORT_METHODS.join(', ')}.`);
    if (typeof method.uri !== 'string' || !URL.canParse(method.uri)) throw badRequest('web-download needs "uri", an http or https URL.');
    // As Glance's import filtering: a URI the filter refuses is a 400 now (its addresses are checked when fetched).
    const refused = urlRefusal(api.importFilter, new URL(method.uri));
    if (refused) throw badRequest(`URI for web-download does not pass filtering: ${refused}`);
    await updateImage(
      api,
      modifiable(api, req.params.id, req.auth),
      (img) => {
        if ((img.status?.phase ?? 'queued') !== 'queued' || hasData(img) || !isUploadSource(img.spec)) throw conflict(`Image status transition from ${img.status?.phase} to importing is not allowed.`);
        if (!img.spec.diskFormat || !img.spec.containerFormat) throw conflict('Properties disk_format, container_format must be set prior to importing data.');
        return { spec: { source: { url: method.uri } } };
      },
      `Image ${req.params.id}`,
    );
    return { status: 202 };
  });

  router.on('GET', '/info/import', () => ({
    status: 200,
    body: { 'import-methods': { description: 'Import methods available.', type: 'array', value: IMPORT_METHODS } },
  }));
  router.on('GET', '/info/stores', () => ({ status: 200, body: { stores: [{ id: 's3', description: 'S3-compatible object storage', default: true }] } }));
}

const noTag = (tag: string) => notFound(`Tag ${tag} not found.`);

/** The namespace a new image goes in: the caller's project, or (admins only) the project named as owner. */
function tenantFor(api: GlanceApi, auth: ImageAuth, owner: unknown): string {
  if (owner !== undefined && owner !== null && owner !== auth.projectId) {
    if (!auth.admin) throw forbidden("Only admins may set an image's owner to another project.");
    if (typeof owner !== 'string' || !owner || owner.length > 255) throw badRequest("Invalid value for 'owner': a project ID of at most 255 characters.");
    const tenant = api.dir.tenantByProjectId(owner);
    if (tenant) return tenant.metadata.name;
  }
  if (!auth.tenant) throw forbidden('Creating an image needs a project-scoped token.');
  return auth.tenant; // the maker's, also for an owner no project here has
}
