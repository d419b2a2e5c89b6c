/**
 * The kubevirt driver's part of a Cinder attach and detach (Nova's volume driver on KubeVirt): an attachment
 * Cinder has reserved with an RBD connection gets a static ceph-csi PersistentVolume and a claim, and virt-api
 * hot-plugs the claim into the server's VirtualMachine; once the VMI reports the volume Ready the attachment
 * is attached, as the device the guest sees. The driver's finalizer holds the attachment while the volume is
 * plugged; a deleted attachment is hot-unplugged, its claim and PersistentVolume removed (never the RBD image:
 * it is Cinder's), and then let go. What cannot be plugged here (a file-pool volume, no ceph-csi configured) is
 * turned away as a Nova attach its driver cannot plug is: the attachment deleted, the server's events saying why.
 *
 * Each pass reads what KubeVirt holds and asks only for what is missing, so it may stop at any line.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { PLUGGED_FINALIZER, VOLUMES, VOLUME_ATTACHMENTS, type Volume, type VolumeAttachment } from '@stratus/cinder';
import { addFinalizerPatch, ignoreNotFound, isConflict, isDeleting, isNotFound, KubeApiError, now, patchStatusChanges, removeFinalizerPatch, type ReconcileContext } from '@stratus/runtime';
import { plugReady } from '../agent/volumes.js';
import { Refused } from '../bootChecks.js';
import type { Instance } from '../resources.js';
import { addVolumeOptionsOf, claimNameOf, claimOf, heldHotplugs, hotplugOf, hotplugVolumeName, madeFor, persistentVolumeNameOf, pluggedDevice, removalAsked, staticPersistentVolumeOf, unpluggableBecause, vmiHolds, type CephCsiConfig } from './hotplug.js';
import type { VirtualMachine, VirtualMachineInstance } from './objects.js';
import { PERSISTENT_VOLUMES, PERSISTENT_VOLUME_CLAIMS, vmActionPath } from './refs.js';

export interface PlugContext {
  inst: Instance;
  ctx: ReconcileContext<Instance>;
  host: string;
  cephCsi?: CephCsiConfig;
  fieldManager: string;
  /** Makes (or updates) an object the instance owns, refusing one of the same name someone else owns. */
  own(ref: typeof PERSISTENT_VOLUME_CLAIMS, obj: KubernetesObject): Promise<void>;
}

/** The instance's attachments, plugged, unplugged or turned away as each asks; true while KubeVirt is still at work. */
export async function plugVolumes(p: PlugContext, attachments: readonly VolumeAttachment[], vm: VirtualMachine | undefined, vmi: VirtualMachineInstance | undefined): Promise<boolean> {
  let working = false;
  const held = heldHotplugs(vm);
  const wanted = new Set<string>();
  for (const a of attachments) {
    if (isDeleting(a)) {
      if (a.metadata.finalizers?.includes(PLUGGED_FINALIZER)) working = (await unplug(p, a, held, vm, vmi)) || working;
      continue;
    }
    if (!plugReady(a)) continue; // Cinder has not reserved it yet (or refused it: its status says so)
    const why = unpluggableBecause(a, p.cephCsi, p.host);
    if (why) {
      await turnAway(p, a, why);
      continue;
    }
    wanted.add(hotplugVolumeName(a));
    if (vm) working = (await plug(p, a, held.has(hotplugVolumeName(a)), vmi)) || working;
  }
  // A Cinder volume KubeVirt holds with no attachment asking for it (one deleted before it was held): unplugged.
  for (const name of held.keys()) if (!wanted.has(name) && !attachments.some((a) => hotplugVolumeName(a) === name)) working = (await askRemoval(p, vm, name)) || working;
  return working;
}

async function plug(p: PlugContext, a: VolumeAttachment, held: boolean, vmi: VirtualMachineInstance | undefined): Promise<boolean> {
  const { client } = p.ctx;
  const ns = p.inst.metadata.namespace!;
  const hold = addFinalizerPatch(a, PLUGGED_FINALIZER);
  if (hold) a = await client.patch<VolumeAttachment>(VOLUME_ATTACHMENTS, ns, a.metadata.name, hold, p.fieldManager);
  const vol = await client.get<Volume>(VOLUMES, ns, a.spec.volume);
  const sizeGiB = vol?.status?.sizeGiB ?? vol?.spec.sizeGiB;
  try {
    await ensurePersistentVolume(p, a, sizeGiB);
    await p.own(PERSISTENT_VOLUME_CLAIMS, claimOf(p.inst, a, sizeGiB) as unknown as KubernetesObject);
  } catch (e) {
    // A claim of that name that is not the server's (someone's own PVC): this attach fails, nothing of theirs touched.
    if (!(e instanceof Refused)) throw e;
    await removeClaimAndVolume(p, a);
    await letGo(p, a);
    await turnAway(p, a, `Volume ${a.spec.volume} cannot be attached: ${e.message}`);
    return false;
  }
  const h = hotplugOf(a);
  if (!held) {
    await act(p, 'addvolume', addVolumeOptionsOf(h));
    p.ctx.log.info('volume hot-plug asked of KubeVirt', { volume: a.spec.volume, attachment: a.metadata.name, claim: claimNameOf(a) });
    return true;
  }
  // Plugged when the running VMI says Ready; a stopped VM has it in its template, for its next start.
  const running = !!vmi && !vmi.metadata.deletionTimestamp && vmi.status?.phase === 'Running';
  const device = running ? pluggedDevice(vmi, h.volume.name) : undefined;
  if (running && !device) return true;
  if (a.status?.phase !== 'attached' || (device && a.status.device !== device)) {
    await patchStatusChanges(client, VOLUME_ATTACHMENTS, a, { phase: 'attached', serverId: p.inst.metadata.uid!, host: p.host, ...(device ? { device } : {}), attachedAt: a.status?.attachedAt ?? now(), sizeGiB }, p.fieldManager, { precondition: false, observedGeneration: false });
    if (a.status?.phase !== 'attached') await p.ctx.events.record(p.inst, 'Normal', 'VolumeAttached', `Volume ${a.spec.volume} is attached${device ? ` as ${device}` : ''} (PersistentVolumeClaim ${ns}/${claimNameOf(a)}, hot-plugged by KubeVirt)`);
  }
  return false;
}

/** Hot-unplugs the attachment's volume (`held`: what KubeVirt holds of the VM's Cinder volumes), removes its claim and PersistentVolume, and lets it go once all are gone. */
async function unplug(p: PlugContext, a: VolumeAttachment, held: ReadonlyMap<string, unknown>, vm: VirtualMachine | undefined, vmi: VirtualMachineInstance | undefined): Promise<boolean> {
  const name = hotplugVolumeName(a);
  if (held.has(name)) return askRemoval(p, vm, name);
  if (vmiHolds(vmi, name) && !vmi?.metadata.deletionTimestamp) return true; // KubeVirt is taking it out of the running guest
  if (!(await removeClaimAndVolume(p, a))) return true;
  await letGo(p, a);
  await p.ctx.events.record(p.inst, 'Normal', 'VolumeDetached', `Volume ${a.spec.volume} was detached (hot-unplugged by KubeVirt)`);
  p.ctx.log.info('volume detached', { volume: a.spec.volume, attachment: a.metadata.name });
  return false;
}

/** Removes the driver's finalizer from the attachment (an attachment gone already is let go). */
async function letGo(p: PlugContext, a: VolumeAttachment): Promise<void> {
  const release = removeFinalizerPatch(a, PLUGGED_FINALIZER);
  if (release) await p.ctx.client.patch(VOLUME_ATTACHMENTS, a.metadata.namespace, a.metadata.name, release, p.fieldManager).catch(ignoreNotFound);
}

async function askRemoval(p: PlugContext, vm: VirtualMachine | undefined, name: string): Promise<boolean> {
  if (!vm || removalAsked(vm, name)) return true;
  await act(p, 'removevolume', { name });
  p.ctx.log.info('volume hot-unplug asked of KubeVirt', { volume: name });
  return true;
}

/** Deletes the attachment's claim and PersistentVolume (only those made for it); true once both are gone. */
export async function removeClaimAndVolume(p: Pick<PlugContext, 'inst' | 'ctx'>, a: VolumeAttachment): Promise<boolean> {
  const { client } = p.ctx;
  const ns = a.metadata.namespace!;
  const claim = await client.get<KubernetesObject>(PERSISTENT_VOLUME_CLAIMS, ns, claimNameOf(a));
  const ours = claim?.metadata?.ownerReferences?.some((o) => o.controller && o.uid === p.inst.metadata.uid);
  if (claim && ours) {
    if (!claim.metadata?.deletionTimestamp) await client.delete(PERSISTENT_VOLUME_CLAIMS, ns, claimNameOf(a)).catch(ignoreNotFound);
    return false;
  }
  const pv = await client.get<KubernetesObject>(PERSISTENT_VOLUMES, undefined, persistentVolumeNameOf(a));
  if (pv && madeFor(pv, a)) {
    if (!pv.metadata?.deletionTimestamp) await client.delete(PERSISTENT_VOLUMES, undefined, persistentVolumeNameOf(a)).catch(ignoreNotFound);
    return false;
  }
  return true;
}

/** The static PersistentVolume, made once (its source cannot change; a grown volume's capacity is raised). */
async function ensurePersistentVolume(p: PlugContext, a: VolumeAttachment, sizeGiB: number | undefined): Promise<void> {
  const { client } = p.ctx;
  const want = staticPersistentVolumeOf(a, p.cephCsi!, sizeGiB);
  const have = await client.get<KubernetesObject>(PERSISTENT_VOLUMES, undefined, want.metadata.name);
  if (have && !madeFor(have, a)) throw new Error(`PersistentVolume ${want.metadata.name} exists and was not made for attachment ${a.metadata.namespace}/${a.metadata.name}`);
  if (!have) await client.create(PERSISTENT_VOLUMES, want as unknown as KubernetesObject, p.fieldManager).catch((e) => {
    if (!isConflict(e)) throw e;
  });
}

async function act(p: PlugContext, action: 'addvolume' | 'removevolume', body: object): Promise<void> {
  const ns = p.inst.metadata.namespace!;
  try {
    await p.ctx.client.request('PUT', vmActionPath(ns, p.inst.metadata.name, action), body);
  } catch (e) {
    // Asked already (a pass that stopped after asking): KubeVirt says the volume exists, or is gone.
    if (e instanceof KubeApiError && (e.code === 409 || (e.code === 400 && /already exists|does not exist|not hotpluggable/i.test(e.message)))) return;
    throw e;
  }
}

async function turnAway(p: PlugContext, a: VolumeAttachment, why: string): Promise<void> {
  await p.ctx.events.record(p.inst, 'Warning', 'VolumeAttachFailed', why);
  await p.ctx.client.delete(VOLUME_ATTACHMENTS, a.metadata.namespace, a.metadata.name).catch(ignoreNotFound);
  p.ctx.log.warn('volume attachment turned away', { volume: a.spec.volume, attachment: a.metadata.name, reason: why });
}
