/**
 * The VolumeBackup reconciler (cinder-backup): a backup gets a finalizer guarding its objects, is admitted
 * against the tenant's quota, and the volume's data is cut in chunks into the S3 store under the backup's own
 * prefix: all of it, or (incremental) the chunks changed since the volume's latest backup. A failed backup
 * leaves no object. Deleting one removes its own objects, once no incremental backup builds on it.
 */
import { hasFinalizer, isDeleting, markReady, markReconciling, patchStatusChanges, type KubeClient, type ReconcileContext, type Reconciler, type Result } from '@stratus/runtime';
import type { VolumeBackend } from './backend/types.js';
import type { BackupManifest } from './backupChunks.js';
import { dataShared, importedOf, storedIn, type ImportedData } from './backupRecords.js';
import { DATA_FINALIZER, FIELD_MANAGER, VOLUMES, VOLUME_BACKUPS, VOLUME_SNAPSHOTS, idOf, type Volume, type VolumeBackup, type VolumeSnapshot } from './resources.js';
import { showSettled, settledWord } from './statusReset.js';
import { BACKUP_SERVICE_KEY, readServiceStates, unschedulable } from './serviceState.js';
import { Refused, admit, backendOf, ensureFinalizer, projectIdOf, removeDataThenRelease, stall, type CinderDeps } from './volumes.js';

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));
export const backupPrefixOf = (b: VolumeBackup) => `backups/${b.metadata.namespace}/${b.metadata.uid}`;
/** The temporary volume a snapshot's data is read from while it is backed up (as Cinder's backup of a snapshot). */
export const snapshotReadVolumeOf = (b: VolumeBackup) => `backup-${b.metadata.uid}`;
const madeAt = (b: VolumeBackup) => new Date(b.metadata.creationTimestamp ?? 0).getTime();

/**
 * The container (bucket) a backup goes in: the one it names, else its parent's (an incremental one shares its
 * parent's chunks), else the default. An incremental one naming another than its parent's is refused. Pure.
 */
export function containerOf(b: VolumeBackup, parent: VolumeBackup | undefined, fallback: string): string {
  const parents = parent?.status?.container;
  if (b.spec.container && parents && b.spec.container !== parents)
    throw new Refused('InvalidBackup', `Invalid backup: An incremental backup is stored in its parent's container (${parents}), not ${b.spec.container}.`);
  return b.spec.container ?? parents ?? fallback;
}

/** The backup an incremental one builds on: the volume's latest available one. Pure. */
export function parentOf(b: VolumeBackup, all: VolumeBackup[]): VolumeBackup | undefined {
  return all
    .filter((o) => o.metadata.uid !== b.metadata.uid && o.spec.volume === b.spec.volume && o.status?.volumeId === b.status?.volumeId && o.status?.phase === 'available' && !isDeleting(o) && madeAt(o) <= madeAt(b))
    .sort((x, y) => madeAt(y) - madeAt(x))[0];
}

export function backupReconciler(deps: CinderDeps): Reconciler<VolumeBackup> {
  return async (req, ctx: ReconcileContext<VolumeBackup>): Promise<Result | void> => {
    const { client } = ctx;
    let b = await client.get<VolumeBackup>(VOLUME_BACKUPS, req.namespace, req.name);
    if (!b) return;
    const write = async (change: object) => {
      b = await patchStatusChanges(client, VOLUME_BACKUPS, b!, change as never, FIELD_MANAGER, { precondition: false });
    };
    if (isDeleting(b)) {
      if (!hasFinalizer(b, DATA_FINALIZER)) return;
      // Every project's backups: an imported backup elsewhere may hold the same objects.
      const all = (await client.list<VolumeBackup>(VOLUME_BACKUPS)).items;
      const dependents = all.filter((o) => o.metadata.namespace === b!.metadata.namespace && o.status?.parent === b!.metadata.name && !isDeleting(o) && o.metadata.uid !== b!.metadata.uid);
      if (dependents.length) {
        await stall(ctx, VOLUME_BACKUPS, b, 'InvalidBackup', `Invalid backup: Incremental backups exist for this backup (${dependents.map((d) => d.metadata.name).join(', ')}).`, b.status?.phase);
        return { requeueAfterMs: 5000 };
      }
      const prefix = b.status?.prefix ?? backupPrefixOf(b);
      const s = b;
      const container = storedIn(b, deps.backups.bucket);
      // An imported backup and the one it was exported from hold the same objects: the last of them removes them.
      const shared = dataShared(b, all, container, prefix, deps.backups.bucket);
      return removeDataThenRelease(ctx, VOLUME_BACKUPS, b, 'Backup', async () => {
        // A snapshot's temporary volume, should a crash have left it.
        if (s.spec.snapshot) for (const backend of deps.backends) await backend.delete(snapshotReadVolumeOf(s));
        if (!shared) await deps.backups.delete(prefix, await deps.backups.manifest(prefix, container), container);
      });
    }
    if (await ensureFinalizer(client, VOLUME_BACKUPS, b)) return;
    // Stored (restores mark it restoring meanwhile), or refused until its spec changes: nothing more to make; an
    // admin's reset may show another word.
    const settled = settledWord(b, b.status?.restoring ? 'restoring' : 'available');
    if (settled) return showSettled(b, settled, write);
    const imported = importedOf(b);
    if (imported) return takeImported(deps, ctx, b, imported, write);
    const prefix = backupPrefixOf(b);
    try {
      // A disabled backup service takes no new backup (one under way goes on).
      const off = b.status?.id ? undefined : unschedulable((await readServiceStates(client)).get(BACKUP_SERVICE_KEY));
      if (off) throw new Refused('BackupServiceDisabled', `The backup service (cinder-backup) is ${off}: it takes no new backup.`);
      const vol = await client.get<Volume>(VOLUMES, b.metadata.namespace, b.spec.volume);
      if (!vol || isDeleting(vol)) throw new Refused('VolumeNotFound', `Volume ${b.spec.volume} could not be found.`);
      if (!vol.status?.madeFrom) return { requeueAfterMs: 2000 };
      const phase = vol.status.phase ?? '';
      const snap = b.spec.snapshot ? await snapshotToBackUp(client, b, vol) : undefined;
      // A snapshot is backed up whatever the volume is doing; the volume itself only while still, or forced.
      if (!['available', 'in-use', 'backing-up'].includes(phase) || (phase === 'in-use' && !b.spec.force && !snap))
        throw new Refused('InvalidVolume', `Invalid volume: Volume to be backed up must be available or in-use, but the current status is "${phase}".`);
      const sizeGiB = snap?.status?.sizeGiB ?? vol.status.sizeGiB ?? vol.spec.sizeGiB;
      const all = (await client.list<VolumeBackup>(VOLUME_BACKUPS, b.metadata.namespace)).items;
      const parent = b.spec.incremental ? parentOf({ ...b, status: { ...b.status, volumeId: idOf(vol) } }, all) : undefined;
      if (b.spec.incremental && !parent) throw new Refused('InvalidBackup', 'Invalid backup: No backups available to do an incremental backup.');
      // An incremental backup shares its parent's chunks, so it lives in the parent's container.
      const container = containerOf(b, parent, deps.backups.bucket);
      await admit(client, b.metadata.namespace!, b.metadata.uid!, { backups: 1, backupGigabytes: sizeGiB }, () =>
        write({
          id: idOf(b!),
          volumeId: idOf(vol),
          ...(snap ? { snapshotId: idOf(snap) } : {}),
          volumeMetadata: vol.spec.metadata ?? {},
          sizeGiB,
          container,
          prefix,
          ...(parent ? { parent: parent.metadata.name, parentId: idOf(parent) } : {}),
          phase: 'creating',
          conditions: markReconciling(b!.status?.conditions, b!.metadata.generation, 'BackingUp', `copying volume ${vol.metadata.name} to ${container}/${prefix}`),
        }),
      );
      await write({ projectId: await projectIdOf(client, b.metadata.namespace!) });
      const parentManifest = parent ? await deps.backups.manifest(parent.status!.prefix!, container) : undefined;
      const backend = backendOf(deps, vol.status.backend);
      const onParent = parent && parentManifest ? { prefix: parent.status!.prefix!, manifest: parentManifest } : undefined;
      const done = snap ? await backUpSnapshot(deps, backend, b, snap, sizeGiB, prefix, container, onParent) : await deps.backups.backup(backend, idOf(vol), prefix, onParent, container);
      await write({ phase: 'available', objectCount: done.objectCount, dataBytes: done.dataBytes, conditions: markReady(b.status?.conditions, b.metadata.generation, 'BackupReady', `${done.objectCount} chunk(s), ${done.dataBytes} bytes in ${container}/${prefix}`) });
      await ctx.events.record(b, 'Normal', 'BackedUp', `${snap ? `Snapshot ${snap.metadata.name} of volume` : 'Volume'} ${vol.metadata.name} backed up${parent ? ` incrementally on ${parent.metadata.name}` : ''}: ${done.objectCount} chunk(s), ${done.dataBytes} bytes stored`);
      ctx.log.info('backup created', { volume: vol.metadata.name, incremental: !!parent, objects: done.objectCount, bytes: done.dataBytes });
      if (parent && !parent.status?.hasDependentBackups) await patchStatusChanges(client, VOLUME_BACKUPS, parent, { hasDependentBackups: true }, FIELD_MANAGER, { precondition: false, observedGeneration: false });
    } catch (e) {
      // No object stays of a failed backup, and it counts no more.
      await deps.backups.deleteUnder(prefix, storedIn(b, deps.backups.bucket)).catch(() => {});
      const refused = e instanceof Refused;
      await write({ sizeGiB: null });
      await stall(ctx, VOLUME_BACKUPS, b, refused ? e.reason : 'BackupFailed', refused ? e.message : `Backup ${idOf(b)} failed: ${describe(e)}`);
    }
  };
}

/**
 * An imported backup takes the data its record names, within the tenant's backup quota, and is available: nothing
 * is copied. Its data is not its own until the backup it was exported from is gone, so a failure removes none of it.
 */
async function takeImported(deps: CinderDeps, ctx: ReconcileContext<VolumeBackup>, b: VolumeBackup, d: ImportedData, write: (change: object) => Promise<void>): Promise<void> {
  const { client } = ctx;
  try {
    const manifest = await deps.backups.manifest(d.prefix, d.container);
    if (!manifest) throw new Refused('InvalidBackup', `Invalid backup: No backup data at ${d.container}/${d.prefix} to import.`);
    // An incremental one holds its parent as a dependent (the parent's chunks are partly its own).
    const parent = d.parentId ? (await client.list<VolumeBackup>(VOLUME_BACKUPS, b.metadata.namespace)).items.find((o) => idOf(o) === d.parentId && !isDeleting(o)) : undefined;
    if (d.parentId && !parent) throw new Refused('InvalidBackup', `Invalid backup: The backup it builds on (${d.parentId}) is not in this project.`);
    const projectId = await projectIdOf(client, b.metadata.namespace!);
    await admit(client, b.metadata.namespace!, b.metadata.uid!, { backups: 1, backupGigabytes: d.sizeGiB }, () =>
      write({
        id: idOf(b),
        volumeId: d.volumeId,
        ...(d.snapshotId ? { snapshotId: d.snapshotId } : {}),
        sizeGiB: d.sizeGiB,
        container: d.container,
        prefix: d.prefix,
        objectCount: d.objectCount,
        dataBytes: d.dataBytes,
        ...(projectId ? { projectId } : {}),
        ...(parent ? { parent: parent.metadata.name, parentId: d.parentId } : {}),
        phase: 'available',
        conditions: markReady(b.status?.conditions, b.metadata.generation, 'BackupImported', `imported from its record: ${d.objectCount} chunk(s) in ${d.container}/${d.prefix}`),
      }),
    );
    if (parent && !parent.status?.hasDependentBackups) await patchStatusChanges(client, VOLUME_BACKUPS, parent, { hasDependentBackups: true }, FIELD_MANAGER, { precondition: false, observedGeneration: false });
    await ctx.events.record(b, 'Normal', 'Imported', `Backup ${idOf(b)} imported from its record: its data is in ${d.container}/${d.prefix}`);
    ctx.log.info('backup imported', { container: d.container, prefix: d.prefix });
  } catch (e) {
    const refused = e instanceof Refused;
    await stall(ctx, VOLUME_BACKUPS, b, refused ? e.reason : 'BackupFailed', refused ? e.message : `Backup ${idOf(b)} could not be imported: ${describe(e)}`);
  }
}

/** The snapshot a backup names, checked as Cinder checks it: of this volume, and taken. */
async function snapshotToBackUp(client: KubeClient, b: VolumeBackup, vol: Volume): Promise<VolumeSnapshot> {
  const snap = await client.get<VolumeSnapshot>(VOLUME_SNAPSHOTS, b.metadata.namespace, b.spec.snapshot!);
  if (!snap || isDeleting(snap)) throw new Refused('SnapshotNotFound', `Snapshot ${b.spec.snapshot} could not be found.`);
  if (snap.spec.volume !== vol.metadata.name) throw new Refused('InvalidInput', `Invalid input received: Snapshot ${idOf(snap)} is not of volume ${idOf(vol)}.`);
  if (!settledWord(snap)) throw new Refused('InvalidSnapshot', `Invalid snapshot: Snapshot ${idOf(snap)} is not available (it is ${snap.status?.phase ?? 'being made'}).`);
  return snap;
}

/**
 * A snapshot's data backed up: as Cinder's backup of a snapshot on a driver that cannot read snapshots in
 * place, it is copied into a temporary volume, which is backed up and then deleted (also on failure).
 */
async function backUpSnapshot(deps: CinderDeps, backend: VolumeBackend, b: VolumeBackup, snap: VolumeSnapshot, sizeGiB: number, prefix: string, container: string, parent?: { prefix: string; manifest: BackupManifest }) {
  const temp = snapshotReadVolumeOf(b);
  await backend.delete(temp); // one a crash left behind
  try {
    await backend.createFromSnapshot(temp, idOf(snap), sizeGiB);
    return await deps.backups.backup(backend, temp, prefix, parent, container);
  } finally {
    await backend.delete(temp);
  }
}
