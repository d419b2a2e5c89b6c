/**
 * The kubevirt compute driver's Instance reconciler: the story of an instance on a KubeVirt cluster. It gets
 * the finalizer guarding what is made for it; its root disk is a CDI DataVolume importing the image straight
 * from the image store's S3, its cloud-init and SSH key are Secrets, and its guest is a VirtualMachine whose
 * runStrategy follows spec.powerState. KubeVirt does the rest; each pass reads what KubeVirt reports (the
 * VM's printableStatus, the VMI's phase, node and interfaces, the import's progress) and says it in Nova's
 * words. A pause, an unpause and a reboot are virt-api's actions (subresources.kubevirt.io). Deleting the
 * instance deletes the VM (KubeVirt stops the guest first) and the rest, then lets the instance go.
 *
 * Everything is applied from the instance's spec every pass (server-side apply, one field manager), so a pass
 * may crash at any line and the next one finishes the work; nothing is made that the instance does not own.
 */
import { bootableImage, Refused, decodeUserData, rootDiskGiB } from '../bootChecks.js';
import { imageIdOf, keyFromLocation, type Image } from '@stratus/glance';
import type { KubernetesObject } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import {
  addFinalizerPatch,
  isConflict,
  isDeleting,
  KubeApiError,
  markReady,
  markReconciling,
  markStalled,
  now,
  patchStatusChanges,
  removeFinalizerPatch,
  type ReconcileContext,
  type Reconciler,
  type ResourceRef,
  type Result,
} from '@stratus/runtime';
import { hostnameOf } from '../agent/configDrive.js';
import { attachmentsOfInstance } from '../agent/volumes.js';
import { releaseAllAttachments } from '../instanceRelease.js';
import type { VolumeAttachment } from '@stratus/cinder';
import { FLAVORS, GUEST_FINALIZER, IMAGES, INSTANCES, KEYPAIRS, flavorSnapshot, faultOf, type Flavor, type FlavorSnapshot, type Instance, type InstanceStatus, type Keypair } from '../resources.js';
import { heldHotplugs, type CephCsiConfig } from './hotplug.js';
import { instanceViewOf } from './instanceView.js';
import { cloudInitSecretOf, namesOf, rootDataVolumeOf, s3CredentialsSecretOf, sshKeysSecretOf, virtualMachineOf, type DataVolume, type ImageSource, type VirtualMachine, type VirtualMachineInstance } from './objects.js';
import { plugVolumes, removeClaimAndVolume } from './volumePlugs.js';
import { DATA_VOLUMES, SECRETS, VIRTUAL_MACHINES, VIRTUAL_MACHINE_INSTANCES, vmActionPath, vmiActionPath, type VmAction, type VmiAction } from './refs.js';

export const KUBEVIRT_FIELD_MANAGER = 'stratus-nova-kubevirt';
const RESYNC_MS = 60_000;
const STALLED_RETRY_MS = 30_000;

export interface KubevirtDriverConfig {
  /** The Hypervisor this driver serves: it stands for the whole KubeVirt cluster. */
  host: string;
  /** How CDI's importer reaches the image store, and the credentials it signs with (a read-only user where the store has one). */
  imageSource: { endpoint: string; accessKeyId: string; secretAccessKey: string };
  /** How the cluster's ceph-csi maps Cinder's RBD volumes (hot-plugged as claims); without it no volume is plugged. */
  cephCsi?: CephCsiConfig;
}

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));


/**
 * Reads an object: from an informer's cache where the process keeps one for its kind (a hit may be a moment
 * behind, which the next event corrects), else, and on a miss, from the API server (a miss may be an object
 * made a moment ago).
 */
export type ObjectLookup = <T extends KubernetesObject>(ref: ResourceRef, namespace: string | undefined, name: string) => Promise<T | undefined>;

/** The VolumeAttachments naming an instance (from a cache, or listed). */
export type AttachmentsOf = (inst: Instance) => Promise<readonly VolumeAttachment[]>;

export function kubevirtInstanceReconciler(config: KubevirtDriverConfig, lookup?: ObjectLookup, attachments?: AttachmentsOf): Reconciler<Instance> {
  const applied = new AppliedObjects();
  return async (req, ctx) => {
    const inst = await ctx.client.get<Instance>(INSTANCES, req.namespace, req.name);
    if (!inst || inst.status?.host !== config.host) return;
    return new KubevirtRun(inst, ctx, config, lookup ?? ((ref, ns, name) => ctx.client.get(ref, ns, name)), applied, attachments ?? ((i) => attachmentsOfInstance(ctx.client, i))).reconcile();
  };
}

/**
 * What this process last wrote of each object: the desired state's hash and the object's generation (its
 * resourceVersion for kinds without one) right after. A pass finding both unchanged writes nothing; a change
 * by anyone else (a kubectl edit) moves the mark, and the desired state is applied again.
 */
class AppliedObjects {
  private readonly marks = new Map<string, string>();
  private static key = (ref: ResourceRef, o: KubernetesObject) => `${ref.plural}/${o.metadata?.namespace}/${o.metadata?.name}`;
  private static mark = (o: KubernetesObject) => String(o.metadata?.generation ?? o.metadata?.resourceVersion);

  unchanged(ref: ResourceRef, have: KubernetesObject, hash: string): boolean {
    return this.marks.get(AppliedObjects.key(ref, have)) === `${hash}@${AppliedObjects.mark(have)}`;
  }

  wrote(ref: ResourceRef, written: KubernetesObject, hash: string): void {
    this.marks.set(AppliedObjects.key(ref, written), `${hash}@${AppliedObjects.mark(written)}`);
  }

  /** Lets go of the marks of objects named `names` in `namespace` (an instance gone). */
  forget(namespace: string, names: Set<string>): void {
    for (const k of this.marks.keys()) {
      const [, ns, n] = k.split('/');
      if (ns === namespace && names.has(n!)) this.marks.delete(k);
    }
  }
}

const hashOf = (o: object) => createHash('sha256').update(JSON.stringify(o)).digest('base64url');

const pending = (asked: number | undefined, done: number | undefined) => (asked ?? 0) > (done ?? 0);

class KubevirtRun {
  private readonly ns: string;

  constructor(
    private inst: Instance,
    private readonly ctx: ReconcileContext<Instance>,
    private readonly config: KubevirtDriverConfig,
    private readonly lookup: ObjectLookup,
    private readonly applied: AppliedObjects,
    private readonly attachments: AttachmentsOf,
  ) {
    this.ns = inst.metadata.namespace!;
  }

  private get status(): InstanceStatus {
    return this.inst.status ?? {};
  }

  async reconcile(): Promise<Result | void> {
    if (isDeleting(this.inst)) return this.teardown();
    const withFinalizer = addFinalizerPatch(this.inst, GUEST_FINALIZER);
    if (withFinalizer) this.inst = await this.ctx.client.patch<Instance>(INSTANCES, this.ns, this.inst.metadata.name, withFinalizer, KUBEVIRT_FIELD_MANAGER);
    const hardReboot = pending(this.inst.spec.reboot?.count, this.status.rebootsDone) && this.inst.spec.reboot?.type === 'HARD';
    // In ERROR it stays so, its objects gone, until a hard reboot asks for a new try (as on libvirt).
    if (this.status.phase === 'ERROR' && !hardReboot) return;
    let flavor: FlavorSnapshot;
    let image: Image;
    try {
      this.unsupported();
      flavor = this.status.flavor ?? (await this.flavorNamed(this.inst.spec.flavor));
      image = await this.specImage();
      if (this.status.image && this.status.image.uid && this.status.image.uid !== image.metadata.uid) throw new Refused('RebuildUnsupported', 'The kubevirt driver cannot rebuild a server from another image yet.');
      await this.ensureObjects(flavor, image);
    } catch (e) {
      if (e instanceof Refused) return this.refuse(e);
      throw e;
    }
    if (hardReboot && this.status.phase === 'ERROR') await this.report({ phase: 'BUILD', fault: null, rebootsDone: this.inst.spec.reboot?.count ?? 0 });
    const { vm, vmi, dv } = await this.observe();
    const plugging = await this.plugVolumes(vm, vmi);
    const action = await this.pendingAction(vm, vmi);
    if (action) return action;
    const settled = await this.settle(flavor, image, vm, vmi, dv);
    return plugging && settled ? { requeueAfterMs: Math.min(settled.requeueAfterMs ?? 2000, 2000) } : settled;
  }

  // ── what KubeVirt cannot do for a server (yet): refused up front, nothing made ─────────────────────

  private unsupported(): void {
    const { spec } = this.inst;
    if (spec.powerState === 'Suspended') throw new Refused('SuspendUnsupported', 'KubeVirt cannot suspend a guest to disk; stop or pause it instead.', 409);
    if (spec.networks?.length) throw new Refused('NetworksUnsupported', 'Servers on the kubevirt hypervisor are attached to the cluster’s pod network; Neutron ports cannot be plugged there yet.');
    if (!spec.image) throw new Refused('BootFromVolumeUnsupported', 'The kubevirt driver boots servers from images only (volumes come with block storage on KubeVirt).');
    if (spec.shelved) throw new Refused('ShelveUnsupported', 'The kubevirt driver cannot shelve a server yet.', 409);
    if (spec.rescue) throw new Refused('RescueUnsupported', 'The kubevirt driver cannot rescue a server yet.', 409);
    if (this.status.flavor && spec.flavor !== this.status.flavor.name) throw new Refused('ResizeUnsupported', `The kubevirt driver cannot resize a server yet (flavor ${this.status.flavor.name} asked to become ${spec.flavor}).`, 409);
    if (pending(spec.rebuild?.count, this.status.rebuildsDone)) throw new Refused('RebuildUnsupported', 'The kubevirt driver cannot rebuild a server yet.', 409);
  }

  /** Cinder's volumes, hot-plugged as claims (volumePlugs.ts); true while KubeVirt is still at work on one. */
  private async plugVolumes(vm: VirtualMachine | undefined, vmi: VirtualMachineInstance | undefined): Promise<boolean> {
    const live = vm && !vm.metadata.deletionTimestamp ? vm : undefined;
    return plugVolumes({ inst: this.inst, ctx: this.ctx, host: this.config.host, cephCsi: this.config.cephCsi, fieldManager: KUBEVIRT_FIELD_MANAGER, own: (ref, obj) => this.own(ref, obj) }, await this.attachments(this.inst), live, vmi);
  }

  private async flavorNamed(name: string): Promise<FlavorSnapshot> {
    const flavor = await this.lookup<Flavor>(FLAVORS, undefined, name);
    if (!flavor) throw new Refused('FlavorNotFound', `Flavor ${name} could not be found.`);
    return flavorSnapshot(flavor);
  }

  private async specImage(): Promise<Image> {
    const ref = { namespace: this.inst.spec.image!.namespace ?? this.ns, name: this.inst.spec.image!.name };
    return bootableImage(await this.lookup<Image>(IMAGES, ref.namespace, ref.name), ref, this.ns);
  }

  private imageSource(image: Image): ImageSource {
    const location = image.status?.location;
    const m = location ? /^s3:\/\/([^/]+)\//.exec(location) : null;
    const key = keyFromLocation(location);
    if (!m || !key) throw new Refused('ImageNotInStore', `Image ${image.metadata.namespace}/${image.metadata.name} has no data in the image store to import from.`);
    return { ...this.config.imageSource, bucket: m[1]!, key };
  }

  // ── making what the instance owns ─────────────────────────────────────────────────────────────────

  /**
   * Makes (or updates) an object the instance owns; one unchanged since it was last applied costs no write.
   * One of the same name that someone else owns is never taken over: the instance is refused, saying which,
   * and nothing of the user's is touched.
   */
  private async own<T extends KubernetesObject>(ref: ResourceRef, obj: T): Promise<void> {
    const name = obj.metadata!.name!;
    const hash = hashOf(obj);
    const check = (have: KubernetesObject) => {
      const owner = have.metadata?.ownerReferences?.find((o) => o.controller);
      if (owner?.uid !== this.inst.metadata.uid)
        throw new Refused('NameTaken', `${have.kind ?? ref.plural} ${this.ns}/${name} exists and is not this server's${owner ? ` (it belongs to ${owner.kind} ${owner.name})` : ''}; rename or remove it.`);
    };
    const apply = async () => this.applied.wrote(ref, await this.ctx.client.apply(ref, obj, KUBEVIRT_FIELD_MANAGER), hash);
    const have = await this.lookup<KubernetesObject>(ref, this.ns, name);
    if (have) {
      check(have);
      if (!this.applied.unchanged(ref, have, hash)) await apply();
      return;
    }
    try {
      this.applied.wrote(ref, await this.ctx.client.create(ref, obj, KUBEVIRT_FIELD_MANAGER), hash);
    } catch (e) {
      if (!isConflict(e)) throw e;
      // Made meanwhile (by a pass that crashed after it, or by someone else): whose is it?
      const current = await this.ctx.client.get<KubernetesObject>(ref, this.ns, name);
      if (current) check(current);
      await apply();
    }
  }

  private async ensureObjects(flavor: FlavorSnapshot, image: Image): Promise<void> {
    const { spec, metadata } = this.inst;
    const names = namesOf(this.inst);
    const keypair = spec.keypair ? await this.lookup<Keypair>(KEYPAIRS, this.ns, spec.keypair) : undefined;
    if (spec.keypair && !keypair) throw new Refused('KeypairNotFound', `Keypair ${spec.keypair} could not be found.`);
    const sshKey = keypair && (keypair.spec.type ?? 'ssh') === 'ssh' ? keypair.spec.publicKey : undefined;
    const userData = spec.userData ? decodeUserData(spec.userData) : undefined;
    const rootGiB = rootDiskGiB(flavor, image);
    const source = this.imageSource(image);
    await this.own(SECRETS, s3CredentialsSecretOf(this.inst, source) as unknown as KubernetesObject);
    await this.own(SECRETS, cloudInitSecretOf(this.inst, userData, spec.hostname ?? hostnameOf(spec.displayName ?? metadata.name)) as unknown as KubernetesObject);
    if (sshKey) await this.own(SECRETS, sshKeysSecretOf(this.inst, sshKey) as unknown as KubernetesObject);
    // A DataVolume's spec cannot change once made (CDI refuses it): it is made once.
    if (!(await this.lookup(DATA_VOLUMES, this.ns, names.rootDisk)))
      await this.own(DATA_VOLUMES, rootDataVolumeOf(this.inst, source, rootGiB, { namespace: image.metadata.namespace!, name: image.metadata.name, uid: image.metadata.uid }) as unknown as KubernetesObject);
    const diskBus = image.spec.properties?.hw_disk_bus;
    // The Cinder volumes KubeVirt hot-plugged stay in what is applied: only virt-api's removevolume takes one out.
    const hotplug = [...heldHotplugs((await this.lookup<KubernetesObject>(VIRTUAL_MACHINES, this.ns, names.vm)) as unknown as VirtualMachine | undefined).values()];
    await this.own(VIRTUAL_MACHINES, virtualMachineOf(this.inst, { flavor, sshKeys: !!sshKey, diskBus: diskBus === 'sata' || diskBus === 'scsi' ? diskBus : 'virtio', hotplug }) as unknown as KubernetesObject);
  }

  private async observe(): Promise<{ vm?: VirtualMachine; vmi?: VirtualMachineInstance; dv?: DataVolume }> {
    const names = namesOf(this.inst);
    const [vm, vmi, dv] = await Promise.all([
      this.lookup<KubernetesObject>(VIRTUAL_MACHINES, this.ns, names.vm),
      this.lookup<KubernetesObject>(VIRTUAL_MACHINE_INSTANCES, this.ns, names.vm),
      this.lookup<KubernetesObject>(DATA_VOLUMES, this.ns, names.rootDisk),
    ]);
    return { vm: vm as unknown as VirtualMachine, vmi: vmi as unknown as VirtualMachineInstance, dv: dv as unknown as DataVolume };
  }

  // ── virt-api's actions: pause, unpause, reboot ──────────────────────────────────────────────────────

  private async act(kind: 'vm', action: VmAction): Promise<void>;
  private async act(kind: 'vmi', action: VmiAction): Promise<void>;
  private async act(kind: 'vm' | 'vmi', action: string): Promise<void> {
    const name = namesOf(this.inst).vm;
    const path = kind === 'vm' ? vmActionPath(this.ns, name, action as VmAction) : vmiActionPath(this.ns, name, action as VmiAction);
    try {
      await this.ctx.client.request('PUT', path, {});
    } catch (e) {
      if (e instanceof KubeApiError && e.code === 404 && !/virtualmachine/i.test(e.message.replace(path, '')))
        throw new Refused('KubevirtApiUnavailable', `KubeVirt's subresource API (subresources.kubevirt.io/v1) did not answer ${action}: is virt-api running? (${e.message})`);
      throw e;
    }
  }

  /** A pause, unpause or reboot the spec asks for and the guest has not had: asked of virt-api once. */
  private async pendingAction(vm: VirtualMachine | undefined, vmi: VirtualMachineInstance | undefined): Promise<Result | undefined> {
    const running = vm?.status?.printableStatus === 'Running' || vm?.status?.printableStatus === 'Paused';
    if (!running || !vmi || vmi.metadata.deletionTimestamp) return undefined;
    const paused = vmi.status?.conditions?.some((c) => c.type === 'Paused' && c.status === 'True');
    const want = this.inst.spec.powerState ?? 'Running';
    try {
      if (pending(this.inst.spec.reboot?.count, this.status.rebootsDone)) {
        const hard = this.inst.spec.reboot?.type === 'HARD';
        await this.report({ phase: hard ? 'HARD_REBOOT' : 'REBOOT', taskState: hard ? 'reboot_started_hard' : 'rebooting', taskStartedAt: now(), conditions: markReconciling(this.status.conditions, this.inst.metadata.generation, 'TaskStarted', `${hard ? 'hard' : 'soft'} reboot`) });
        // A soft reboot is the guest's own (ACPI, through virt-api's softreboot); a hard one makes a new VMI.
        if (hard || paused) await this.act('vm', 'restart');
        else await this.act('vmi', 'softreboot');
        await this.report({ rebootsDone: this.inst.spec.reboot?.count ?? 0 });
        await this.ctx.events.record(this.inst, 'Normal', 'Rebooted', `${hard ? 'Hard' : 'Soft'} reboot asked of KubeVirt`);
        return { requeueAfterMs: 1000 };
      }
      if (want === 'Paused' && !paused && vmi.status?.phase === 'Running') {
        await this.report({ taskState: 'pausing' });
        await this.act('vmi', 'pause');
        await this.ctx.events.record(this.inst, 'Normal', 'Paused', 'The guest was paused');
        return { requeueAfterMs: 500 };
      }
      if (want === 'Running' && paused) {
        await this.report({ taskState: 'unpausing' });
        await this.act('vmi', 'unpause');
        await this.ctx.events.record(this.inst, 'Normal', 'Unpaused', 'The guest was unpaused');
        return { requeueAfterMs: 500 };
      }
    } catch (e) {
      if (e instanceof Refused) return this.refuse(e);
      throw e;
    }
    return undefined;
  }

  // ── reporting ────────────────────────────────────────────────────────────────────────────────────

  private async report(change: Parameters<typeof patchStatusChanges<Instance>>[3]): Promise<void> {
    this.inst = await patchStatusChanges(this.ctx.client, INSTANCES, this.inst, change, KUBEVIRT_FIELD_MANAGER);
  }

  private async refuse(e: Refused): Promise<Result> {
    const building = !this.status.phase || this.status.phase === 'BUILD';
    // A server that cannot even be built is in ERROR (Nova's build failure); a running one keeps running.
    if (building) {
      await this.removeObjects();
      await this.report({ phase: 'ERROR', taskState: null, taskStartedAt: null, fault: faultOf(this.status.fault, e.code, e.message), conditions: markStalled(this.status.conditions, this.inst.metadata.generation, e.reason, e.message) });
    } else {
      await this.report({ fault: faultOf(this.status.fault, e.code, e.message), conditions: markStalled(this.status.conditions, this.inst.metadata.generation, e.reason, e.message) });
    }
    await this.ctx.events.record(this.inst, 'Warning', e.reason, e.message);
    this.ctx.log.warn('instance refused', { reason: e.reason, error: e.message });
    return { requeueAfterMs: STALLED_RETRY_MS };
  }

  private async settle(flavor: FlavorSnapshot, image: Image, vm?: VirtualMachine, vmi?: VirtualMachineInstance, dv?: DataVolume): Promise<Result | void> {
    const power = this.inst.spec.powerState === 'Paused' ? 'Paused' : this.inst.spec.powerState === 'Stopped' ? 'Stopped' : 'Running';
    const view = instanceViewOf({ power, vm, vmi, dv, launched: !!this.status.launchedAt });
    const gen = this.inst.metadata.generation;
    const imageRecord = { name: image.metadata.name, namespace: image.metadata.namespace!, uid: image.metadata.uid, id: imageIdOf(image) };
    if (view.fault) {
      // Nothing half-made stays: the VM, its disk and secrets go; the fault says why.
      await this.removeObjects();
      await this.report({ phase: 'ERROR', powerState: 'NoState', taskState: null, taskStartedAt: null, fault: faultOf(this.status.fault, view.fault.code, view.fault.message), conditions: markStalled(this.status.conditions, gen, view.reason, view.message) });
      await this.ctx.events.record(this.inst, 'Warning', view.reason, view.fault.message);
      this.ctx.log.warn('instance failed on KubeVirt', { reason: view.reason, error: view.fault.message });
      return;
    }
    const firstRun = view.powerState === 'Running' && !this.status.launchedAt;
    await this.report({
      phase: view.phase,
      powerState: view.powerState,
      taskState: view.taskState,
      ...(view.taskState ? {} : { taskStartedAt: null }),
      instanceName: namesOf(this.inst).vm,
      // The display, while the VMI runs: virt-api's VNC subresource, which the console proxy reaches through the API server.
      consoleUrl: vmi?.status?.phase === 'Running' && !vmi.metadata.deletionTimestamp ? `kubevirt://${this.ns}/${namesOf(this.inst).vm}` : null,
      fault: null,
      flavor,
      image: imageRecord,
      ...(firstRun ? { launchedAt: now() } : {}),
      ...(view.addresses ? { addresses: view.addresses } : {}),
      ...(this.status.rebootsDone === undefined ? { rebootsDone: this.inst.spec.reboot?.count ?? 0 } : {}),
      conditions: view.settled ? markReady(this.status.conditions, gen, 'GuestAsAsked', view.message) : markReconciling(this.status.conditions, gen, view.reason, view.message),
    });
    if (firstRun) await this.ctx.events.record(this.inst, 'Normal', 'Spawned', `VirtualMachine ${this.ns}/${namesOf(this.inst).vm} is running${view.node ? ` on node ${view.node}` : ''}`);
    return { requeueAfterMs: view.settled ? RESYNC_MS : 2000 };
  }

  // ── deleting ─────────────────────────────────────────────────────────────────────────────────────

  /** Deletes everything made for the instance; true once the VM (which KubeVirt stops first) is gone. */
  private async removeObjects(): Promise<boolean> {
    const names = namesOf(this.inst);
    const gone = async (ref: ResourceRef, name: string) => {
      const have = await this.ctx.client.get<KubernetesObject>(ref, this.ns, name);
      if (!have) return true;
      if (have.metadata?.ownerReferences?.find((o) => o.controller)?.uid !== this.inst.metadata.uid) return true; // not ours: never touched
      if (!have.metadata?.deletionTimestamp) await this.ctx.client.delete(ref, this.ns, name, 'Foreground').catch((e) => { if (!(e instanceof KubeApiError && e.code === 404)) throw e; });
      return false;
    };
    const vmGone = await gone(VIRTUAL_MACHINES, names.vm);
    const rest = await Promise.all([gone(DATA_VOLUMES, names.rootDisk), gone(SECRETS, names.cloudInit), gone(SECRETS, names.sshKeys), gone(SECRETS, names.s3Credentials)]);
    return vmGone && rest.every((x) => x);
  }

  private async teardown(): Promise<Result | void> {
    const release = removeFinalizerPatch(this.inst, GUEST_FINALIZER);
    if (!release) return;
    if (!(await this.removeObjects().catch((e) => { this.ctx.log.warn('teardown not finished', { error: describe(e) }); return false; }))) return { requeueAfterMs: 1000 };
    // The VM is gone, and its volumes with it: their claims and PersistentVolumes go, and the attachments are let go.
    const atts = await this.attachments(this.inst);
    const gone = await Promise.all(atts.map((a) => removeClaimAndVolume({ inst: this.inst, ctx: this.ctx }, a)));
    if (!gone.every((x) => x)) return { requeueAfterMs: 1000 };
    await releaseAllAttachments(this.ctx.client, this.inst, KUBEVIRT_FIELD_MANAGER);
    await this.ctx.client.patch(INSTANCES, this.ns, this.inst.metadata.name, release, KUBEVIRT_FIELD_MANAGER);
    this.applied.forget(this.ns, new Set(Object.values(namesOf(this.inst))));
    this.ctx.log.info('KubeVirt objects removed; instance let go', { host: this.config.host });
  }
}
