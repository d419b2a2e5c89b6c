/**
 * The Block Storage API's read side: informer caches of every volume, snapshot, backup, attachment and type
 * (all tenants), QoS spec, group type, group and group snapshot, indexed by OpenStack ID, with the Images (a volume made from one) and Tenants (project IDs).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { IMAGES, imageIdOf, type Image } from '@stratus/glance';
import { TENANTS, type Tenant } from '@stratus/keystone';
import { IndexedCache, selfHealingInformer, type KubeClient, type Logger, type SelfHealingInformer } from '@stratus/runtime';
import { QOS_SPECS, VOLUME_GROUPS, VOLUME_GROUP_SNAPSHOTS, VOLUME_GROUP_TYPES, VOLUMES, VOLUME_ATTACHMENTS, VOLUME_BACKUPS, VOLUME_SNAPSHOTS, VOLUME_TYPES, idOf, type QosSpec, type Volume, type VolumeGroup, type VolumeGroupSnapshot, type VolumeGroupType, type VolumeAttachment, type VolumeBackup, type VolumeSnapshot, type VolumeType } from '../resources.js';

export class BlockStorageDirectory {
  /** Being deleted still shows (Cinder's deleting status), until gone. */
  readonly volumes: IndexedCache<Volume>;
  readonly snapshots: IndexedCache<VolumeSnapshot>;
  readonly backups: IndexedCache<VolumeBackup>;
  readonly attachments: IndexedCache<VolumeAttachment>;
  readonly types: IndexedCache<VolumeType>;
  readonly qos: IndexedCache<QosSpec>;
  readonly groupTypes: IndexedCache<VolumeGroupType>;
  readonly groups: IndexedCache<VolumeGroup>;
  readonly groupSnapshots: IndexedCache<VolumeGroupSnapshot>;
  readonly images: IndexedCache<Image>;
  private readonly tenants: SelfHealingInformer<Tenant>;

  constructor(kc: KubeConfig, client: KubeClient, log: Logger) {
    this.volumes = new IndexedCache<Volume>(kc, client, VOLUMES, log, { idOf, showDeleting: true });
    this.snapshots = new IndexedCache<VolumeSnapshot>(kc, client, VOLUME_SNAPSHOTS, log, { idOf, showDeleting: true });
    this.backups = new IndexedCache<VolumeBackup>(kc, client, VOLUME_BACKUPS, log, { idOf, showDeleting: true });
    this.attachments = new IndexedCache<VolumeAttachment>(kc, client, VOLUME_ATTACHMENTS, log, { idOf, showDeleting: true });
    this.types = new IndexedCache<VolumeType>(kc, client, VOLUME_TYPES, log, { idOf });
    this.qos = new IndexedCache<QosSpec>(kc, client, QOS_SPECS, log, { idOf });
    this.groupTypes = new IndexedCache<VolumeGroupType>(kc, client, VOLUME_GROUP_TYPES, log, { idOf });
    this.groups = new IndexedCache<VolumeGroup>(kc, client, VOLUME_GROUPS, log, { idOf, showDeleting: true });
    this.groupSnapshots = new IndexedCache<VolumeGroupSnapshot>(kc, client, VOLUME_GROUP_SNAPSHOTS, log, { idOf, showDeleting: true });
    this.images = new IndexedCache<Image>(kc, client, IMAGES, log, { idOf: imageIdOf });
    this.tenants = selfHealingInformer<Tenant>(kc, client, TENANTS, { log });
  }

  private all = () => [this.volumes, this.snapshots, this.backups, this.attachments, this.types, this.qos, this.groupTypes, this.groups, this.groupSnapshots, this.images, this.tenants];
  start = () => Promise.all(this.all().map((c) => c.start())).then(() => undefined);
  stop = () => Promise.all(this.all().map((c) => c.stop())).then(() => undefined);

  tenant(namespace: string): Tenant | undefined {
    return this.tenants.informer.get(namespace);
  }

  tenantByProjectId(id: string): Tenant | undefined {
    return this.tenants.informer.list().find((t) => t.metadata.uid?.replace(/-/g, '') === id);
  }

  projectIdOf(namespace: string | undefined): string {
    const t = namespace ? this.tenants.informer.get(namespace) : undefined;
    return t?.status?.projectId ?? t?.metadata.uid?.replace(/-/g, '') ?? '';
  }

  /** The ID of the QoS spec a volume type names (Cinder's qos_specs_id), or null. */
  qosIdOf(t: VolumeType): string | null {
    const q = t.spec.qosSpec ? this.qos.get(t.spec.qosSpec) : undefined;
    return q ? idOf(q) : null;
  }

  /** A group type by ID or name. */
  groupType(idOrName: string): VolumeGroupType | undefined {
    return this.groupTypes.byId(idOrName) ?? this.groupTypes.byDisplayName(idOrName)[0];
  }

  /** The OpenStack ID of the group a volume belongs to (Cinder's group_id), or null. */
  groupIdOf(v: Volume): string | null {
    const g = v.spec.group ? this.groups.get(v.spec.group, v.metadata.namespace) : undefined;
    return g ? idOf(g) : null;
  }

  /** A volume type by ID or name. */
  type(idOrName: string): VolumeType | undefined {
    return this.types.byId(idOrName) ?? this.types.get(idOrName) ?? this.types.byDisplayName(idOrName)[0];
  }
}
