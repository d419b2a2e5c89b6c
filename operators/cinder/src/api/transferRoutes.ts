/**
 * Volume transfers: /v3/os-volume-transfer, and /v3/volume-transfers since 3.55 (no_snapshots; since 3.57 the
 * projects and whether it was accepted). An offer is kept on the volume (see transfers.ts), which shows
 * awaiting-transfer until it is accepted or deleted. Accepting moves the volume to the accepting project's
 * namespace, with the same ID and data, within that project's quota.
 */
import { displayNameOf, isDeleting, type ApiRequest } from '@stratus/runtime';
import { HANDED_OVER_ANNOTATION, TRANSFER_ANNOTATION, USER_ID_ANNOTATION, VOLUMES, idOf, volumeTypeOf, type Volume } from '../resources.js';
import { keyMatches, movedVolume, newTransfer, transferOf, type TransferRecord } from '../transfers.js';
import { API_FIELD_MANAGER, bool, callerNamespace, fromKubernetes, newObjectName, on, owns, resourceBody, str, visible, withinQuota, type VolApi, type VolAuth, type VolRouter } from './context.js';
import { badRequest, notFound } from './errors.js';
import { minorOf, requireMinor } from './microversion.js';
import { link, stamp, volumeStatus } from './views.js';

type Req = ApiRequest<VolAuth> & { auth: VolAuth };
/** How a path shows a transfer: the new API's fields by microversion; the old path shows the base fields only. */
interface Shape {
  path: string;
  minor: number;
  base: string;
}

const shapeOf = (req: Req, path: string): Shape => ({ path, minor: path === 'volume-transfers' ? minorOf(req) : 0, base: `${req.base}/v3${req.params.project_id ? `/${req.params.project_id}` : ''}` });

/** Cinder's transfer views: the summary (list), the whole (show, detail, create with its auth key), the accepted. */
export function transferView(t: TransferRecord, v: Volume, s: Shape, view: 'summary' | 'whole' | 'accepted', projectId?: string) {
  const summary = { id: t.id, name: t.name, volume_id: idOf(v), links: link(s.base, s.path, t.id) };
  if (view !== 'whole') return summary;
  return {
    ...summary,
    created_at: stamp(t.createdAt),
    ...(s.minor >= 55 ? { no_snapshots: t.noSnapshots } : {}),
    ...(s.minor >= 57 ? { source_project_id: projectId ?? null, destination_project_id: null, accepted: false } : {}),
  };
}

export function transferRoutes(router: VolRouter, api: VolApi): void {
  /** The offer a volume stands under (none once it is being deleted). */
  const liveOffer = (v: Volume) => (isDeleting(v) ? undefined : transferOf(v));
  const offers = (volumes: Volume[]) =>
    volumes.flatMap((v) => {
      const t = liveOffer(v);
      return t ? [{ v, t }] : [];
    });
  // Offers by transfer ID, read off the cached volumes once per change rather than per request.
  const byTransferId = api.dir.volumes.indexBy((v) => {
    const t = liveOffer(v);
    return t && { key: t.id, value: t };
  });
  const offered = (id: string) => {
    const o = byTransferId(id);
    return o && { v: o.object, t: o.value };
  };
  const ownOffer = (auth: VolAuth, id: string) => {
    const o = offered(id);
    if (!o || !owns(auth, o.v)) throw notFound(`Transfer ${id} could not be found.`);
    return o;
  };
  const projectOf = (v: Volume) => api.dir.projectIdOf(v.metadata.namespace);

  for (const path of ['os-volume-transfer', 'volume-transfers']) {
    // The new API is there from 3.55 on; asked with an older microversion it is not there.
    const shape = (req: Req) => {
      if (path === 'volume-transfers') requireMinor(req, 55);
      return shapeOf(req, path);
    };
    on(router, 'POST', `/${path}`, async (req) => {
      const s = shape(req);
      const r = resourceBody(req.body, 'transfer');
      const volumeId = str(r.volume_id, 'volume_id');
      if (!volumeId) throw badRequest("Invalid input received: 'volume_id' is a required property");
      const name = str(r.name, 'name') ?? null;
      const noSnapshots = (s.minor >= 55 ? bool(r.no_snapshots, 'no_snapshots') : undefined) ?? false;
      const vol = api.dir.volumes.byId(volumeId);
      if (!vol || !owns(req.auth, vol)) throw notFound(`Volume ${volumeId} could not be found.`);
      const status = volumeStatus(vol);
      if (status !== 'available') throw badRequest(`Invalid volume: Status of volume ${volumeId} must be available, but it is ${status}.`);
      if (api.dir.snapshots.list(vol.metadata.namespace).some((x) => x.spec.volume === vol.metadata.name))
        throw badRequest(`Invalid volume: Volume ${volumeId} has snapshots, which this cloud does not transfer: delete them first.`);
      const { record, authKey } = newTransfer(name, noSnapshots);
      // Precondition on the version read: of two offers made at once, one is made and the other refused.
      const updated = await api.client
        .patch<Volume>(VOLUMES, vol.metadata.namespace, vol.metadata.name, { metadata: { resourceVersion: vol.metadata.resourceVersion, annotations: { [TRANSFER_ANNOTATION]: JSON.stringify(record) } } }, API_FIELD_MANAGER)
        .catch((e) => fromKubernetes(e, `Volume ${volumeId}`));
      await api.dir.volumes.seen(updated);
      return { status: 202, body: { transfer: { ...transferView(record, updated, s, 'whole', projectOf(updated)), auth_key: authKey } } };
    });
    const list = (detail: boolean) => (req: Req) => {
      const s = shape(req);
      const mine = offers(visible(api, req.auth, api.dir.volumes, req.query));
      return { status: 200, body: { transfers: mine.map(({ v, t }) => transferView(t, v, s, detail ? 'whole' : 'summary', projectOf(v))) } };
    };
    on(router, 'GET', `/${path}/detail`, list(true));
    on(router, 'GET', `/${path}`, list(false));
    on(router, 'GET', `/${path}/:id`, (req) => {
      const s = shape(req);
      const { v, t } = ownOffer(req.auth, req.params.id);
      return { status: 200, body: { transfer: transferView(t, v, s, 'whole', projectOf(v)) } };
    });
    on(router, 'DELETE', `/${path}/:id`, async (req) => {
      shape(req);
      const { v } = ownOffer(req.auth, req.params.id);
      const updated = await api.client.patch<Volume>(VOLUMES, v.metadata.namespace, v.metadata.name, { metadata: { annotations: { [TRANSFER_ANNOTATION]: null } } }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, `Volume ${idOf(v)}`));
      await api.dir.volumes.seen(updated);
      return { status: 202 };
    });
    on(router, 'POST', `/${path}/:id/accept`, async (req) => {
      const s = shape(req);
      const r = resourceBody(req.body, 'accept');
      const key = str(r.auth_key, 'auth_key');
      if (!key) throw badRequest("Invalid input received: 'auth_key' is a required property");
      // Anyone who knows the offer's ID and key may take it: the offer is found wherever it is.
      const found = offered(req.params.id);
      if (!found) throw notFound(`Transfer ${req.params.id} could not be found.`);
      const { v, t } = found;
      if (!keyMatches(t, key)) throw badRequest(`Invalid auth key: Attempt to transfer ${t.id} with invalid auth key.`);
      const to = callerNamespace(req.auth);
      const accepted = { status: 202, body: { transfer: transferView(t, v, s, 'accepted') } };
      if (to === v.metadata.namespace) {
        const kept = await api.client.patch<Volume>(VOLUMES, to, v.metadata.name, { metadata: { resourceVersion: v.metadata.resourceVersion, annotations: { [TRANSFER_ANNOTATION]: null, [USER_ID_ANNOTATION]: req.auth.userId } } }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, `Volume ${idOf(v)}`));
        await api.dir.volumes.seen(kept);
        return accepted;
      }
      const moved = movedVolume(v, to, newObjectName(api.dir.volumes, to, displayNameOf(v), 'volume'), req.auth.userId);
      if (!moved) throw badRequest(`Invalid volume: Volume ${idOf(v)} is not made yet.`);
      const made = await withinQuota(api, to, { volumes: 1, gigabytes: moved.spec.sizeGiB, volumeType: volumeTypeOf(moved) }, () => handOver(api, v, moved));
      await api.dir.volumes.seen(made);
      await api.dir.volumes.until(v, (c) => !c || !!c.metadata.deletionTimestamp);
      return accepted;
    });
  }
}

/**
 * Moves `v` to `moved`'s namespace: the first object gives its data away and drops the offer (one accept wins
 * on its version), the new one is made (undone if it cannot be), then the first one is deleted, keeping the data.
 */
async function handOver(api: VolApi, v: Volume, moved: Volume): Promise<Volume> {
  const what = `Volume ${idOf(v)}`;
  const given = await api.client
    .patch<Volume>(VOLUMES, v.metadata.namespace, v.metadata.name, { metadata: { resourceVersion: v.metadata.resourceVersion, annotations: { [HANDED_OVER_ANNOTATION]: `${moved.metadata.namespace}/${moved.metadata.name}`, [TRANSFER_ANNOTATION]: null } } }, API_FIELD_MANAGER)
    .catch((e) => fromKubernetes(e, what));
  let made: Volume;
  try {
    made = await api.client.create<Volume>(VOLUMES, moved, API_FIELD_MANAGER);
  } catch (e) {
    await api.client.patch(VOLUMES, v.metadata.namespace, v.metadata.name, { metadata: { annotations: { [HANDED_OVER_ANNOTATION]: null, [TRANSFER_ANNOTATION]: v.metadata.annotations?.[TRANSFER_ANNOTATION] ?? null } } }, API_FIELD_MANAGER).catch(() => {});
    return fromKubernetes(e, what);
  }
  await api.client.delete(VOLUMES, given.metadata.namespace, given.metadata.name).catch((e) => fromKubernetes(e, what));
  return made;
}

