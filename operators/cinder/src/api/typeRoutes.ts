/** /v3/types: volume types (admins make and change them; everyone lists the public ones), and extra specs. */
import { displayNameOf, type ApiRequest } from '@stratus/runtime';
import { VOLUME_TYPES, idOf, type VolumeType } from '../resources.js';
import { API_FIELD_MANAGER, bool, fromKubernetes, newObjectName, on, resourceBody, str, type VolApi, type VolAuth, type VolRouter } from './context.js';
import { badRequest, conflict, forbidden, notFound } from './errors.js';
import { listAnswer } from './listing.js';
import { typeView } from './views.js';

/** Whether a caller may use a volume type: public, given to its project, or an admin. */
export const mayUse = (t: VolumeType, auth: Pick<VolAuth, 'admin' | 'projectId'>) => auth.admin || t.spec.isPublic !== false || (t.spec.projects ?? []).includes(auth.projectId ?? '');

/** Whether any volume is of the type (its retyped type, else the one asked), or any group takes it: Cinder changes no such type's deletion or encryption. */
export const typeInUse = (api: VolApi, t: VolumeType) =>
  api.dir.volumes.list().some((v) => (v.status?.volumeType ?? v.spec.volumeType) === t.metadata.name) || api.dir.groups.list().some((g) => g.spec.volumeTypes.includes(t.metadata.name));

export function typeRoutes(router: VolRouter, api: VolApi): void {
  const typeOf = (auth: VolAuth, id: string) => {
    const t = api.dir.type(id);
    if (!t || !mayUse(t, auth)) throw notFound(`Volume type ${id} could not be found.`);
    return t;
  };
  /** A type in full, with its QoS spec's ID. */
  const shown = (t: VolumeType, auth: VolAuth) => typeView(t, auth.admin, 'show', api.dir.qosIdOf(t));
  const adminOnly = (req: ApiRequest<VolAuth> & { auth: VolAuth }) => {
    if (!req.auth.admin) throw forbidden("Policy doesn't allow volume_extension:types_manage to be performed.");
  };
  on(router, 'GET', '/types', (req) => {
    const isPublic = req.query.get('is_public');
    const types = api.dir.types.list().filter((t) => mayUse(t, req.auth) && (isPublic === null || isPublic === 'None' || String(t.spec.isPublic ?? true) === isPublic.toLowerCase()));
    const q = new URLSearchParams(req.query);
    q.delete('is_public');
    return listAnswer({ ...req, query: q }, types.map((t) => shown(t, req.auth)), 'volume_types', `${req.base}/v3`, undefined, 'types');
  });
  on(router, 'GET', '/types/default', (req) => ({ status: 200, body: { volume_type: shown(typeOf(req.auth, 'default'), req.auth) } }));
  on(router, 'GET', '/types/:id', (req) => ({ status: 200, body: { volume_type: shown(typeOf(req.auth, req.params.id), req.auth) } }));
  on(router, 'POST', '/types', async (req) => {
    adminOnly(req);
    const r = resourceBody(req.body, 'volume_type');
    const name = str(r.name, 'name');
    if (!name?.trim()) throw badRequest('Invalid input received: name must be given.');
    if (api.dir.types.list().some((t) => displayNameOf(t) === name)) throw conflict(`Volume Type ${name} already exists.`);
    const extra = (r.extra_specs ?? {}) as Record<string, string>;
    const body: VolumeType = {
      apiVersion: 'blockstorage.stratus.io/v1alpha1',
      kind: 'VolumeType',
      metadata: { name: newObjectName(api.dir.types, '', name, 'type') },
      spec: { displayName: name, ...(str(r.description, 'description') !== undefined ? { description: r.description as string } : {}), isPublic: bool(r['os-volume-type-access:is_public'] ?? r.is_public, 'is_public') ?? true, extraSpecs: Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])) },
    };
    const made = await api.client.create<VolumeType>(VOLUME_TYPES, body, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'Volume type'));
    await api.dir.types.seen(made);
    return { status: 200, body: { volume_type: typeView(made, true, 'create') } };
  });
  on(router, 'PUT', '/types/:id', async (req) => {
    adminOnly(req);
    const t = typeOf(req.auth, req.params.id);
    const r = resourceBody(req.body, 'volume_type');
    const spec = { ...(r.name !== undefined ? { displayName: str(r.name, 'name') } : {}), ...(r.description !== undefined ? { description: str(r.description, 'description') } : {}), ...(r.is_public !== undefined ? { isPublic: bool(r.is_public, 'is_public') } : {}) };
    const updated = await api.client.patch<VolumeType>(VOLUME_TYPES, undefined, t.metadata.name, { spec }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'Volume type'));
    return { status: 200, body: { volume_type: typeView(updated, true, 'update') } };
  });
  on(router, 'DELETE', '/types/:id', async (req) => {
    adminOnly(req);
    const t = typeOf(req.auth, req.params.id);
    if (typeInUse(api, t)) throw badRequest(`Target volume type is still in use. Volume Type ${idOf(t)} deletion is not allowed with volumes present with the type.`);
    await api.client.delete(VOLUME_TYPES, undefined, t.metadata.name).catch((e) => fromKubernetes(e, 'Volume type'));
    return { status: 202 };
  });
  on(router, 'GET', '/types/:id/extra_specs', (req) => {
    adminOnly(req);
    return { status: 200, body: { extra_specs: typeView(typeOf(req.auth, req.params.id), true).extra_specs } };
  });
  const specsOf = (t: VolumeType) => typeView(t, true).extra_specs as Record<string, string>;
  on(router, 'GET', '/types/:id/extra_specs/:key', (req) => {
    adminOnly(req);
    const specs = specsOf(typeOf(req.auth, req.params.id));
    if (!Object.hasOwn(specs, req.params.key)) throw notFound(`Volume Type ${req.params.id} has no extra specs with key ${req.params.key}.`);
    return { status: 200, body: { [req.params.key]: specs[req.params.key] } };
  });
  on(router, 'PUT', '/types/:id/extra_specs/:key', async (req) => {
    adminOnly(req);
    const t = typeOf(req.auth, req.params.id);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (Object.keys(body).length !== 1 || !(req.params.key in body)) throw badRequest('Request body and URI mismatch');
    await api.client.patch(VOLUME_TYPES, undefined, t.metadata.name, { spec: { extraSpecs: { [req.params.key]: String(body[req.params.key]) } } }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'Volume type'));
    return { status: 200, body: { [req.params.key]: String(body[req.params.key]) } };
  });
  on(router, 'DELETE', '/types/:id/extra_specs/:key', async (req) => {
    adminOnly(req);
    const t = typeOf(req.auth, req.params.id);
    if (!Object.hasOwn(t.spec.extraSpecs ?? {}, req.params.key)) throw notFound(`Volume Type ${req.params.id} has no extra specs with key ${req.params.key}.`);
    await api.client.patch(VOLUME_TYPES, undefined, t.metadata.name, { spec: { extraSpecs: { [req.params.key]: null } } }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'Volume type'));
    return { status: 202 };
  });
  // Type access (os-volume-type-access): the projects a private type is given to.
  on(router, 'GET', '/types/:id/os-volume-type-access', (req) => {
    adminOnly(req);
    const t = typeOf(req.auth, req.params.id);
    if (t.spec.isPublic !== false) throw notFound(`Volume type ${req.params.id} is public: access is not listed for it.`);
    return { status: 200, body: { volume_type_access: (t.spec.projects ?? []).map((project_id) => ({ volume_type_id: idOf(t), project_id })) } };
  });
  on(router, 'POST', '/types/:id/action', async (req) => {
    adminOnly(req);
    const t = typeOf(req.auth, req.params.id);
    const body = (req.body ?? {}) as Record<string, { project?: unknown } | undefined>;
    const add = body.addProjectAccess;
    const remove = body.removeProjectAccess;
    const project = str((add ?? remove)?.project, 'project');
    if (!project) throw badRequest('Invalid input received: addProjectAccess or removeProjectAccess with a project is required.');
    if (t.spec.isPublic !== false) throw badRequest(`Invalid volume type: type access modification is not applicable to public volume type.`);
    const have = t.spec.projects ?? [];
    if (add && have.includes(project)) throw conflict(`Volume type access for ${idOf(t)} / ${project} combination already exists.`);
    if (remove && !have.includes(project)) throw notFound(`Volume type access not found for ${idOf(t)} / ${project} combination.`);
    const projects = add ? [...have, project] : have.filter((p) => p !== project);
    await api.client.patch(VOLUME_TYPES, undefined, t.metadata.name, { spec: { projects } }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'Volume type'));
    return { status: 202 };
  });
  on(router, 'POST', '/types/:id/extra_specs', async (req) => {
    adminOnly(req);
    const t = typeOf(req.auth, req.params.id);
    const specs = (req.body as { extra_specs?: Record<string, unknown> } | undefined)?.extra_specs;
    if (!specs || typeof specs !== 'object' || Array.isArray(specs)) throw badRequest("Invalid input received: 'extra_specs' must be an object of keys and values.");
    const extraSpecs = Object.fromEntries(Object.entries(specs).map(([k, v]) => [k, String(v)]));
    await api.client.patch(VOLUME_TYPES, undefined, t.metadata.name, { spec: { extraSpecs } }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'Volume type'));
    return { status: 200, body: { extra_specs: extraSpecs } };
  });
}
