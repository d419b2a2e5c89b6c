/**
 * /v3/group_types (3.11 and later): Cinder's group types and their group specs, as VolumeGroupType objects.
 * Admins make and change them; everyone lists the public ones, and only admins see the specs (Cinder's
 * group:group_types_manage and group:group_types_specs policies).
 */
import { displayNameOf, type ApiRequest } from '@stratus/runtime';
import { VOLUME_GROUP_TYPES, idOf, type VolumeGroupType } from '../resources.js';
import { API_FIELD_MANAGER, bool, fromKubernetes, newObjectName, on, resourceBody, specsOf, str, type VolApi, type VolAuth, type VolRouter } from './context.js';
import { badRequest, conflict, forbidden, notFound } from './errors.js';
import { listAnswer } from './listing.js';
import { requireMinor } from './microversion.js';

type Req = ApiRequest<VolAuth> & { auth: VolAuth };

/** A group type as Cinder shows it: its specs to admins only. Pure. */
export const groupTypeView = (t: VolumeGroupType, admin: boolean) => ({
  id: idOf(t),
  name: displayNameOf(t),
  description: t.spec.description ?? null,
  is_public: t.spec.isPublic ?? true,
  ...(admin ? { group_specs: t.spec.groupSpecs ?? {} } : {}),
});

/** Whether a caller sees a group type: a public one, or any to an admin (Cinder keeps no access list for them). */
export const mayUseGroupType = (t: VolumeGroupType, auth: Pick<VolAuth, 'admin'>) => auth.admin || t.spec.isPublic !== false;

/** The group specs object of a request body, or 400. */
function groupSpecsIn(v: unknown): Record<string, string> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest("Invalid input received: 'group_specs' must be an object of keys and values.");
  return specsOf(v as Record<string, unknown>, 'group spec');
}

export function groupTypeRoutes(router: VolRouter, api: VolApi): void {
  const admin = (req: Req, policy: 'group_types_manage' | 'group_types_specs') => {
    if (!req.auth.admin) throw forbidden(`Policy doesn't allow group:${policy} to be performed.`);
  };
  /** A group type the caller may see, by ID. */
  const typeOf = (req: Req) => {
    const t = api.dir.groupTypes.byId(req.params.id);
    if (!t || !mayUseGroupType(t, req.auth)) throw notFound(`Group type with id ${req.params.id} could not be found.`);
    return t;
  };
  const nameFree = (name: string, except?: VolumeGroupType) => {
    if (api.dir.groupTypes.list().some((t) => t !== except && displayNameOf(t) === name)) throw conflict(`Group Type ${name} already exists.`);
  };
  const patchSpec = async (t: VolumeGroupType, spec: Record<string, unknown>) => {
    const updated = await api.client.patch<VolumeGroupType>(VOLUME_GROUP_TYPES, undefined, t.metadata.name, { spec }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, `Group type ${idOf(t)}`));
    await api.dir.groupTypes.seen(updated);
    return updated;
  };
  const specOf = (req: Req) => {
    const specs = typeOf(req).spec.groupSpecs ?? {};
    if (!Object.hasOwn(specs, req.params.key)) throw notFound(`Group Type ${req.params.id} has no specs with key ${req.params.key}.`);
    return specs[req.params.key];
  };

  on(router, 'GET', '/group_types', (req) => {
    requireMinor(req, 11);
    const isPublic = req.query.get('is_public');
    const wanted = req.auth.admin ? (isPublic === null || isPublic === 'None' ? undefined : bool(isPublic, 'is_public')) : true;
    const types = api.dir.groupTypes.list().filter((t) => wanted === undefined || (t.spec.isPublic ?? true) === wanted);
    const q = new URLSearchParams(req.query);
    q.delete('is_public');
    return listAnswer({ ...req, query: q }, types.map((t) => groupTypeView(t, req.auth.admin)), 'group_types', `${req.base}/v3`, undefined, 'group_types');
  });
  on(router, 'GET', '/group_types/default', (req) => {
    requireMinor(req, 11);
    throw notFound('Default group type can not be found.');
  });
  on(router, 'GET', '/group_types/:id', (req) => {
    requireMinor(req, 11);
    return { status: 200, body: { group_type: groupTypeView(typeOf(req), req.auth.admin) } };
  });
  on(router, 'POST', '/group_types', async (req) => {
    requireMinor(req, 11);
    admin(req, 'group_types_manage');
    const r = resourceBody(req.body, 'group_type');
    const name = str(r.name, 'name')?.trim();
    if (!name) throw badRequest('Invalid input received: group_type name must be given.');
    nameFree(name);
    const description = str(r.description, 'description');
    const body: VolumeGroupType = {
      apiVersion: 'blockstorage.stratus.io/v1alpha1',
      kind: 'VolumeGroupType',
      metadata: { name: newObjectName(api.dir.groupTypes, '', name, 'group-type') },
      spec: { displayName: name, ...(description !== undefined ? { description } : {}), isPublic: bool(r.is_public, 'is_public') ?? true, groupSpecs: r.group_specs === undefined ? {} : groupSpecsIn(r.group_specs) },
    };
    const made = await api.client.create<VolumeGroupType>(VOLUME_GROUP_TYPES, body, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'Group type'));
    await api.dir.groupTypes.seen(made);
    return { status: 202, body: { group_type: groupTypeView(made, true) } };
  });
  on(router, 'PUT', '/group_types/:id', async (req) => {
    requireMinor(req, 11);
    admin(req, 'group_types_manage');
    const t = typeOf(req);
    // A null field is one not given (cinderclient sends every field, null where unchanged), as in Cinder.
    const { name: rawName, description, is_public: isPublic } = resourceBody(req.body, 'group_type');
    if (rawName == null && description == null && isPublic == null) throw badRequest('Specify group type name, description or a combination thereof.');
    const name = rawName == null ? undefined : str(rawName, 'name')?.trim();
    if (rawName != null && !name) throw badRequest('Invalid input received: group_type name must not be empty.');
    if (name !== undefined) nameFree(name, t);
    const spec = { ...(name !== undefined ? { displayName: name } : {}), ...(description != null ? { description: str(description, 'description') } : {}), ...(isPublic != null ? { isPublic: bool(isPublic, 'is_public') } : {}) };
    return { status: 200, body: { group_type: groupTypeView(await patchSpec(t, spec), true) } };
  });
  on(router, 'DELETE', '/group_types/:id', async (req) => {
    requireMinor(req, 11);
    admin(req, 'group_types_manage');
    const t = typeOf(req);
    if (api.dir.groups.list().some((g) => g.spec.groupType === t.metadata.name)) throw badRequest(`Invalid input received: Group Type ${idOf(t)} deletion is not allowed with groups present with the type.`);
    await api.client.delete(VOLUME_GROUP_TYPES, undefined, t.metadata.name).catch((e) => fromKubernetes(e, `Group type ${idOf(t)}`));
    await api.dir.groupTypes.until(t, (cached) => !cached); // the next list no longer shows it
    return { status: 202 };
  });

  on(router, 'GET', '/group_types/:id/group_specs', (req) => {
    requireMinor(req, 11);
    admin(req, 'group_types_specs');
    return { status: 200, body: { group_specs: typeOf(req).spec.groupSpecs ?? {} } };
  });
  on(router, 'POST', '/group_types/:id/group_specs', async (req) => {
    requireMinor(req, 11);
    admin(req, 'group_types_specs');
    const t = typeOf(req);
    const groupSpecs = groupSpecsIn((req.body as { group_specs?: unknown } | undefined)?.group_specs);
    await patchSpec(t, { groupSpecs });
    return { status: 202, body: { group_specs: groupSpecs } };
  });
  on(router, 'GET', '/group_types/:id/group_specs/:key', (req) => {
    requireMinor(req, 11);
    admin(req, 'group_types_specs');
    return { status: 200, body: { [req.params.key]: specOf(req) } };
  });
  on(router, 'PUT', '/group_types/:id/group_specs/:key', async (req) => {
    requireMinor(req, 11);
    admin(req, 'group_types_specs');
    const t = typeOf(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (Object.keys(body).length > 1) throw badRequest('Request body contains too many items.');
    if (!Object.hasOwn(body, req.params.key)) throw badRequest('Request body and URI mismatch');
    const spec = specsOf(body, 'group spec');
    await patchSpec(t, { groupSpecs: spec });
    return { status: 200, body: spec };
  });
  on(router, 'DELETE', '/group_types/:id/group_specs/:key', async (req) => {
    requireMinor(req, 11);
    admin(req, 'group_types_specs');
    const t = typeOf(req);
    specOf(req);
    await patchSpec(t, { groupSpecs: { [req.params.key]: null } });
    return { status: 202 };
  });
}
