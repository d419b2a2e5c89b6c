/**
 * The VolumeGroup reconciler: a generic volume group is the volumes of its namespace that name it in
 * spec.group. A group made from another (spec.sourceGroup) first gets a clone of each of that group's volumes,
 * one made from a group snapshot (spec.sourceGroupSnapshot) a volume of each of its snapshots; either shows
 * creating until every new volume has been available once. A deleted group waits (a finalizer) until no
 * volume names it any more: the API deletes its volumes first when asked to (delete-volumes), kubectl leaves
 * that to the user.
 */
import { addFinalizerPatch, hasFinalizer, isDeleting, markReady, markReconciling, patchStatusChanges, removeFinalizerPatch, type KubeClient, type ReconcileContext, type Reconciler, type Result } from '@stratus/runtime';
import { FIELD_MANAGER, GROUP_SNAPSHOT_LABEL, USER_ID_ANNOTATION, VOLUMES, VOLUME_GROUPS, VOLUME_GROUP_TYPES, VOLUME_SNAPSHOTS, VOLUME_TYPES, idOf, volumeTypeOf, type Volume, type VolumeGroup, type VolumeSnapshot, type VolumeSource } from './resources.js';
import { showSettled } from './statusReset.js';
import { stall } from './volumes.js';

/** Held while volumes name the group: Cinder deletes no group that still has volumes. */
export const MEMBERS_FINALIZER = 'blockstorage.stratus.io/members';

/** The volumes of `group` among a namespace's volumes (being deleted still count: they still name it). Pure. */
export const membersOf = (group: string, volumes: readonly Volume[]): Volume[] => volumes.filter((v) => v.spec.group === group);

/** What a group made from another is made of: a volume of its source group, or a snapshot of its source group snapshot. */
export interface CloneSource {
  name: string;
  displayName?: string;
  sizeGiB: number;
  volumeType?: string;
  source: VolumeSource;
}

export const volumeSource = (v: Volume): CloneSource => ({ name: v.metadata.name, displayName: v.spec.displayName, sizeGiB: v.status?.sizeGiB ?? v.spec.sizeGiB, volumeType: v.spec.volumeType ?? v.status?.volumeType, source: { volume: v.metadata.name } });
/** `of`: the snapshot's volume (its type and name go to the new volume), when it is still there. */
export const snapshotSource = (s: VolumeSnapshot, of: Volume | undefined): CloneSource => ({ name: s.metadata.name, displayName: of?.spec.displayName, sizeGiB: s.status?.sizeGiB ?? of?.spec.sizeGiB ?? 1, volumeType: of?.spec.volumeType ?? of?.status?.volumeType, source: { snapshot: s.metadata.name } });

const sourceKey = (s: VolumeSource | undefined) => (s?.volume ? `volume/${s.volume}` : s?.snapshot ? `snapshot/${s.snapshot}` : '');

/** The new volume's name: the same on every pass, so each is made once. Pure. */
export const cloneName = (g: VolumeGroup, source: CloneSource) => `${g.metadata.name}-${source.name}`.slice(0, 253).replace(/[-.]+$/, '');

/** Whether the group is made from another group or from a group snapshot. */
const madeFrom = (g: VolumeGroup) => g.spec.sourceGroup ?? g.spec.sourceGroupSnapshot;

/** The volumes a group made from a source still needs: one per source that no volume of the group was made from. Pure. */
export function clonesToMake(g: VolumeGroup, sources: readonly CloneSource[], members: readonly Volume[]): Volume[] {
  const made = new Set(members.map((m) => sourceKey(m.spec.source)));
  return sources
    .filter((s) => !made.has(sourceKey(s.source)))
    .map((s) => ({
      apiVersion: 'blockstorage.stratus.io/v1alpha1',
      kind: 'Volume',
      metadata: { name: cloneName(g, s), namespace: g.metadata.namespace, ...(g.metadata.annotations?.[USER_ID_ANNOTATION] ? { annotations: { [USER_ID_ANNOTATION]: g.metadata.annotations[USER_ID_ANNOTATION] } } : {}) },
      spec: { ...(s.displayName !== undefined ? { displayName: s.displayName } : {}), sizeGiB: s.sizeGiB, ...(s.volumeType ? { volumeType: s.volumeType } : {}), group: g.metadata.name, source: s.source },
    }));
}

/**
 * Why a volume written with kubectl may not be in the group it names: the group does not take its type. Checked
 * when the volume joins or changes type; a group not (yet) known is no refusal, as a reference may precede its
 * object. Pure.
 */
export function groupTypeRefusal(v: Volume, old: Volume | undefined, group: VolumeGroup | undefined): string | undefined {
  if (!v.spec.group || !group) return undefined;
  if (old && old.spec.group === v.spec.group && volumeTypeOf(old) === volumeTypeOf(v)) return undefined;
  return group.spec.volumeTypes.includes(volumeTypeOf(v)) ? undefined : `group ${v.spec.group} does not take volumes of type ${volumeTypeOf(v)}.`;
}

export type GroupWord = { word: 'available'; populated?: true } | { word: 'creating'; waiting: number } | { word: 'error'; reason: string; message: string };

/**
 * What a group's status says, given its volumes: a group made from another is creating until each clone has
 * been available once (then populated for good), and fails with the first clone that fails. Pure.
 */
export function groupWord(g: VolumeGroup, members: readonly Volume[], sourceCount: number): GroupWord {
  if (!madeFrom(g) || g.status?.populated) return { word: 'available' };
  const failed = members.find((m) => m.status?.phase === 'error');
  if (failed) return { word: 'error', reason: 'CloneFailed', message: `Volume ${failed.metadata.name}, made from ${madeFrom(g)}, failed.` };
  const waiting = members.filter((m) => m.status?.phase !== 'available').length;
  if (members.length >= sourceCount && waiting === 0) return { word: 'available', populated: true };
  return { word: 'creating', waiting: Math.max(waiting, sourceCount - members.length) };
}

/** Why the group cannot be, when its group type or one of its volume types is not there. */
async function missingType(client: KubeClient, g: VolumeGroup): Promise<string | undefined> {
  if (!(await client.get(VOLUME_GROUP_TYPES, undefined, g.spec.groupType))) return `Group type ${g.spec.groupType} could not be found.`;
  for (const t of g.spec.volumeTypes) if (!(await client.get(VOLUME_TYPES, undefined, t))) return `Volume type ${t} could not be found.`;
  return undefined;
}

export function groupReconciler(): Reconciler<VolumeGroup> {
  return async (req, ctx: ReconcileContext<VolumeGroup>): Promise<Result | void> => {
    const { client } = ctx;
    let g = await client.get<VolumeGroup>(VOLUME_GROUPS, req.namespace, req.name);
    if (!g) return;
    const volumes = (await client.list<Volume>(VOLUMES, g.metadata.namespace)).items;
    const members = membersOf(g.metadata.name, volumes);
    const write = async (change: object) => {
      g = await patchStatusChanges(client, VOLUME_GROUPS, g!, change as never, FIELD_MANAGER, { precondition: false });
    };
    if (isDeleting(g)) {
      if (!hasFinalizer(g, MEMBERS_FINALIZER)) return;
      if (members.length) {
        // A deleted volume's event brings the group back here; one that only leaves (spec.group unset) does not say
        // which group it left, hence the requeue.
        await write({ phase: 'deleting', conditions: markReconciling(g.status?.conditions, g.metadata.generation, 'VolumesRemain', `waiting for ${members.length} volume(s) to be deleted or leave the group`) });
        return { requeueAfterMs: 5000 };
      }
      await client.patch(VOLUME_GROUPS, g.metadata.namespace, g.metadata.name, removeFinalizerPatch(g, MEMBERS_FINALIZER)!, FIELD_MANAGER);
      ctx.log.info('group deleted', { group: `${g.metadata.namespace}/${g.metadata.name}` });
      return;
    }
    const finalizer = addFinalizerPatch(g, MEMBERS_FINALIZER);
    if (finalizer) {
      await client.patch(VOLUME_GROUPS, g.metadata.namespace, g.metadata.name, finalizer, FIELD_MANAGER);
      return;
    }
    const missing = await missingType(client, g);
    if (missing) return stall(ctx, VOLUME_GROUPS, g, 'TypeNotFound', missing);
    let sourceCount = 0;
    if (madeFrom(g) && !g.status?.populated) {
      const from = g.spec.sourceGroupSnapshot;
      const sources = g.spec.sourceGroup
        ? membersOf(g.spec.sourceGroup, volumes).filter((v) => !isDeleting(v)).map(volumeSource)
        : (await client.list<VolumeSnapshot>(VOLUME_SNAPSHOTS, g.metadata.namespace)).items
            .filter((snap) => snap.metadata.labels?.[GROUP_SNAPSHOT_LABEL] === from && !isDeleting(snap))
            .map((snap) => snapshotSource(snap, volumes.find((v) => v.metadata.name === snap.spec.volume)));
      sourceCount = sources.length;
      for (const clone of clonesToMake(g, sources, members)) {
        const made = await client.create(VOLUMES, clone, FIELD_MANAGER).catch((e: { code?: number }) => {
          if (e.code !== 409) throw e;
          return undefined; // made on an earlier pass
        });
        if (made) ctx.log.info('volume made for the group', { group: `${g.metadata.namespace}/${g.metadata.name}`, volume: clone.metadata.name, from: clone.spec.source });
      }
    }
    const state = groupWord(g, members, sourceCount);
    if (state.word === 'error') return stall(ctx, VOLUME_GROUPS, g, state.reason, state.message);
    if (state.word === 'creating') {
      return write({ id: idOf(g), phase: 'creating', conditions: markReconciling(g.status?.conditions, g.metadata.generation, 'Cloning', `waiting for ${state.waiting} volume(s) made from ${madeFrom(g)}`) });
    }
    await write({ id: idOf(g), ...(state.populated ? { populated: true } : {}), conditions: markReady(g.status?.conditions, g.metadata.generation, 'GroupReady', `${members.length} volume(s) in the group`) });
    return showSettled(g, 'available', write);
  };
}
