/**
 * The VolumeSnapshot reconciler: a snapshot gets a finalizer guarding its data, is admitted against the
 * tenant's quota (snapshots, and gigabytes as Cinder counts them), and the volume's backend copies the volume
 * as it is now (an attached volume only when forced: crash-consistent). Deleting it removes the copy.
 */
import { hasFinalizer, isDeleting, markReady, markReconciling, patchStatusChanges, type ReconcileContext, type Reconciler, type Result } from '@stratus/runtime';
import { DATA_FINALIZER, FIELD_MANAGER, VOLUMES, VOLUME_BACKUPS, VOLUME_SNAPSHOTS, idOf, volumeTypeOf, type Volume, type VolumeBackup, type VolumeSnapshot } from './resources.js';
import { showSettled, settledWord } from './statusReset.js';
import { FROZEN_BACKEND, backendFrozen } from './serviceState.js';
import { Refused, admit, backendOf, ensureFinalizer, holdWhileFrozen, projectIdOf, removeDataThenRelease, stall, type CinderDeps } from './volumes.js';

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function snapshotReconciler(deps: CinderDeps): Reconciler<VolumeSnapshot> {
  return async (req, ctx: ReconcileContext<VolumeSnapshot>): Promise<Result | void> => {
    const { client } = ctx;
    let snap = await client.get<VolumeSnapshot>(VOLUME_SNAPSHOTS, req.namespace, req.name);
    if (!snap) return;
    if (isDeleting(snap)) {
      if (!hasFinalizer(snap, DATA_FINALIZER)) return;
      const s = snap;
      if (await backendFrozen(client, s.status?.backend)) return holdWhileFrozen(ctx, VOLUME_SNAPSHOTS, s);
      return removeDataThenRelease(ctx, VOLUME_SNAPSHOTS, s, 'Snapshot', async () => {
        if (s.status?.backend) await backendOf(deps, s.status.backend).deleteSnapshot(idOf(s));
      });
    }
    if (await ensureFinalizer(client, VOLUME_SNAPSHOTS, snap)) return;
    const write = async (change: object) => {
      snap = await patchStatusChanges(client, VOLUME_SNAPSHOTS, snap!, change as never, FIELD_MANAGER, { precondition: false });
    };
    // Taken (or refused until its spec changes): nothing more to make; an admin's reset may show another word.
    const backingUp = (await client.list<VolumeBackup>(VOLUME_BACKUPS, snap.metadata.namespace)).items.some((b) => b.spec.snapshot === snap!.metadata.name && b.status?.phase === 'creating' && !isDeleting(b));
    const settled = settledWord(snap, backingUp ? 'backing-up' : 'available');
    if (settled) return showSettled(snap, settled, write);
    try {
      const vol = await client.get<Volume>(VOLUMES, snap.metadata.namespace, snap.spec.volume);
      if (!vol || isDeleting(vol)) throw new Refused('VolumeNotFound', `Volume ${snap.spec.volume} could not be found.`);
      if (!vol.status?.madeFrom) return { requeueAfterMs: 2000 }; // the volume is still being made
      const phase = vol.status.phase ?? '';
      if (!['available', 'in-use'].includes(phase) || (phase === 'in-use' && !snap.spec.force))
        throw new Refused('InvalidVolume', `Invalid volume: Volume ${idOf(vol)} status must be available, but current status is: ${phase}.`);
      const backend = backendOf(deps, vol.status.backend);
      if (await backendFrozen(client, backend.name)) throw new Refused('BackendFrozen', FROZEN_BACKEND);
      const sizeGiB = vol.status.sizeGiB ?? vol.spec.sizeGiB;
      await admit(client, snap.metadata.namespace!, snap.metadata.uid!, { snapshots: 1, gigabytes: sizeGiB, volumeType: volumeTypeOf(vol) }, () =>
        write({ id: idOf(snap!), volumeId: idOf(vol), sizeGiB, backend: backend.name, phase: 'creating', conditions: markReconciling(snap!.status?.conditions, snap!.metadata.generation, 'Creating', `copying volume ${vol.metadata.name}`) }),
      );
      await write({ projectId: await projectIdOf(client, snap.metadata.namespace!) });
      await backend.createSnapshot(idOf(snap), idOf(vol));
      await write({ phase: 'available', conditions: markReady(snap.status?.conditions, snap.metadata.generation, 'SnapshotReady', `a copy of volume ${vol.metadata.name} (${sizeGiB} GiB) in ${backend.pool}`) });
      await ctx.events.record(snap, 'Normal', 'Created', `Snapshot of volume ${vol.metadata.name} taken`);
      ctx.log.info('snapshot created', { volume: vol.metadata.name });
    } catch (e) {
      const refused = e instanceof Refused;
      await write({ sizeGiB: null });
      await stall(ctx, VOLUME_SNAPSHOTS, snap, refused ? e.reason : 'SnapshotFailed', refused ? e.message : `Snapshot ${idOf(snap)} failed: ${describe(e)}`);
    }
  };
}
