/**
 * Cinder volumes on KubeVirt, pure: what the driver writes to hot-plug an attachment into a VirtualMachine,
 * and how it reads what KubeVirt reports back.
 *
 * A volume on Cinder's RBD backend is an RBD image any node of the cluster can reach: it becomes a static
 * ceph-csi PersistentVolume naming that image (ceph-csi's documented "static PVC": staticVolume, the pool, the
 * cluster ID of ceph-csi's config, a node-stage Secret with a cephx user), pre-bound to a claim in the
 * server's namespace, which virt-api's `addvolume` hot-plugs into the VM (persisted in its template, as
 * `virtctl addvolume --persist` does, so it stays across restarts). Its reclaim policy is Retain: the image is
 * Cinder's, and deleting the claim or the volume never touches it. A volume in a file pool lives on the
 * libvirt nodes' mount and has no claim a cluster could bind: such an attach is turned away.
 */
import type { VolumeAttachment } from '@stratus/cinder';
import type { Instance } from '../resources.js';
import { INSTANCE_LABEL, MANAGED_BY, ownedMeta, type VirtualMachine, type VirtualMachineInstance } from './objects.js';

/** How the cluster's ceph-csi reaches Cinder's Ceph cluster (its config map's entry and a node-stage Secret). */
export interface CephCsiConfig {
  /** The clusterID of ceph-csi's config (usually the Ceph cluster's fsid). */
  clusterID: string;
  /** The Secret (userID, userKey) ceph-csi maps images with. */
  secret: { namespace: string; name: string };
  /** The CSI driver's name; rbd.csi.ceph.com unless ceph-csi was installed under another. */
  driver: string;
}

/** The label a PersistentVolume carries with the attachment it was made for (PVs are cluster-wide: no owner reference can name it). */
export const ATTACHMENT_UID_LABEL = 'compute.stratus.io/volume-attachment-uid';
/** The prefix of the VM's volumes that are Cinder's: the rest of the name is the volume's ID. */
const HOTPLUG_PREFIX = 'cinder-';

/** The VM's name for an attachment's volume (and its disk): cinder-<volume ID>, unique in a server. */
export const hotplugVolumeName = (a: VolumeAttachment) => `${HOTPLUG_PREFIX}${a.status?.volumeId ?? a.metadata.uid}`;
/** The claim in the server's namespace: named as the attachment, which is unique there. */
export const claimNameOf = (a: VolumeAttachment) => a.metadata.name;
/** The PersistentVolume: cluster-wide, so named by the attachment's UID. */
export const persistentVolumeNameOf = (a: VolumeAttachment) => `stratus-${a.metadata.uid}`;

/** Why an attachment with this connection cannot be plugged here, or undefined when it can. */
export function unpluggableBecause(a: VolumeAttachment, csi: CephCsiConfig | undefined, host: string): string | undefined {
  const c = a.status?.connection;
  if (c?.driverVolumeType !== 'rbd') return `Volume ${a.spec.volume} cannot be attached: it is a file in a node pool, which the KubeVirt hypervisor ${host} cannot reach; only volumes on Cinder's RBD backend become PersistentVolumeClaims there.`;
  if (!csi) return `Volume ${a.spec.volume} cannot be attached: the KubeVirt hypervisor ${host} has no ceph-csi configured (KUBEVIRT_CEPH_CSI_CLUSTER_ID and KUBEVIRT_CEPH_CSI_SECRET) to map RBD images with.`;
  if (!c.name?.includes('/')) return `Volume ${a.spec.volume} cannot be attached: its connection names no pool/image.`;
  return undefined;
}

/** The size a claim and its volume state: whole GiB, as Cinder sizes volumes. */
const storageOf = (sizeGiB: number | undefined) => `${Math.max(1, sizeGiB ?? 1)}Gi`;

/** A static ceph-csi PersistentVolume for the attachment's RBD image, pre-bound to its claim, never deleting the image. */
export function staticPersistentVolumeOf(a: VolumeAttachment, csi: CephCsiConfig, sizeGiB: number | undefined) {
  const [pool, ...image] = a.status!.connection!.name!.split('/');
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: persistentVolumeNameOf(a),
      labels: { [ATTACHMENT_UID_LABEL]: a.metadata.uid!, [INSTANCE_LABEL]: a.spec.instance, 'app.kubernetes.io/managed-by': MANAGED_BY },
      annotations: { 'compute.stratus.io/volume-attachment': `${a.metadata.namespace}/${a.metadata.name}` },
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      capacity: { storage: storageOf(sizeGiB) },
      csi: {
        driver: csi.driver,
        volumeHandle: image.join('/'),
        nodeStageSecretRef: { name: csi.secret.name, namespace: csi.secret.namespace },
        volumeAttributes: { clusterID: csi.clusterID, pool: pool!, staticVolume: 'true', imageFeatures: 'layering' },
      },
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: '',
      volumeMode: 'Block',
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: a.metadata.namespace!, name: claimNameOf(a) },
    },
  };
}

/** The claim the VM mounts: a raw block device bound to exactly that volume (no storage class, no provisioning). */
export function claimOf(inst: Instance, a: VolumeAttachment, sizeGiB: number | undefined) {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { ...ownedMeta(inst, claimNameOf(a), { 'compute.stratus.io/volume': a.spec.volume }) },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: storageOf(sizeGiB) } },
      storageClassName: '',
      volumeMode: 'Block',
      volumeName: persistentVolumeNameOf(a),
    },
  };
}

export interface HotplugVolume {
  volume: { name: string; persistentVolumeClaim: { claimName: string; hotpluggable: true } };
  disk: { name: string; disk: { bus: 'scsi' }; serial?: string };
}

/**
 * The volume and disk virt-api's addvolume is given (AddVolumeOptions): on the SCSI bus, which every KubeVirt
 * release hot-plugs, with the volume ID's first 20 characters as the serial, as Nova's libvirt driver sets it.
 */
export function hotplugOf(a: VolumeAttachment): HotplugVolume {
  const name = hotplugVolumeName(a);
  const serial = (a.status?.volumeId ?? '').slice(0, 20);
  return { volume: { name, persistentVolumeClaim: { claimName: claimNameOf(a), hotpluggable: true } }, disk: { name, disk: { bus: 'scsi' }, ...(serial ? { serial } : {}) } };
}

export const addVolumeOptionsOf = (h: HotplugVolume) => ({ name: h.volume.name, disk: h.disk, volumeSource: { persistentVolumeClaim: h.volume.persistentVolumeClaim } });

type TemplateSpec = { volumes?: Array<{ name: string; persistentVolumeClaim?: { claimName: string; hotpluggable?: boolean } }>; domain?: { devices?: { disks?: Array<{ name: string }> } } };

/**
 * The Cinder volumes KubeVirt holds for a VM: in its template (a hot-plug persisted) or asked and not yet
 * taken in (status.volumeRequests), with their disks. The driver keeps these in what it applies, so its own
 * apply never drops a volume KubeVirt plugged.
 */
export function heldHotplugs(vm: VirtualMachine | undefined): Map<string, HotplugVolume> {
  const held = new Map<string, HotplugVolume>();
  const hold = (name: string, claimName: string, disk: HotplugVolume['disk']) => held.set(name, { volume: { name, persistentVolumeClaim: { claimName, hotpluggable: true } }, disk });
  const spec = vm?.spec?.template?.spec as TemplateSpec | undefined;
  for (const v of spec?.volumes ?? []) {
    if (!v.name.startsWith(HOTPLUG_PREFIX) || !v.persistentVolumeClaim) continue;
    const disk = spec?.domain?.devices?.disks?.find((d) => d.name === v.name) as HotplugVolume['disk'] | undefined;
    hold(v.name, v.persistentVolumeClaim.claimName, disk ?? { name: v.name, disk: { bus: 'scsi' } });
  }
  for (const r of vm?.status?.volumeRequests ?? []) {
    const add = r.addVolumeOptions;
    if (add?.name.startsWith(HOTPLUG_PREFIX) && add.volumeSource.persistentVolumeClaim) hold(add.name, add.volumeSource.persistentVolumeClaim.claimName, { ...add.disk, name: add.name } as HotplugVolume['disk']);
    if (r.removeVolumeOptions) held.delete(r.removeVolumeOptions.name);
  }
  return held;
}

/** Whether a removal of `name` is already asked of KubeVirt (a request not yet taken in). */
export const removalAsked = (vm: VirtualMachine | undefined, name: string) => (vm?.status?.volumeRequests ?? []).some((r) => r.removeVolumeOptions?.name === name);

/** Whether the running VMI still has the volume (in its spec, or reported). */
export function vmiHolds(vmi: VirtualMachineInstance | undefined, name: string): boolean {
  if (!vmi) return false;
  return ((vmi.spec.volumes ?? []) as Array<{ name: string }>).some((v) => v.name === name) || (vmi.status?.volumeStatus ?? []).some((s) => s.name === name);
}

/** The device the guest sees the volume as, once KubeVirt says it is plugged (phase Ready): /dev/sda and on. */
export function pluggedDevice(vmi: VirtualMachineInstance | undefined, name: string): string | undefined {
  const s = vmi?.status?.volumeStatus?.find((v) => v.name === name);
  return s?.phase === 'Ready' && s.target ? `/dev/${s.target}` : undefined;
}

/** Whether a PersistentVolume is one this driver made for the attachment. */
export const madeFor = (pv: { metadata?: { labels?: Record<string, string> } } | undefined, a: VolumeAttachment) => pv?.metadata?.labels?.[ATTACHMENT_UID_LABEL] === a.metadata.uid;
