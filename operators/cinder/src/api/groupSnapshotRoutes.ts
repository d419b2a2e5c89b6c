/**
 * /v3/group_snapshots (3.14 and later): Cinder's group snapshots, as VolumeGroupSnapshot objects in the project's
 * namespace; the reconciler takes one VolumeSnapshot of each volume in the group and deletes them with it.
 */
import { displayNameOf, type ApiRequest } from '@stratus/runtime';
import { VOLUME_GROUP_SNAPSHOTS, idOf, type VolumeGroup, type VolumeGroupSnapshot } from '../resources.js';
import { API_FIELD_MANAGER, callerNamespace, fromKubernetes, newObjectName, on, owns, resetStatus, resourceBody, str, visible, type VolApi, type VolAuth, type VolRouter } from './context.js';
import { badRequest, notFound } from './errors.js';
import { listAnswer } from './listing.js';
import { requireMinor } from './microversion.js';
import { groupSnapshotStatus, groupStatus, stamp } from './views.js';

type Req = ApiRequest<VolAuth> & { auth: VolAuth };

export function groupSnapshotRoutes(router: VolRouter, api: VolApi): void {
  const snapshotOf = (auth: VolAuth, id: string) => {
    const gs = api.dir.groupSnapshots.byId(id);
    if (!gs || !owns(auth, gs)) throw notFound(`GroupSnapshot ${id} could not be found.`);
    return gs;
  };
  /** The group type's ID: its group's, while the group is there (Cinder keeps it on the group snapshot's row). */
  const groupTypeIdOf = (group: VolumeGroup | undefined) => {
    const type = group ? api.dir.groupTypes.get(group.spec.groupType) : undefined;
    return type ? idOf(type) : null;
  };
  const view = (gs: VolumeGroupSnapshot) => {
    const group = api.dir.groups.get(gs.spec.group, gs.metadata.namespace);
    return {
      id: idOf(gs),
      name: displayNameOf(gs),
      description: gs.spec.description ?? null,
      status: groupSnapshotStatus(gs),
      group_id: group ? idOf(group) : null,
      group_type_id: groupTypeIdOf(group),
      created_at: stamp(gs.metadata.creationTimestamp ?? new Date()),
    };
  };

  on(router, 'POST', '/group_snapshots', async (req) => {
    requireMinor(req, 14);
    const r = resourceBody(req.body, 'group_snapshot');
    const groupId = str(r.group_id, 'group_id');
    if (!groupId) throw badRequest("Invalid input received: 'group_id' is a required property");
    const ns = callerNamespace(req.auth);
    const group = api.dir.groups.byId(groupId);
    if (!group || group.metadata.namespace !== ns) throw notFound(`Group ${groupId} could not be found.`);
    const status = groupStatus(group);
    if (status !== 'available') throw badRequest(`Invalid group: Group status must be available, but current status is: ${status}.`);
    const name = str(r.name, 'name');
    const description = str(r.description, 'description');
    const body: VolumeGroupSnapshot = {
      apiVersion: 'blockstorage.stratus.io/v1alpha1',
      kind: 'VolumeGroupSnapshot',
      metadata: { name: newObjectName(api.dir.groupSnapshots, ns, name, 'group-snapshot'), namespace: ns },
      spec: { ...(name !== undefined ? { displayName: name } : {}), ...(description !== undefined ? { description } : {}), group: group.metadata.name },
    };
    const made = await api.client.create<VolumeGroupSnapshot>(VOLUME_GROUP_SNAPSHOTS, body, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'Group snapshot'));
    await api.dir.groupSnapshots.seen(made);
    return { status: 202, body: { group_snapshot: { id: idOf(made), name: displayNameOf(made), group_type_id: groupTypeIdOf(group) } } };
  });
  const list = (detail: boolean) => (req: Req) => {
    requireMinor(req, 14);
    const views = visible(api, req.auth, api.dir.groupSnapshots, req.query).map(view);
    return listAnswer(req, views, 'group_snapshots', `${req.base}/v3`, detail ? undefined : (v) => ({ id: v.id, name: v.name }), detail ? 'group_snapshots/detail' : 'group_snapshots');
  };
  on(router, 'GET', '/group_snapshots', list(false));
  on(router, 'GET', '/group_snapshots/detail', list(true));
  on(router, 'GET', '/group_snapshots/:id', (req) => {
    requireMinor(req, 14);
    return { status: 200, body: { group_snapshot: view(snapshotOf(req.auth, req.params.id)) } };
  });
  on(router, 'DELETE', '/group_snapshots/:id', async (req) => {
    requireMinor(req, 14);
    const gs = snapshotOf(req.auth, req.params.id);
    const status = groupSnapshotStatus(gs);
    if (status === 'deleting') return { status: 202 };
    if (!['available', 'error'].includes(status)) throw badRequest(`Invalid group snapshot: Group snapshot status must be available or error, but current status is: ${status}.`);
    // Its snapshots go first (the reconciler deletes them); the group snapshot shows deleting until they are gone.
    await api.client.delete(VOLUME_GROUP_SNAPSHOTS, gs.metadata.namespace, gs.metadata.name).catch((e) => fromKubernetes(e, `Group snapshot ${idOf(gs)}`));
    await api.dir.groupSnapshots.until(gs, (cached) => !cached || !!cached.metadata.deletionTimestamp);
    return { status: 202 };
  });
  on(router, 'POST', '/group_snapshots/:id/action', async (req) => {
    requireMinor(req, 19);
    const gs = snapshotOf(req.auth, req.params.id);
    const body = (req.body ?? {}) as Record<string, Record<string, unknown> | null>;
    const [action] = Object.keys(body);
    if (action !== 'reset_status') throw badRequest(`Invalid input received: There is no such action: ${action ?? '(none)'}`);
    return resetStatus(api, req.auth, VOLUME_GROUP_SNAPSHOTS, gs, 'groupSnapshot', body[action] ?? {}, `Group snapshot ${idOf(gs)}`);
  });
}
