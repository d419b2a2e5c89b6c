/**
 * Nova's image proxy (/images, deprecated at microversion 2.36 and gone after): Glance's images as the
 * Compute API showed them, read from the same Image resources, with Glance's visibility rules; DELETE deletes
 * the Image as Glance's API would (owners and admins). Clients that wait on a createImage snapshot here
 * (Tempest's compute image tests, older SDKs) see it go from SAVING to ACTIVE.
 */
import { IMAGES, canModify, canSee, imageIdOf, listedByDefault, type Image } from '@stratus/glance';
import { serverIdOf } from './views.js';
import type { ComputeApiContext, ComputeRequest, ComputeRouter } from './context.js';
import { NovaError, forbidden } from './errors.js';

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
  const listed = (req: ComputeRequest) => dir.images.list().filter((img) => !img.metadata.deletionTimestamp && listedByDefault(img, viewer(req)));

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
