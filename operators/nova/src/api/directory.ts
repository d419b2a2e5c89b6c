/**
 * The Compute API's read side: informer caches of every kind it answers about, each indexed by the ID the
 * API shows (a server's is its Instance's UID). Requests are answered from memory; writes go to the
 * Kubernetes API, and a write's caller waits until the cache holds it, so its next request sees it.
 */
import { VOLUMES, VOLUME_ATTACHMENTS, idOf as volumeIdOf, type Volume, type VolumeAttachment } from '@stratus/cinder';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { IndexedCache, SYSTEM_NAMESPACE, selfHealingInformer, type KubeClient, type Logger, type SelfHealingInformer } from '@stratus/runtime';
import { DEFAULT_QUOTAS_CONFIGMAP, defaultQuotasOf, effectiveQuota } from '../quota.js';
import { IMAGES, imageIdOf, type Image } from '@stratus/glance';
import { AGGREGATES, CONFIGMAPS, FLAVORS, HYPERVISORS, INSTANCES, KEYPAIRS, SERVER_GROUPS, type Aggregate, type Flavor, type Hypervisor, type Instance, type Keypair, type ServerGroup } from '../resources.js';
import { TENANTS, type Tenant } from '@stratus/keystone';
import { aggregateIdOf, zoneOfHost } from '../aggregates.js';
import { SECURITY_GROUPS, type SecurityGroup } from '@stratus/neutron';

const byName = (o: KubernetesObject) => o.metadata!.name!;
const byUid = (o: KubernetesObject) => o.metadata!.uid!;

export class ComputeDirectory {
  readonly instances: IndexedCache<Instance>;
  readonly flavors: IndexedCache<Flavor>;
  readonly keypairs: IndexedCache<Keypair>;
  readonly groups: IndexedCache<ServerGroup>;
  readonly hypervisors: IndexedCache<Hypervisor>;
  readonly images: IndexedCache<Image>;
  readonly tenants: IndexedCache<Tenant>;
  readonly aggregates: IndexedCache<Aggregate>;
  /** Block storage: the volumes and their attachments (Nova's block device mappings). */
  readonly volumes: IndexedCache<Volume>;
  readonly volumeAttachments: IndexedCache<VolumeAttachment>;
  /** Security groups, for the names servers show (a group's OpenStack name need not be its object's). */
  readonly securityGroups: IndexedCache<SecurityGroup>;
  /** The default quota class's ConfigMap (alone: a field selector keeps the name claims out). */
  private readonly defaultQuotas: SelfHealingInformer<KubernetesObject & { data?: Record<string, string> }>;
  private readonly all: Array<{ start(): Promise<unknown>; stop(): Promise<unknown> | void }>;

  constructor(kc: KubeConfig, client: KubeClient, log: Logger) {
    // A server stays shown (task deleting) until its node agent has destroyed the guest, as in Nova.
    this.instances = new IndexedCache<Instance>(kc, client, INSTANCES, log, { idOf: byUid, showDeleting: true });
    this.flavors = new IndexedCache<Flavor>(kc, client, FLAVORS, log, { idOf: byName });
    this.keypairs = new IndexedCache<Keypair>(kc, client, KEYPAIRS, log, { idOf: (k) => `${k.metadata.namespace}/${k.metadata.name}` });
    this.groups = new IndexedCache<ServerGroup>(kc, client, SERVER_GROUPS, log, { idOf: byUid });
    this.hypervisors = new IndexedCache<Hypervisor>(kc, client, HYPERVISORS, log, { idOf: byUid });
    this.images = new IndexedCache<Image>(kc, client, IMAGES, log, { idOf: (i) => imageIdOf(i) });
    this.tenants = new IndexedCache<Tenant>(kc, client, TENANTS, log, { idOf: (t) => t.metadata.uid!.replace(/-/g, '') }); // the project ID, known before the status says it
    this.aggregates = new IndexedCache<Aggregate>(kc, client, AGGREGATES, log, { idOf: (a) => String(aggregateIdOf(a)) });
    this.volumes = new IndexedCache<Volume>(kc, client, VOLUMES, log, { idOf: volumeIdOf }); // a transferred volume keeps its ID
    this.volumeAttachments = new IndexedCache<VolumeAttachment>(kc, client, VOLUME_ATTACHMENTS, log, { idOf: byUid, showDeleting: true });
    this.securityGroups = new IndexedCache<SecurityGroup>(kc, client, SECURITY_GROUPS, log, { idOf: byUid });
    this.defaultQuotas = selfHealingInformer(kc, client, CONFIGMAPS, { namespace: SYSTEM_NAMESPACE, fieldSelector: `metadata.name=${DEFAULT_QUOTAS_CONFIGMAP}`, log });
    this.all = [this.instances, this.flavors, this.keypairs, this.groups, this.hypervisors, this.images, this.tenants, this.aggregates, this.volumes, this.volumeAttachments, this.securityGroups, this.defaultQuotas];
  }

  start = () => Promise.all(this.all.map((c) => c.start())).then(() => undefined);
  stop = () => Promise.all(this.all.map((c) => c.stop())).then(() => undefined);

  /** A host's availability zone, as its aggregates decide it. */
  zoneOf(hv: Hypervisor): string {
    return zoneOfHost(hv, this.aggregates.list());
  }

  /** The default quota class: limits for tenants that set none of their own. */
  defaultQuota(): Record<string, number> {
    return defaultQuotasOf(this.defaultQuotas.informer.get(DEFAULT_QUOTAS_CONFIGMAP, SYSTEM_NAMESPACE)?.data);
  }

  /** Returns once the default quota class's cache holds this write of it. */
  async untilDefaultQuota(written: KubernetesObject): Promise<void> {
    const rv = written.metadata?.resourceVersion;
    for (let i = 0; i < 400 && this.defaultQuotas.informer.get(DEFAULT_QUOTAS_CONFIGMAP, SYSTEM_NAMESPACE)?.metadata?.resourceVersion !== rv; i++) await new Promise((r) => setTimeout(r, 25));
  }

  /** A tenant's limits: its own, else the default class's. */
  quotaOf(namespace: string): Record<string, number> | undefined {
    return effectiveQuota(this.tenants.get(namespace)?.spec?.quota, this.defaultQuota());
  }

  /** The project ID of the tenant whose namespace this is. */
  projectIdOf(namespace: string): string {
    return this.tenants.get(namespace)?.status?.projectId ?? '';
  }
}
