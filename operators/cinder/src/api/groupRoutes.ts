/**
 * /v3/groups (3.13 and later): Cinder's generic volume groups, as VolumeGroup objects in the project's
 * namespace. Membership is each volume's spec.group: a group's update adds and removes volumes by writing it,
 * its delete (with delete-volumes) deletes them, and a group made from another or from a group snapshot (3.14)
 * gets volumes made from its volumes or snapshots.
 */
import { displayNameOf, type ApiRequest } from '@stratus/runtime';
import { VOLUMES, VOLUME_GROUPS, idOf, volumeTypeOf, type Volume, type VolumeGroup } from '../resources.js';
import { API_FIELD_MANAGER, bool, callerNamespace, fromKubernetes, newObjectName, on, createCounted, owns, resetStatus, resourceBody, str, visible, type VolApi, type VolAuth, type VolRouter } from './context.js';
import { badRequest, notFound } from './errors.js';
import { listAnswer } from './listing.js';
import { minorOf, requireMinor } from './microversion.js';
import { mayUse } from './typeRoutes.js';
import { mayUseGroupType } from './groupTypeRoutes.js';
import { membersOf as membersAmong } from '../groups.js';
import { groupSnapshotStatus, groupStatus, stamp, volumeStatus } from './views.js';

type Req = ApiRequest<VolAuth> & { auth: VolAuth };

/** The volume statuses a volume may join or leave a group in (Cinder's VALID_ADD_VOL_TO_GROUP_STATUS). */
const MOVABLE = ['available', 'in-use'];
/** The statuses a group may be deleted in. */
const DELETABLE = ['available', 'error'];
/** The statuses a group's volumes may be deleted in with it. */
const VOLUME_DELETABLE = ['available', 'error', 'error_deleting', 'error_extending'];

/** A comma-separated list of IDs (Cinder's add_volumes and remove_volumes). Pure. */
export const idList = (v: unknown, field: string): string[] => (str(v, field, 65535) ?? '').split(',').map((s) => s.trim()).filter(Boolean);

export function groupRoutes(router: VolRouter, api: VolApi): void {
  const groupOf = (auth: VolAuth, id: string) => {
    const g = api.dir.groups.byId(id);
    if (!g || !owns(auth, g)) throw notFound(`Group ${id} could not be found.`);
    return g;
  };
  const membersOf = (g: VolumeGroup) => membersAmong(g.metadata.name, api.dir.volumes.list(g.metadata.namespace));
  /** `listVolume`: the caller asked for the group's volumes (list_volume=True, 3.25 and later). */
  const view = (g: VolumeGroup, minor: number, listVolume = false) => {
    const ns = g.metadata.namespace;
    const source = g.spec.sourceGroup ? api.dir.groups.get(g.spec.sourceGroup, ns) : undefined;
    const fromSnapshot = g.spec.sourceGroupSnapshot ? api.dir.groupSnapshots.get(g.spec.sourceGroupSnapshot, ns) : undefined;
    return {
      id: idOf(g),
      name: displayNameOf(g),
      description: g.spec.description ?? null,
      status: groupStatus(g),
      availability_zone: g.spec.availabilityZone ?? 'nova',
      created_at: stamp(g.metadata.creationTimestamp ?? new Date()),
      group_type: ((t) => (t ? idOf(t) : g.spec.groupType))(api.dir.groupTypes.get(g.spec.groupType)),
      group_snapshot_id: fromSnapshot ? idOf(fromSnapshot) : null,
      source_group_id: source ? idOf(source) : null,
      volume_types: g.spec.volumeTypes.map((name) => ((t) => (t ? idOf(t) : name))(api.dir.types.get(name))),
      ...(minor >= 25 && listVolume ? { volumes: membersOf(g).map(idOf) } : {}),
      ...(minor >= 38 ? { replication_status: 'disabled' } : {}),
      ...(minor >= 58 ? { project_id: api.dir.projectIdOf(ns) } : {}),
    };
  };
  /** Writes a new group and waits until the cache holds it, so that the caller's next read finds it. */
  const make = async (auth: VolAuth, spec: VolumeGroup['spec']) => {
    const ns = callerNamespace(auth);
    const body: VolumeGroup = { apiVersion: 'blockstorage.stratus.io/v1alpha1', kind: 'VolumeGroup', metadata: { name: newObjectName(api.dir.groups, ns, spec.displayName, 'group'), namespace: ns }, spec };
    const made = await createCounted(api, ns, { groups: 1 }, VOLUME_GROUPS, api.dir.groups, body, 'Group');
    return { status: 202, body: { group: { id: idOf(made), name: displayNameOf(made) } } };
  };
  const setGroup = async (v: Volume, group: string | null) => {
    const updated = await api.client.patch<Volume>(VOLUMES, v.metadata.namespace, v.metadata.name, { spec: { group } }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, `Volume ${idOf(v)}`));
    await api.dir.volumes.seen(updated);
  };
  const volumeIn = (g: VolumeGroup, id: string) => {
    const v = api.dir.volumes.byId(id);
    if (!v || v.metadata.namespace !== g.metadata.namespace) throw badRequest(`Invalid volume: Cannot add volume ${id} to group ${idOf(g)} because volume cannot be found.`);
    return v;
  };

  on(router, 'POST', '/groups', async (req) => {
    requireMinor(req, 13);
    const r = resourceBody(req.body, 'group');
    const typeRef = str(r.group_type, 'group_type');
    if (!typeRef) throw badRequest("Invalid input received: 'group_type' is a required property");
    const groupType = api.dir.groupType(typeRef);
    if (!groupType || !mayUseGroupType(groupType, req.auth)) throw notFound(`GroupType ${typeRef} could not be found.`);
    const refs = Array.isArray(r.volume_types) ? r.volume_types : typeof r.volume_types === 'string' ? r.volume_types.split(',') : undefined;
    if (!refs?.length) throw badRequest("Invalid input received: 'volume_types' is a required property");
    const volumeTypes = refs.map((ref) => {
      const t = typeof ref === 'string' ? api.dir.type(ref.trim()) : undefined;
      if (!t || !mayUse(t, req.auth)) throw notFound(`Volume type ${String(ref)} could not be found.`);
      return t.metadata.name;
    });
    const az = str(r.availability_zone, 'availability_zone');
    if (az && az !== 'nova') throw badRequest(`Invalid input received: Availability zone '${az}' is invalid.`);
    const name = str(r.name, 'name');
    const description = str(r.description, 'description');
    return make(req.auth, { ...(name !== undefined ? { displayName: name } : {}), ...(description !== undefined ? { description } : {}), groupType: groupType.metadata.name, volumeTypes });
  });
  on(router, 'POST', '/groups/action', async (req) => {
    requireMinor(req, 14);
    const r = resourceBody(req.body, 'create-from-src');
    const name = str(r.name, 'name');
    const description = str(r.description, 'description');
    const named = { ...(name !== undefined ? { displayName: name } : {}), ...(description !== undefined ? { description } : {}) };
    const sourceId = str(r.source_group_id, 'source_group_id');
    const snapshotId = str(r.group_snapshot_id, 'group_snapshot_id');
    if (!sourceId === !snapshotId) throw badRequest('Invalid input received: Either group_snapshot_id or source_group_id must be provided, but not both.');
    const ns = callerNamespace(req.auth);
    if (snapshotId) {
      const gs = api.dir.groupSnapshots.byId(snapshotId);
      if (!gs || gs.metadata.namespace !== ns) throw notFound(`GroupSnapshot ${snapshotId} could not be found.`);
      const status = groupSnapshotStatus(gs);
      if (status !== 'available') throw badRequest(`Invalid group snapshot: Group snapshot status must be available, but current status is: ${status}.`);
      const of = api.dir.groups.get(gs.spec.group, ns);
      if (!of) throw badRequest(`Invalid group snapshot: the group it was taken of is gone, and with it its group and volume types.`);
      return make(req.auth, { ...named, groupType: of.spec.groupType, volumeTypes: of.spec.volumeTypes, sourceGroupSnapshot: gs.metadata.name });
    }
    const source = groupOf(req.auth, sourceId!);
    if (source.metadata.namespace !== ns) throw notFound(`Group ${sourceId} could not be found.`);
    const status = groupStatus(source);
    if (status !== 'available') throw badRequest(`Invalid group: Source group status must be available, but current status is: ${status}.`);
    return make(req.auth, { ...named, groupType: source.spec.groupType, volumeTypes: source.spec.volumeTypes, sourceGroup: source.metadata.name });
  });

  const list = (detail: boolean) => (req: Req) => {
    requireMinor(req, 13);
    const views = visible(api, req.auth, api.dir.groups, req.query).map((g) => view(g, minorOf(req)));
    return listAnswer(req, views, 'groups', `${req.base}/v3`, detail ? undefined : (v) => ({ id: v.id, name: v.name }), detail ? 'groups/detail' : 'groups');
  };
  on(router, 'GET', '/groups', list(false));
  on(router, 'GET', '/groups/detail', list(true));
  on(router, 'GET', '/groups/:id', (req) => {
    requireMinor(req, 13);
    return { status: 200, body: { group: view(groupOf(req.auth, req.params.id), minorOf(req), bool(req.query.get('list_volume'), 'list_volume') ?? false) } };
  });

  on(router, 'PUT', '/groups/:id', async (req) => {
    requireMinor(req, 13);
    const g = groupOf(req.auth, req.params.id);
    const r = resourceBody(req.body, 'group');
    const name = str(r.name, 'name');
    const description = str(r.description, 'description');
    const add = idList(r.add_volumes, 'add_volumes');
    const remove = idList(r.remove_volumes, 'remove_volumes');
    if (name === undefined && description === undefined && !add.length && !remove.length) throw badRequest('Invalid input received: Name, description, add_volumes, and remove_volumes can not be all empty in the request body.');
    const status = groupStatus(g);
    if ((add.length || remove.length) && status !== 'available') throw badRequest(`Invalid group: Group status must be available, but current status is: ${status}.`);
    // Every volume is checked before any is moved: a refused update changes nothing.
    const joining = add.map((id) => {
      const v = volumeIn(g, id);
      const vStatus = volumeStatus(v);
      if (v.spec.group === g.metadata.name) throw badRequest(`Invalid volume: Cannot add volume ${id} to group ${idOf(g)} because it is already in the group.`);
      if (v.spec.group) throw badRequest(`Invalid volume: Cannot add volume ${id} to group ${idOf(g)} because it is already in group ${api.dir.groupIdOf(v)}.`);
      if (!MOVABLE.includes(vStatus)) throw badRequest(`Invalid volume: Cannot add volume ${id} to group ${idOf(g)} because volume is in an invalid state: ${vStatus}. Valid states are: ${MOVABLE.join(', ')}.`);
      const type = volumeTypeOf(v);
      if (!g.spec.volumeTypes.includes(type)) throw badRequest(`Invalid volume: Cannot add volume ${id} to group ${idOf(g)} because volume type ${type} is not supported by the group.`);
      return v;
    });
    const leaving = remove.map((id) => {
      const v = api.dir.volumes.byId(id);
      if (!v || v.metadata.namespace !== g.metadata.namespace || v.spec.group !== g.metadata.name) throw badRequest(`Invalid volume: Cannot remove volume ${id} from group ${idOf(g)} because it is not in the group.`);
      const vStatus = volumeStatus(v);
      if (!MOVABLE.includes(vStatus) && vStatus !== 'error') throw badRequest(`Invalid volume: Cannot remove volume ${id} from group ${idOf(g)} because volume is in an invalid state: ${vStatus}.`);
      return v;
    });
    if (name !== undefined || description !== undefined) {
      const updated = await api.client.patch<VolumeGroup>(VOLUME_GROUPS, g.metadata.namespace, g.metadata.name, { spec: { ...(name !== undefined ? { displayName: name } : {}), ...(description !== undefined ? { description } : {}) } }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, `Group ${idOf(g)}`));
      await api.dir.groups.seen(updated);
    }
    for (const v of joining) await setGroup(v, g.metadata.name);
    for (const v of leaving) await setGroup(v, null);
    return { status: 202 };
  });

  on(router, 'POST', '/groups/:id/action', async (req) => {
    requireMinor(req, 13);
    const g = groupOf(req.auth, req.params.id);
    const body = (req.body ?? {}) as Record<string, Record<string, unknown> | null>;
    const [action] = Object.keys(body);
    const args = (body[action] ?? {}) as Record<string, unknown>;
    switch (action) {
      case 'delete': {
        const status = groupStatus(g);
        if (status === 'deleting') return { status: 202 };
        if (!DELETABLE.includes(status)) throw badRequest(`Invalid group: Group status must be available or error, but current status is: ${status}.`);
        const withVolumes = bool(args['delete-volumes'], 'delete-volumes') ?? false;
        const members = membersOf(g);
        if (members.length && !withVolumes) throw badRequest(`Invalid group: Group ${idOf(g)} still contains volumes. The delete-volumes flag is required to delete it.`);
        if (api.dir.groupSnapshots.list(g.metadata.namespace).some((gs) => gs.spec.group === g.metadata.name)) throw badRequest(`Invalid group: Group ${idOf(g)} has group snapshots; delete them first.`);
        const snapped = members.find((v) => api.dir.snapshots.list(v.metadata.namespace).some((s) => s.spec.volume === v.metadata.name));
        if (snapped) throw badRequest(`Invalid volume: Volume ${idOf(snapped)} in the group still has dependent snapshots.`);
        const busy = members.find((v) => !VOLUME_DELETABLE.includes(volumeStatus(v)) && volumeStatus(v) !== 'deleting');
        if (busy) throw badRequest(`Invalid volume: Volume ${idOf(busy)} in the group is ${volumeStatus(busy)}: a group's volumes must be available or in error to be deleted with it.`);
        for (const v of members) await api.client.delete(VOLUMES, v.metadata.namespace, v.metadata.name).catch((e) => fromKubernetes(e, `Volume ${idOf(v)}`));
        // The group goes once its volumes are gone (its finalizer), showing deleting until then.
        await api.client.delete(VOLUME_GROUPS, g.metadata.namespace, g.metadata.name).catch((e) => fromKubernetes(e, `Group ${idOf(g)}`));
        await api.dir.groups.until(g, (cached) => !cached || !!cached.metadata.deletionTimestamp);
        return { status: 202 };
      }
      case 'reset_status':
        return resetStatus(api, req.auth, VOLUME_GROUPS, g, 'group', args, `Group ${idOf(g)}`);
      default:
        throw badRequest(`Invalid input received: There is no such action: ${action ?? '(none)'}`);
    }
  });
}
