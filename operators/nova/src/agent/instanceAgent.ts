/**
 * The node agent's Instance reconciler: the story of an instance on this host. It gets a finalizer guarding
 * its guest; with no guest yet, the image is fetched into the host's cache, a root disk made on it, a config
 * drive written and the guest defined and booted (BUILD → ACTIVE once it runs); after that the guest is kept
 * as spec asks: powered, paused, suspended, rebooted, rebuilt, resized. Every pass takes one step the
 * planner chose from fresh facts, reports what the hypervisor then says, and a lifecycle event or the resync
 * brings the next. Deleting the instance destroys the guest and removes its files.
 */
import { imageIdOf, type Image } from '@stratus/glance';
import { randomUUID } from 'node:crypto';
import {
  MERGE_PATCH,
  addFinalizerPatch,
  isConflict,
  isDeleting,
  markReady,
  markReconciling,
  markStalled,
  now,
  patchStatusChanges,
  removeFinalizerPatch,
  swapFinalizerPatch,
  type ReconcileContext,
  type Reconciler,
  type Result,
} from '@stratus/runtime';
import { Refused, bootableImage, decodeUserData, resourcesOf, rootDiskGiB } from '../bootChecks.js';
import { domainNameOf } from '../driver/libvirt/driver.js';
import { KvmFailure, type ComputeDriver, type GuestNic, type GuestSpec, type GuestState } from '../driver/types.js';
import { ADMIN_PASS_KEY, EVENTS, FLAVORS, GUEST_FINALIZER, HYPERVISORS, IMAGES, INSTANCES, KEYPAIRS, SECRETS, flavorSnapshot, keyOf, faultOf, type Flavor, type FlavorSnapshot, type Hypervisor, type Instance, type InstanceAddress, type InstanceStatus, type Keypair } from '../resources.js';
import { actionEventBody } from '../actionEvents.js';
import { hostStateOf } from '../scheduler/hostStates.js';
import { writeLedgerEntry } from '../scheduler/ledger.js';
import { CoreFilter, DiskFilter, RamFilter } from '../scheduler/filters.js';
import type { Resources } from '../scheduler/types.js';
import type { AgentConfig } from './config.js';
import { configDriveFiles, hostnameOf, writeConfigDrive } from './configDrive.js';
import { instanceNics, plugNics, unbindPorts, unplugNics, wantedPortNames, type VifHost } from './vifs.js';
import { PORTS_AND_VOLUMES_FINALIZER, releasePort, releasePortsAndVolumes } from '../instanceRelease.js';
import { guestSpecOf, rescueSpecOf, withFlavor } from './guestSpec.js';
import { VOLUMES, volumeImageMetadata, type Volume, type VolumeAttachment } from '@stratus/cinder';
import { attachmentsOfInstance, bootAttachment, growIfRaised, holdAttachment, markAttached, nextTarget, plugReady, releaseAttachment, unplugAttachment, volumeDisk } from './volumes.js';
import { snapshotImageOf } from '../snapshots.js';
import type { ImageCache } from './imageCache.js';
import type { InstanceFiles } from './instanceFiles.js';
import { observedPower, planStep, powerReached, restingPhase, type PowerAction } from './plan.js';

export const AGENT_FIELD_MANAGER = 'stratus-nova-compute';
/** Converged instances are looked at again this often, to notice what no event told us. */
const RESYNC_MS = 60_000;
const STALLED_RETRY_MS = 30_000;

/** What the agent needs of a driver beyond ComputeDriver: the virt type, and giving up on a failing KVM. */
export interface AgentDriver extends ComputeDriver {
  virtType(): Promise<'kvm' | 'qemu'>;
  abandonKvm(why: string): Promise<void>;
}

export interface InstanceAgentDeps {
  config: AgentConfig;
  driver: AgentDriver;
  images: ImageCache;
  files: InstanceFiles;
  /** The node's switch; undefined on a node without networking (instances asking for NICs are refused). */
  vifs?: VifHost;
}

/** The instance's ports are not ready yet (no MAC or address): the spawn waits, having made nothing. */
class PortsNotReady extends Error {}
/** The instance's volumes are not reserved for it yet: the spawn waits, having made nothing. */
class VolumesNotReady extends Error {}

export function instanceAgentReconciler(deps: InstanceAgentDeps): Reconciler<Instance> {
  return async (req, ctx) => {
    const inst = await ctx.client.get<Instance>(INSTANCES, req.namespace, req.name);
    if (!inst || inst.status?.host !== deps.config.host) return; // not (or no longer) this host's
    return new InstanceRun(inst, ctx, deps).reconcile();
  };
}


const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One reconcile of one instance: the object as last read or written, and the steps. */
class InstanceRun {
  private readonly uid: string;

  constructor(
    private inst: Instance,
    private readonly ctx: ReconcileContext<Instance>,
    private readonly deps: InstanceAgentDeps,
  ) {
    this.uid = inst.metadata.uid!;
  }

  private get status(): InstanceStatus {
    return this.inst.status ?? {};
  }

  async reconcile(): Promise<Result | void> {
    const { client } = this.ctx;
    if (isDeleting(this.inst)) return this.teardown();
    // Shelved and offloaded: nothing of it is here any more, and the scheduler lets the host go.
    if (this.status.phase === 'SHELVED_OFFLOADED' && this.inst.spec.shelved) return;
    const withFinalizer = addFinalizerPatch(this.inst, GUEST_FINALIZER);
    if (withFinalizer) {
      await client.patch(INSTANCES, this.inst.metadata.namespace, this.inst.metadata.name, withFinalizer, AGENT_FIELD_MANAGER);
      return; // the write brings the instance back here
    }
    const guest = await this.deps.driver.state(this.uid);
    const step = planStep({ namespace: this.inst.metadata.namespace!, spec: this.inst.spec, status: this.status, guest, now: Date.now(), shutdownTimeoutMs: this.deps.config.shutdownTimeoutSeconds * 1000 });
    if (step.kind !== 'none') this.ctx.log.debug('step', { step, guest });
    switch (step.kind) {
      case 'spawn':
        return this.spawn();
      case 'rebuild':
        return this.rebuild(guest!);
      case 'resize':
        return this.resize(guest!);
      case 'confirmResize':
        return this.confirmResize();
      case 'revertResize':
        return this.revertResize(guest!);
      case 'reboot':
        return this.reboot(guest!, step.hard);
      case 'shelve':
        return this.shelve(guest);
      case 'rescue':
        return this.rescue(guest!);
      case 'unrescue':
        return this.unrescue();
      case 'power':
        return this.power(step.action);
      case 'awaitShutdown':
      case 'awaitHypervisor':
        return { requeueAfterMs: step.recheckMs };
      case 'guestPoweredOff':
        return this.guestPoweredOff(guest!);
      case 'hypervisorPaused':
        return this.hypervisorPaused(step.reason);
      case 'stalled':
        await this.report({ conditions: markStalled(this.status.conditions, this.inst.metadata.generation, step.reason, step.message) });
        return { requeueAfterMs: STALLED_RETRY_MS };
      case 'failed':
        return;
      case 'none':
        return this.settle();
    }
  }

  // ── writing status ──────────────────────────────────────────────────────────────────────────────

  private async report(change: Parameters<typeof patchStatusChanges<Instance>>[3]): Promise<void> {
    this.inst = await patchStatusChanges(this.ctx.client, INSTANCES, this.inst, change, AGENT_FIELD_MANAGER);
  }

  /** Says a task began: the phase and task state Nova shows while it runs. */
  private begin(phase: InstanceStatus['phase'], taskState: string, message: string): Promise<void> {
    return this.report({ phase, taskState, taskStartedAt: now(), conditions: markReconciling(this.status.conditions, this.inst.metadata.generation, 'TaskStarted', message) });
  }

  /** Reports the guest as the hypervisor has it now, the task done; Ready once it is as spec asks. */
  private async settle(extra: Partial<InstanceStatus> = {}): Promise<Result> {
    const { driver } = this.deps;
    const guest = await driver.state(this.uid);
    const resize = 'resize' in extra ? extra.resize : this.status.resize;
    const rescued = 'rescued' in extra ? !!extra.rescued : !!this.status.rescued;
    const phase = restingPhase(guest, !!resize, rescued);
    const reached = powerReached(this.inst.spec, guest);
    const running = guest?.power === 'running' || guest?.power === 'stopping' || guest?.power === 'paused';
    const vnc = running ? await driver.vncAddress(this.uid) : undefined;
    // NICs attached or detached since it was built (Nova's interface attach/detach), then plugged.
    const addresses = guest ? await this.reconcileNics(running) : undefined;
    // Volumes attached or detached since (Nova's volume attach/detach, or VolumeAttachments made with kubectl).
    if (guest) await this.reconcileVolumes(running && guest.power !== 'stopping').catch((e: Error) => this.ctx.log.warn('volumes not reconciled', { error: e.message }));
    // A guest started by anyone (a reboot inside it keeps its tap; a start by libvirt makes a new one) is plugged.
    if (running && guest?.power !== 'stopping') await this.plugNics();
    const gen = this.inst.metadata.generation;
    const message = `${phase}: the guest is ${observedPower(guest).toLowerCase()} on ${this.deps.config.host}`;
    await this.report({
      ...(guest ? await this.unrecordedBuild(extra) : {}),
      phase,
      powerState: observedPower(guest),
      taskState: null,
      taskStartedAt: null,
      instanceName: domainNameOf(this.uid),
      consoleUrl: vnc ? `vnc://${vnc}` : null,
      ...(running && !this.status.launchedAt ? { launchedAt: now() } : {}),
      fault: null,
      // An unshelve whose last write was lost: its image is gone (or going) and no longer the instance's.
      ...(this.status.shelvedImage && !this.inst.spec.shelved ? { shelvedImage: null } : {}),
      ...(addresses ? { addresses } : {}),
      conditions: reached ? markReady(this.status.conditions, gen, phase === 'VERIFY_RESIZE' ? 'AwaitingResizeConfirmation' : phase === 'RESCUE' ? 'Rescued' : 'GuestAsAsked', message) : markReconciling(this.status.conditions, gen, 'PowerChanging', message),
      ...extra,
    });
    return { requeueAfterMs: reached ? RESYNC_MS : 1000 };
  }

  /**
   * The flavor and image a guest was built from, when its status does not say yet: a spawn whose last status
   * write lost a race (a spec change meanwhile) is reported by the next pass, and the guest was built from spec.
   */
  private async unrecordedBuild(extra: Partial<InstanceStatus>): Promise<Partial<InstanceStatus>> {
    const out: Partial<InstanceStatus> = {};
    if (!this.status.flavor && !extra.flavor) out.flavor = await this.flavorNamed(this.inst.spec.flavor).catch(() => undefined);
    if (!this.status.image && !extra.image) {
      const image = await this.specImage().catch(() => undefined);
      if (image) out.image = this.imageRecord(image);
    }
    return out;
  }

  /** Nova's ERROR, with the fault that says why. */
  private async fail(reason: string, code: number, message: string): Promise<void> {
    this.ctx.log.warn('instance failed', { reason, error: message });
    await this.report({ phase: 'ERROR', taskState: null, taskStartedAt: null, fault: faultOf(this.status.fault, code, message), conditions: markStalled(this.status.conditions, this.inst.metadata.generation, reason, message) });
    await this.ctx.events.record(this.inst, 'Warning', reason, message);
  }

  /** A request the instance cannot carry out as it stands (it keeps running as it was): Stalled, with the fault. */
  private async refuse(e: Refused): Promise<Result> {
    await this.report({ fault: faultOf(this.status.fault, e.code, e.message), conditions: markStalled(this.status.conditions, this.inst.metadata.generation, e.reason, e.message) });
    await this.ctx.events.record(this.inst, 'Warning', e.reason, e.message);
    return { requeueAfterMs: STALLED_RETRY_MS };
  }

  // ── what the guest is made from ─────────────────────────────────────────────────────────────────

  private async flavorNamed(name: string): Promise<FlavorSnapshot> {
    const flavor = await this.ctx.client.get<Flavor>(FLAVORS, undefined, name);
    if (!flavor) throw new Refused('FlavorNotFound', `Flavor ${name} could not be found.`);
    return flavorSnapshot(flavor);
  }

  /** An image of the instance's own namespace (a shelved one), ready to boot. */
  private async imageNamed(name: string): Promise<Image> {
    const ns = this.inst.metadata.namespace!;
    return bootableImage(await this.ctx.client.get<Image>(IMAGES, ns, name), { namespace: ns, name }, ns);
  }

  private async specImage(): Promise<Image> {
    const ns = this.inst.metadata.namespace!;
    if (!this.inst.spec.image) throw new Refused('BootsFromVolume', 'The server boots from a volume: it has no image to build from.');
    const ref = { namespace: this.inst.spec.image.namespace ?? ns, name: this.inst.spec.image.name };
    return bootableImage(await this.ctx.client.get<Image>(IMAGES, ref.namespace, ref.name), ref, ns);
  }

  /** Makes the disks and config drive for `image` and `flavor`, and (re)defines the guest with them. */
  private async build(image: Image, flavor: FlavorSnapshot, nics?: GuestNic[]): Promise<void> {
    const { files, images, driver } = this.deps;
    // A rebuild keeps the NICs the guest had.
    const guestNics = nics ?? (await files.loadGuestSpec(this.uid))?.nics ?? [];
    const rootGiB = rootDiskGiB(flavor, image);
    const cached = await images.ensure(image);
    const paths = await files.prepare(this.uid);
    await files.ensureRootDisk(this.uid, cached, rootGiB);
    if (flavor.ephemeralGiB) await files.ensureBlankDisk(paths.ephemeral, flavor.ephemeralGiB * 1024 ** 3);
    if (flavor.swapMiB) await files.ensureBlankDisk(paths.swap, flavor.swapMiB * 1024 ** 2);
    await writeConfigDrive(paths.configDrive, configDriveFiles(await this.configDriveInput()));
    const spec = guestSpecOf(this.inst, flavor, image, cached, paths, this.deps.config.stateDir, guestNics);
    await files.saveGuestSpec(this.uid, spec);
    await driver.define(spec);
  }

  private async configDriveInput() {
    const { spec, metadata } = this.inst;
    const keypair = spec.keypair ? await this.ctx.client.get<Keypair>(KEYPAIRS, metadata.namespace, spec.keypair) : undefined;
    if (spec.keypair && !keypair) throw new Refused('KeypairNotFound', `Keypair ${spec.keypair} could not be found.`);
    const passSecret = spec.adminPassSecret ? await this.ctx.client.get<{ metadata?: object; data?: Record<string, string> }>(SECRETS, metadata.namespace, spec.adminPassSecret) : undefined;
    const adminPass = passSecret?.data?.[ADMIN_PASS_KEY];
    // The NICs' addresses, for network_data.json and cloud-init's network-config (the ports exist by now).
    const nics = spec.networks?.length && this.deps.vifs ? await instanceNics(this.ctx.client, this.inst, this.deps.config.host, AGENT_FIELD_MANAGER) : undefined;
    return {
      ...(nics && 'ready' in nics && nics.ready ? { networks: nics.networkData } : {}),
      instanceId: this.uid,
      hostname: spec.hostname ?? hostnameOf(spec.displayName ?? metadata.name),
      publicKeys: keypair && (keypair.spec.type ?? 'ssh') === 'ssh' ? [keypair.spec.publicKey.trim()] : [],
      metadata: spec.metadata ?? {},
      availabilityZone: spec.availabilityZone,
      userData: spec.userData ? decodeUserData(spec.userData) : undefined,
      adminPass: adminPass ? Buffer.from(adminPass, 'base64').toString('utf8') : undefined,
    };
  }

  /** Boots the guest if spec wants it running (or paused). */
  private async bootAsAsked(): Promise<void> {
    const want = this.inst.spec.powerState ?? 'Running';
    if (want === 'Running' || want === 'Paused') await this.startGuest({ paused: want === 'Paused' });
  }

  /**
   * Starts the guest. If KVM itself refuses it (QEMU dies setting up KVM: a host whose nested virtualization
   * is incomplete), the host gives KVM up for good, and the guest is defined again and started emulated.
   */
  private async startGuest(opts: { paused?: boolean } = {}): Promise<void> {
    const { driver } = this.deps;
    try {
      await driver.start(this.uid, opts);
    } catch (e) {
      if (!(e instanceof KvmFailure)) throw e;
      await this.giveUpKvm(`guest ${domainNameOf(this.uid)}: ${e.message}`);
      await this.redefine();
      await driver.start(this.uid, opts);
    }
    await this.plugNics();
  }

  /** The NICs the instance's ports call for, its ports made or bound first. */
  private async networkInterfaces(): Promise<{ nics: GuestNic[]; addresses: InstanceAddress[] }> {
    if (!this.inst.spec.networks?.length) return { nics: [], addresses: [] };
    if (!this.deps.vifs) throw new Refused('NetworkingUnavailable', `Compute node ${this.deps.config.host} has no networking (its agent was given no OVS_REMOTE).`);
    const o = await instanceNics(this.ctx.client, this.inst, this.deps.config.host, AGENT_FIELD_MANAGER);
    if ('refused' in o) throw new Refused(o.reason, o.refused);
    if (!o.ready) throw new PortsNotReady(o.message);
    return o;
  }

  /**
   * Makes the guest's NICs those its spec asks for: a NIC added is hot-plugged into a running guest, one
   * removed is unplugged and its port given back; the definition follows either way. Returns the addresses
   * when they changed (undefined otherwise, or while a new port is not ready: the next pass takes it up).
   */
  private async reconcileNics(running: boolean): Promise<InstanceAddress[] | undefined> {
    const { files, driver, vifs } = this.deps;
    const saved = await files.loadGuestSpec(this.uid);
    if (!saved || !vifs) return undefined;
    const have = saved.nics ?? [];
    const want = wantedPortNames(this.inst);
    // A guest built before NICs carried their port's name is left as it is.
    if (have.some((n) => !n.port) || (have.length === want.length && have.every((n, i) => n.port === want[i]))) return undefined;
    const o = await instanceNics(this.ctx.client, this.inst, this.deps.config.host, AGENT_FIELD_MANAGER);
    if (!('ready' in o) || !o.ready) return undefined;
    const added = o.nics.filter((n) => !have.some((h) => h.portId === n.portId));
    const removed = have.filter((h) => !o.nics.some((n) => n.portId === h.portId));
    for (const nic of removed) {
      if (running) await driver.detachNic(this.uid, nic).catch((e: Error) => this.ctx.log.warn('NIC detach failed', { port: nic.port, error: e.message }));
      await unplugNics(vifs, [nic]);
      await releasePort(this.ctx.client, this.inst, nic.port!, AGENT_FIELD_MANAGER);
    }
    for (const nic of added) if (running) await driver.attachNic(this.uid, nic);
    await this.redefine((spec) => ({ ...spec, nics: o.nics }));
    for (const nic of [...added.map((n) => ['Attached', n] as const), ...removed.map((n) => ['Detached', n] as const)])
      await this.ctx.events.record(this.inst, 'Normal', `Interface${nic[0]}`, `Port ${nic[1].port} (${nic[1].mac}) ${nic[0].toLowerCase()}`);
    this.ctx.log.info('NICs changed', { attached: added.map((n) => n.port), detached: removed.map((n) => n.port) });
    return o.addresses;
  }

  /** Plugs the running guest's taps into the node's switch (after every start: libvirt makes fresh taps). */
  private async plugNics(): Promise<void> {
    const nics = (await this.deps.files.loadGuestSpec(this.uid))?.nics ?? [];
    if (nics.length && this.deps.vifs) await plugNics(this.deps.vifs, nics, this.uid);
  }

  /** The attachments a spawn builds with: all of them must be reserved (or refused) first. */
  private async volumesAtBoot(): Promise<VolumeAttachment[]> {
    const atts = (await attachmentsOfInstance(this.ctx.client, this.inst)).filter((a) => !isDeleting(a) && a.status?.phase !== 'error');
    const waiting = atts.filter((a) => !plugReady(a));
    if (waiting.length) throw new VolumesNotReady(`waiting for block storage to reserve volume(s) ${waiting.map((a) => a.spec.volume).join(', ')}`);
    return atts;
  }

  /** Makes the config drive and extra disks and defines the guest with the boot volume as its root disk. */
  private async buildFromVolume(boot: VolumeAttachment, flavor: FlavorSnapshot, nics: GuestNic[]): Promise<void> {
    const { files, driver } = this.deps;
    const paths = await files.prepare(this.uid);
    if (flavor.ephemeralGiB) await files.ensureBlankDisk(paths.ephemeral, flavor.ephemeralGiB * 1024 ** 3);
    if (flavor.swapMiB) await files.ensureBlankDisk(paths.swap, flavor.swapMiB * 1024 ** 2);
    await writeConfigDrive(paths.configDrive, configDriveFiles(await this.configDriveInput()));
    const vol = await this.ctx.client.get<Volume>(VOLUMES, this.inst.metadata.namespace, boot.spec.volume);
    // The volume's image properties (disk bus, machine type) stand for an image's.
    const standIn = { metadata: { namespace: this.inst.metadata.namespace!, name: `volume-${boot.spec.volume}` }, spec: { properties: (vol && volumeImageMetadata(vol)) ?? {} } } as unknown as Image;
    const spec = guestSpecOf(this.inst, flavor, standIn, undefined, paths, this.deps.config.stateDir, nics, volumeDisk(boot, 'vda', 1));
    await holdAttachment(this.ctx.client, boot, AGENT_FIELD_MANAGER);
    await files.saveGuestSpec(this.uid, spec);
    await driver.define(spec);
    await markAttached(this.ctx.client, boot, this.inst, this.deps.config.host, spec.disks.find((d) => d.attachment === boot.metadata.name)!.target, AGENT_FIELD_MANAGER);
  }

  /**
   * Makes the guest's volume disks those its attachments call for: a reserved attachment is plugged (hot-plugged
   * into a running guest) and marked attached, one being deleted is unplugged and let go, a raised size is grown.
   * The definition is saved before a hot-plug, so an agent that dies between the two finishes the plug when it
   * comes back rather than plug twice or lose the disk.
   */
  private async reconcileVolumes(running: boolean): Promise<void> {
    const { files, driver } = this.deps;
    const { client } = this.ctx;
    const saved = await files.loadGuestSpec(this.uid);
    if (!saved) return;
    const atts = await attachmentsOfInstance(client, this.inst);
    const byName = new Map(atts.map((a) => [a.metadata.name, a]));
    let disks = saved.disks;
    const save = async () => this.redefine((spec) => ({ ...spec, disks }));
    for (const d of saved.disks.filter((x) => x.attachment)) {
      const a = byName.get(d.attachment!);
      if (a && !isDeleting(a)) continue;
      if (d.bootOrder === 1 && a) continue; // the boot volume stays until the server goes
      if (running) await driver.detachDisk(this.uid, d);
      disks = disks.filter((x) => x !== d);
      await save();
      if (a) await releaseAttachment(client, a, AGENT_FIELD_MANAGER);
      await this.ctx.events.record(this.inst, 'Normal', 'VolumeDetached', `Volume ${a?.spec.volume ?? d.attachment} (${d.target}) detached`);
      this.ctx.log.info('volume detached', { attachment: d.attachment, target: d.target });
    }
    // Being deleted and no longer in the definition: unplugged already (by an agent that died before letting it go).
    for (const a of atts.filter((x) => isDeleting(x) && !disks.some((d) => d.attachment === x.metadata.name))) await releaseAttachment(client, a, AGENT_FIELD_MANAGER);
    for (const a of atts.filter(plugReady)) {
      const have = disks.find((d) => d.attachment === a.metadata.name);
      if (have) {
        if (a.status?.phase !== 'attached') {
          // Saved but perhaps never plugged (the agent died between the two): plug it now, once. A plug that
          // fails is retried by the next reconcile, never taken for plugged: the guest would not have the disk.
          if (running) await driver.attachDisk(this.uid, have);
          await markAttached(client, a, this.inst, this.deps.config.host, have.target, AGENT_FIELD_MANAGER);
        } else {
          const grown = await growIfRaised(client, a, have, running, (t, bytes) => driver.resizeDisk(this.uid, t, bytes), AGENT_FIELD_MANAGER);
          if (grown) {
            await this.ctx.events.record(this.inst, 'Normal', 'VolumeExtended', `Volume ${a.spec.volume} (${have.target}) grown to ${grown} GiB`);
            // Nova records an online extend as the server's extend_volume action (on Cinder's volume-extended event).
            const recorded = actionEventBody(this.inst, 'extend_volume', { requestId: `req-${randomUUID()}`, userId: '', userName: 'block storage', projectId: '' }, AGENT_FIELD_MANAGER);
            await client.create(EVENTS, recorded, AGENT_FIELD_MANAGER).catch((e: Error) => this.ctx.log.warn('instance action not recorded', { action: 'extend_volume', error: e.message }));
          }
        }
        continue;
      }
      if (a.spec.bootIndex === 0) continue; // a boot volume is part of the build
      await holdAttachment(client, a, AGENT_FIELD_MANAGER);
      const disk = volumeDisk(a, nextTarget(disks, a.spec.device));
      disks = [...disks, disk];
      await save();
      if (running) await driver.attachDisk(this.uid, disk);
      await markAttached(client, a, this.inst, this.deps.config.host, disk.target, AGENT_FIELD_MANAGER);
      await this.ctx.events.record(this.inst, 'Normal', 'VolumeAttached', `Volume ${a.spec.volume} attached as /dev/${disk.target}`);
      this.ctx.log.info('volume attached', { volume: a.spec.volume, target: disk.target, live: running });
    }
  }

  private async giveUpKvm(why: string): Promise<void> {
    this.ctx.log.warn('KVM cannot run guests on this host; running them emulated from now on', { why });
    await this.deps.driver.abandonKvm(why);
    await this.ctx.events.record(this.inst, 'Warning', 'KVMUnusable', `${why}. This host runs guests emulated (TCG) from now on`);
  }

  private imageRecord(image: Image) {
    return { name: image.metadata.name, namespace: image.metadata.namespace, id: imageIdOf(image), uid: image.metadata.uid };
  }

  // ── the steps ───────────────────────────────────────────────────────────────────────────────────

  private async spawn(): Promise<Result | void> {
    const { driver, files } = this.deps;
    const shelved = this.status.shelvedImage;
    // An unshelve shows SHELVED_OFFLOADED while it spawns, as Nova's does.
    await this.begin(shelved ? 'SHELVED_OFFLOADED' : 'BUILD', 'spawning', `${shelved ? 'unshelving' : 'building'} the guest on ${this.deps.config.host}`);
    try {
      const net = await this.networkInterfaces();
      const atts = await this.volumesAtBoot();
      const boot = bootAttachment(atts);
      if (!this.inst.spec.image) {
        if (!boot) throw new Refused('NoBootSource', 'The server has neither an image nor a boot volume (a VolumeAttachment with bootIndex 0).');
        const flavor = await this.flavorNamed(this.inst.spec.flavor);
        await this.buildFromVolume(boot, flavor, net.nics);
        await this.reconcileVolumes(false);
        await this.bootAsAsked();
        await this.ctx.events.record(this.inst, 'Normal', 'Spawned', `Guest ${domainNameOf(this.uid)} defined on ${this.deps.config.host} booting from volume ${boot.spec.volume}`);
        this.ctx.log.info('guest spawned from volume', { host: this.deps.config.host, flavor: flavor.name, volume: boot.spec.volume });
        return this.settle({ flavor, addresses: net.addresses, rebootsDone: this.inst.spec.reboot?.count ?? 0, rebuildsDone: this.inst.spec.rebuild?.count ?? 0 });
      }
      const image = await this.specImage();
      // Unshelving: the root disk is the one stored at shelve time; the instance's image stays what it was booted from.
      const disk = shelved ? await this.imageNamed(shelved) : image;
      const flavor = this.status.flavor && shelved ? this.status.flavor : await this.flavorNamed(this.inst.spec.flavor);
      // A disk made from another image (the spec changed while the guest was gone) is not reused.
      if (this.status.image && this.status.image.name !== image.metadata.name) await files.dropRootDisk(this.uid);
      await this.build(disk, flavor, net.nics);
      await this.reconcileVolumes(false);
      await this.bootAsAsked();
      await this.ctx.events.record(this.inst, 'Normal', shelved ? 'Unshelved' : 'Spawned', `Guest ${domainNameOf(this.uid)} defined on ${this.deps.config.host}${shelved ? ` from shelved image ${shelved}` : ''}${(this.inst.spec.powerState ?? 'Running') === 'Running' ? ' and started' : ''}`);
      this.ctx.log.info(shelved ? 'guest unshelved' : 'guest spawned', { host: this.deps.config.host, flavor: flavor.name, image: disk.metadata.name });
      // The shelved image has served (Nova deletes it once unshelved); the cache keeps the copy the disk stands on.
      if (shelved) await this.ctx.client.delete(IMAGES, this.inst.metadata.namespace, shelved).catch((e: Error) => this.ctx.log.warn('shelved image not deleted', { image: shelved, error: e.message }));
      // A fresh guest is what any reboot or rebuild asked so far would give: they are done.
      return this.settle({ flavor, addresses: net.addresses, image: { ...this.imageRecord(image), uid: disk.metadata.uid }, rebootsDone: this.inst.spec.reboot?.count ?? 0, rebuildsDone: this.inst.spec.rebuild?.count ?? 0, ...(shelved ? { shelvedImage: null } : {}) });
    } catch (e) {
      if (e instanceof PortsNotReady || e instanceof VolumesNotReady) {
        await this.report({ conditions: markReconciling(this.status.conditions, this.inst.metadata.generation, e instanceof PortsNotReady ? 'AwaitingPorts' : 'AwaitingVolumes', e.message) });
        return { requeueAfterMs: 1000 };
      }
      // Nothing half-made stays: no guest, no files.
      await driver.destroy(this.uid).catch(() => {});
      await driver.undefine(this.uid).catch(() => {});
      await files.remove(this.uid).catch(() => {});
      if (e instanceof Refused) return void (await this.fail(e.reason, e.code, e.message));
      await this.fail('SpawnFailed', 500, `Build of instance ${this.uid} failed: ${describe(e)}`);
    }
  }

  private async rebuild(guest: GuestState): Promise<Result | void> {
    const { driver, files } = this.deps;
    let image: Image;
    try {
      image = await this.specImage();
      rootDiskGiB(this.status.flavor!, image);
    } catch (e) {
      if (e instanceof Refused) return this.refuse(e); // the guest keeps running on its old disk
      throw e;
    }
    await this.begin('REBUILD', 'rebuilding', `rebuilding from image ${image.metadata.namespace}/${image.metadata.name}`);
    try {
      if (guest.power !== 'shutoff') await driver.destroy(this.uid);
      await driver.discardSave(this.uid);
      await files.dropRootDisk(this.uid);
      await this.build(image, this.status.flavor!);
      await this.bootAsAsked();
    } catch (e) {
      await this.fail('RebuildFailed', 500, `Rebuild of instance ${this.uid} failed: ${describe(e)}`);
      return;
    }
    await this.ctx.events.record(this.inst, 'Normal', 'Rebuilt', `Rebuilt from image ${image.metadata.namespace}/${image.metadata.name}`);
    return this.settle({ image: this.imageRecord(image), rebuildsDone: this.inst.spec.rebuild?.count ?? this.status.rebuildsDone ?? 0 });
  }

  /**
   * The claim a resize needs on this host, made here as Nova's compute node makes its resize claim: the new
   * flavor's room must pass the scheduler's own capacity filters beside what the instance already holds, and
   * is written into the ledger compare-and-swap. Returns what the instance now holds.
   */
  private async claim(want: Resources): Promise<Resources> {
    const { client } = this.ctx;
    const hv = await client.get<Hypervisor>(HYPERVISORS, undefined, this.deps.config.host);
    if (!hv) throw new Refused('HypervisorNotFound', `Hypervisor ${this.deps.config.host} is not registered.`);
    const key = keyOf(this.inst);
    const others = { ...(hv.status?.allocations ?? {}) };
    delete others[key];
    const host = hostStateOf({ ...hv, status: { ...hv.status, allocations: others } });
    const request = { instance: key, resources: want, imageProperties: {} };
    const short = [CoreFilter, RamFilter, DiskFilter].map((f) => f.reject(host, request)).filter((why): why is string => !!why);
    if (short.length) throw new Refused('ResizeNoValidHost', `No valid host was found. ${this.deps.config.host} has ${short.join(', ')}.`, 500);
    await writeLedgerEntry(client, hv, key, want, AGENT_FIELD_MANAGER);
    return want;
  }

  /** Powers the guest off, gracefully while the shutdown timeout allows, then by force. */
  private async stopGuest(guest: GuestState): Promise<void> {
    const { driver } = this.deps;
    const up = (g: GuestState | undefined) => g?.power === 'running' || g?.power === 'stopping';
    if (up(guest)) {
      await driver.shutdown(this.uid);
      const deadline = Date.now() + this.deps.config.shutdownTimeoutSeconds * 1000;
      while (Date.now() < deadline && up(await driver.state(this.uid))) await sleep(200);
    }
    await driver.destroy(this.uid);
  }

  private async resize(guest: GuestState): Promise<Result | void> {
    const { files } = this.deps;
    const from = this.status.flavor!;
    const held = this.status.allocation!;
    let to: FlavorSnapshot;
    let allocation: Resources;
    // A volume-backed server's root disk is its volume: the flavor's disk is neither claimed nor applied (Nova's).
    const volumeBacked = !this.inst.spec.image;
    try {
      to = await this.flavorNamed(this.inst.spec.flavor);
      if (!volumeBacked && to.diskGiB < from.diskGiB) throw new Refused('CannotResizeDisk', `Resize to a smaller disk is not allowed: flavor ${to.name} has ${to.diskGiB} GiB, the instance has ${from.diskGiB} GiB.`);
      // A flavor saying disk 0 keeps the root disk as it is: what the instance holds beyond ephemeral and swap.
      const rootGiB = volumeBacked ? 0 : to.diskGiB || held.diskGiB - (from.ephemeralGiB ?? 0) - Math.ceil((from.swapMiB ?? 0) / 1024);
      allocation = await this.claim(resourcesOf(to, rootGiB));
    } catch (e) {
      if (e instanceof Refused) return this.refuse(e);
      throw e;
    }
    // Asking again with the same flavor after a failure: the claim above wrote the allocation afresh.
    await this.begin('RESIZE', 'resize_migrating', `resizing from flavor ${from.name} to ${to.name}`);
    const wasRunning = guest.power !== 'shutoff' && guest.power !== 'crashed';
    const verify = this.inst.spec.confirmResize === false;
    try {
      await this.stopGuest(guest);
      if (verify && !volumeBacked) await files.backupForResize(this.uid);
      if (to.diskGiB && !volumeBacked) await files.growRootDisk(this.uid, to.diskGiB);
      await this.redefine((spec) => withFlavor(spec, to));
      if (wasRunning) await this.startGuest();
    } catch (e) {
      await this.fail('ResizeFailed', 500, `Resize of instance ${this.uid} to flavor ${to.name} failed: ${describe(e)}`);
      return;
    }
    await this.ctx.events.record(this.inst, 'Normal', 'Resized', `Resized from flavor ${from.name} to ${to.name}${verify ? '; awaiting confirmation' : ''}`);
    return this.settle({ flavor: to, resize: verify ? { fromFlavor: from, fromAllocation: held } : null, allocation });
  }

  private async confirmResize(): Promise<Result> {
    await this.deps.files.dropResizeBackup(this.uid);
    await this.ctx.events.record(this.inst, 'Normal', 'ResizeConfirmed', `Resize to flavor ${this.status.flavor?.name} confirmed`);
    return this.settle({ resize: null });
  }

  private async revertResize(guest: GuestState): Promise<Result | void> {
    const { fromFlavor: from, fromAllocation } = this.status.resize!;
    let allocation: Resources;
    try {
      // Back to exactly what the instance held before the resize.
      allocation = await this.claim(fromAllocation);
    } catch (e) {
      if (e instanceof Refused) return this.refuse(e);
      throw e;
    }
    await this.begin('REVERT_RESIZE', 'resize_reverting', `reverting the resize to flavor ${from.name}`);
    const wasRunning = guest.power !== 'shutoff' && guest.power !== 'crashed';
    try {
      await this.stopGuest(guest);
      await this.deps.files.restoreResizeBackup(this.uid);
      await this.redefine((spec) => withFlavor(spec, from));
      if (wasRunning) await this.startGuest();
    } catch (e) {
      await this.fail('ResizeRevertFailed', 500, `Reverting the resize of instance ${this.uid} failed: ${describe(e)}`);
      return;
    }
    await this.ctx.events.record(this.inst, 'Normal', 'ResizeReverted', `Back to flavor ${from.name}`);
    return this.settle({ flavor: from, resize: null, allocation });
  }

  /** Defines the guest again from its saved definition, changed by `change`. */
  private async redefine(change: (spec: GuestSpec) => GuestSpec = (s) => s): Promise<void> {
    const saved = await this.deps.files.loadGuestSpec(this.uid);
    if (!saved) throw new Error(`the guest definition of ${this.uid} is missing from ${this.deps.files.paths(this.uid).guestSpec}`);
    const next = change(saved);
    await this.deps.files.saveGuestSpec(this.uid, next);
    await this.deps.driver.define(next);
  }

  private async reboot(guest: GuestState, hard: boolean): Promise<Result | void> {
    const { driver } = this.deps;
    const done = { rebootsDone: this.inst.spec.reboot?.count ?? 0 };
    if (!hard && guest.power !== 'running') {
      await this.ctx.events.record(this.inst, 'Normal', 'RebootSkipped', 'A soft reboot needs a running guest');
      return this.settle(done);
    }
    await this.begin(hard ? 'HARD_REBOOT' : 'REBOOT', hard ? 'reboot_started_hard' : 'rebooting', `${hard ? 'hard' : 'soft'} reboot`);
    try {
      if (hard) {
        await driver.destroy(this.uid);
        await driver.discardSave(this.uid);
        // A hard reboot defines the guest afresh, as Nova's does: it also heals a definition changed by hand.
        await this.redefine();
        await this.bootAsAsked();
      } else {
        await driver.reboot(this.uid);
      }
    } catch (e) {
      await this.fail('RebootFailed', 500, `${hard ? 'Hard' : 'Soft'} reboot of instance ${this.uid} failed: ${describe(e)}`);
      return;
    }
    await this.ctx.events.record(this.inst, 'Normal', 'Rebooted', `${hard ? 'Hard' : 'Soft'} reboot`);
    return this.settle(done);
  }

  /**
   * Shelving, in the order Nova's shelve and offload take: the guest powered off, its root disk stored as the
   * image '<name>-shelved' (the snapshot agent copies it; the image's name is recorded before it is made, so a
   * crash makes no second one), and once that is active the guest and its files are let go and the instance
   * is SHELVED_OFFLOADED, its guest finalizer gone; the scheduler then frees its room on this host.
   */
  private async shelve(guest: GuestState | undefined): Promise<Result | void> {
    const { driver, files } = this.deps;
    const { client } = this.ctx;
    const ns = this.inst.metadata.namespace!;
    if (guest) {
      if (!this.status.taskState?.startsWith('shelving')) await this.begin(this.status.phase ?? 'ACTIVE', 'shelving', 'powering the guest off to shelve it');
      if (guest.power !== 'shutoff' && guest.power !== 'crashed') await this.stopGuest(guest);
      await driver.discardSave(this.uid);
    }
    let name = this.status.shelvedImage;
    if (!name) {
      name = randomUUID();
      await this.report({ shelvedImage: name, taskState: 'shelving_image_pending_upload' });
    }
    let image = await client.get<Image>(IMAGES, ns, name);
    if (!image && guest) {
      const bootedFrom = await this.specImage().catch(() => undefined);
      const made = snapshotImageOf(this.inst, bootedFrom, { name, displayName: `${this.inst.spec.displayName ?? this.inst.metadata.name}-shelved`, ownedByServer: true });
      image = await client.create<Image>(IMAGES, made, AGENT_FIELD_MANAGER).catch(async (e) => {
        if (isConflict(e)) return (await client.get<Image>(IMAGES, ns, name!))!;
        throw e;
      });
    }
    const phase = image?.status?.phase ?? 'queued';
    if (!image || image.metadata.deletionTimestamp || phase === 'killed' || phase === 'deactivated') {
      const why = !image ? 'its image is gone' : (image.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? `its image is ${image.metadata.deletionTimestamp ? 'being deleted' : phase}`);
      // The guest stays (powered off) with its disk; a hard reboot runs it again, or the shelve is tried anew.
      await this.report({ shelvedImage: null });
      return void (await this.fail('ShelveFailed', 500, `Shelving instance ${this.uid} failed: the root disk could not be stored (${why}).`));
    }
    if (phase !== 'active') {
      if (this.status.taskState !== 'shelving_image_uploading' && phase === 'saving') await this.report({ taskState: 'shelving_image_uploading' });
      return { requeueAfterMs: 1000 };
    }
    // Stored: the offload.
    if (guest) {
      await this.report({ phase: 'SHELVED', taskState: 'shelving_offloading', powerState: 'Shutdown' });
      await driver.destroy(this.uid);
      await driver.undefine(this.uid);
    }
    // As Nova's offload: the NICs unplugged and the ports bound to no host, the volumes' connections let go
    // (the attachments stay, and plug again where it is unshelved).
    const nics = (await files.loadGuestSpec(this.uid))?.nics ?? [];
    if (this.deps.vifs) await unplugNics(this.deps.vifs, nics);
    await unbindPorts(client, this.inst, AGENT_FIELD_MANAGER);
    for (const a of await attachmentsOfInstance(client, this.inst)) await unplugAttachment(client, a, AGENT_FIELD_MANAGER);
    await files.remove(this.uid);
    // Nothing of it is left here: the guest finalizer goes before the status says offloaded. Once it says so the
    // scheduler frees the host, and this agent (which watches its host's instances) no longer sees it: a release
    // after that, beaten by the scheduler's write, would leave the finalizer for good and its deletion hanging.
    // In the same write the controller's finalizer comes: with no agent, a deletion's release of ports and
    // volumes is the controller's.
    const handOver = swapFinalizerPatch(this.inst, GUEST_FINALIZER, PORTS_AND_VOLUMES_FINALIZER);
    if (handOver) this.inst = await client.patch<Instance>(INSTANCES, ns, this.inst.metadata.name, handOver, AGENT_FIELD_MANAGER);
    const gen = this.inst.metadata.generation;
    await this.report({
      phase: 'SHELVED_OFFLOADED',
      taskState: null,
      taskStartedAt: null,
      powerState: 'NoState',
      consoleUrl: null,
      rescued: null,
      conditions: markReady(this.status.conditions, gen, 'Shelved', `shelved as image ${name} and offloaded from ${this.deps.config.host}; set spec.shelved false to unshelve`),
    });
    this.ctx.log.info('instance shelved and offloaded', { host: this.deps.config.host, image: name });
    await this.ctx.events.record(this.inst, 'Normal', 'Shelved', `Root disk stored as image ${image.spec.displayName ?? name}; guest offloaded from ${this.deps.config.host}`);
  }

  /** The image a rescue boots: the one asked for, else the instance's own. */
  private async rescueImage(): Promise<Image> {
    const asked = this.inst.spec.rescue?.image;
    if (!asked) return this.specImage();
    const ns = this.inst.metadata.namespace!;
    const ref = { namespace: asked.namespace ?? ns, name: asked.name };
    return bootableImage(await this.ctx.client.get<Image>(IMAGES, ref.namespace, ref.name), ref, ns);
  }

  /**
   * Rescue, as Nova's libvirt driver does it: the guest powered off and defined again with a fresh disk of the
   * rescue image first and its own disks after it, and booted. Its saved definition stays the original one,
   * which an unrescue defines again.
   */
  private async rescue(guest: GuestState): Promise<Result | void> {
    const { driver, files, images } = this.deps;
    let image: Image;
    try {
      image = await this.rescueImage();
    } catch (e) {
      if (e instanceof Refused) return this.refuse(e); // the guest keeps running as it was
      throw e;
    }
    await this.begin(this.status.phase ?? 'ACTIVE', 'rescuing', `booting the guest from rescue image ${image.metadata.namespace}/${image.metadata.name}`);
    try {
      await this.stopGuest(guest);
      await driver.discardSave(this.uid);
      const saved = await files.loadGuestSpec(this.uid);
      if (!saved) throw new Error(`the guest definition of ${this.uid} is missing`);
      const cached = await images.ensure(image);
      const disk = await files.makeRescueDisk(this.uid, cached);
      const paths = files.paths(this.uid);
      await writeConfigDrive(paths.rescueConfigDrive, configDriveFiles(await this.configDriveInput()));
      await driver.define(rescueSpecOf(saved, disk, { from: paths.configDrive, to: paths.rescueConfigDrive }));
      await this.startGuest();
    } catch (e) {
      await this.fail('RescueFailed', 500, `Rescue of instance ${this.uid} failed: ${describe(e)}`);
      return;
    }
    await this.ctx.events.record(this.inst, 'Normal', 'Rescued', `Booted from rescue image ${image.spec.displayName ?? image.metadata.name}; its own root disk is the second disk`);
    return this.settle({ rescued: true });
  }

  private async unrescue(): Promise<Result | void> {
    const { driver, files } = this.deps;
    await this.begin(this.status.phase ?? 'RESCUE', 'unrescuing', 'booting the guest from its own disk again');
    try {
      // The rescue system is let go at once, as Nova's libvirt driver destroys it: nothing of it is kept.
      await driver.destroy(this.uid);
      await driver.discardSave(this.uid);
      await this.redefine();
      await this.bootAsAsked();
      await files.dropRescueDisk(this.uid);
    } catch (e) {
      await this.fail('UnrescueFailed', 500, `Unrescue of instance ${this.uid} failed: ${describe(e)}`);
      return;
    }
    await this.ctx.events.record(this.inst, 'Normal', 'Unrescued', 'Booted from its own disk again');
    return this.settle({ rescued: null });
  }

  private async power(action: PowerAction): Promise<Result> {
    const { driver } = this.deps;
    const uid = this.uid;
    const act: Record<PowerAction, { task: string; run: () => Promise<void>; event?: [string, string] }> = {
      start: { task: 'powering-on', run: () => this.startGuest(), event: ['Started', 'The guest was started'] },
      startPaused: { task: 'pausing', run: () => this.startGuest({ paused: true }), event: ['Paused', 'The guest was started paused'] },
      shutdown: { task: 'powering-off', run: () => driver.shutdown(uid) },
      forceOff: { task: 'powering-off', run: () => driver.destroy(uid), event: ['Stopped', 'The guest was powered off'] },
      pause: { task: 'pausing', run: () => driver.pause(uid), event: ['Paused', 'The guest was paused'] },
      unpause: { task: 'unpausing', run: () => driver.unpause(uid), event: ['Unpaused', 'The guest was unpaused'] },
      suspend: { task: 'suspending', run: () => driver.save(uid), event: ['Suspended', "The guest's memory was saved to disk"] },
      discardSuspend: { task: 'powering-off', run: () => driver.discardSave(uid), event: ['Stopped', 'The saved guest memory was discarded'] },
    };
    const a = act[action];
    if (action === 'shutdown') {
      // Graceful: the guest is asked and given the shutdown timeout; each pass looks again (see planStep).
      await this.report({ taskState: a.task, taskStartedAt: now(), conditions: markReconciling(this.status.conditions, this.inst.metadata.generation, 'PoweringOff', 'asked the guest to power off') });
      await a.run();
      return { requeueAfterMs: 500 };
    }
    await this.report({ taskState: this.status.powerState === 'Suspended' && action === 'start' ? 'resuming' : a.task });
    await a.run();
    if (a.event) await this.ctx.events.record(this.inst, 'Normal', a.event[0], a.event[1]);
    return this.settle();
  }

  /** The guest stopped by itself while meant to run. As Nova's power state sync does, the instance is now stopped. */
  private async guestPoweredOff(guest: GuestState): Promise<Result> {
    const { metadata } = this.inst;
    const why = guest.power === 'crashed' || guest.reason === 'crashed' ? 'crashed' : 'powered itself off';
    this.inst = await this.ctx.client.patch<Instance>(INSTANCES, metadata.namespace, metadata.name, { metadata: { resourceVersion: metadata.resourceVersion }, spec: { powerState: 'Stopped' } }, AGENT_FIELD_MANAGER, MERGE_PATCH);
    await this.ctx.events.record(this.inst, 'Warning', 'GuestPoweredOff', `The guest ${why}; spec.powerState is now Stopped (set it to Running to start it again)`);
    return this.settle();
  }

  /**
   * The hypervisor paused the guest unasked. Under KVM on a host whose KVM cannot run guests (an incomplete
   * nested virtualization: "emulation failure") that is KVM's doing: the host gives KVM up for good and the
   * guest starts again emulated. Otherwise the instance is in ERROR with the reason.
   */
  private async hypervisorPaused(reason: string): Promise<Result | void> {
    const { driver } = this.deps;
    if ((await driver.virtType()) === 'kvm' && reason === 'unknown') {
      await this.giveUpKvm(`KVM paused guest ${domainNameOf(this.uid)} (${reason}); it starts again`);
      await driver.destroy(this.uid);
      await this.redefine();
      await this.bootAsAsked();
      return this.settle();
    }
    await this.fail('GuestPaused', 500, `The hypervisor paused the guest (${reason}).`);
  }

  private async teardown(): Promise<void> {
    const { driver, files } = this.deps;
    const release = removeFinalizerPatch(this.inst, GUEST_FINALIZER);
    if (!release) return;
    const nics = (await files.loadGuestSpec(this.uid))?.nics ?? [];
    await driver.destroy(this.uid);
    await driver.undefine(this.uid);
    if (this.deps.vifs) await unplugNics(this.deps.vifs, nics);
    await releasePortsAndVolumes(this.ctx.client, this.inst, AGENT_FIELD_MANAGER);
    await files.remove(this.uid);
    await this.ctx.client.patch(INSTANCES, this.inst.metadata.namespace, this.inst.metadata.name, release, AGENT_FIELD_MANAGER);
    this.ctx.log.info('guest and files removed', { host: this.deps.config.host });
  }
}
