/**
 * Nova's image proxy (/images, deprecated at microversion 2.36 and gone after): Glance's images as the
 * Compute API showed them, read from the same Image resources, with Glance's visibility rules; DELETE deletes
 * the Image as Glance's API would (owners and admins). Clients that wait on a createImage snapshot here
 * (Tempest's compute image tests, older SDKs) see it go from SAVING to ACTIVE.
 */
import { IMAGES, canModify, canSee, imageIdOf, listedByDefault, type Image } from '@stratus/glance';
import { MERGE_PATCH } from '@stratus/runtime';
import { API_FIELD_MANAGER, type ComputeApiContext, type ComputeRequest, type ComputeRouter } from './context.js';
import { NovaError, badRequest, forbidden, notFound } from './errors.js';
import { serverIdOf } from './views.js';

/** Glance's status words as Nova's image proxy says them. */
const STATUS: Record<string, string> = { queued: 'SAVING', saving: 'SAVING', importing: 'SAVING', active: 'ACTIVE', deactivated: 'ACTIVE', killed: 'ERROR', deleted: 'DELETED', pending_delete: 'DELETED' };
const PROGRESS: Record<string, number> = { SAVING: 50, ACTIVE: 100 };
const iso = (t: unknown) => new Date(String(t ?? 0)).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function imageProxyRoutes(router: ComputeRouter, api: ComputeApiContext) {
  const { dir } = api;
  /** Gone at 2.36, as in Nova: a client must ask Glance. */
  const available = (req: ComputeRequest) => {
    if (req.auth.version.atLeast('2.36')) throw new NovaError(404, 'The resource could not be found.');
  };
  const viewer = (req: ComputeRequest) => ({ tenant: req.auth.tenant, admin: req.auth.admin });
  const find = (req: ComputeRequest, id: string): Image => {
    const img = dir.images.byId(id);
    if (!img || img.metadata.deletionTimestamp || !canSee(img, viewer(req))) throw new NovaError(404, 'Image not found.');
    return img;
  };
  const links = (req: ComputeRequest, id: string) => {
    const origin = req.base.replace(/\/compute\/v2\.1$|\/v2\.1$/, '');
    return [
      { rel: 'self', href: `${req.base}/images/${id}` },
      { rel: 'bookmark', href: `${req.base.replace(/\/v2\.1$/, '')}/images/${id}` },
      { rel: 'alternate', type: 'application/vnd.openstack.image', href: `${origin}/image/images/${id}` },
    ];
  };
  const view = (req: ComputeRequest, img: Image) => {
    const id = imageIdOf(img);
    const status = STATUS[img.status?.phase ?? 'queued'] ?? 'UNKNOWN';
    const props = img.spec.properties ?? {};
    const server = props.instance_uuid ? dir.instances.byId(props.instance_uuid) : undefined;
    return {
      id,
      name: img.spec.displayName ?? null,
      status,
      progress: PROGRESS[status] ?? 0,
      minDisk: img.spec.minDisk ?? 0,
      minRam: img.spec.minRam ?? 0,
      metadata: props,
      created: iso(img.metadata.creationTimestamp),
      updated: iso(img.status?.conditions?.map((c) => c.lastTransitionTime).sort().at(-1) ?? img.metadata.creationTimestamp),
      links: links(req, id),
      'OS-EXT-IMG-SIZE:size': img.status?.size ?? null,
      'OS-DCF:diskConfig': 'MANUAL',
      ...(props.instance_uuid ? { server: { id: props.instance_uuid, links: server ? [{ rel: 'self', href: `${req.base}/servers/${serverIdOf(server)}` }] : [] } } : {}),
    };
  };
  /** Nova's proxy filters: name, status, type (the image_type property), server (an ID or a link), changes-since; limit and marker. */
  const listed = (req: ComputeRequest) => {
    const q = req.query;
    const server = q.get('server')?.replace(/\/+$/, '').split('/').pop();
    const since = q.get('changes-since');
    let images = dir.images
      .list()
      .filter((img) => !img.metadata.deletionTimestamp && listedByDefault(img, viewer(req)))
      .filter((img) => !q.has('name') || img.spec.displayName === q.get('name'))
      .filter((img) => !q.has('status') || (STATUS[img.status?.phase ?? 'queued'] ?? 'UNKNOWN') === q.get('status'))
      .filter((img) => !q.has('type') || img.spec.properties?.image_type === q.get('type'))
      .filter((img) => !server || img.spec.properties?.instance_uuid === server)
      .filter((img) => !since || Date.parse(String(img.metadata.creationTimestamp)) >= Date.parse(since))
      .sort((a, b) => imageIdOf(a).localeCompare(imageIdOf(b)));
    const marker = q.get('marker');
    if (marker) images = images.slice(images.findIndex((i) => imageIdOf(i) === marker) + 1);
    const limit = q.get('limit');
    if (limit !== null) {
      if (!/^\d+$/.test(limit)) throw badRequest(`Invalid limit: ${limit}.`);
      images = images.slice(0, Number(limit));
    }
    return images;
  };

  router.on('GET', '/images', (req) => {
    available(req);
    return { status: 200, body: { images: listed(req).map((img) => ({ id: imageIdOf(img), name: img.spec.displayName ?? null, links: links(req, imageIdOf(img)) })) } };
  });
  router.on('GET', '/images/detail', (req) => {
    available(req);
    return { status: 200, body: { images: listed(req).map((img) => view(req, img)) } };
  });
  router.on('GET', '/images/:id', (req) => {
    available(req);
    return { status: 200, body: { image: view(req, find(req, req.params.id)) } };
  });
  // Image metadata through the proxy: the image's properties (its owner's or an admin's to change).
  const modifiable = (req: ComputeRequest) => {
    available(req);
    const img = find(req, req.params.id);
    if (!canModify(img, viewer(req))) throw forbidden(`You are not permitted to modify image ${req.params.id}.`);
    return img;
  };
  const setProperties = async (img: Image, properties: Record<string, string | null>) => {
    const written = await api.client.patch<Image>(IMAGES, img.metadata.namespace, img.metadata.name, { spec: { properties } }, API_FIELD_MANAGER, MERGE_PATCH);
    await dir.images.seen(written);
    return written.spec.properties ?? {};
  };
  const metadataOf = (v: unknown, key = 'metadata'): Record<string, string> => {
    if (!v || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) throw badRequest(`Invalid input for field/attribute ${key}: an object of strings.`);
    return v as Record<string, string>;
  };
  router.on('GET', '/images/:id/metadata', (req) => {
    available(req);
    return { status: 200, body: { metadata: find(req, req.params.id).spec.properties ?? {} } };
  });
  router.on('POST', '/images/:id/metadata', async (req) => ({ status: 200, body: { metadata: await setProperties(modifiable(req), metadataOf(req.body?.metadata)) } }));
  router.on('PUT', '/images/:id/metadata', async (req) => {
    const img = modifiable(req);
    const next = metadataOf(req.body?.metadata);
    const removed = Object.fromEntries(Object.keys(img.spec.properties ?? {}).filter((k) => !(k in next)).map((k) => [k, null]));
    return { status: 200, body: { metadata: await setProperties(img, { ...removed, ...next }) } };
  });
  router.on('GET', '/images/:id/metadata/:key', (req) => {
    available(req);
    const value = find(req, req.params.id).spec.properties?.[req.params.key];
    if (value === undefined) throw new NovaError(404, 'Image not found.');
    return { status: 200, body: { meta: { [req.params.key]: value } } };
  });
  router.on('PUT', '/images/:id/metadata/:key', async (req) => {
    const img = modifiable(req);
    const meta = metadataOf(req.body?.meta, 'meta');
    if (Object.keys(meta).length !== 1 || !(req.params.key in meta)) throw badRequest('Request body and URI mismatch');
    await setProperties(img, meta);
    return { status: 200, body: { meta } };
  });
  router.on('DELETE', '/images/:id/metadata/:key', async (req) => {
    const img = modifiable(req);
    if (img.spec.properties?.[req.params.key] === undefined) throw new NovaError(404, 'Image not found.');
    await setProperties(img, { [req.params.key]: null });
    return { status: 204 };
  });

  // An empty ID names no image (Nova: 404), rather than the collection, which takes no DELETE.
  router.on('DELETE', '/images/', (req) => {
    available(req);
    throw notFound('Image  could not be found.');
  });
  router.on('DELETE', '/images/:id', async (req) => {
    available(req);
    const img = find(req, req.params.id);
    if (!canModify(img, viewer(req))) throw forbidden(`You are not permitted to delete image ${req.params.id}: it belongs to another project.`);
    if (img.spec.protected) throw forbidden(`Image ${req.params.id} is protected and cannot be deleted.`);
    await api.client.delete(IMAGES, img.metadata.namespace, img.metadata.name);
    await dir.images.until(img, (c) => !c || !!c.metadata.deletionTimestamp);
    return { status: 204 };
  });
}
