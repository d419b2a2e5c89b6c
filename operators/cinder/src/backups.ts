/**
 * The VolumeBackup reconciler (cinder-backup): a backup gets a finalizer guarding its objects, is admitted
 * against the tenant's quota, and the volume's data is cut in chunks into the S3 store under the backup's own
 * prefix: all of it, or (incremental) the chunks changed since the volume's latest backup. A failed backup
 * leaves no object. Deleting one removes its own objects, once no incremental backup builds on it.
 */
import { hasFinalizer, isDeleting, markReady, markReconciling, patchStatusChanges, type ReconcileContext, type Reconciler, type Result } from '@stratus/runtime';
import { DATA_FINALIZER, FIELD_MANAGER, VOLUMES, VOLUME_BACKUPS, idOf, type Volume, type VolumeBackup } from './resources.js';
import { showSettled, settledWord } from './statusReset.js';
import { Refused, admit, backendOf, ensureFinalizer, projectIdOf, removeDataThenRelease, stall, type CinderDeps } from './volumes.js';

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));
export const backupPrefixOf = (b: VolumeBackup) => `backups/${b.metadata.namespace}/${b.metadata.uid}`;
const madeAt = (b: VolumeBackup) => new Date(b.metadata.creationTimestamp ?? 0).getTime();

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
      const all = (await client.list<VolumeBackup>(VOLUME_BACKUPS, b.metadata.namespace)).items;
      const dependents = all.filter((o) => o.status?.parent === b!.metadata.name && !isDeleting(o) && o.metadata.uid !== b!.metadata.uid);
      if (dependents.length) {
        await stall(ctx, VOLUME_BACKUPS, b, 'InvalidBackup', `Invalid backup: Incremental backups exist for this backup (${dependents.map((d) => d.metadata.name).join(', ')}).`, b.status?.phase);
        return { requeueAfterMs: 5000 };
      }
      const prefix = b.status?.prefix ?? backupPrefixOf(b);
      return removeDataThenRelease(ctx, VOLUME_BACKUPS, b, 'Backup', async () => deps.backups.delete(prefix, await deps.backups.manifest(prefix)));
    }
    if (await ensureFinalizer(client, VOLUME_BACKUPS, b)) return;
    // Stored (restores mark it restoring meanwhile), or refused until its spec changes: nothing more to make; an
    // admin's reset may show another word.
    const settled = settledWord(b, b.status?.restoring ? 'restoring' : 'available');
    if (settled) return showSettled(b, settled, write);
    const prefix = backupPrefixOf(b);
    try {
      const vol = await client.get<Volume>(VOLUMES, b.metadata.namespace, b.spec.volume);
      if (!vol || isDeleting(vol)) throw new Refused('VolumeNotFound', `Volume ${b.spec.volume} could not be found.`);
      if (!vol.status?.madeFrom) return { requeueAfterMs: 2000 };
      const phase = vol.status.phase ?? '';
      if (!['available', 'in-use', 'backing-up'].includes(phase) || (phase === 'in-use' && !b.spec.force))
        throw new Refused('InvalidVolume', `Invalid volume: Volume to be backed up must be available or in-use, but the current status is "${phase}".`);
      const sizeGiB = vol.status.sizeGiB ?? vol.spec.sizeGiB;
      const all = (await client.list<VolumeBackup>(VOLUME_BACKUPS, b.metadata.namespace)).items;
      const parent = b.spec.incremental ? parentOf({ ...b, status: { ...b.status, volumeId: idOf(vol) } }, all) : undefined;
      if (b.spec.incremental && !parent) throw new Refused('InvalidBackup', 'Invalid backup: No backups available to do an incremental backup.');
      await admit(client, b.metadata.namespace!, b.metadata.uid!, { backups: 1, backupGigabytes: sizeGiB }, () =>
        write({
          id: idOf(b!),
          volumeId: idOf(vol),
          sizeGiB,
          container: deps.backups.bucket,
          prefix,
          ...(parent ? { parent: parent.metadata.name, parentId: idOf(parent) } : {}),
          phase: 'creating',
          conditions: markReconciling(b!.status?.conditions, b!.metadata.generation, 'BackingUp', `copying volume ${vol.metadata.name} to ${deps.backups.bucket}/${prefix}`),
        }),
      );
      await write({ projectId: await projectIdOf(client, b.metadata.namespace!) });
      const parentManifest = parent ? await deps.backups.manifest(parent.status!.prefix!) : undefined;
      const done = await deps.backups.backup(backendOf(deps, vol.status.backend), idOf(vol), prefix, parent && parentManifest ? { prefix: parent.status!.prefix!, manifest: parentManifest } : undefined);
      await write({ phase: 'available', objectCount: done.objectCount, dataBytes: done.dataBytes, conditions: markReady(b.status?.conditions, b.metadata.generation, 'BackupReady', `${done.objectCount} chunk(s), ${done.dataBytes} bytes in ${deps.backups.bucket}/${prefix}`) });
      await ctx.events.record(b, 'Normal', 'BackedUp', `Volume ${vol.metadata.name} backed up${parent ? ` incrementally on ${parent.metadata.name}` : ''}: ${done.objectCount} chunk(s), ${done.dataBytes} bytes stored`);
      ctx.log.info('backup created', { volume: vol.metadata.name, incremental: !!parent, objects: done.objectCount, bytes: done.dataBytes });
      if (parent && !parent.status?.hasDependentBackups) await patchStatusChanges(client, VOLUME_BACKUPS, parent, { hasDependentBackups: true }, FIELD_MANAGER, { precondition: false, observedGeneration: false });
    } catch (e) {
      // No object stays of a failed backup, and it counts no more.
      await deps.backups.deleteUnder(prefix).catch(() => {});
      const refused = e instanceof Refused;
      await write({ sizeGiB: null });
      await stall(ctx, VOLUME_BACKUPS, b, refused ? e.reason : 'BackupFailed', refused ? e.message : `Backup ${idOf(b)} failed: ${describe(e)}`);
    }
  };
}
