/**
 * /v2/images/{id}/members: sharing a shared image with other projects, as Glance does. The owner adds and
 * removes members (spec.members); each member answers for itself, accepting or rejecting the share
 * (spec.memberStatus), which decides whether its image lists show the image. A member is named by its
 * project ID, and kept as its tenant's namespace.
 */
import { now } from '@stratus/runtime';
import { imageIdOf, type Image, type MemberStatus } from '../resources.js';
import { canModify, memberStatusOf, ownedBy } from '../visibility.js';
import { updateImage, type GlanceApi, type GlanceRouter } from './context.js';
import { badRequest, conflict, forbidden, notFound, tooLarge } from './errors.js';
import type { ImageAuth } from './tokens.js';

const STATUSES: MemberStatus[] = ['pending', 'accepted', 'rejected'];
/** Glance's image_member_quota default. */
const MAX_MEMBERS = 128;

const memberSchema = {
  name: 'member',
  properties: {
    created_at: { type: 'string', description: 'Date and time of image member creation' },
    image_id: { type: 'string', pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$', description: 'An identifier for the image' },
    member_id: { type: 'string', description: 'An identifier for the image member (tenantId)' },
    schema: { type: 'string', readOnly: true },
    status: { type: 'string', enum: STATUSES, description: 'The status of this image member' },
    updated_at: { type: 'string', description: 'Date and time of last modification of image member' },
  },
};

export const memberSchemas = {
  member: memberSchema,
  members: { name: 'members', properties: { members: { type: 'array', items: memberSchema }, schema: { type: 'string' } }, links: [{ rel: 'describedby', href: '{schema}' }] },
};

export function memberRoutes(router: GlanceRouter, api: GlanceApi) {
  const view = (img: Image, tenant: string) => {
    const answer = img.spec.memberStatus?.[tenant];
    const created = answer?.createdAt ?? new Date(img.metadata.creationTimestamp ?? Date.now()).toISOString();
    return {
      image_id: imageIdOf(img),
      member_id: api.dir.projectIdOf(tenant) ?? tenant,
      status: memberStatusOf(img, tenant),
      created_at: created.replace(/\.\d{3}Z$/, 'Z'),
      updated_at: (answer?.updatedAt ?? created).replace(/\.\d{3}Z$/, 'Z'),
      schema: '/v2/schemas/member',
    };
  };
  /** The tenant of a member ID (a project ID), if that project exists. */
  const tenantOf = (memberId: string) => api.dir.tenantByProjectId(memberId)?.metadata.name;
  /** The image, which the caller must see; members are a shared image's only. */
  const sharedImage = (id: string, auth: ImageAuth) => api.dir.visible(id, auth);
  const isMember = (img: Image, tenant: string | undefined) => !!tenant && (img.spec.members ?? []).includes(tenant);

  router.on('GET', '/images/:id/members', (req) => {
    const img = sharedImage(req.params.id, req.auth);
    // The owner sees every member; a member only itself.
    const tenants = canModify(img, req.auth) ? (img.spec.members ?? []) : (img.spec.members ?? []).filter((t) => t === req.auth.tenant);
    return { status: 200, body: { members: tenants.map((t) => view(img, t)), schema: '/v2/schemas/members' } };
  });

  router.on('GET', '/images/:id/members/:member', (req) => {
    const img = sharedImage(req.params.id, req.auth);
    const tenant = tenantOf(req.params.member);
    if (!isMember(img, tenant) || (!canModify(img, req.auth) && tenant !== req.auth.tenant)) throw notFound(`${req.params.member} is not a member of image ${req.params.id}.`);
    return { status: 200, body: view(img, tenant!) };
  });

  router.on('POST', '/images/:id/members', async (req) => {
    const img = sharedImage(req.params.id, req.auth);
    if (!canModify(img, req.auth)) throw forbidden('Only the owner of an image may share it.');
    if ((img.spec.visibility ?? 'shared') !== 'shared') throw forbidden(`Only shared images have members; image ${req.params.id} is ${img.spec.visibility}.`);
    const memberId = req.body?.member;
    if (typeof memberId !== 'string' || !memberId) throw badRequest('Invalid member: "member" must be a project ID.');
    const tenant = tenantOf(memberId);
    if (!tenant) throw badRequest(`Invalid member: no project ${memberId}.`);
    if (tenant === img.metadata.namespace) throw badRequest('The owner of an image cannot be one of its members.');
    const written = await updateImage(
      api,
      img,
      (current) => {
        const members = current.spec.members ?? [];
        if (members.includes(tenant)) throw conflict(`Member ${memberId} already exists for image ${req.params.id}.`);
        if (members.length >= MAX_MEMBERS) throw tooLarge(`An image may have at most ${MAX_MEMBERS} members.`);
        const at = now();
        return { spec: { members: [...members, tenant], memberStatus: { [tenant]: { status: 'pending', createdAt: at, updatedAt: at } } } };
      },
      `Image ${req.params.id}`,
    );
    return { status: 200, body: view(written, tenant) };
  });

  // Only the member answers for itself: the owner cannot accept on its behalf.
  router.on('PUT', '/images/:id/members/:member', async (req) => {
    const img = sharedImage(req.params.id, req.auth);
    const tenant = tenantOf(req.params.member);
    if (!isMember(img, tenant)) throw notFound(`${req.params.member} is not a member of image ${req.params.id}.`);
    if (tenant !== req.auth.tenant) throw forbidden(ownedBy(img, req.auth) ? 'The owner of an image cannot answer for its members.' : 'Only the member may change its own status.');
    const status = req.body?.status;
    if (!STATUSES.includes(status)) throw badRequest(`Invalid status: ${JSON.stringify(status)}; it must be one of ${STATUSES.join(', ')}.`);
    const written = await updateImage(api, img, (current) => ({ spec: { memberStatus: { [tenant!]: { ...(current.spec.memberStatus?.[tenant!] ?? {}), status, updatedAt: now() } } } }), `Image ${req.params.id}`);
    return { status: 200, body: view(written, tenant!) };
  });

  router.on('DELETE', '/images/:id/members/:member', async (req) => {
    const img = sharedImage(req.params.id, req.auth);
    const tenant = tenantOf(req.params.member);
    if (!isMember(img, tenant)) throw notFound(`${req.params.member} is not a member of image ${req.params.id}.`);
    if (!canModify(img, req.auth)) throw forbidden('Only the owner of an image may remove its members.');
    await updateImage(api, img, (current) => ({ spec: { members: (current.spec.members ?? []).filter((t) => t !== tenant), memberStatus: { [tenant!]: null } } }), `Image ${req.params.id}`);
    return { status: 204 };
  });
}
