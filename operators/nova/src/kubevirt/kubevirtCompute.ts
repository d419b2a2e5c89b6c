/**
 * nova-compute for a KubeVirt cluster: one process registers the cluster as one Hypervisor and runs the
 * instances the scheduler binds to it as KubeVirt VirtualMachines (driver.ts).
 *
 * One Hypervisor stands for the whole cluster, not one per node: KubeVirt places each VMI on a node with the
 * Kubernetes scheduler (its requests, affinity, taints), and a second placement by Nova would only fight
 * it. Nova's scheduler chooses among clouds' compute back ends (libvirt nodes, KubeVirt clusters) with the
 * same filters and quotas; the capacity the cluster lends Stratus is the Hypervisor's, set by the operator
 * of the cloud (KUBEVIRT_VCPUS, …) since a shared cluster's allocatable is not all Stratus's to give.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Image, ImageStore } from '@stratus/glance';
import { VOLUME_ATTACHMENTS, type VolumeAttachment } from '@stratus/cinder';
import { Manager, type InformerOptions, type Logger, type ResourceRef, type SelfHealingInformer } from '@stratus/runtime';
import { HypervisorRegistration } from '../agent/registration.js';
import { FLAVORS, IMAGES, INSTANCES, KEYPAIRS, type Instance } from '../resources.js';
import { KUBEVIRT_FIELD_MANAGER, kubevirtInstanceReconciler, type KubevirtDriverConfig, type ObjectLookup } from './driver.js';
import { INSTANCE_LABEL, MANAGED_BY } from './objects.js';
import { DATA_VOLUMES, SECRETS, VIRTUAL_MACHINES, VIRTUAL_MACHINE_EXPORTS, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINE_SNAPSHOTS } from './refs.js';
import { kubevirtSnapshotReconciler } from './snapshots.js';

export interface KubevirtComputeConfig extends KubevirtDriverConfig {
  capacity: { vcpus: number; ramMiB: number; diskGiB: number };
  availabilityZone?: string;
  heartbeatSeconds: number;
}

const num = (v: string | undefined, fallback: number) => (v === undefined || v === '' ? fallback : Number(v));

/**
 * From the environment: KUBEVIRT_HYPERVISOR (the Hypervisor's name), KUBEVIRT_VCPUS, KUBEVIRT_RAM_MIB,
 * KUBEVIRT_DISK_GIB, KUBEVIRT_S3_ENDPOINT (how CDI's importer pods reach the store, default S3_ENDPOINT) and
 * KUBEVIRT_S3_ACCESS_KEY_ID / KUBEVIRT_S3_SECRET_ACCESS_KEY (default the store's own); for Cinder's RBD volumes,
 * KUBEVIRT_CEPH_CSI_CLUSTER_ID (ceph-csi's clusterID for Cinder's Ceph), KUBEVIRT_CEPH_CSI_SECRET (namespace/name
 * of ceph-csi's node-stage Secret) and KUBEVIRT_CEPH_CSI_DRIVER (default rbd.csi.ceph.com).
 */
export function kubevirtConfigFromEnv(env: NodeJS.ProcessEnv): KubevirtComputeConfig {
  const endpoint = env.KUBEVIRT_S3_ENDPOINT ?? env.S3_ENDPOINT;
  const accessKeyId = env.KUBEVIRT_S3_ACCESS_KEY_ID ?? env.S3_ACCESS_KEY_ID;
  const secretAccessKey = env.KUBEVIRT_S3_SECRET_ACCESS_KEY ?? env.S3_SECRET_ACCESS_KEY;
  if (!endpoint || !accessKeyId || !secretAccessKey) throw new Error('the kubevirt driver needs the image store: KUBEVIRT_S3_ENDPOINT (or S3_ENDPOINT) and its access keys');
  const config: KubevirtComputeConfig = {
    host: (env.KUBEVIRT_HYPERVISOR ?? 'kubevirt').toLowerCase(),
    imageSource: { endpoint, accessKeyId, secretAccessKey },
    capacity: { vcpus: num(env.KUBEVIRT_VCPUS, 64), ramMiB: num(env.KUBEVIRT_RAM_MIB, 262_144), diskGiB: num(env.KUBEVIRT_DISK_GIB, 4096) },
    availabilityZone: env.KUBEVIRT_AVAILABILITY_ZONE,
    heartbeatSeconds: num(env.NOVA_HEARTBEAT_SECONDS, 10),
    ...cephCsiFromEnv(env),
  };
  for (const [k, v] of Object.entries(config.capacity)) if (!Number.isInteger(v) || v < 0) throw new Error(`KubeVirt capacity ${k} must be a whole number, not ${v}`);
  return config;
}

function cephCsiFromEnv(env: NodeJS.ProcessEnv): Pick<KubevirtComputeConfig, 'cephCsi'> {
  const clusterID = env.KUBEVIRT_CEPH_CSI_CLUSTER_ID;
  const secret = env.KUBEVIRT_CEPH_CSI_SECRET;
  if (!clusterID && !secret) return {};
  const m = /^([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*)$/.exec(secret ?? '');
  if (!clusterID || !m) throw new Error(`KUBEVIRT_CEPH_CSI_CLUSTER_ID and KUBEVIRT_CEPH_CSI_SECRET (namespace/name) go together; got clusterID "${clusterID ?? ''}" and secret "${secret ?? ''}"`);
  return { cephCsi: { clusterID, secret: { namespace: m[1]!, name: m[2]! }, driver: env.KUBEVIRT_CEPH_CSI_DRIVER || 'rbd.csi.ceph.com' } };
}

export interface KubevirtCompute {
  manager: Manager;
  registration: HypervisorRegistration;
  stop(): Promise<void>;
}

/** The instance an object of the driver's belongs to, by its label (a VMI is the VM's, not the instance's). */
const instanceOf = (o: KubernetesObject) => {
  const name = o.metadata?.labels?.[INSTANCE_LABEL];
  return name && o.metadata?.namespace ? [{ namespace: o.metadata.namespace, name }] : [];
};

/** `store`: the image store snapshots are written to (Glance's). */
export async function startKubevirtCompute(o: { config: KubevirtComputeConfig; kubeConfig: KubeConfig; logger: Logger; workers?: number; store: ImageStore }): Promise<KubevirtCompute> {
  const { config, logger: log } = o;
  const manager = new Manager({ name: KUBEVIRT_FIELD_MANAGER, kubeConfig: o.kubeConfig, logger: log });
  // What passes read, from caches (the same informers the watches use); the Secrets only the driver's own.
  const caches = new Map<string, SelfHealingInformer<KubernetesObject>>();
  for (const [ref, opts] of [[VIRTUAL_MACHINES], [VIRTUAL_MACHINE_INSTANCES], [DATA_VOLUMES], [SECRETS, { labelSelector: `app.kubernetes.io/managed-by=${MANAGED_BY}` }], [FLAVORS], [IMAGES], [KEYPAIRS]] as Array<[ResourceRef, InformerOptions?]>)
    caches.set(ref.plural, manager.informer<KubernetesObject>(ref, opts));
  const attachments = manager.informer<KubernetesObject>(VOLUME_ATTACHMENTS);
  caches.set(VOLUME_ATTACHMENTS.plural, attachments);
  manager.onStart(async () => void (await Promise.all([...caches.values()].map((c) => c.start()))));
  // KubeVirt's objects and the driver's Secrets are made by the driver and KubeVirt only: a miss in their
  // (synced) caches is taken as absence (making one that exists meanwhile is a 409 the driver handles). A
  // Flavor, Image or Keypair missing from its cache may have been made a moment ago: the server is asked.
  const own = new Set([VIRTUAL_MACHINES, VIRTUAL_MACHINE_INSTANCES, DATA_VOLUMES, SECRETS].map((r) => r.plural));
  const lookup: ObjectLookup = async <T extends KubernetesObject>(ref: ResourceRef, ns: string | undefined, name: string) => {
    const hit = caches.get(ref.plural)?.informer.get(name, ns) as T | undefined;
    if (hit || own.has(ref.plural)) return hit;
    return manager.client.get<T>(ref, ns, name);
  };
  const instances = manager.add<Instance>({
    name: 'kubevirt-instances',
    resource: INSTANCES,
    fieldSelector: `status.host=${config.host}`,
    reconcile: kubevirtInstanceReconciler(config, lookup, async (inst) => (attachments.informer.list(inst.metadata.namespace) as VolumeAttachment[]).filter((a) => a.spec.instance === inst.metadata.name)),
    workers: o.workers ?? 4,
    watches: [
      ...[VIRTUAL_MACHINES, VIRTUAL_MACHINE_INSTANCES, DATA_VOLUMES].map((resource) => ({ resource, map: instanceOf })),
      // A volume attached to one of them: hot-plugged, or turned away (volumePlugs.ts).
      { resource: VOLUME_ATTACHMENTS, map: (a: KubernetesObject) => [{ namespace: a.metadata!.namespace, name: (a as VolumeAttachment).spec.instance }] },
    ],
  });
  // Snapshots (createImage, createBackup) of this cluster's servers: through KubeVirt's snapshot and export into
  // the image store.
  manager.add<Image>({
    name: 'kubevirt-snapshots',
    resource: IMAGES,
    owns: [{ ...VIRTUAL_MACHINE_SNAPSHOTS, ownerKind: 'Image' }, { ...VIRTUAL_MACHINE_EXPORTS, ownerKind: 'Image' }],
    reconcile: kubevirtSnapshotReconciler({ host: config.host, store: o.store }),
  });
  const registration = new HypervisorRegistration(manager.client, { name: config.host, heartbeatSeconds: config.heartbeatSeconds, fieldManager: KUBEVIRT_FIELD_MANAGER }, async () => ({
    spec: {
      hostname: config.host,
      driver: 'kubevirt',
      capacity: config.capacity,
      properties: { hypervisor_type: 'kvm', architecture: 'x86_64' },
      ...(config.availabilityZone ? { availabilityZone: config.availabilityZone } : {}),
    },
    status: { hypervisorType: 'KubeVirt', hypervisorVersion: 'v1', runningVMs: instances.cachedObjects().filter((i) => i.status?.powerState === 'Running').length },
  }), log);
  await manager.start();
  await registration.start();
  log.info('kubevirt compute driver started', { host: config.host, capacity: config.capacity });
  return {
    manager,
    registration,
    async stop() {
      registration.stop();
      await manager.stop();
    },
  };
}
