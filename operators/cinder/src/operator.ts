/** The block storage operator: the VolumeType, QosSpec, VolumeGroupType, VolumeGroup, VolumeGroupSnapshot, Volume, VolumeSnapshot, VolumeBackup and VolumeAttachment controllers on one Manager. */
import type { KubernetesObject } from '@kubernetes/client-node';
import { IMAGES, type Image, type ImageStore } from '@stratus/glance';
import { CONFIGMAPS } from '@stratus/keystone';
import { Manager, findCondition, markReady, patchStatusChanges, releaseNamespace, type ManagerOptions, type Reconciler } from '@stratus/runtime';
import { attachmentReconciler } from './attachments.js';
import { backupReconciler } from './backups.js';
import { groupReconciler } from './groups.js';
import { groupSnapshotReconciler } from './groupSnapshots.js';
import { imageUploadReconciler } from './imageUploads.js';
import { FIELD_MANAGER, GROUP_SNAPSHOT_LABEL, QOS_SPECS, VOLUME_GROUPS, VOLUME_GROUP_SNAPSHOTS, VOLUME_GROUP_TYPES, VOLUMES, VOLUME_ATTACHMENTS, VOLUME_BACKUPS, VOLUME_SNAPSHOTS, VOLUME_TYPES, idOf, type QosSpec, type Volume, type VolumeGroup, type VolumeGroupSnapshot, type VolumeGroupType, type VolumeAttachment, type VolumeBackup, type VolumeSnapshot, type VolumeType } from './resources.js';
import { SERVICE_STATE_CONFIGMAP } from './serviceState.js';
import { snapshotReconciler } from './snapshots.js';
import { volumeReconciler, type CinderDeps } from './volumes.js';

const at = (o: KubernetesObject) => ({ namespace: o.metadata?.namespace, name: o.metadata?.name ?? '' });
const sameNs = (a: KubernetesObject, b: KubernetesObject) => a.metadata?.namespace === b.metadata?.namespace;

/** A thaw (the services ConfigMap changing) lets the deletions held on a frozen backend go on at once. */
const thawWatch = <T extends Volume | VolumeSnapshot>() => ({
  resource: CONFIGMAPS,
  namespace: releaseNamespace(),
  map: (c: KubernetesObject, all: { list(): readonly T[] }) =>
    c.metadata?.name !== SERVICE_STATE_CONFIGMAP ? [] : all.list().filter((o) => findCondition(o.status?.conditions, 'Stalled')?.reason === 'BackendFrozen').map(at),
});

/** A QoS spec has nothing to make: it is available once its ID is shown (the attachments read it). */
const qosSpecReconciler: Reconciler<QosSpec> = async (req, ctx) => {
  const q = await ctx.client.get<QosSpec>(QOS_SPECS, undefined, req.name);
  if (!q) return;
  await patchStatusChanges(ctx.client, QOS_SPECS, q, { id: idOf(q), phase: 'available', conditions: markReady(q.status?.conditions, q.metadata.generation, 'QosSpecReady', `applied by ${q.spec.consumer ?? 'back-end'} to the volumes of the types naming it`) }, FIELD_MANAGER, { precondition: false });
};

/** A group type has nothing to make either: it is available once its ID is shown. */
const groupTypeReconciler: Reconciler<VolumeGroupType> = async (req, ctx) => {
  const t = await ctx.client.get<VolumeGroupType>(VOLUME_GROUP_TYPES, undefined, req.name);
  if (!t) return;
  await patchStatusChanges(ctx.client, VOLUME_GROUP_TYPES, t, { id: idOf(t), phase: 'available', conditions: markReady(t.status?.conditions, t.metadata.generation, 'GroupTypeReady', 'groups may be made of this type') }, FIELD_MANAGER, { precondition: false });
};

/** A volume type has nothing to make: it is available once its ID is shown. */
const volumeTypeReconciler: Reconciler<VolumeType> = async (req, ctx) => {
  const t = await ctx.client.get<VolumeType>(VOLUME_TYPES, undefined, req.name);
  if (!t) return;
  await patchStatusChanges(ctx.client, VOLUME_TYPES, t, { id: idOf(t), phase: 'available', conditions: markReady(t.status?.conditions, t.metadata.generation, 'TypeReady', `volumes of this type go to ${t.spec.backend ?? 'any backend'}`) }, FIELD_MANAGER, { precondition: false });
};

export function cinderManager(deps: CinderDeps & { imageStore: ImageStore }, opts: Partial<ManagerOptions> = {}): Manager {
  const m = new Manager({ name: FIELD_MANAGER, ...opts });
  // The other controllers' caches (added below) tell a volume's status word without listing on every pass.
  const inNs = <T extends KubernetesObject>(c: { cachedObjects(): readonly T[] } | undefined, ns: string) => (c?.cachedObjects() ?? []).filter((o) => o.metadata?.namespace === ns);
  const controllers: { attachments?: { cachedObjects(): readonly VolumeAttachment[] }; backups?: { cachedObjects(): readonly VolumeBackup[] }; uploads?: { cachedObjects(): readonly Image[] } } = {};
  const cached = { attachments: (ns: string) => inNs(controllers.attachments, ns), backups: (ns: string) => inNs(controllers.backups, ns), images: (ns: string) => inNs(controllers.uploads, ns) };
  m.add<VolumeType>({ name: 'volumetype', resource: VOLUME_TYPES, reconcile: volumeTypeReconciler });
  m.add<QosSpec>({ name: 'qosspec', resource: QOS_SPECS, reconcile: qosSpecReconciler });
  m.add<VolumeGroupType>({ name: 'volumegrouptype', resource: VOLUME_GROUP_TYPES, reconcile: groupTypeReconciler });
  m.add<VolumeGroup>({
    name: 'volumegroup',
    resource: VOLUME_GROUPS,
    reconcile: groupReconciler(),
    watches: [
      // Its volumes (and its source group's, while it clones them) say its word, and let a deletion go on.
      { resource: VOLUMES, map: (v, all) => { const group = (v as Volume).spec.group; return group ? all.list().filter((g) => sameNs(g, v) && (g.metadata.name === group || g.spec.sourceGroup === group)).map(at) : []; } },
      { resource: VOLUME_GROUP_TYPES, map: (t, all) => all.list().filter((g) => g.spec.groupType === t.metadata?.name).map(at) },
      // A group made from a group snapshot is made of its snapshots.
      { resource: VOLUME_SNAPSHOTS, map: (s, all) => { const from = s.metadata?.labels?.[GROUP_SNAPSHOT_LABEL]; return from ? all.list().filter((g) => sameNs(g, s) && g.spec.sourceGroupSnapshot === from).map(at) : []; } },
    ],
  });
  m.add<VolumeGroupSnapshot>({
    name: 'volumegroupsnapshot',
    resource: VOLUME_GROUP_SNAPSHOTS,
    reconcile: groupSnapshotReconciler(),
    // Its snapshots say its word, and let a deletion go on.
    watches: [{ resource: VOLUME_SNAPSHOTS, map: (s) => { const gs = s.metadata?.labels?.[GROUP_SNAPSHOT_LABEL]; return gs ? [{ namespace: s.metadata?.namespace, name: gs }] : []; } }],
  });
  m.add<Volume>({
    name: 'volume',
    resource: VOLUMES,
    reconcile: volumeReconciler({ ...deps, cached }),
    workers: 4,
    watches: [
      // Its attachments, snapshots, backups and uploads say what its status word is (and let a deletion go on).
      { resource: VOLUME_ATTACHMENTS, map: (a, all) => all.list().filter((v) => sameNs(v, a) && v.metadata.name === (a as VolumeAttachment).spec.volume).map(at) },
      { resource: VOLUME_SNAPSHOTS, map: (s, all) => all.list().filter((v) => sameNs(v, s) && v.metadata.name === (s as VolumeSnapshot).spec.volume).map(at) },
      { resource: VOLUME_BACKUPS, map: (b, all) => all.list().filter((v) => sameNs(v, b) && (v.metadata.name === (b as VolumeBackup).spec.volume || v.spec.source?.backup === b.metadata?.name)).map(at) },
      { resource: IMAGES, map: (i, all) => all.list().filter((v) => sameNs(v, i) && v.metadata.name === (i as Image).spec.source?.volume?.name).map(at) },
      thawWatch<Volume>(),
    ],
  });
  m.add<VolumeSnapshot>({
    name: 'volumesnapshot',
    resource: VOLUME_SNAPSHOTS,
    reconcile: snapshotReconciler(deps),
    watches: [
      { resource: VOLUMES, map: (v, all) => all.list().filter((s) => sameNs(s, v) && s.spec.volume === v.metadata?.name && s.status?.phase !== 'available').map(at) },
      // A backup of it, running or done, says whether it shows backing-up.
      { resource: VOLUME_BACKUPS, map: (b, all) => all.list().filter((s) => sameNs(s, b) && s.metadata.name === (b as VolumeBackup).spec.snapshot).map(at) },
      thawWatch<VolumeSnapshot>(),
    ],
  });
  controllers.backups = m.add<VolumeBackup>({
    name: 'volumebackup',
    resource: VOLUME_BACKUPS,
    reconcile: backupReconciler(deps),
    watches: [
      { resource: VOLUMES, map: (v, all) => all.list().filter((b) => sameNs(b, v) && b.spec.volume === v.metadata?.name && b.status?.phase !== 'available').map(at) },
      // A dependent backup gone lets its parent's deletion go on.
      { resource: VOLUME_BACKUPS, map: (d, all) => all.list().filter((b) => sameNs(b, d) && b.metadata.name === (d as VolumeBackup).status?.parent).map(at) },
    ],
  });
  controllers.attachments = m.add<VolumeAttachment>({
    name: 'volumeattachment',
    resource: VOLUME_ATTACHMENTS,
    reconcile: attachmentReconciler(),
    watches: [
      { resource: VOLUMES, map: (v, all) => all.list().filter((a) => sameNs(a, v) && a.spec.volume === v.metadata?.name).map(at) },
      // One attachment let go lets the next asking for a single-attach volume have it.
      { resource: VOLUME_ATTACHMENTS, map: (x, all) => all.list().filter((a) => sameNs(a, x) && a.spec.volume === (x as VolumeAttachment).spec.volume && a.metadata.uid !== x.metadata?.uid).map(at) },
    ],
  });
  controllers.uploads = m.add<Image>({ name: 'volumeupload', resource: IMAGES, reconcile: imageUploadReconciler(deps) });
  return m;
}
