/** /v3/snapshots: create, list, show, update, delete, metadata and actions, as Cinder answers them. */
import { isDeleting } from '@stratus/runtime';
import { USER_ID_ANNOTATION, VOLUME_SNAPSHOTS, idOf, volumeTypeOf, type VolumeSnapshot, GROUP_SNAPSHOT_LABEL } from '../resources.js';
import { snapshotUpdateRefusal } from '../statusReset.js';
import { API_FIELD_MANAGER, bool, callerNamespace, fromKubernetes, metadataOf, newObjectName, on, owns, resourceBody, str, visible, createCounted, refuseIfFrozen, requestStatus, resetStatus, type VolApi, type VolAuth, type VolRouter } from './context.js';
import { badRequest, forbidden, notFound } from './errors.js';
import { listAnswer } from './listing.js';
import { metadataRoutes } from './metadataRoutes.js';
import { snapshotStatus, snapshotView, volumeStatus } from './views.js';
import { minorOf } from './microversion.js';

function snapshotOf(api: VolApi, auth: VolAuth, id: string): VolumeSnapshot {
  const s = api.dir.snapshots.byId(id);
  if (!s || !owns(auth, s)) throw notFound(`Snapshot ${id} could not be found.`);
  return s;
}

async function patchSpec(api: VolApi, s: VolumeSnapshot, spec: Record<string, unknown>): Promise<VolumeSnapshot> {
  try {
    return await api.client.patch<VolumeSnapshot>(VOLUME_SNAPSHOTS, s.metadata.namespace, s.metadata.name, { spec }, API_FIELD_MANAGER);
  } catch (e) {
    fromKubernetes(e, `Snapshot ${idOf(s)}`);
  }
}

export function snapshotRoutes(router: VolRouter, api: VolApi): void {
  on(router, 'POST', '/snapshots', async (req) => {
    const r = resourceBody(req.body, 'snapshot');
    const ns = callerNamespace(req.auth);
    if (!('volume_id' in r)) throw badRequest("Invalid input received: 'volume_id' is a required property");
    const volumeId = str(r.volume_id, 'volume_id');
    if (!volumeId) throw notFound(`Volume ${String(r.volume_id)} could not be found.`);
    const vol = api.dir.volumes.byId(volumeId);
    if (!vol || !owns(req.auth, vol) || isDeleting(vol)) throw notFound(`Volume ${volumeId} could not be found.`);
    const force = bool(r.force, 'force') ?? false;
    await refuseIfFrozen(api, vol.status?.backend);
    const status = volumeStatus(vol);
    if (status !== 'available' && !(status === 'in-use' && force)) throw badRequest(`Invalid volume: Volume ${volumeId} status must be available, but current status is: ${status}.`);
    const display = str(r.name ?? r.display_name, 'name');
    const description = str(r.description ?? r.display_description, 'description');
    const metadata = metadataOf(r.metadata);
    const body: VolumeSnapshot = {
      apiVersion: 'blockstorage.stratus.io/v1alpha1',
      kind: 'VolumeSnapshot',
      metadata: { name: newObjectName(api.dir.snapshots, ns, display, 'snapshot'), namespace: vol.metadata.namespace, annotations: { [USER_ID_ANNOTATION]: req.auth.userId } },
      spec: { ...(display !== undefined ? { displayName: display } : {}), ...(description !== undefined ? { description } : {}), volume: vol.metadata.name, force, ...(metadata ? { metadata } : {}) },
    };
    const made = await createCounted(api, vol.metadata.namespace!, { snapshots: 1, gigabytes: vol.status?.sizeGiB ?? vol.spec.sizeGiB, volumeType: volumeTypeOf(vol) }, VOLUME_SNAPSHOTS, api.dir.snapshots, body, 'Snapshot');
    return { status: 202, body: { snapshot: snapshotView(api.dir, made, minorOf(req), 'create') } };
  });
  const list = (detail: boolean) => (req: Parameters<Parameters<VolRouter['on']>[2]>[0]) => {
    const views = visible(api, req.auth, api.dir.snapshots, req.query).map((s) => snapshotView(api.dir, s, minorOf(req)) as Record<string, unknown>);
    return listAnswer(req, views, 'snapshots', `${req.base}/v3`, detail ? undefined : (v) => ({ id: v.id, name: v.name, description: v.description, status: v.status, size: v.size, volume_id: v.volume_id, metadata: v.metadata, created_at: v.created_at, updated_at: v.updated_at }), detail ? 'snapshots/detail' : 'snapshots');
  };
  on(router, 'GET', '/snapshots', list(false));
  on(router, 'GET', '/snapshots/detail', list(true));
  on(router, 'GET', '/snapshots/:id', (req) => ({ status: 200, body: { snapshot: snapshotView(api.dir, snapshotOf(api, req.auth, req.params.id), minorOf(req)) } }));
  on(router, 'PUT', '/snapshots/:id', async (req) => {
    const s = snapshotOf(api, req.auth, req.params.id);
    const r = resourceBody(req.body, 'snapshot');
    const display = str(r.name ?? r.display_name, 'name');
    const description = str(r.description ?? r.display_description, 'description');
    const updated = await patchSpec(api, s, { ...(display !== undefined ? { displayName: display } : {}), ...(description !== undefined ? { description } : {}) });
    return { status: 200, body: { snapshot: snapshotView(api.dir, updated, minorOf(req), 'create') } };
  });
  on(router, 'DELETE', '/snapshots/:id', async (req) => {
    const s = snapshotOf(api, req.auth, req.params.id);
    await refuseIfFrozen(api, s.status?.backend);
    if (snapshotStatus(s) === 'backing-up') throw badRequest('Invalid snapshot: Snapshot status must be available or error and must not be part of a group, but it is backing-up.');
    if (s.metadata.labels?.[GROUP_SNAPSHOT_LABEL]) throw badRequest('Invalid snapshot: Snapshot status must be available or error and must not be part of a group: it is part of a group snapshot, deleted with it.');
    // A volume made from it stands on its own here (a copy), so it may go while they live.
    await api.client.delete(VOLUME_SNAPSHOTS, s.metadata.namespace, s.metadata.name).catch((e) => fromKubernetes(e, `Snapshot ${idOf(s)}`));
    return { status: 202 };
  });
  on(router, 'POST', '/snapshots/:id/action', async (req) => {
    const s = snapshotOf(api, req.auth, req.params.id);
    const body = (req.body ?? {}) as Record<string, Record<string, unknown>>;
    const [action] = Object.keys(body);
    if (action === 'os-reset_status') return resetStatus(api, req.auth, VOLUME_SNAPSHOTS, s, 'snapshot', body[action] ?? {}, `Snapshot ${idOf(s)}`);
    if (action === 'os-update_snapshot_status') {
      // Any member of the project may (Cinder's snapshot_actions:update_snapshot_status policy); Nova does, for its assisted snapshots.
      const args = body[action] ?? {};
      const to = str(args.status, 'status');
      if (!to) throw badRequest("Invalid input received: 'status' is a required property");
      const progress = args.progress === undefined || args.progress === null || args.progress === '' ? undefined : str(args.progress, 'progress');
      const refusal = snapshotUpdateRefusal(snapshotStatus(s), to, progress);
      if (refusal) throw badRequest(refusal);
      await requestStatus(api, VOLUME_SNAPSHOTS, s, to, `Snapshot ${idOf(s)}`, progress);
      return { status: 202 };
    }
    if (action === 'os-force_delete') {
      if (!req.auth.admin) throw forbidden();
      await refuseIfFrozen(api, s.status?.backend);
      await api.client.delete(VOLUME_SNAPSHOTS, s.metadata.namespace, s.metadata.name).catch(() => {});
      return { status: 202 };
    }
    throw badRequest(`There is no such action: ${action ?? '(none)'}`);
  });
  metadataRoutes(router, 'snapshots', 'Snapshot', (auth, id) => snapshotOf(api, auth, id), (s, spec) => patchSpec(api, s, spec));
}
