/**
 * What the kubevirt compute driver writes for an instance, pure: a VirtualMachine (kubevirt.io/v1), the CDI
 * DataVolume (cdi.kubevirt.io/v1beta1) its root disk is imported into straight from the image store's S3, and
 * the Secrets they read (cloud-init user data, the keypair, the S3 credentials). Each is owned by the
 * instance (a controller reference, so deleting the instance lets the garbage collector take what a crash
 * left) and labelled with it. Shapes follow KubeVirt's and CDI's published schemas (vendor/kubevirt/); the
 * tests create them under fieldValidation=Strict.
 *
 * CPU and memory are written into the VirtualMachine from the instance's flavor, not through a
 * VirtualMachineClusterInstancetype per Flavor: KubeVirt freezes an instancetype into a ControllerRevision
 * when the VM is made, so a Flavor edited or deleted later (which Nova allows, each instance keeping its copy)
 * would need revision bookkeeping for nothing; inline, the VM says exactly what Nova's flavor snapshot says.
 */
import type { FlavorSnapshot, Instance } from '../resources.js';
import type { HotplugVolume } from './hotplug.js';

export const KUBEVIRT_API = 'kubevirt.io/v1';
export const CDI_API = 'cdi.kubevirt.io/v1beta1';
/** Names the instance each object belongs to (the watches map by it). */
export const INSTANCE_LABEL = 'compute.stratus.io/instance';
export const MANAGED_BY = 'stratus-nova-kubevirt';

export interface Named {
  vm: string;
  rootDisk: string;
  cloudInit: string;
  sshKeys: string;
  s3Credentials: string;
}

/** The objects' names: the VM is named as the instance (kubectl get vm shows it beside it), the rest after it. */
export function namesOf(inst: Pick<Instance, 'metadata'>): Named {
  const n = inst.metadata.name;
  return { vm: n, rootDisk: `${n}-root`, cloudInit: `${n}-cloudinit`, sshKeys: `${n}-ssh-keys`, s3Credentials: `${n}-image-source` };
}

interface ObjectMeta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ownerReferences: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller: boolean; blockOwnerDeletion: boolean }>;
  annotations?: Record<string, string>;
}

export function ownedMeta(inst: Instance, name: string, annotations?: Record<string, string>): ObjectMeta {
  return {
    name,
    namespace: inst.metadata.namespace!,
    labels: { [INSTANCE_LABEL]: inst.metadata.name, 'app.kubernetes.io/managed-by': MANAGED_BY },
    ownerReferences: [{ apiVersion: inst.apiVersion ?? 'compute.stratus.io/v1alpha1', kind: 'Instance', name: inst.metadata.name, uid: inst.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    ...(annotations ? { annotations } : {}),
  };
}

export interface ImageSource {
  /** Where CDI's importer reaches the store: http(s)://host:port (path-style: /bucket/key follows). */
  endpoint: string;
  bucket: string;
  key: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** The URL of an object as CDI's S3 source takes it: the endpoint, then /bucket/key. */
export function s3UrlOf(src: Pick<ImageSource, 'endpoint' | 'bucket' | 'key'>): string {
  const base = src.endpoint.replace(/\/+$/, '');
  return `${base}/${encodeURIComponent(src.bucket)}/${src.key.split('/').map(encodeURIComponent).join('/')}`;
}

/** Where an S3 source URL points, as CDI's importer reads it: the endpoint, the bucket (first path segment) and the key. */
export function s3TargetOf(url: string): { endpoint: string; bucket: string; key: string } {
  const u = new URL(url);
  const [bucket, ...rest] = u.pathname.replace(/^\//, '').split('/');
  if (!bucket || !rest.length) throw new Error(`${url} names no bucket and object`);
  return { endpoint: u.origin, bucket: decodeURIComponent(bucket), key: rest.map(decodeURIComponent).join('/') };
}

/** A Secret's value as text (its `data` is base64), '' when the Secret or the key is missing. Pure. */
export const secretValue = (secret: { data?: Record<string, string> } | undefined, key: string): string => Buffer.from(secret?.data?.[key] ?? '', 'base64').toString('utf8');

/** A Secret the instance owns, its values given as text. */
function ownedSecret(inst: Instance, name: string, values: Record<string, string | Buffer>) {
  return { apiVersion: 'v1', kind: 'Secret', metadata: ownedMeta(inst, name), type: 'Opaque', data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) };
}

/** The credentials CDI's importer signs with: the keys CDI reads are accessKeyId and secretKey. */
export function s3CredentialsSecretOf(inst: Instance, src: ImageSource) {
  return ownedSecret(inst, namesOf(inst).s3Credentials, { accessKeyId: src.accessKeyId, secretKey: src.secretAccessKey });
}

/** The root disk: a DataVolume importing the image from S3 into a volume of the flavor's root size. */
export function rootDataVolumeOf(inst: Instance, src: ImageSource, rootGiB: number, image: { namespace: string; name: string; uid?: string }) {
  return {
    apiVersion: CDI_API,
    kind: 'DataVolume',
    // Bound at once rather than when the VM's pod is scheduled: the import runs while the VM is provisioning.
    metadata: ownedMeta(inst, namesOf(inst).rootDisk, { 'cdi.kubevirt.io/storage.bind.immediate.requested': 'true', 'compute.stratus.io/image': `${image.namespace}/${image.name}`, ...(image.uid ? { 'compute.stratus.io/image-uid': image.uid } : {}) }),
    spec: {
      source: { s3: { url: s3UrlOf(src), secretRef: namesOf(inst).s3Credentials } },
      storage: { resources: { requests: { storage: `${rootGiB}Gi` } } },
    },
  };
}

/** Cloud-init's user data: the instance's own (Nova passes it through untouched), or a minimal cloud-config. */
export function cloudInitSecretOf(inst: Instance, userData: Buffer | undefined, hostname: string) {
  // KubeVirt's NoCloud secretRef reads the key "userdata".
  return ownedSecret(inst, namesOf(inst).cloudInit, { userdata: userData ?? `#cloud-config\nhostname: ${hostname}\n` });
}

/** The keypair's public key, which KubeVirt puts into NoCloud's meta-data (accessCredentials). */
export function sshKeysSecretOf(inst: Instance, publicKey: string) {
  return ownedSecret(inst, namesOf(inst).sshKeys, { key1: publicKey.trim() });
}

export type RunStrategy = 'Always' | 'Halted' | 'Manual' | 'RerunOnFailure';

/**
 * Nova's power wish as KubeVirt's runStrategy: Running and Paused want a VMI (a pause is the VMI's, through
 * the subresource API), Stopped wants none. Nova's suspend (memory saved to disk) has no KubeVirt
 * counterpart: the caller refuses it before asking.
 */
export function runStrategyOf(power: Instance['spec']['powerState']): RunStrategy {
  return power === 'Stopped' ? 'Halted' : 'Always';
}

export interface VmInput {
  flavor: FlavorSnapshot;
  /** hw_disk_bus of the image: virtio unless it asks for sata or scsi. */
  diskBus?: 'virtio' | 'sata' | 'scsi';
  /** The keypair's Secret, when the instance has an SSH keypair. */
  sshKeys?: boolean;
  /** Cinder volumes KubeVirt has hot-plugged (or been asked to), kept as KubeVirt persisted them (hotplug.ts). */
  hotplug?: readonly HotplugVolume[];
}

export function virtualMachineOf(inst: Instance, o: VmInput) {
  const names = namesOf(inst);
  const labels = { 'kubevirt.io/domain': names.vm, [INSTANCE_LABEL]: inst.metadata.name };
  const { flavor } = o;
  const memory = `${flavor.ramMiB}Mi`;
  return {
    apiVersion: KUBEVIRT_API,
    kind: 'VirtualMachine',
    metadata: ownedMeta(inst, names.vm, { 'compute.stratus.io/flavor': flavor.name }),
    spec: {
      runStrategy: runStrategyOf(inst.spec.powerState),
      template: {
        metadata: { labels },
        spec: {
          domain: {
            cpu: { sockets: flavor.vcpus, cores: 1, threads: 1 },
            memory: { guest: memory },
            resources: { requests: { memory } },
            // The guest's SMBIOS UUID is the server's ID, as Nova's libvirt driver sets it.
            firmware: { uuid: inst.metadata.uid },
            devices: {
              disks: [
                { name: 'root', bootOrder: 1, disk: { bus: o.diskBus ?? 'virtio' } },
                { name: 'cloudinit', disk: { bus: 'virtio' } },
                ...(o.hotplug ?? []).map((h) => h.disk),
              ],
              interfaces: [{ name: 'default', masquerade: {} }],
            },
          },
          networks: [{ name: 'default', pod: {} }],
          volumes: [
            { name: 'root', dataVolume: { name: names.rootDisk } },
            { name: 'cloudinit', cloudInitNoCloud: { secretRef: { name: names.cloudInit } } },
            ...(o.hotplug ?? []).map((h) => h.volume),
          ],
          ...(o.sshKeys ? { accessCredentials: [{ sshPublicKey: { source: { secret: { secretName: names.sshKeys } }, propagationMethod: { noCloud: {} } } }] } : {}),
        },
      },
    },
  };
}

export type VirtualMachine = ReturnType<typeof virtualMachineOf> & { metadata: { uid?: string; resourceVersion?: string; deletionTimestamp?: string; finalizers?: string[]; generation?: number }; status?: VirtualMachineStatus };

export interface KubeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string | null;
  lastProbeTime?: string | null;
}

/** What KubeVirt reports of a VirtualMachine (the fields the driver reads). */
export interface VirtualMachineStatus {
  printableStatus?: string;
  created?: boolean;
  ready?: boolean;
  conditions?: KubeCondition[];
  stateChangeRequests?: Array<{ action: 'Start' | 'Stop'; uid?: string; data?: Record<string, string> }>;
  runStrategy?: string;
  /** Hot-plugs asked through virt-api and not yet taken into the VM and its VMI. */
  volumeRequests?: VolumeRequest[];
}

/** KubeVirt's VirtualMachineVolumeRequest: an addvolume or a removevolume, as virt-api records it. */
export interface VolumeRequest {
  addVolumeOptions?: { name: string; disk: { name?: string; disk?: { bus?: string }; serial?: string }; volumeSource: { persistentVolumeClaim?: { claimName: string; hotpluggable?: boolean }; dataVolume?: { name: string; hotpluggable?: boolean } } };
  removeVolumeOptions?: { name: string };
}

/** A VMI's report on one of its volumes (VolumeStatus): a hot-plugged one walks Pending, Bound, AttachedToNode, MountedToPod, Ready. */
export interface VolumeStatus {
  name: string;
  target: string;
  phase?: string;
  reason?: string;
  message?: string;
  hotplugVolume?: { attachPodName?: string; attachPodUID?: string };
  persistentVolumeClaimInfo?: { claimName?: string; accessModes?: string[]; volumeMode?: string; capacity?: Record<string, string>; requests?: Record<string, string> };
}

export interface VirtualMachineInstance {
  apiVersion: string;
  kind: 'VirtualMachineInstance';
  metadata: { name: string; namespace?: string; uid?: string; deletionTimestamp?: string; labels?: Record<string, string>; ownerReferences?: ObjectMeta['ownerReferences']; finalizers?: string[]; annotations?: Record<string, string> };
  spec: Record<string, unknown> & { domain: { resources?: { requests?: { memory?: string } }; memory?: { guest?: string } } };
  status?: {
    phase?: 'Pending' | 'Scheduling' | 'Scheduled' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
    nodeName?: string;
    reason?: string;
    conditions?: KubeCondition[];
    interfaces?: Array<{ name?: string; ipAddress?: string; ipAddresses?: string[]; mac?: string; interfaceName?: string; infoSource?: string }>;
    launcherContainerImageVersion?: string;
    volumeStatus?: VolumeStatus[];
  };
}

export interface DataVolume {
  apiVersion: string;
  kind: 'DataVolume';
  metadata: { name: string; namespace?: string; uid?: string; deletionTimestamp?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: ObjectMeta['ownerReferences'] };
  spec: { source?: { s3?: { url: string; secretRef?: string }; http?: { url: string } }; storage?: { resources?: { requests?: { storage?: string } } } };
  status?: { phase?: string; progress?: string; restartCount?: number; claimName?: string; conditions?: KubeCondition[] };
}
