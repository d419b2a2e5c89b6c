/**
 * kubevirt-simulator's volume hot-plug: a STAND-IN for the parts of KubeVirt (and of kube-controller-manager)
 * a hot-plugged PersistentVolumeClaim goes through, as KubeVirt documents hot-plug ("virtctl addvolume"):
 *
 * - virt-api's addvolume / removevolume on a VirtualMachine: the options are checked (a name, a disk, one
 *   volume source; a name the VM does not have yet, or a hot-plugged one to remove) and recorded in the VM's
 *   status.volumeRequests.
 * - virt-controller: each request is taken into the VM's template (persisted, as with --persist) and, while
 *   a VMI runs, into the VMI's spec; then the request is cleared.
 * - virt-handler: a hot-plugged volume of a running VMI walks its volumeStatus Pending (claim not bound) →
 *   Bound → AttachedToNode (an attachment pod) → Ready with its target (sda, sdb, … on the SCSI bus); one
 *   taken out of the spec leaves the status.
 * - kube-controller-manager's PersistentVolume binder, for pre-bound pairs only (a claim naming its volume, the
 *   volume's claimRef naming the claim): both become Bound; a volume whose claim is gone becomes Released
 *   (its Retain policy keeps it for its owner to delete). This control plane has no controller-manager.
 *
 * No guest runs: nothing is mapped or plugged anywhere.
 */
import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { MERGE_PATCH, isNotFound, type KubeClient, type Reconciler } from '@stratus/runtime';
import { nextTarget } from '../../agent/volumes.js';
import type { VirtualMachine, VirtualMachineInstance, VolumeRequest, VolumeStatus } from '../objects.js';
import { PERSISTENT_VOLUMES, PERSISTENT_VOLUME_CLAIMS, VIRTUAL_MACHINES, VIRTUAL_MACHINE_INSTANCES } from '../refs.js';
import { SIMULATOR_FIELD_MANAGER } from './fieldManager.js';
import { Refusal } from './refusal.js';

type Volume = { name: string; persistentVolumeClaim?: { claimName: string; hotpluggable?: boolean }; dataVolume?: { name: string; hotpluggable?: boolean } };
type Disk = { name: string; [k: string]: unknown };
type Spec = { volumes?: Volume[]; domain: { devices?: { disks?: Disk[] } } };

const specOf = (o: { spec: unknown }) => o.spec as Spec;
const hotpluggable = (v: Volume) => !!(v.persistentVolumeClaim?.hotpluggable || v.dataVolume?.hotpluggable);

/** virt-api: checks addvolume's or removevolume's options against the VM and records the request. */
export async function requestVolumeChange(client: KubeClient, ns: string, name: string, action: 'addvolume' | 'removevolume', body: unknown): Promise<void> {
  const vm = (await client.get<KubernetesObject>(VIRTUAL_MACHINES, ns, name)) as unknown as VirtualMachine | undefined;
  if (!vm) throw new Refusal(404, `virtualmachine.kubevirt.io "${name}" not found`);
  const o = (body ?? {}) as Record<string, any>;
  const volumes = specOf(vm.spec.template).volumes ?? [];
  const pending = vm.status?.volumeRequests ?? [];
  let request: VolumeRequest;
  if (action === 'addvolume') {
    if (typeof o.name !== 'string' || !o.name) throw new Refusal(400, 'AddVolumeOptions requires name to be set');
    if (!o.disk || typeof o.disk !== 'object') throw new Refusal(400, 'AddVolumeOptions requires disk to not be nil');
    const sources = ['persistentVolumeClaim', 'dataVolume'].filter((k) => o.volumeSource?.[k]);
    if (sources.length !== 1) throw new Refusal(400, 'AddVolumeOptions requires exactly one volumeSource (persistentVolumeClaim or dataVolume)');
    if (volumes.some((v) => v.name === o.name)) throw new Refusal(400, `Unable to add volume [${o.name}] because volume with that name already exists`);
    if (pending.some((r) => r.addVolumeOptions?.name === o.name)) throw new Refusal(409, `Unable to add volume [${o.name}] because a request to add it is pending`);
    request = { addVolumeOptions: { name: o.name, disk: { ...o.disk, name: o.name }, volumeSource: { [sources[0]!]: { ...o.volumeSource[sources[0]!], hotpluggable: true } } } };
  } else {
    if (typeof o.name !== 'string' || !o.name) throw new Refusal(400, 'RemoveVolumeOptions requires name to be set');
    const v = volumes.find((x) => x.name === o.name);
    const adding = pending.some((r) => r.addVolumeOptions?.name === o.name);
    if (!v && !adding) throw new Refusal(400, `Unable to remove volume [${o.name}] because it does not exist`);
    if (v && !hotpluggable(v)) throw new Refusal(400, `Unable to remove volume [${o.name}] because it is not hotpluggable`);
    if (pending.some((r) => r.removeVolumeOptions?.name === o.name)) throw new Refusal(409, `Unable to remove volume [${o.name}] because a request to remove it is pending`);
    request = { removeVolumeOptions: { name: o.name } };
  }
  await client.patch(VIRTUAL_MACHINES, ns, name, { metadata: { resourceVersion: (vm.metadata as { resourceVersion?: string }).resourceVersion }, status: { volumeRequests: [...pending, request] } }, SIMULATOR_FIELD_MANAGER, MERGE_PATCH, 'status');
}

/** A spec with the requests applied (pure): added volumes and disks appended once, removed ones dropped. */
export function withVolumeRequests<S extends Spec>(spec: S, requests: readonly VolumeRequest[]): S {
  let volumes = [...(spec.volumes ?? [])];
  let disks = [...(spec.domain.devices?.disks ?? [])];
  for (const r of requests) {
    const add = r.addVolumeOptions;
    if (add && !volumes.some((v) => v.name === add.name)) {
      volumes.push({ name: add.name, ...add.volumeSource } as Volume);
      disks.push({ ...add.disk, name: add.name });
    }
    const remove = r.removeVolumeOptions?.name;
    if (remove) {
      volumes = volumes.filter((v) => v.name !== remove);
      disks = disks.filter((d) => d.name !== remove);
    }
  }
  return { ...spec, volumes, domain: { ...spec.domain, devices: { ...spec.domain.devices, disks } } };
}

/**
 * virt-controller: takes the VM's volume requests into its template and its running VMI, then clears them.
 * True when there were any (the pass ends there; the changes bring it back).
 */
export async function takeVolumeRequests(client: KubeClient, vm: VirtualMachine, vmi: VirtualMachineInstance | undefined): Promise<boolean> {
  const requests = vm.status?.volumeRequests ?? [];
  if (!requests.length) return false;
  const ns = vm.metadata.namespace;
  const template = withVolumeRequests(specOf(vm.spec.template), requests);
  const updated = await client.patch<KubernetesObject>(VIRTUAL_MACHINES, ns, vm.metadata.name, { metadata: { resourceVersion: vm.metadata.resourceVersion }, spec: { template: { spec: { volumes: template.volumes, domain: { devices: { disks: template.domain.devices!.disks } } } } } }, SIMULATOR_FIELD_MANAGER, MERGE_PATCH);
  if (vmi && !vmi.metadata.deletionTimestamp) {
    const next = withVolumeRequests(specOf(vmi), requests);
    await client.patch(VIRTUAL_MACHINE_INSTANCES, ns, vmi.metadata.name, { spec: { volumes: next.volumes, domain: { devices: { disks: next.domain.devices!.disks } } } }, SIMULATOR_FIELD_MANAGER, MERGE_PATCH).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
  }
  await client.patch(VIRTUAL_MACHINES, ns, vm.metadata.name, { metadata: { resourceVersion: updated.metadata!.resourceVersion }, status: { volumeRequests: null } }, SIMULATOR_FIELD_MANAGER, MERGE_PATCH, 'status');
  return true;
}

type Claim = KubernetesObject & { spec: { volumeName?: string; accessModes?: string[]; volumeMode?: string; resources?: { requests?: Record<string, string> } }; status?: { phase?: string; capacity?: Record<string, string> } };
type PersistentVolume = KubernetesObject & { spec: { claimRef?: { namespace?: string; name?: string; uid?: string }; capacity?: Record<string, string>; accessModes?: string[] }; status?: { phase?: string } };

const attachPodOf = (vmi: VirtualMachineInstance) => {
  const h = createHash('sha256').update(`${vmi.metadata.uid}`).digest('hex');
  return { attachPodName: `hp-volume-${h.slice(0, 5)}`, attachPodUID: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}` };
};

/**
 * virt-handler: moves each hot-plugged volume of a running VMI one step on, and drops the status of volumes
 * taken out of its spec. True while one is not Ready yet.
 */
export async function walkHotplugStatus(client: KubeClient, vmi: VirtualMachineInstance): Promise<boolean> {
  const ns = vmi.metadata.namespace!;
  const hot = ((vmi.spec.volumes ?? []) as Volume[]).filter(hotpluggable);
  const before = vmi.status?.volumeStatus ?? [];
  const statuses = before.filter((s) => !s.hotplugVolume || hot.some((v) => v.name === s.name));
  let walking = false;
  for (const v of hot) {
    const claimName = v.persistentVolumeClaim?.claimName ?? v.dataVolume!.name;
    const i = statuses.findIndex((s) => s.name === v.name);
    const s = i >= 0 ? statuses[i]! : undefined;
    if (s?.phase === 'Ready') continue;
    walking = true;
    const claim = (await client.get<KubernetesObject>(PERSISTENT_VOLUME_CLAIMS, ns, claimName)) as Claim | undefined;
    const info = claim ? { claimName, accessModes: claim.spec.accessModes, volumeMode: claim.spec.volumeMode, capacity: claim.status?.capacity, requests: claim.spec.resources?.requests } : { claimName };
    let next: VolumeStatus;
    if (claim?.status?.phase !== 'Bound') next = { name: v.name, target: '', phase: 'Pending', reason: 'PVCNotReady', message: claim ? `PVC ${claimName} is ${claim.status?.phase ?? 'Pending'}` : `PVC ${claimName} does not exist`, hotplugVolume: {}, persistentVolumeClaimInfo: info };
    else if (!s || s.phase === 'Pending') next = { name: v.name, target: '', phase: 'Bound', reason: 'PVCBound', message: `PVC is in phase Bound`, hotplugVolume: {}, persistentVolumeClaimInfo: info };
    else if (s.phase === 'Bound') next = { ...s, phase: 'AttachedToNode', reason: 'SuccessfulCreate', message: `Created hotplug attachment pod ${attachPodOf(vmi).attachPodName}, for volume ${v.name}`, hotplugVolume: attachPodOf(vmi) };
    else next = { ...s, target: nextTarget(statuses.filter((x) => x.name !== v.name), undefined, 'sd'), phase: 'Ready', reason: 'VolumeReady', message: `Successfully attach hotplugged volume ${v.name} to VM` };
    if (i >= 0) statuses[i] = next;
    else statuses.push(next);
  }
  if (JSON.stringify(statuses) !== JSON.stringify(before)) await client.patch(VIRTUAL_MACHINE_INSTANCES, ns, vmi.metadata.name, { status: { volumeStatus: statuses } }, SIMULATOR_FIELD_MANAGER, MERGE_PATCH, 'status');
  return walking;
}

/** kube-controller-manager's binder for a pre-bound claim (reconciling claims). */
export function claimBinderReconciler(): Reconciler<KubernetesObject> {
  return async (req, ctx) => {
    const { client } = ctx;
    const claim = (await client.get<KubernetesObject>(PERSISTENT_VOLUME_CLAIMS, req.namespace, req.name)) as Claim | undefined;
    if (!claim || claim.metadata?.deletionTimestamp || claim.status?.phase === 'Bound' || !claim.spec.volumeName) return;
    const pv = (await client.get<KubernetesObject>(PERSISTENT_VOLUMES, undefined, claim.spec.volumeName)) as PersistentVolume | undefined;
    const ref = pv?.spec.claimRef;
    const mine = ref && ref.namespace === req.namespace && ref.name === req.name && (!ref.uid || ref.uid === claim.metadata!.uid);
    if (!pv || (ref && !mine) || pv.status?.phase === 'Released') {
      await client.patch(PERSISTENT_VOLUME_CLAIMS, req.namespace, req.name, { status: { phase: 'Pending' } }, SIMULATOR_FIELD_MANAGER, MERGE_PATCH, 'status');
      return { requeueAfterMs: 1000 };
    }
    await client.patch(PERSISTENT_VOLUMES, undefined, pv.metadata!.name!, { spec: { claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: req.namespace, name: req.name, uid: claim.metadata!.uid } } }, SIMULATOR_FIELD_MANAGER, MERGE_PATCH);
    await client.patch(PERSISTENT_VOLUMES, undefined, pv.metadata!.name!, { status: { phase: 'Bound' } }, SIMULATOR_FIELD_MANAGER, MERGE_PATCH, 'status');
    await client.patch(PERSISTENT_VOLUME_CLAIMS, req.namespace, req.name, { status: { phase: 'Bound', accessModes: pv.spec.accessModes, capacity: pv.spec.capacity } }, SIMULATOR_FIELD_MANAGER, MERGE_PATCH, 'status');
    return;
  };
}

/** The binder's other half (reconciling volumes): a Bound volume whose claim is gone is Released. */
export function volumeReleaseReconciler(): Reconciler<KubernetesObject> {
  return async (req, ctx) => {
    const { client } = ctx;
    const pv = (await client.get<KubernetesObject>(PERSISTENT_VOLUMES, undefined, req.name)) as PersistentVolume | undefined;
    const ref = pv?.spec.claimRef;
    if (!pv || pv.metadata?.deletionTimestamp || pv.status?.phase !== 'Bound' || !ref?.name) return;
    const claim = await client.get<KubernetesObject>(PERSISTENT_VOLUME_CLAIMS, ref.namespace, ref.name);
    if (!claim || (ref.uid && claim.metadata?.uid !== ref.uid)) await client.patch(PERSISTENT_VOLUMES, undefined, req.name, { status: { phase: 'Released' } }, SIMULATOR_FIELD_MANAGER, MERGE_PATCH, 'status');
  };
}
