/**
 * A server's volumes (Nova's os-volume_attachments): list and show them; attach one (a VolumeAttachment the
 * block storage service reserves and the server's node hot-plugs) and detach one (the attachment deleted;
 * the node unplugs the disk first). Attach answers with the device the volume gets, as Nova reserves it;
 * detach answers at once (202) and the volume shows detaching until the guest lets it go. A shelved and
 * offloaded server's volumes change in its records alone (2.20), and are plugged in where it is unshelved.
 */
import { VOLUME_ATTACHMENTS, idOf as volumeIdOf, type Volume, type VolumeAttachment } from '@stratus/cinder';
import { now, patchStatusChanges } from '@stratus/runtime';
import type { Instance } from '../resources.js';
import { ownDiskTargets } from '../agent/guestSpec.js';
import { nextTarget } from '../agent/volumes.js';
import { API_FIELD_MANAGER, checkLock, fromKubernetes, serverFor, type ComputeApiContext, type ComputeRequest, type ComputeRouter } from './context.js';
import { badRequest, conflict, notFound } from './errors.js';

/** How long an attach waits for block storage to reserve the volume (or refuse it) before answering. */
const RESERVE_MS = 30_000;

/** Shelved and offloaded: no guest anywhere, only its records. */
const offloaded = (inst: Instance) => inst.status?.phase === 'SHELVED_OFFLOADED' && !inst.status.taskState;

/** The states Nova attaches and detaches volumes in: a running or stopped guest's, and since 2.20 an offloaded server's. */
const volumesChangeable = (inst: Instance, req: ComputeRequest) =>
  (['ACTIVE', 'SHUTOFF', 'PAUSED', 'SUSPENDED'].includes(inst.status?.phase ?? '') && !inst.status?.taskState) || (offloaded(inst) && req.auth.version.atLeast('2.20'));

export function volumeAttachmentRoutes(router: ComputeRouter, api: ComputeApiContext) {
  const { dir } = api;
  const attachmentsOf = (inst: Instance) => dir.volumeAttachments.list(inst.metadata.namespace).filter((a) => a.spec.instance === inst.metadata.name && a.status?.phase !== 'error' && !a.metadata.deletionTimestamp);
  const volumeOf = (a: VolumeAttachment) => dir.volumes.get(a.spec.volume, a.metadata.namespace);
  const view = (req: ComputeRequest, inst: Instance, a: VolumeAttachment) => {
    const volumeId = a.status?.volumeId ?? (volumeOf(a) ? volumeIdOf(volumeOf(a)!) : '');
    const v = req.auth.version;
    return {
      ...(v.atLeast('2.89') ? {} : { id: volumeId }),
      serverId: inst.metadata.uid,
      volumeId,
      device: a.status?.device ?? a.spec.device ?? null,
      ...(v.atLeast('2.70') ? { tag: a.spec.tag ?? null } : {}),
      ...(v.atLeast('2.79') ? { delete_on_termination: !!a.spec.deleteOnTermination } : {}),
      ...(v.atLeast('2.89') ? { attachment_id: a.metadata.uid, bdm_uuid: a.metadata.uid } : {}),
    };
  };
  const findAttachment = (inst: Instance, volumeId: string) => {
    const a = attachmentsOf(inst).find((x) => (x.status?.volumeId ?? (volumeOf(x) ? volumeIdOf(volumeOf(x)!) : undefined)) === volumeId);
    if (!a) throw notFound(`volume_id not found: ${volumeId}`);
    return a;
  };

  router.on('GET', '/servers/:id/os-volume_attachments', (req) => {
    const inst = serverFor(api, req.params.id, req.auth);
    return { status: 200, body: { volumeAttachments: attachmentsOf(inst).map((a) => view(req, inst, a)) } };
  });
  router.on('GET', '/servers/:id/os-volume_attachments/:volume', (req) => {
    const inst = serverFor(api, req.params.id, req.auth);
    return { status: 200, body: { volumeAttachment: view(req, inst, findAttachment(inst, req.params.volume)) } };
  });

  router.on('POST', '/servers/:id/os-volume_attachments', async (req) => {
    const inst = serverFor(api, req.params.id, req.auth);
    checkLock(inst, req.auth, 'attach_volume');
    const body = (req.body?.volumeAttachment ?? undefined) as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object') throw badRequest("Invalid input for field/attribute volumeAttachment. 'volumeAttachment' is a required property");
    const volumeId = body.volumeId;
    if (typeof volumeId !== 'string' || !volumeId) throw badRequest("Invalid input for field/attribute volumeId. 'volumeId' is a required property");
    const device = body.device === undefined || body.device === null ? undefined : String(body.device);
    if (device !== undefined && !/^\/dev\/[a-z]+$/.test(device)) throw badRequest(`Invalid input for field/attribute device. Value: ${device}. The supplied device path (${device}) is invalid.`);
    if (inst.metadata.deletionTimestamp) throw notFound(`Instance ${req.params.id} could not be found.`);
    if (!volumesChangeable(inst, req)) throw conflict(`Cannot 'attach_volume' instance ${req.params.id} while it is in vm_state ${(inst.status?.phase ?? 'building').toLowerCase()}`);
    const vol: Volume | undefined = dir.volumes.byId(volumeId);
    if (!vol || vol.metadata.namespace !== inst.metadata.namespace) throw notFound(`Volume ${volumeId} could not be found.`);
    const taken = dir.volumeAttachments.list(vol.metadata.namespace).some((a) => a.spec.volume === vol.metadata.name && a.status?.phase !== 'error');
    if (vol.status?.phase !== 'available' || taken) throw badRequest(`Invalid volume: volume ${volumeId} status must be 'available'. Currently in '${vol.status?.phase ?? 'creating'}'`);
    // Nova reserves the device name at once: the next free one beside the guest's own disks and other volumes.
    const used = [...ownDiskTargets(inst.status?.flavor), ...attachmentsOf(inst).map((a) => (a.status?.device ?? a.spec.device ?? '').replace('/dev/', ''))].filter(Boolean).map((target) => ({ target }));
    const target = nextTarget(used, device);
    const owner = { apiVersion: 'compute.stratus.io/v1alpha1', kind: 'Instance', name: inst.metadata.name, uid: inst.metadata.uid!, blockOwnerDeletion: false };
    const made = await api.client
      .create<VolumeAttachment>(
        VOLUME_ATTACHMENTS,
        {
          apiVersion: 'blockstorage.stratus.io/v1alpha1',
          kind: 'VolumeAttachment',
          metadata: { generateName: `${inst.metadata.name}-`.slice(0, 50), namespace: inst.metadata.namespace, ownerReferences: [owner] } as unknown as VolumeAttachment['metadata'],
          spec: { volume: vol.metadata.name, instance: inst.metadata.name, device: `/dev/${target}`, deleteOnTermination: body.delete_on_termination === true, ...(typeof body.tag === 'string' ? { tag: body.tag } : {}) },
        },
        API_FIELD_MANAGER,
      )
      .catch((e) => fromKubernetes(e, `Volume attachment of ${volumeId}`));
    // Block storage answers (reserved, or refused as in use) before the call does.
    // (Waited for on the cache's copy of this write: before the cache has it, there is no answer to read yet.)
    await dir.volumeAttachments.untilWritten(made, (a) => !!a.status?.phase, RESERVE_MS);
    let verdict = dir.volumeAttachments.get(made.metadata.name, made.metadata.namespace);
    if (verdict?.status?.phase === 'error') {
      await api.client.delete(VOLUME_ATTACHMENTS, made.metadata.namespace, made.metadata.name).catch(() => {});
      const why = verdict.status.conditions?.find((c) => c.type === 'Stalled')?.message ?? 'the volume could not be reserved';
      throw badRequest(why);
    }
    if (verdict?.status?.phase === 'reserved' && offloaded(inst)) {
      // No guest to plug it into: the attachment is complete as it stands, as Nova's attach to an offloaded
      // server completes it. The node that unshelves the server plugs it in.
      const complete = await patchStatusChanges(api.client, VOLUME_ATTACHMENTS, verdict, { phase: 'attached', serverId: inst.metadata.uid!, device: `/dev/${target}`, attachedAt: now() }, API_FIELD_MANAGER, { precondition: false, observedGeneration: false });
      await dir.volumeAttachments.seen(complete);
      verdict = complete;
    }
    api.log.info('volume attach asked for', { namespace: inst.metadata.namespace, instance: inst.metadata.name, volume: vol.metadata.name, device: `/dev/${target}` });
    return { status: 200, body: { volumeAttachment: view(req, inst, verdict ?? made) } };
  });

  router.on('PUT', '/servers/:id/os-volume_attachments/:volume', (req) => {
    findAttachment(serverFor(api, req.params.id, req.auth), req.params.volume);
    throw badRequest('Swapping a volume (volume update) is not offered by this cloud: detach it and attach the other.');
  });

  router.on('DELETE', '/servers/:id/os-volume_attachments/:volume', async (req) => {
    const inst = serverFor(api, req.params.id, req.auth);
    checkLock(inst, req.auth, 'detach_volume');
    const a = findAttachment(inst, req.params.volume);
    if (a.spec.bootIndex === 0) throw badRequest(`Can't detach root device volume`);
    if (!volumesChangeable(inst, req)) throw conflict(`Cannot 'detach_volume' instance ${req.params.id} while it is in vm_state ${(inst.status?.phase ?? 'building').toLowerCase()}`);
    await api.client.delete(VOLUME_ATTACHMENTS, a.metadata.namespace, a.metadata.name).catch((e) => fromKubernetes(e, `Volume attachment ${req.params.volume}`));
    await dir.volumeAttachments.until(a, (c) => !c || !!c.metadata.deletionTimestamp);
    return { status: 202 };
  });
}
