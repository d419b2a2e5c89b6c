/**
 * kubevirt-simulator: a STAND-IN for KubeVirt's virt-controller and virt-handler and for CDI's import
 * controller, for where KubeVirt itself cannot run (no container runtime on this machine). It plays their
 * documented parts on the real kinds (the CRDs in vendor/kubevirt/), never the driver's expectations:
 *
 * - CDI: a DataVolume with an S3 source walks Pending → ImportScheduled → ImportInProgress → Succeeded. The
 *   import is real: the object is read from S3 with the credentials of the Secret the DataVolume names
 *   (accessKeyId, secretKey) and must fit the requested storage; a failed import is retried with back-off
 *   and counted in status.restartCount, the Running condition saying why, as CDI's importer pod restarts.
 * - virt-controller: a VirtualMachine gets its finalizer; its runStrategy (Always, RerunOnFailure: a VMI;
 *   Halted: none; Manual: left alone) and its status.stateChangeRequests (virt-api's restart) decide whether
 *   a VMI exists; the VMI is made from spec.template once every DataVolume it uses has Succeeded; the VM's
 *   printableStatus is Provisioning, Starting, Running, Paused, Stopping, Stopped, ErrorUnschedulable,
 *   ErrorDataVolumeNotFound or DataVolumeError as KubeVirt's documentation lists them.
 * - virt-handler: a VMI walks Pending → Scheduling → Scheduled → Running on the simulated node (or stays
 *   Scheduling, PodScheduled False/Unschedulable, when its memory exceeds the node's), reports its interface
 *   (a pod-network address) and is Succeeded once deleted.
 *
 * - volume hot-plug (virt-api's addvolume/removevolume, virt-controller, virt-handler) and the PersistentVolume
 *   binder for pre-bound claims: hotplug.ts.
 * - the snapshot controller and virt-exportserver: exports.ts.
 *
 * No guest runs: this is a control-plane stand-in, and every test using it says so.
 */
import { createHash } from 'node:crypto';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { ObjectReader } from '@stratus/glance';
import { KubeApiError, MERGE_PATCH, Manager, now, type KubeClient, type Logger, type Reconciler } from '@stratus/runtime';
import { s3TargetOf, secretValue, type DataVolume, type KubeCondition, type VirtualMachine, type VirtualMachineInstance } from '../objects.js';
import { DATA_VOLUMES, PERSISTENT_VOLUMES, PERSISTENT_VOLUME_CLAIMS, SECRETS, VIRTUAL_MACHINES, VIRTUAL_MACHINE_EXPORTS, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINE_SNAPSHOTS } from '../refs.js';
import { exportReconciler, snapshotReconciler, startExportServer } from './exports.js';
import { SIMULATOR_FIELD_MANAGER } from './fieldManager.js';
import { claimBinderReconciler, takeVolumeRequests, volumeReleaseReconciler, walkHotplugStatus } from './hotplug.js';
import { startVirtApi } from './virtApi.js';

export { SIMULATOR_FIELD_MANAGER };

/** virt-controller's finalizer on a VM, and the one on a VMI. */
export const VM_FINALIZER = 'kubevirt.io/virtualMachineControllerFinalize';
export const VMI_FINALIZER = 'kubevirt.io/foregroundDeleteVirtualMachine';
/** How long each phase is held, so every one is observable (a real cluster takes seconds per step). */
const STEP_MS = 150;

export interface SimulatorOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** The simulated node: its name and the memory it can give guests. */
  node?: { name: string; memoryMiB: number };
  /** Where the virt-api and export server stand-ins listen (127.0.0.1; 0: any free port). */
  virtApiPort?: number;
  exportServerPort?: number;
}

const cond = (type: string, status: KubeCondition['status'], reason = '', message = ''): KubeCondition => ({ type, status, reason, message, lastProbeTime: null, lastTransitionTime: now() });
const gone = (e: unknown) => e instanceof KubeApiError && e.code === 404;
const mib = (q: string | undefined) => {
  const m = /^(\d+)(Mi|Gi|M|G)?$/.exec(q ?? '');
  if (!m) return 0;
  const n = Number(m[1]);
  return m[2] === 'Gi' || m[2] === 'G' ? n * 1024 : n;
};

async function patchStatus(client: KubeClient, ref: typeof VIRTUAL_MACHINES, o: KubernetesObject, status: object): Promise<void> {
  await client.patch(ref, o.metadata!.namespace, o.metadata!.name!, { status }, SIMULATOR_FIELD_MANAGER, MERGE_PATCH, 'status').catch((e) => {
    if (!gone(e)) throw e;
  });
}

// ── CDI: DataVolume imports ──────────────────────────────────────────────────────────────────────────

function dataVolumeReconciler(log: Logger): Reconciler<KubernetesObject> {
  return async (req, ctx) => {
    const dv = (await ctx.client.get<KubernetesObject>(DATA_VOLUMES, req.namespace, req.name)) as unknown as DataVolume | undefined;
    if (!dv || dv.metadata.deletionTimestamp) return;
    const s = dv.status ?? {};
    const set = (status: DataVolume['status']) => patchStatus(ctx.client, DATA_VOLUMES, dv as unknown as KubernetesObject, { ...status, claimName: dv.metadata.name });
    switch (s.phase) {
      case undefined:
      case '':
        await set({ phase: 'Pending', progress: 'N/A', restartCount: 0, conditions: [cond('Bound', 'Unknown'), cond('Ready', 'False'), cond('Running', 'False')] });
        return { requeueAfterMs: STEP_MS };
      case 'Pending':
        await set({ phase: 'ImportScheduled', progress: 'N/A', conditions: [cond('Bound', 'True', 'Bound', `PVC ${dv.metadata.name} Bound`), cond('Ready', 'False'), cond('Running', 'False')] });
        return { requeueAfterMs: STEP_MS };
      case 'ImportScheduled':
      case 'ImportInProgress': {
        // A failed importer pod restarts after a back-off (kubelet's), whatever else wakes the DataVolume.
        const failedAt = s.restartCount ? Date.parse(s.conditions?.find((c) => c.type === 'Running')?.lastTransitionTime ?? '') : NaN;
        const wait = failedAt + backoffMs(s.restartCount ?? 0) - Date.now();
        if (wait > 0) return { requeueAfterMs: wait };
        await set({ phase: 'ImportInProgress', progress: '0.00%', conditions: [cond('Bound', 'True', 'Bound'), cond('Ready', 'False'), cond('Running', 'True', 'Pod is running')] });
        const failure = await importOnce(ctx.client, dv).then(() => undefined, (e: Error) => e.message);
        if (!failure) {
          await set({ phase: 'Succeeded', progress: '100.0%', conditions: [cond('Bound', 'True', 'Bound'), cond('Ready', 'True'), cond('Running', 'False', 'Completed', 'Import Complete')] });
          log.info('import succeeded', { namespace: dv.metadata.namespace, name: dv.metadata.name });
          return;
        }
        // The importer pod failed; CDI restarts it with back-off, for ever.
        const restarts = (s.restartCount ?? 0) + 1;
        await set({ phase: 'ImportInProgress', progress: 'N/A', restartCount: restarts, conditions: [cond('Bound', 'True', 'Bound'), cond('Ready', 'False'), cond('Running', 'False', 'Error', `Unable to process data: ${failure}`)] });
        log.info('import failed; retrying', { namespace: dv.metadata.namespace, name: dv.metadata.name, restarts, error: failure });
        return { requeueAfterMs: backoffMs(restarts) };
      }
      default:
        return;
    }
  };
}

const backoffMs = (restarts: number) => Math.min(500 * 2 ** restarts, 30_000);

/** Reads the whole object as CDI's importer does, checking that it fits the storage asked for. */
async function importOnce(client: KubeClient, dv: DataVolume): Promise<void> {
  const src = dv.spec.source?.s3;
  if (!src) throw new Error('only an S3 source is simulated');
  const target = s3TargetOf(src.url);
  const secret = src.secretRef ? await client.get<KubernetesObject & { data?: Record<string, string> }>(SECRETS, dv.metadata.namespace, src.secretRef) : undefined;
  if (src.secretRef && !secret) throw new Error(`secret "${src.secretRef}" not found`);
  const key = (k: string) => secretValue(secret, k);
  const reader = new ObjectReader({ endpoint: target.endpoint, accessKeyId: key('accessKeyId'), secretAccessKey: key('secretKey') });
  try {
    const { body, size } = await reader.get(target.bucket, target.key);
    let read = 0;
    for await (const chunk of body) read += (chunk as Buffer).length;
    if (read !== size) throw new Error(`read ${read} of ${size} bytes`);
    const requested = mib(dv.spec.storage?.resources?.requests?.storage) * 1024 * 1024;
    if (requested && read > requested) throw new Error(`virtual image size ${read} is larger than the reported available storage ${requested}`);
  } catch (e) {
    const err = e as Error & { name?: string };
    throw new Error(`Unable to connect to s3 data source: ${err.name && err.name !== 'Error' ? `${err.name}: ` : ''}${err.message}`);
  } finally {
    reader.destroy();
  }
}

// ── virt-controller: VirtualMachines ───────────────────────────────────────────────────────────────────

/** The DataVolumes a VM's template uses, and how they stand. */
async function volumesOf(client: KubeClient, vm: VirtualMachine): Promise<{ missing?: string; failed?: string; importing?: string }> {
  for (const v of vm.spec.template.spec.volumes as Array<{ dataVolume?: { name: string } }>) {
    if (!v.dataVolume) continue;
    const dv = (await client.get<KubernetesObject>(DATA_VOLUMES, vm.metadata.namespace, v.dataVolume.name)) as unknown as DataVolume | undefined;
    if (!dv) return { missing: v.dataVolume.name };
    if (dv.status?.phase === 'Failed') return { failed: v.dataVolume.name };
    if (dv.status?.phase !== 'Succeeded') return { importing: v.dataVolume.name };
  }
  return {};
}

function virtualMachineReconciler(log: Logger): Reconciler<KubernetesObject> {
  return async (req, ctx) => {
    const { client } = ctx;
    const vm = (await client.get<KubernetesObject>(VIRTUAL_MACHINES, req.namespace, req.name)) as unknown as VirtualMachine | undefined;
    if (!vm) return;
    const ns = vm.metadata.namespace;
    const vmi = (await client.get<KubernetesObject>(VIRTUAL_MACHINE_INSTANCES, ns, vm.metadata.name)) as unknown as VirtualMachineInstance | undefined;
    const mine = vmi && vmi.metadata.ownerReferences?.some((o) => o.uid === vm.metadata.uid);
    const deleteVmi = async () => {
      if (vmi && !vmi.metadata.deletionTimestamp) await client.delete(VIRTUAL_MACHINE_INSTANCES, ns, vmi.metadata.name).catch((e) => { if (!gone(e)) throw e; });
    };
    if (vm.metadata.deletionTimestamp) {
      if (vmi) {
        await deleteVmi();
        await patchStatus(client, VIRTUAL_MACHINES, vm as unknown as KubernetesObject, { printableStatus: 'Terminating' });
        return { requeueAfterMs: STEP_MS };
      }
      const left = (vm.metadata.finalizers ?? []).filter((f) => f !== VM_FINALIZER);
      if (left.length !== (vm.metadata.finalizers ?? []).length) await client.patch(VIRTUAL_MACHINES, ns, vm.metadata.name, { metadata: { finalizers: left, resourceVersion: vm.metadata.resourceVersion } }, SIMULATOR_FIELD_MANAGER, MERGE_PATCH).catch((e) => { if (!gone(e)) throw e; });
      return;
    }
    if (!vm.metadata.finalizers?.includes(VM_FINALIZER)) {
      await client.patch(VIRTUAL_MACHINES, ns, vm.metadata.name, { metadata: { finalizers: [...(vm.metadata.finalizers ?? []), VM_FINALIZER], resourceVersion: vm.metadata.resourceVersion } }, SIMULATOR_FIELD_MANAGER, MERGE_PATCH);
      return;
    }
    // virt-api's addvolume/removevolume: into the template and the running VMI.
    if (await takeVolumeRequests(client, vm, vmi && mine ? vmi : undefined)) return;
    // virt-api's restart: stop the VMI it names, then start a new one.
    const requests = vm.status?.stateChangeRequests ?? [];
    const first = requests[0];
    if (first?.action === 'Stop') {
      if (vmi && (!first.uid || vmi.metadata.uid === first.uid)) {
        await deleteVmi();
        await patchStatus(client, VIRTUAL_MACHINES, vm as unknown as KubernetesObject, { printableStatus: 'Stopping' });
        return { requeueAfterMs: STEP_MS };
      }
      await patchStatus(client, VIRTUAL_MACHINES, vm as unknown as KubernetesObject, { stateChangeRequests: requests.slice(1) });
      return { requeueAfterMs: STEP_MS };
    }
    const starting = first?.action === 'Start';
    const strategy = vm.spec.runStrategy;
    const wantVmi = strategy === 'Always' || strategy === 'RerunOnFailure' || starting ? true : strategy === 'Halted' ? false : !!vmi;
    const disks = await volumesOf(client, vm);
    let printableStatus: string;
    const conditions: KubeCondition[] = [];
    if (wantVmi && !vmi) {
      if (disks.missing || disks.failed || disks.importing) {
        printableStatus = disks.missing ? 'ErrorDataVolumeNotFound' : disks.failed ? 'DataVolumeError' : 'Provisioning';
        if (disks.missing) conditions.push(cond('Failure', 'True', 'FailedCreate', `DataVolume ${disks.missing} does not exist`));
      } else {
        const template = vm.spec.template as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: VirtualMachineInstance['spec'] };
        await client.create<KubernetesObject>(VIRTUAL_MACHINE_INSTANCES, {
          apiVersion: 'kubevirt.io/v1',
          kind: 'VirtualMachineInstance',
          metadata: { name: vm.metadata.name, namespace: ns, labels: { ...template.metadata?.labels }, annotations: { ...template.metadata?.annotations }, finalizers: [VMI_FINALIZER], ownerReferences: [{ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', name: vm.metadata.name, uid: vm.metadata.uid!, controller: true, blockOwnerDeletion: true }] },
          spec: template.spec,
        } as KubernetesObject, SIMULATOR_FIELD_MANAGER);
        log.info('VMI created', { namespace: ns, name: vm.metadata.name });
        printableStatus = 'Starting';
        if (starting) await patchStatus(client, VIRTUAL_MACHINES, vm as unknown as KubernetesObject, { stateChangeRequests: requests.slice(1) });
      }
    } else if (!wantVmi && vmi && mine) {
      await deleteVmi();
      printableStatus = 'Stopping';
    } else if (!vmi) {
      printableStatus = 'Stopped';
    } else if (vmi.metadata.deletionTimestamp) {
      printableStatus = 'Stopping';
    } else {
      const phase = vmi.status?.phase;
      const unschedulable = vmi.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
      const paused = vmi.status?.conditions?.some((c) => c.type === 'Paused' && c.status === 'True');
      if (unschedulable) {
        printableStatus = 'ErrorUnschedulable';
        conditions.push(cond('Failure', 'True', 'Unschedulable', unschedulable.message ?? ''));
      } else if (phase === 'Running') printableStatus = paused ? 'Paused' : 'Running';
      else if (phase === 'Succeeded' || phase === 'Failed') {
        // The guest ended: Always starts a new one, RerunOnFailure only after a failure.
        if (strategy === 'Always' || (strategy === 'RerunOnFailure' && phase === 'Failed')) await deleteVmi();
        printableStatus = 'Stopped';
      } else printableStatus = 'Starting';
      if (paused) conditions.push(cond('Paused', 'True', 'PausedByUser', 'VMI was paused by user'));
    }
    const ready = printableStatus === 'Running';
    conditions.unshift(cond('Ready', ready ? 'True' : 'False', ready ? '' : printableStatus, ''));
    await patchStatus(client, VIRTUAL_MACHINES, vm as unknown as KubernetesObject, { printableStatus, created: !!vmi, ready, runStrategy: strategy, conditions });
    return printableStatus === 'Running' || printableStatus === 'Stopped' || printableStatus === 'Paused' ? undefined : { requeueAfterMs: STEP_MS * 2 };
  };
}

// ── virt-handler: VirtualMachineInstances ──────────────────────────────────────────────────────────────

/** A pod-network address for a VMI, stable for its UID. */
export function podAddressOf(uid: string): { ip: string; mac: string } {
  const h = createHash('sha256').update(uid).digest();
  return { ip: `10.244.${h[0]! % 250}.${(h[1]! % 250) + 2}`, mac: `02:${[...h.subarray(2, 7)].map((b) => b.toString(16).padStart(2, '0')).join(':')}` };
}

function vmiReconciler(node: { name: string; memoryMiB: number }): Reconciler<KubernetesObject> {
  return async (req, ctx) => {
    const { client } = ctx;
    const vmi = (await client.get<KubernetesObject>(VIRTUAL_MACHINE_INSTANCES, req.namespace, req.name)) as unknown as VirtualMachineInstance | undefined;
    if (!vmi) return;
    const set = (status: VirtualMachineInstance['status']) => patchStatus(client, VIRTUAL_MACHINE_INSTANCES, vmi as unknown as KubernetesObject, status!);
    const s = vmi.status ?? {};
    if (vmi.metadata.deletionTimestamp) {
      if (s.phase !== 'Succeeded') {
        await set({ ...s, phase: 'Succeeded', interfaces: [], conditions: [cond('Ready', 'False', 'PodTerminating')] });
        return { requeueAfterMs: STEP_MS };
      }
      const left = (vmi.metadata.finalizers ?? []).filter((f) => f !== VMI_FINALIZER);
      await client.patch(VIRTUAL_MACHINE_INSTANCES, vmi.metadata.namespace, vmi.metadata.name, { metadata: { finalizers: left } }, SIMULATOR_FIELD_MANAGER, MERGE_PATCH).catch((e) => { if (!gone(e)) throw e; });
      return;
    }
    const memory = mib(vmi.spec.domain.resources?.requests?.memory ?? vmi.spec.domain.memory?.guest);
    switch (s.phase) {
      case undefined:
        await set({ phase: 'Pending', conditions: [cond('Ready', 'False', 'GuestNotRunning')] });
        break;
      case 'Pending':
        await set({ phase: 'Scheduling', conditions: [cond('Ready', 'False', 'GuestNotRunning'), cond('PodScheduled', 'Unknown')] });
        break;
      case 'Scheduling':
        if (memory > node.memoryMiB) {
          const message = `0/1 nodes are available: 1 Insufficient memory (${memory} MiB asked, ${node.name} has ${node.memoryMiB} MiB).`;
          if (!s.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable')) await set({ phase: 'Scheduling', conditions: [cond('Ready', 'False', 'GuestNotRunning'), cond('PodScheduled', 'False', 'Unschedulable', message)] });
          return;
        }
        await set({ phase: 'Scheduled', nodeName: node.name, conditions: [cond('Ready', 'False', 'GuestNotRunning'), cond('PodScheduled', 'True')] });
        break;
      case 'Scheduled': {
        const { ip, mac } = podAddressOf(vmi.metadata.uid!);
        await set({ phase: 'Running', nodeName: node.name, interfaces: [{ name: 'default', interfaceName: 'eth0', ipAddress: ip, ipAddresses: [ip], mac, infoSource: 'domain, guest-agent' }], conditions: [cond('Ready', 'True'), cond('PodScheduled', 'True'), cond('LiveMigratable', 'True')] });
        break;
      }
      case 'Running':
        // Hot-plugged volumes walk to Ready while the guest runs.
        return (await walkHotplugStatus(client, vmi)) ? { requeueAfterMs: STEP_MS } : undefined;
      default:
        return;
    }
    return { requeueAfterMs: STEP_MS };
  };
}

const usesDataVolume = (vm: VirtualMachine, name: string) => ((vm.spec?.template?.spec?.volumes ?? []) as Array<{ dataVolume?: { name: string } }>).some((v) => v.dataVolume?.name === name);

export interface KubevirtSimulator {
  manager: Manager;
  stop(): Promise<void>;
}

/** Starts the stand-in's controllers (virt-controller, virt-handler, CDI) against the control plane. */
export async function startKubevirtSimulator(o: SimulatorOptions): Promise<KubevirtSimulator> {
  const log = o.logger;
  const node = o.node ?? { name: 'kubevirt-simulator-node-0', memoryMiB: 65_536 };
  const manager = new Manager({ name: SIMULATOR_FIELD_MANAGER, kubeConfig: o.kubeConfig, logger: log });
  manager.add<KubernetesObject>({ name: 'cdi-datavolumes', resource: DATA_VOLUMES, reconcile: dataVolumeReconciler(log), workers: 2 });
  manager.add<KubernetesObject>({
    name: 'virt-controller-vms',
    resource: VIRTUAL_MACHINES,
    reconcile: virtualMachineReconciler(log),
    workers: 2,
    // Its VMI's phase changes move the VM's printableStatus.
    owns: [{ ...VIRTUAL_MACHINE_INSTANCES, ownerKind: 'VirtualMachine' }],
    // A DataVolume's import ending moves the VMs using it on.
    watches: [{ resource: DATA_VOLUMES, map: (dv, vms) => vms.list().filter((vm) => vm.metadata?.namespace === dv.metadata?.namespace && usesDataVolume(vm as unknown as VirtualMachine, dv.metadata!.name!)).map((vm) => ({ namespace: vm.metadata!.namespace, name: vm.metadata!.name! })) }],
  });
  manager.add<KubernetesObject>({ name: 'virt-handler-vmis', resource: VIRTUAL_MACHINE_INSTANCES, reconcile: vmiReconciler(node), workers: 2 });
  // kube-controller-manager's PersistentVolume binder, for the pre-bound claims hot-plug uses.
  manager.add<KubernetesObject>({
    name: 'pv-binder-claims',
    resource: PERSISTENT_VOLUME_CLAIMS,
    reconcile: claimBinderReconciler(),
    watches: [{ resource: PERSISTENT_VOLUMES, map: (pv) => { const ref = (pv as { spec?: { claimRef?: { namespace?: string; name?: string } } }).spec?.claimRef; return ref?.name ? [{ namespace: ref.namespace, name: ref.name }] : []; } }],
  });
  manager.add<KubernetesObject>({
    name: 'pv-binder-volumes',
    resource: PERSISTENT_VOLUMES,
    reconcile: volumeReleaseReconciler(),
    watches: [{ resource: PERSISTENT_VOLUME_CLAIMS, map: (c) => { const name = (c as { spec?: { volumeName?: string } }).spec?.volumeName; return name ? [{ name }] : []; } }],
  });
  const exportServer = await startExportServer({ client: manager.client, logger: log, port: o.exportServerPort });
  manager.add<KubernetesObject>({ name: 'snapshot-controller', resource: VIRTUAL_MACHINE_SNAPSHOTS, reconcile: snapshotReconciler() });
  manager.add<KubernetesObject>({
    name: 'virt-export-controller',
    resource: VIRTUAL_MACHINE_EXPORTS,
    reconcile: exportReconciler(() => exportServer),
    // A snapshot becoming ready moves the exports of it on.
    watches: [{ resource: VIRTUAL_MACHINE_SNAPSHOTS, map: (snap, exports) => exports.list().filter((e) => e.metadata?.namespace === snap.metadata?.namespace && (e as unknown as { spec?: { source?: { name?: string } } }).spec?.source?.name === snap.metadata?.name).map((e) => ({ namespace: e.metadata!.namespace, name: e.metadata!.name! })) }],
  });
  await manager.start();
  const virtApi = await startVirtApi({ client: manager.client, logger: log, port: o.virtApiPort });
  log.info('kubevirt-simulator started (a stand-in for virt-api, virt-controller, virt-handler and CDI; no guest runs)', { node: node.name, virtApi: virtApi.url });
  return {
    manager,
    async stop() {
      await virtApi.close();
      await exportServer.close();
      await manager.stop();
    },
  };
}
