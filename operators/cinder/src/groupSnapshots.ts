/**
 * The VolumeGroupSnapshot reconciler: a group snapshot is one VolumeSnapshot of each volume in its group when it
 * is taken (labelled with its name; volumes that join later are not in it). It is available once every one of
 * them is, fails with the first that fails, and deleted, deletes them and goes once they are gone.
 */
import { addFinalizerPatch, hasFinalizer, isDeleting, markReady, markReconciling, patchStatusChanges, removeFinalizerPatch, type ReconcileContext, type Reconciler, type Result } from '@stratus/runtime';
import { FIELD_MANAGER, GROUP_SNAPSHOT_LABEL, USER_ID_ANNOTATION, VOLUMES, VOLUME_GROUPS, VOLUME_GROUP_SNAPSHOTS, VOLUME_SNAPSHOTS, idOf, type Volume, type VolumeGroup, type VolumeGroupSnapshot, type VolumeSnapshot } from './resources.js';
import { membersOf } from './groups.js';
import { showSettled } from './statusReset.js';
import { stall } from './volumes.js';

/** Held until the group snapshot's VolumeSnapshots are gone. */
export const SNAPSHOTS_FINALIZER = 'blockstorage.stratus.io/snapshots';

/** The VolumeSnapshots of a group snapshot, among a namespace's. Pure. */
export const snapshotsOf = (gs: VolumeGroupSnapshot, snapshots: readonly VolumeSnapshot[]): VolumeSnapshot[] => snapshots.filter((s) => s.metadata.labels?.[GROUP_SNAPSHOT_LABEL] === gs.metadata.name);

/** The snapshots still to take: one of each member volume that has none of this group snapshot yet. Pure. */
export function snapshotsToTake(gs: VolumeGroupSnapshot, members: readonly Volume[], taken: readonly VolumeSnapshot[]): VolumeSnapshot[] {
  const have = new Set(taken.map((s) => s.spec.volume));
  return members
    .filter((v) => !isDeleting(v) && !have.has(v.metadata.name))
    .map((v) => ({
      apiVersion: 'blockstorage.stratus.io/v1alpha1',
      kind: 'VolumeSnapshot',
      metadata: {
        name: `${gs.metadata.name}-${v.metadata.name}`.slice(0, 253).replace(/[-.]+$/, ''),
        namespace: gs.metadata.namespace,
        labels: { [GROUP_SNAPSHOT_LABEL]: gs.metadata.name },
        ...(gs.metadata.annotations?.[USER_ID_ANNOTATION] ? { annotations: { [USER_ID_ANNOTATION]: gs.metadata.annotations[USER_ID_ANNOTATION] } } : {}),
      },
      // Forced: a group's volumes are snapshotted attached or not, as Cinder's group snapshots are.
      spec: { ...(gs.spec.displayName !== undefined ? { displayName: gs.spec.displayName } : {}), volume: v.metadata.name, force: true },
    }));
}

export type GroupSnapshotWord = { word: 'available' | 'creating' } | { word: 'error'; message: string };

/** Available once every snapshot taken is; error with the first that failed. Pure. */
export function groupSnapshotWord(snapshots: readonly VolumeSnapshot[]): GroupSnapshotWord {
  const failed = snapshots.find((s) => s.status?.phase === 'error');
  if (failed) return { word: 'error', message: `Snapshot ${failed.metadata.name} of volume ${failed.spec.volume} failed.` };
  return { word: snapshots.every((s) => s.status?.phase === 'available') ? 'available' : 'creating' };
}

export function groupSnapshotReconciler(): Reconciler<VolumeGroupSnapshot> {
  return async (req, ctx: ReconcileContext<VolumeGroupSnapshot>): Promise<Result | void> => {
    const { client } = ctx;
    let gs = await client.get<VolumeGroupSnapshot>(VOLUME_GROUP_SNAPSHOTS, req.namespace, req.name);
    if (!gs) return;
    const ns = gs.metadata.namespace!;
    const taken = snapshotsOf(gs, (await client.list<VolumeSnapshot>(VOLUME_SNAPSHOTS, ns)).items);
    const write = async (change: object) => {
      gs = await patchStatusChanges(client, VOLUME_GROUP_SNAPSHOTS, gs!, change as never, FIELD_MANAGER, { precondition: false });
    };
    if (isDeleting(gs)) {
      if (!hasFinalizer(gs, SNAPSHOTS_FINALIZER)) return;
      if (taken.length) {
        for (const s of taken.filter((t) => !isDeleting(t))) await client.delete(VOLUME_SNAPSHOTS, ns, s.metadata.name).catch((e: { code?: number }) => {
          if (e.code !== 404) throw e;
        });
        await write({ phase: 'deleting', conditions: markReconciling(gs.status?.conditions, gs.metadata.generation, 'SnapshotsRemain', `waiting for ${taken.length} snapshot(s) to be deleted`) });
        return { requeueAfterMs: 5000 }; // each snapshot's deletion brings it back here too
      }
      await client.patch(VOLUME_GROUP_SNAPSHOTS, ns, gs.metadata.name, removeFinalizerPatch(gs, SNAPSHOTS_FINALIZER)!, FIELD_MANAGER);
      ctx.log.info('group snapshot deleted', { groupSnapshot: `${ns}/${gs.metadata.name}` });
      return;
    }
    const finalizer = addFinalizerPatch(gs, SNAPSHOTS_FINALIZER);
    if (finalizer) {
      await client.patch(VOLUME_GROUP_SNAPSHOTS, ns, gs.metadata.name, finalizer, FIELD_MANAGER);
      return;
    }
    if (!gs.status?.taken) {
      const group = await client.get<VolumeGroup>(VOLUME_GROUPS, ns, gs.spec.group);
      if (!group || isDeleting(group)) return stall(ctx, VOLUME_GROUP_SNAPSHOTS, gs, 'GroupNotFound', `Group ${gs.spec.group} could not be found.`);
      const members = membersOf(group.metadata.name, (await client.list<Volume>(VOLUMES, ns)).items);
      for (const snap of snapshotsToTake(gs, members, taken)) {
        const made = await client.create(VOLUME_SNAPSHOTS, snap, FIELD_MANAGER).catch((e: { code?: number }) => {
          if (e.code !== 409) throw e;
          return undefined; // taken on an earlier pass
        });
        if (made) ctx.log.info('snapshot taken for the group snapshot', { groupSnapshot: `${ns}/${gs.metadata.name}`, snapshot: snap.metadata.name, volume: snap.spec.volume });
      }
      // Its snapshots' events bring it back here, to see them made.
      return write({ id: idOf(gs), taken: true, phase: 'creating', conditions: markReconciling(gs.status?.conditions, gs.metadata.generation, 'Snapshotting', `snapshotting ${members.length} volume(s)`) });
    }
    const state = groupSnapshotWord(taken);
    if (state.word === 'error') return stall(ctx, VOLUME_GROUP_SNAPSHOTS, gs, 'SnapshotFailed', state.message);
    if (state.word === 'creating') return write({ id: idOf(gs), phase: 'creating', conditions: markReconciling(gs.status?.conditions, gs.metadata.generation, 'Snapshotting', `waiting for ${taken.filter((s) => s.status?.phase !== 'available').length} snapshot(s)`) });
    await write({ id: idOf(gs), conditions: markReady(gs.status?.conditions, gs.metadata.generation, 'GroupSnapshotReady', `${taken.length} snapshot(s) taken`) });
    return showSettled(gs, 'available', write);
  };
}
