/** /v3/backups: create (full or incremental), list, show, delete, restore, and export and import of a record, as Cinder answers them. */
import { isDeleting } from '@stratus/runtime';
import { VOLUMES, VOLUME_BACKUPS, idOf, type Volume, type VolumeBackup } from '../resources.js';
import { exportRecord, importedBackup, parseRecord } from '../backupRecords.js';
import { BACKUP_SERVICE_KEY, readServiceStates, unschedulable } from '../serviceState.js';
import { API_FIELD_MANAGER, bool, callerNamespace, fromKubernetes, newObjectName, on, owns, resourceBody, str, visible, createCounted, resetStatus, type VolApi, type VolAuth, type VolRouter } from './context.js';
import { badRequest, forbidden, invalidInput, notFound } from './errors.js';
import { listAnswer } from './listing.js';
import { backupStatus, backupView, snapshotStatus, volumeStatus } from './views.js';
import { createVolume, volumeOf } from './volumeRoutes.js';

function backupOf(api: VolApi, auth: VolAuth, id: string): VolumeBackup {
  const b = api.dir.backups.byId(id);
  if (!b || !owns(auth, b)) throw notFound(`Backup ${id} could not be found.`);
  return b;
}

export function backupRoutes(router: VolRouter, api: VolApi): void {
  const base = (req: { base: string }) => `${req.base}/v3`;
  on(router, 'POST', '/backups', async (req) => {
    const r = resourceBody(req.body, 'backup');
    callerNamespace(req.auth);
    const volumeId = str(r.volume_id, 'volume_id');
    if (!volumeId) throw badRequest("Invalid input received: 'volume_id' is a required property");
    const vol = api.dir.volumes.byId(volumeId);
    if (!vol || !owns(req.auth, vol) || isDeleting(vol)) throw notFound(`Volume ${volumeId} could not be found.`);
    const force = bool(r.force, 'force') ?? false;
    const incremental = bool(r.incremental, 'incremental') ?? false;
    const snapshotId = str(r.snapshot_id, 'snapshot_id');
    const snap = snapshotId ? api.dir.snapshots.byId(snapshotId) : undefined;
    if (snapshotId && (!snap || !owns(req.auth, snap) || isDeleting(snap))) throw notFound(`Snapshot ${snapshotId} could not be found.`);
    if (snap && snap.spec.volume !== vol.metadata.name) throw badRequest(`Invalid input received: Snapshot ${snapshotId} is not of volume ${volumeId}.`);
    if (snap && snapshotStatus(snap) !== 'available') throw badRequest(`Invalid snapshot: Snapshot to be backed up must be available, but the current status is "${snapshotStatus(snap)}".`);
    const status = volumeStatus(vol);
    // A snapshot is backed up while its volume is attached, without force (Cinder's check).
    if (status !== 'available' && !(status === 'in-use' && (force || snap))) throw badRequest(`Invalid volume: Volume to be backed up must be available or in-use, but the current status is "${status}".`);
    const ns = vol.metadata.namespace!;
    if (incremental && !api.dir.backups.list(ns).some((b) => b.spec.volume === vol.metadata.name && b.status?.phase === 'available'))
      throw badRequest('Invalid backup: No backups available to do an incremental backup.');
    // Cinder's check: a disabled backup service takes no new backup.
    if (unschedulable((await readServiceStates(api.client)).get(BACKUP_SERVICE_KEY))) throw notFound('Service cinder-backup could not be found.');
    const container = str(r.container, 'container');
    if (container !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(container)) throw badRequest(`Invalid input received: container ${container} must be a bucket name: 3 to 63 lower-case letters, digits, dots and hyphens.`);
    const display = str(r.name ?? r.display_name, 'name');
    const description = str(r.description ?? r.display_description, 'description');
    const body: VolumeBackup = {
      apiVersion: 'blockstorage.stratus.io/v1alpha1',
      kind: 'VolumeBackup',
      metadata: { name: newObjectName(api.dir.backups, ns, display, 'backup'), namespace: ns },
      spec: { ...(display !== undefined ? { displayName: display } : {}), ...(description !== undefined ? { description } : {}), volume: vol.metadata.name, ...(snap ? { snapshot: snap.metadata.name } : {}), ...(container ? { container } : {}), incremental, force },
    };
    const made = await createCounted(api, ns, { backups: 1, backupGigabytes: snap?.status?.sizeGiB ?? vol.status?.sizeGiB ?? vol.spec.sizeGiB }, VOLUME_BACKUPS, api.dir.backups, body, 'Backup');
    return { status: 202, body: { backup: { id: idOf(made), name: display ?? made.metadata.name, links: backupView(api.dir, made, base(req)).links } } };
  });
  const list = (detail: boolean) => (req: Parameters<Parameters<VolRouter['on']>[2]>[0]) => {
    const views = visible(api, req.auth, api.dir.backups, req.query).map((b) => backupView(api.dir, b, base(req)) as Record<string, unknown>);
    return listAnswer(req, views, 'backups', base(req), detail ? undefined : (v) => ({ id: v.id, name: v.name, links: v.links }), detail ? 'backups/detail' : 'backups');
  };
  on(router, 'GET', '/backups', list(false));
  on(router, 'GET', '/backups/detail', list(true));
  on(router, 'GET', '/backups/:id', (req) => ({ status: 200, body: { backup: backupView(api.dir, backupOf(api, req.auth, req.params.id), base(req)) } }));
  on(router, 'PUT', '/backups/:id', async (req) => {
    const b = backupOf(api, req.auth, req.params.id);
    const r = resourceBody(req.body, 'backup');
    const display = str(r.name, 'name');
    const description = str(r.description, 'description');
    const updated = await api.client
      .patch<VolumeBackup>(VOLUME_BACKUPS, b.metadata.namespace, b.metadata.name, { spec: { ...(display !== undefined ? { displayName: display } : {}), ...(description !== undefined ? { description } : {}) } }, API_FIELD_MANAGER)
      .catch((e) => fromKubernetes(e, `Backup ${idOf(b)}`));
    const view = backupView(api.dir, updated, base(req));
    // Cinder answers an update (3.9 on) with the backup's summary, as a create.
    return { status: 200, body: { backup: { id: view.id, name: view.name, links: view.links } } };
  });
  on(router, 'DELETE', '/backups/:id', async (req) => {
    const b = backupOf(api, req.auth, req.params.id);
    const status = backupStatus(b);
    if (status === 'deleting') return { status: 202 };
    if (status !== 'available' && status !== 'error') throw badRequest(`Invalid backup: Backup status must be available or error, but is ${status}.`);
    if (api.dir.backups.list(b.metadata.namespace).some((o) => o.status?.parent === b.metadata.name && !isDeleting(o))) throw badRequest('Invalid backup: Incremental backups exist for this backup.');
    await api.client.delete(VOLUME_BACKUPS, b.metadata.namespace, b.metadata.name).catch((e) => fromKubernetes(e, `Backup ${idOf(b)}`));
    return { status: 202 };
  });
  on(router, 'POST', '/backups/:id/action', async (req) => {
    const b = backupOf(api, req.auth, req.params.id);
    const body = (req.body ?? {}) as Record<string, Record<string, unknown> | null>;
    const [action] = Object.keys(body);
    if (action === 'os-reset_status') return resetStatus(api, req.auth, VOLUME_BACKUPS, b, 'backup', body[action] ?? {}, `Backup ${idOf(b)}`);
    if (action === 'os-force_delete') {
      if (!req.auth.admin) throw forbidden();
      await api.client.delete(VOLUME_BACKUPS, b.metadata.namespace, b.metadata.name).catch((e) => fromKubernetes(e, `Backup ${idOf(b)}`));
      return { status: 202 };
    }
    throw badRequest(`There is no such action: ${action ?? '(none)'}`);
  });
  // Export and import of a backup's record (admins only, as Cinder's policy), so that a backup whose record is
  // lost (its VolumeBackup deleted with its data kept, another cloud's) can be imported again under its ID.
  on(router, 'GET', '/backups/:id/export_record', (req) => {
    const b = backupOf(api, req.auth, req.params.id);
    if (!req.auth.admin) throw forbidden("Policy doesn't allow backup:export-import to be performed.");
    const status = backupStatus(b);
    if (status !== 'available') throw badRequest(`Invalid backup: Backup status must be available and not ${status}.`);
    return { status: 200, body: { 'backup-record': exportRecord(b, api.dir.projectIdOf(b.metadata.namespace)) } };
  });
  on(router, 'POST', '/backups/import_record', async (req) => {
    if (!req.auth.admin) throw forbidden("Policy doesn't allow backup:backup-import to be performed.");
    const r = resourceBody(req.body, 'backup-record');
    const service = str(r.backup_service, 'backup_service');
    const url = str(r.backup_url, 'backup_url', 65_536);
    if (!service || !url) throw invalidInput(`Incorrect request body format: 'backup_service' and 'backup_url' are required.`);
    const parsed = parseRecord(service, url);
    if (!parsed.ok) throw parsed.invalid === 'input' ? invalidInput(parsed.message) : badRequest(`Invalid backup: ${parsed.message}`);
    if (api.dir.backups.byId(parsed.id)) throw badRequest('Invalid backup: Backup already exists in database.');
    const ns = callerNamespace(req.auth);
    const parentId = parsed.data.parentId;
    if (parentId) {
      const parent = api.dir.backups.byId(parentId);
      if (!parent || parent.metadata.namespace !== ns || backupStatus(parent) !== 'available')
        throw badRequest(`Invalid backup: Backup ${parsed.id} is incremental: the backup it builds on (${parentId}) must be in this project and available${parent ? `, but is ${backupStatus(parent)}` : ''}; import its record first.`);
    }
    const body = importedBackup(parsed, ns, newObjectName(api.dir.backups, ns, parsed.name ?? undefined, 'backup'));
    const made = await createCounted(api, ns, { backups: 1, backupGigabytes: parsed.data.sizeGiB }, VOLUME_BACKUPS, api.dir.backups, body, 'Backup');
    return { status: 201, body: { backup: { id: idOf(made), name: parsed.name, links: backupView(api.dir, made, base(req)).links } } };
  });
  on(router, 'POST', '/backups/:id/restore', async (req) => {
    const b = backupOf(api, req.auth, req.params.id);
    const status = backupStatus(b);
    if (status !== 'available' || !b.status) throw badRequest(`Invalid backup: Backup status must be available, but is ${status}.`);
    const r = resourceBody(req.body, 'restore');
    const volumeId = str(r.volume_id, 'volume_id');
    let target: Volume;
    if (volumeId) {
      target = volumeOf(api, req.auth, volumeId);
      if (volumeStatus(target) !== 'available') throw badRequest(`Invalid volume: Volume to be restored to must be available, but is ${volumeStatus(target)}.`);
      if ((target.status?.sizeGiB ?? target.spec.sizeGiB) < (b.status.sizeGiB ?? 0)) throw badRequest(`Invalid volume: volume size ${target.spec.sizeGiB} is too small to restore backup of size ${b.status.sizeGiB}.`);
      const count = (target.spec.restoreFromBackup?.count ?? target.status?.restoresDone ?? 0) + 1;
      await api.client.patch(VOLUMES, target.metadata.namespace, target.metadata.name, { spec: { restoreFromBackup: { backup: b.metadata.name, count }, ...(b.status.volumeMetadata ? { metadata: b.status.volumeMetadata } : {}) } }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, `Volume ${volumeId}`));
    } else {
      if (b.metadata.namespace !== req.auth.tenant && !req.auth.admin) throw forbidden();
      // The volume's metadata comes back with its data, as Cinder restores it.
      target = await createVolume(api, req.auth, { backup_id: idOf(b), name: str(r.name, 'name') ?? `restore_backup_${idOf(b)}`, ...(b.status.volumeMetadata ? { metadata: b.status.volumeMetadata } : {}) });
    }
    return { status: 202, body: { restore: { backup_id: idOf(b), volume_id: idOf(target), volume_name: target.spec.displayName ?? target.metadata.name } } };
  });
}
