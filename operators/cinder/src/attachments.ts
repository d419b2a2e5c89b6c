/**
 * The VolumeAttachment reconciler, Cinder's side of an attach (reserve and initialize_connection): the
 * volume must exist and be made; one that is not multiattach goes to one attachment at a time; the
 * attachment is then handed the connection its node plugs in, with the type's front-end QoS specs. The node does the rest (attaching, attached)
 * and holds its own finalizer while the disk is plugged.
 */
import { isDeleting, markReconciling, markStalled, patchStatusChanges, type ReconcileContext, type Reconciler, type Result } from '@stratus/runtime';
import { FIELD_MANAGER, QOS_SPECS, VOLUMES, VOLUME_ATTACHMENTS, VOLUME_TYPES, attachmentsOf, frontEndSpecs, idOf, isMultiattach, type QosSpec, type Volume, type VolumeAttachment, type VolumeType } from './resources.js';
import { holdsVolume } from './volumeState.js';

export function attachmentReconciler(): Reconciler<VolumeAttachment> {
  return async (req, ctx: ReconcileContext<VolumeAttachment>): Promise<Result | void> => {
    const { client } = ctx;
    const att = await client.get<VolumeAttachment>(VOLUME_ATTACHMENTS, req.namespace, req.name);
    if (!att || isDeleting(att)) return;
    const gen = att.metadata.generation;
    const refuse = async (reason: string, message: string) => {
      if (att.status?.conditions?.find((c) => c.type === 'Stalled')?.message !== message) await ctx.events.record(att, 'Warning', reason, message);
      await patchStatusChanges(client, VOLUME_ATTACHMENTS, att, { id: idOf(att), phase: 'error', conditions: markStalled(att.status?.conditions, gen, reason, message) }, FIELD_MANAGER, { precondition: false });
    };
    // Once the node has it, the node says how it is.
    if (['attaching', 'attached', 'detaching'].includes(att.status?.phase ?? '')) return;
    const vol = await client.get<Volume>(VOLUMES, att.metadata.namespace, att.spec.volume);
    if (!vol || isDeleting(vol)) return refuse('VolumeNotFound', `Volume ${att.spec.volume} could not be found.`);
    if (!vol.status?.madeFrom || !vol.status.connection) {
      if (vol.status?.phase === 'error') return refuse('InvalidVolume', `Invalid volume: volume ${idOf(vol)} is in error`);
      await patchStatusChanges(client, VOLUME_ATTACHMENTS, att, { id: idOf(att), volumeId: idOf(vol), conditions: markReconciling(att.status?.conditions, gen, 'AwaitingVolume', `volume ${vol.metadata.name} is ${vol.status?.phase ?? 'being made'}`) }, FIELD_MANAGER, { precondition: false });
      return { requeueAfterMs: 2000 };
    }
    const type = vol.status.volumeType ? await client.get<VolumeType>(VOLUME_TYPES, undefined, vol.status.volumeType) : undefined;
    const all = attachmentsOf((await client.list<VolumeAttachment>(VOLUME_ATTACHMENTS, att.metadata.namespace)).items, vol.metadata.name);
    if (!isMultiattach(type) && !holdsVolume(att, all)) return refuse('VolumeInUse', `Invalid volume: volume ${idOf(vol)} is already attached (its type is not multiattach)`);
    // The type's front-end QoS goes with the connection, as Cinder's initialize_connection hands it to Nova.
    const qosSpecs = frontEndSpecs(type?.spec.qosSpec ? await client.get<QosSpec>(QOS_SPECS, undefined, type.spec.qosSpec) : undefined);
    const connection = { ...vol.status.connection, ...(qosSpecs ? { qosSpecs } : {}) };
    await patchStatusChanges(
      client,
      VOLUME_ATTACHMENTS,
      att,
      { id: idOf(att), volumeId: idOf(vol), phase: 'reserved', connection, conditions: markReconciling(att.status?.conditions, gen, 'Reserved', `volume ${vol.metadata.name} reserved for instance ${att.spec.instance}: its node plugs it in`) },
      FIELD_MANAGER,
      { precondition: false },
    );
  };
}
