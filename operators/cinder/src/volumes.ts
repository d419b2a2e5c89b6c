/**
 * The Volume reconciler (Cinder's volume manager), the story of a volume: it gets a finalizer guarding its
 * data; it is admitted against the tenant's quota and placed in a pool by the scheduler; its data is made
 * from its source (blank, image, snapshot, volume or backup); afterwards it grows when its size is raised,
 * takes a backup's data when a restore is asked, and its status word follows its attachments, backups and
 * uploads. Deleting it waits for its attachments and snapshots, then removes its data.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { IMAGES, canSee, keyFromLocation, type Image } from '@stratus/glance';
import { CONFIGMAPS, TENANTS, type Tenant } from '@stratus/keystone';
import {
  KeyedLock,
  addFinalizerPatch,
  defaultQuotasOf,
  displayNameOf,
  effectiveQuota,
  hasFinalizer,
  isDeleting,
  markReady,
  markReconciling,
  markStalled,
  patchStatusChanges,
  releaseNamespace,
  removeFinalizerPatch,
  type KubeClient,
  type ReconcileContext,
  type Reconciler,
  type Request,
  type ResourceRef,
  type Result,
} from '@stratus/runtime';
import type { BackupChunkStore } from './backupChunks.js';
import { BackendError, type VolumeBackend } from './backend/types.js';
import { DEFAULT_QUOTAS_CONFIGMAP, NO_USAGE, flatTenantQuota, quotaRefusal, typeQuotaKey, type QuotaAsk, type TypeQuota, type TypedUsage } from './quota.js';
import { pickPool, retypeMigration, type PoolState } from './scheduler.js';
import { encryptedTypeRefusal } from './encryption.js';
import { handedOver, takenOverOf, type TakenOver } from './transfers.js';
import { FROZEN_BACKEND, backendFrozen, readServiceStates, unschedulable, volumeServiceKey } from './serviceState.js';
import {
  DATA_FINALIZER,
  DEFAULT_VOLUME_TYPE,
  FIELD_MANAGER,
  VOLUMES,
  VOLUME_ATTACHMENTS,
  VOLUME_BACKUPS,
  VOLUME_GROUPS,
  VOLUME_SNAPSHOTS,
  VOLUME_TYPES,
  attachmentsOf,
  idOf,
  isBootable,
  volumeImageMetadata,
  volumeTypeOf,
  TRANSFER_ANNOTATION,
  keyOf,
  type Volume,
  type VolumeAttachment,
  type VolumeBackup,
  type VolumeGroup,
  type VolumeGroupSnapshot,
  type VolumeSnapshot,
  type VolumeType,
} from './resources.js';
import { resetRequestOf, shownStatus } from './statusReset.js';
import { attachmentRecords, volumePhase } from './volumeState.js';

export interface CinderDeps {
  backends: VolumeBackend[];
  /** Glance's image store: a volume made from an image reads its data there. */
  images: { get(key: string): Promise<{ body: NodeJS.ReadableStream }> };
  backups: BackupChunkStore;
  /** Where image data is put down while it becomes a volume. */
  workDir: string;
  /**
   * The operator's informer caches of what a volume's status word is made from (its attachments, backups and
   * image uploads); without them, each pass lists afresh. Deletion and quotas always read afresh.
   */
  cached?: { attachments(ns: string): VolumeAttachment[]; backups(ns: string): VolumeBackup[]; images(ns: string): Image[] };
}

/** A refusal the object records as its error (Stalled, with Cinder's words). */
export class Refused extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));
/** One admission at a time per tenant: a count and the write that makes it count are never split. */
const admission = new KeyedLock();

/** A backend's pool as the scheduler sees it (undefined when no backend of that name is configured). */
export async function poolStateOf(deps: Pick<CinderDeps, 'backends'>, name: string | undefined): Promise<PoolState | undefined> {
  const b = deps.backends.find((x) => x.name === name);
  return b ? { backend: b.name, pool: b.pool, protocol: b.protocol, capacity: await b.capacity() } : undefined;
}

export function backendOf(deps: CinderDeps, name: string | undefined): VolumeBackend {
  const b = deps.backends.find((x) => x.name === name);
  if (!b) throw new Refused('BackendNotFound', `Backend ${name} is not served here.`);
  return b;
}

/**
 * What the tenant's volumes, snapshots and backups hold now (read fresh, not from a cache), in all and of each
 * volume type: those admitted, and with `pending` also those on their way (made but not yet admitted, and not
 * refused).
 */
export async function usageOf(client: KubeClient, namespace: string, except?: string, pending = false): Promise<TypedUsage> {
  const u: TypedUsage = { ...NO_USAGE, byType: {} };
  const add = (q: TypeQuota, type: string, n: number) => {
    u[q] += n;
    u.byType![typeQuotaKey(q, type)] = (u.byType![typeQuotaKey(q, type)] ?? 0) + n;
  };
  const counts = (o: { metadata: { uid?: string }; status?: { phase?: string } }, admitted: boolean) => o.metadata.uid !== except && (admitted || (pending && o.status?.phase !== 'error'));
  const vols = (await client.list<Volume>(VOLUMES, namespace)).items;
  for (const v of vols)
    if (counts(v, !!v.status?.pool) && !handedOver(v)) {
      add('volumes', volumeTypeOf(v), 1);
      add('gigabytes', volumeTypeOf(v), v.status?.sizeGiB ?? v.spec.sizeGiB);
    }
  // A snapshot or backup on its way counts its volume's size until it has its own; a snapshot counts toward its volume's type.
  const volumeNamed = (name: string) => vols.find((v) => v.metadata.name === name);
  for (const s of (await client.list<VolumeSnapshot>(VOLUME_SNAPSHOTS, namespace)).items)
    if (counts(s, !!s.status?.sizeGiB)) {
      const vol = volumeNamed(s.spec.volume);
      const type = vol ? volumeTypeOf(vol) : DEFAULT_VOLUME_TYPE;
      add('snapshots', type, 1);
      add('gigabytes', type, s.status?.sizeGiB ?? vol?.status?.sizeGiB ?? 0);
    }
  for (const b of (await client.list<VolumeBackup>(VOLUME_BACKUPS, namespace)).items)
    if (counts(b, !!b.status?.sizeGiB)) {
      u.backups++;
      u.backupGigabytes += b.status?.sizeGiB ?? volumeNamed(b.spec.volume)?.status?.sizeGiB ?? 0;
    }
  // A group counts from its creation until it is gone, as Cinder reserves it on create and releases it on delete.
  u.groups = (await client.list<VolumeGroup>(VOLUME_GROUPS, namespace)).items.filter((g) => g.metadata.uid !== except).length;
  return u;
}

/** The default quota class's limits, from its ConfigMap (none: no defaults). */
export async function defaultQuotas(client: KubeClient): Promise<Record<string, number>> {
  return defaultQuotasOf((await client.get<{ metadata: { name: string }; data?: Record<string, string> }>(CONFIGMAPS, releaseNamespace(), DEFAULT_QUOTAS_CONFIGMAP))?.data);
}

/** A tenant's block storage limits (flat, see quota.ts): its own where it sets one, the default class's elsewhere. Pure. */
export const tenantLimits = (tenant: Tenant | undefined, defaults: Record<string, number>): Record<string, number> | undefined =>
  effectiveQuota(flatTenantQuota((tenant?.spec as { quota?: Record<string, unknown> } | undefined)?.quota), defaults);

/** The tenant's block storage limits, read fresh. */
export async function quotaOf(client: KubeClient, namespace: string): Promise<Record<string, number> | undefined> {
  const [tenant, defaults] = await Promise.all([client.get<Tenant>(TENANTS, undefined, namespace), defaultQuotas(client)]);
  return tenantLimits(tenant, defaults);
}

/**
 * Runs `admit` (the status write that makes the object count) if `asked` fits the tenant's quota beside what
 * is admitted already, all under the tenant's lock: exact however many ask at once. Throws Refused otherwise.
 */
export async function admit(client: KubeClient, namespace: string, uid: string, asked: QuotaAsk, write: () => Promise<void>): Promise<void> {
  const release = await admission.acquire(namespace);
  try {
    const refusal = quotaRefusal(await quotaOf(client, namespace), await usageOf(client, namespace, uid), asked);
    if (refusal) throw new Refused(refusal.reason, refusal.message);
    await write();
  } finally {
    release();
  }
}

export async function projectIdOf(client: KubeClient, namespace: string): Promise<string | undefined> {
  return (await client.get<Tenant>(TENANTS, undefined, namespace))?.status?.projectId;
}

type Obj = Volume | VolumeSnapshot | VolumeBackup | VolumeGroup | VolumeGroupSnapshot;

export async function ensureFinalizer(client: KubeClient, ref: ResourceRef, o: Obj): Promise<boolean> {
  const patch = addFinalizerPatch(o, DATA_FINALIZER);
  if (!patch) return false;
  await client.patch(ref, o.metadata.namespace, o.metadata.name, patch, FIELD_MANAGER);
  return true;
}

export async function releaseFinalizer(client: KubeClient, ref: ResourceRef, o: Obj): Promise<void> {
  const patch = removeFinalizerPatch(o, DATA_FINALIZER);
  if (patch) await client.patch(ref, o.metadata.namespace, o.metadata.name, patch, FIELD_MANAGER);
}

/** Records a refusal once (an event, Stalled, and the error status word). */
export async function stall<T extends Obj>(ctx: ReconcileContext<T>, ref: ResourceRef, o: T, reason: string, message: string, phase = 'error'): Promise<void> {
  const current = o.status?.conditions?.find((c) => c.type === 'Stalled');
  if (current?.reason !== reason || current.message !== message) await ctx.events.record(o, 'Warning', reason, message);
  ctx.log.warn('refused', { reason, error: message });
  await patchStatusChanges(ctx.client, ref, o as never, { phase, conditions: markStalled(o.status?.conditions, o.metadata.generation, reason, message) } as never, FIELD_MANAGER, { precondition: false });
}

/** A deletion waits while its backend is frozen (Cinder refuses it): shown as Stalled, tried again in 30 s. */
export async function holdWhileFrozen<T extends Volume | VolumeSnapshot>(ctx: ReconcileContext<T>, ref: ResourceRef, o: T): Promise<Result> {
  await stall(ctx, ref, o, 'BackendFrozen', `${FROZEN_BACKEND} It is deleted once an admin thaws backend ${o.status?.backend} (os-services/thaw).`, o.status?.phase);
  return { requeueAfterMs: 30_000 };
}

/**
 * The last step of every deletion: the object says deleting, its data is removed (`remove`), and the
 * finalizer lets it go; a failure shows error_deleting and is tried again in 30 s.
 */
export async function removeDataThenRelease<T extends Obj>(ctx: ReconcileContext<T>, ref: ResourceRef, o: T, what: string, remove: () => Promise<void>): Promise<Result | void> {
  await patchStatusChanges(ctx.client, ref, o as never, { phase: 'deleting' } as never, FIELD_MANAGER, { precondition: false, observedGeneration: false });
  try {
    await remove();
  } catch (e) {
    await stall(ctx, ref, o, 'DeleteFailed', `${what} ${idOf(o)} could not be deleted: ${describe(e)}`, 'error_deleting');
    return { requeueAfterMs: 30_000 };
  }
  await releaseFinalizer(ctx.client, ref, o);
  ctx.log.info(`${what.toLowerCase()} deleted`, { [what.toLowerCase()]: keyOf(o) });
}

export function volumeReconciler(deps: CinderDeps): Reconciler<Volume> {
  return async function reconcileVolume(req: Request, ctx: ReconcileContext<Volume>): Promise<Result | void> {
    const { client } = ctx;
    let vol = await client.get<Volume>(VOLUMES, req.namespace, req.name);
    if (!vol) return;
    const ns = vol.metadata.namespace!;
    const fresh = async () => (await client.list<VolumeAttachment>(VOLUME_ATTACHMENTS, ns)).items;
    if (isDeleting(vol)) return deleteVolume(vol, attachmentsOf(await fresh(), vol.metadata.name), ctx, deps);
    const attachments = attachmentsOf(deps.cached ? deps.cached.attachments(ns) : await fresh(), vol.metadata.name);
    if (await ensureFinalizer(client, VOLUMES, vol)) return;
    const write = async (change: object) => {
      vol = await patchStatusChanges(client, VOLUMES, vol!, change as never, FIELD_MANAGER, { precondition: false });
    };

    if (!vol.status?.madeFrom) {
      if (vol.status?.phase === 'error' && vol.status.observedGeneration === vol.metadata.generation) return; // refused stays refused until spec changes
      try {
        await makeVolume(vol, ctx, deps, write);
      } catch (e) {
        const refused = e instanceof Refused || e instanceof BackendError;
        const reason = refused ? (e as Refused).reason : 'CreateFailed';
        // Nothing half-made stays: no data in any pool, and the volume counts no more. A backend that cannot
        // clean up now (Ceph not answering) stays named, so that deleting the volume cleans up once it is back.
        // A volume taken over from another project keeps its data: it is this object's now, deleted with it.
        const taken = takenOverOf(vol);
        const cleaned = !taken && (!vol.status?.pool || (await backendOf(deps, vol.status.backend).delete(idOf(vol)).then(() => true, () => false)));
        await write({ pool: null, ...(taken ? { backend: taken.backend } : cleaned ? { backend: null } : {}) });
        await stall(ctx, VOLUMES, vol, reason, refused ? describe(e) : `Volume ${idOf(vol)} could not be made: ${describe(e)}`);
      }
      return;
    }
    const backend = backendOf(deps, vol.status.backend);
    const id = idOf(vol);

    // A size raised: the backend grows it; an attached guest's hypervisor grows what the guest sees.
    const want = vol.spec.sizeGiB;
    const have = vol.status.sizeGiB ?? want;
    const live = attachments.filter((a) => a.status?.phase === 'attached' && !isDeleting(a));
    if (want > have) {
      try {
        await admit(client, ns, vol.metadata.uid!, { gigabytes: want - have, volumeGiB: want, volumeType: volumeTypeOf(vol) }, async () => {
          await write({ phase: 'extending', conditions: markReconciling(vol!.status?.conditions, vol!.metadata.generation, 'Extending', `growing from ${have} to ${want} GiB`) });
        });
      } catch (e) {
        if (!(e instanceof Refused)) throw e;
        await stall(ctx, VOLUMES, vol, e.reason, e.message, 'error_extending');
        return;
      }
      await backend.extend(id, want, live.length > 0);
      const waiting = live.filter((a) => (a.status?.sizeGiB ?? 0) < want);
      if (waiting.length) return { requeueAfterMs: 2000 }; // the node's hot resize brings the attachment (and us) back
      await write({ sizeGiB: want });
      await ctx.events.record(vol, 'Normal', 'Extended', `Volume extended from ${have} to ${want} GiB${live.length ? ' online' : ''}`);
      ctx.log.info('volume extended', { from: have, to: want, online: live.length > 0 });
    } else if (want < have && vol.status.phase !== 'error_extending') {
      await stall(ctx, VOLUMES, vol, 'InvalidInput', `New size for extend must be greater than current size. (current: ${have}, extended: ${want}).`, vol.status.phase ?? 'available');
    }

    // A restore asked into this volume (Cinder's backup restore to an existing volume).
    const asked = vol.spec.restoreFromBackup?.count ?? 0;
    if (asked > (vol.status.restoresDone ?? 0) && vol.spec.restoreFromBackup?.backup) {
      if (live.length) {
        await stall(ctx, VOLUMES, vol, 'InvalidVolume', 'Invalid volume: Volume to be restored to must be available', vol.status.phase ?? 'in-use');
        return;
      }
      await write({ phase: 'restoring-backup', conditions: markReconciling(vol.status.conditions, vol.metadata.generation, 'Restoring', `restoring backup ${vol.spec.restoreFromBackup.backup}`) });
      try {
        await restoreInto(vol, vol.spec.restoreFromBackup.backup, false, ctx, deps);
      } catch (e) {
        await stall(ctx, VOLUMES, vol, e instanceof Refused ? e.reason : 'RestoreFailed', describe(e), 'error_restoring');
        return;
      }
      await write({ restoresDone: asked });
      await ctx.events.record(vol, 'Normal', 'Restored', `Backup ${vol.spec.restoreFromBackup.backup} restored into the volume`);
    }

    // A retype (a new type asked in spec): taken when the type keeps the volume on its backend; moving data
    // between backends is not offered.
    if (vol.spec.volumeType && vol.spec.volumeType !== vol.status.volumeType) {
      const type = await client.get<VolumeType>(VOLUME_TYPES, undefined, vol.spec.volumeType);
      if (!type) return void (await stall(ctx, VOLUMES, vol, 'VolumeTypeNotFound', `Volume type ${vol.spec.volumeType} could not be found.`, vol.status.phase));
      const encrypted = encryptedTypeRefusal(type);
      if (encrypted) return void (await stall(ctx, VOLUMES, vol, 'EncryptedVolumeType', encrypted, vol.status.phase));
      const why = retypeMigration(type, vol.status.backend, await poolStateOf(deps, vol.status.backend));
      if (why) return void (await stall(ctx, VOLUMES, vol, 'RetypeRequiresMigration', `Retype requires migration: ${why}, and volumes are not migrated between backends.`, vol.status.phase));
      const from = vol.status.volumeType;
      await write({ volumeType: type.metadata.name });
      await ctx.events.record(vol, 'Normal', 'Retyped', `Volume type changed from ${from} to ${type.metadata.name}`);
    }
    const [backups, images] = deps.cached
      ? [deps.cached.backups(ns), deps.cached.images(ns)]
      : await Promise.all([client.list<VolumeBackup>(VOLUME_BACKUPS, ns).then((l) => l.items), client.list<Image>(IMAGES, ns).then((l) => l.items)]);
    const computed = volumePhase({
      deleting: false,
      made: true,
      extending: false,
      restoring: false,
      // A snapshot's backup reads the snapshot: the volume stays as it is (Cinder shows the snapshot backing-up).
      backingUp: backups.some((b) => b.spec.volume === vol!.metadata.name && !b.spec.snapshot && b.status?.phase === 'creating'),
      uploading: images.some((i) => (i.spec.source as { volume?: { name: string } } | undefined)?.volume?.name === vol!.metadata.name && ['queued', 'saving'].includes(i.status?.phase ?? 'queued') && !isDeleting(i)),
      attachments,
      offered: !!vol.metadata.annotations?.[TRANSFER_ANNOTATION],
    });
    const { phase, mark } = shownStatus(computed, resetRequestOf(vol), vol.status.reset, vol.metadata.generation!);
    const refused = vol.status.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
    await write({
      phase,
      reset: mark ?? null,
      attachments: attachmentRecords(attachments),
      bootable: isBootable(vol),
      ...(refused && refused.observedGeneration === vol.metadata.generation ? {} : { conditions: markReady(vol.status.conditions, vol.metadata.generation, 'VolumeReady', `${vol.status.sizeGiB} GiB in pool ${vol.status.pool}, ${phase}`) }),
    });
    // Transient words (attaching, backing-up, …) are looked at again soon; a resting volume now and then.
    return { requeueAfterMs: ['available', 'in-use', 'awaiting-transfer'].includes(computed) ? 60_000 : 2000 };
  };
}

/** Admits, places and fills a new volume from its source; a volume moved from another project takes over its data. */
async function makeVolume(vol: Volume, ctx: ReconcileContext<Volume>, deps: CinderDeps, write: (change: object) => Promise<void>): Promise<void> {
  const taken = takenOverOf(vol);
  if (taken) return takeOver(vol, taken, ctx, deps, write);
  const { client } = ctx;
  const ns = vol.metadata.namespace!;
  const typeName = vol.spec.volumeType ?? DEFAULT_VOLUME_TYPE;
  const type = await client.get<VolumeType>(VOLUME_TYPES, undefined, typeName);
  if (!type && vol.spec.volumeType) throw new Refused('VolumeTypeNotFound', `Volume type ${typeName} could not be found.`);
  const encrypted = type && encryptedTypeRefusal(type);
  if (encrypted) throw new Refused('EncryptedVolumeType', encrypted);
  const source = await sourceOf(vol, client);
  const services = await readServiceStates(client);
  const pools = await Promise.all(deps.backends.map((b) => poolStateOf(deps, b.name).then((p) => ({ ...p!, unschedulable: unschedulable(services.get(volumeServiceKey(b.name))) }))));
  const choice = pickPool(pools, type, vol.spec.sizeGiB);
  if ('refused' in choice) throw new Refused('NoValidBackend', choice.refused);
  const backend = backendOf(deps, choice.pool.backend);
  const projectId = await projectIdOf(client, ns);
  await admit(client, ns, vol.metadata.uid!, { volumes: 1, gigabytes: vol.spec.sizeGiB, volumeGiB: vol.spec.sizeGiB, volumeType: typeName, ...(type ? { volumeTypeName: displayNameOf(type) } : {}) }, () =>
    write({
      id: idOf(vol),
      projectId,
      phase: 'creating',
      backend: backend.name,
      pool: choice.pool.pool,
      sizeGiB: vol.spec.sizeGiB,
      volumeType: type ? type.metadata.name : typeName,
      conditions: markReconciling(vol.status?.conditions, vol.metadata.generation, 'Creating', `making ${vol.spec.sizeGiB} GiB in pool ${choice.pool.pool} from ${source.describe}`),
    }),
  );
  const id = idOf(vol);
  let imageMetadata: Record<string, string> | undefined;
  if (source.kind === 'blank') await backend.create(id, vol.spec.sizeGiB);
  else if (source.kind === 'image') imageMetadata = await fromImage(source.image, vol, backend, deps);
  else if (source.kind === 'snapshot') {
    const snap = source.snapshot;
    if (snap.status?.backend !== backend.name) throw new Refused('InvalidInput', `Snapshot ${snap.metadata.name} is in backend ${snap.status?.backend}, not ${backend.name}.`);
    await backend.createFromSnapshot(id, idOf(snap), vol.spec.sizeGiB);
  } else if (source.kind === 'volume') await backend.cloneVolume(id, idOf(source.volume), vol.spec.sizeGiB);
  else {
    await backend.create(id, vol.spec.sizeGiB);
    await restoreInto(vol, source.backup.metadata.name, true, ctx, deps, backend);
  }
  const fromImage_ = source.kind === 'image';
  await write({
    madeFrom: source.madeFrom,
    connection: backend.connection(id),
    bootable: vol.spec.bootable ?? (fromImage_ || (source.kind === 'volume' && !!source.volume.status?.bootable) || (source.kind === 'snapshot' && !!source.bootable)),
    ...(imageMetadata ? { imageMetadata } : source.kind === 'volume' && volumeImageMetadata(source.volume) ? { imageMetadata: volumeImageMetadata(source.volume) } : {}),
    phase: 'available',
    restoresDone: vol.spec.restoreFromBackup?.count ?? 0,
    conditions: markReady(vol.status?.conditions, vol.metadata.generation, 'VolumeReady', `${vol.spec.sizeGiB} GiB in pool ${choice.pool.pool}, from ${source.describe}`),
  });
  await ctx.events.record(vol, 'Normal', 'Created', `Volume of ${vol.spec.sizeGiB} GiB made in pool ${choice.pool.pool} from ${source.describe}`);
  ctx.log.info('volume created', { pool: choice.pool.pool, sizeGiB: vol.spec.sizeGiB, from: source.describe });
}

/**
 * A volume accepted from another project (a transfer): its data stays where the first object made it, under the
 * same ID; this object counts toward its new project's quota and shows what was made.
 */
async function takeOver(vol: Volume, taken: TakenOver, ctx: ReconcileContext<Volume>, deps: CinderDeps, write: (change: object) => Promise<void>): Promise<void> {
  const { client } = ctx;
  const ns = vol.metadata.namespace!;
  const backend = backendOf(deps, taken.backend);
  const id = idOf(vol);
  const type = volumeTypeOf(vol);
  await admit(client, ns, vol.metadata.uid!, { volumes: 1, gigabytes: taken.sizeGiB, volumeGiB: taken.sizeGiB, volumeType: type }, () =>
    write({ id, phase: 'creating', backend: backend.name, pool: taken.pool, sizeGiB: taken.sizeGiB, volumeType: type, conditions: markReconciling(vol.status?.conditions, vol.metadata.generation, 'TakingOver', `taking over volume ${taken.from}`) }),
  );
  await write({
    projectId: await projectIdOf(client, ns),
    madeFrom: taken.madeFrom,
    connection: backend.connection(id),
    bootable: taken.bootable,
    ...(taken.imageMetadata ? { imageMetadata: taken.imageMetadata } : {}),
    phase: 'available',
    restoresDone: 0,
    conditions: markReady(vol.status?.conditions, vol.metadata.generation, 'VolumeReady', `${taken.sizeGiB} GiB in pool ${taken.pool}, transferred from ${taken.from}`),
  });
  await ctx.events.record(vol, 'Normal', 'Transferred', `Volume ${id} taken over from ${taken.from}`);
  ctx.log.info('volume taken over', { from: taken.from, pool: taken.pool });
}

type Source =
  | { kind: 'blank'; describe: string; madeFrom: string }
  | { kind: 'image'; image: Image; describe: string; madeFrom: string }
  | { kind: 'snapshot'; snapshot: VolumeSnapshot; bootable: boolean; describe: string; madeFrom: string }
  | { kind: 'volume'; volume: Volume; describe: string; madeFrom: string }
  | { kind: 'backup'; backup: VolumeBackup; describe: string; madeFrom: string };

/** The volume's source as it stands now, checked: it must exist, be ready and fit. */
async function sourceOf(vol: Volume, client: KubeClient): Promise<Source> {
  const ns = vol.metadata.namespace!;
  const s = vol.spec.source ?? {};
  const size = vol.spec.sizeGiB;
  if (s.image) {
    const imageNs = s.image.namespace ?? ns;
    const image = await client.get<Image>(IMAGES, imageNs, s.image.name);
    const tenant = await client.get<Tenant>(TENANTS, undefined, ns);
    if (!image || !canSee(image, { tenant: ns, projectId: tenant?.status?.projectId, admin: false })) throw new Refused('ImageNotFound', `Image ${s.image.name} could not be found.`);
    if (image.status?.phase !== 'active') throw new Refused('InvalidInput', `Image ${image.metadata.uid} is not active.`);
    const minDisk = image.spec.minDisk ?? 0;
    if (minDisk > size) throw new Refused('InvalidInput', `Volume size ${size}GB cannot be smaller than the image minDisk size ${minDisk}GB.`);
    return { kind: 'image', image, describe: `image ${imageNs}/${image.metadata.name}`, madeFrom: `image:${image.metadata.uid}` };
  }
  if (s.snapshot) {
    const snap = await client.get<VolumeSnapshot>(VOLUME_SNAPSHOTS, ns, s.snapshot);
    if (!snap || isDeleting(snap)) throw new Refused('SnapshotNotFound', `Snapshot ${s.snapshot} could not be found.`);
    if (snap.status?.phase !== 'available') throw new Refused('InvalidSnapshot', `Invalid snapshot: Originating snapshot status must be one of 'available' values`);
    if ((snap.status.sizeGiB ?? 0) > size) throw new Refused('InvalidInput', `Volume size '${size}'GB cannot be smaller than the snapshot size ${snap.status.sizeGiB}GB. They must be >= original snapshot size.`);
    const origin = await client.get<Volume>(VOLUMES, ns, snap.spec.volume);
    return { kind: 'snapshot', snapshot: snap, bootable: !!origin?.status?.bootable, describe: `snapshot ${snap.metadata.name}`, madeFrom: `snapshot:${snap.metadata.uid}` };
  }
  if (s.volume) {
    const src = await client.get<Volume>(VOLUMES, ns, s.volume);
    if (!src || isDeleting(src)) throw new Refused('VolumeNotFound', `Volume ${s.volume} could not be found.`);
    if (!src.status?.madeFrom || src.status.phase === 'error') throw new Refused('InvalidVolume', `Invalid volume: Source volume status must be available or in-use`);
    if ((src.status.sizeGiB ?? 0) > size) throw new Refused('InvalidInput', `Volume size '${size}'GB cannot be smaller than the source volume size ${src.status.sizeGiB}GB. They must be >= original volume size.`);
    return { kind: 'volume', volume: src, describe: `volume ${src.metadata.name}`, madeFrom: `volume:${src.metadata.uid}` };
  }
  if (s.backup) {
    const b = await client.get<VolumeBackup>(VOLUME_BACKUPS, ns, s.backup);
    if (!b || isDeleting(b)) throw new Refused('BackupNotFound', `Backup ${s.backup} could not be found.`);
    if (b.status?.phase !== 'available' && b.status?.phase !== 'restoring') throw new Refused('InvalidBackup', 'Invalid backup: Backup status must be available');
    if ((b.status.sizeGiB ?? 0) > size) throw new Refused('InvalidInput', `Volume size ${size}GB cannot be smaller than the backup size ${b.status.sizeGiB}GB.`);
    return { kind: 'backup', backup: b, describe: `backup ${b.metadata.name}`, madeFrom: `backup:${b.metadata.uid}` };
  }
  return { kind: 'blank', describe: 'nothing (blank)', madeFrom: 'blank' };
}

/** Fetches the image's data and writes it into the volume; returns the image's properties (volume_image_metadata). */
async function fromImage(image: Image, vol: Volume, backend: VolumeBackend, deps: CinderDeps): Promise<Record<string, string>> {
  const key = keyFromLocation(image.status?.location);
  if (!key) throw new Refused('ImageNotFound', `Image ${image.metadata.uid} has no data.`);
  const format = image.spec.diskFormat ?? 'raw';
  if (backend.createFromRawStream && (format === 'raw' || format === 'ami')) {
    // Raw bytes need no conversion: they go straight from the image store into the volume.
    if ((image.status?.size ?? 0) > vol.spec.sizeGiB * 1024 ** 3) throw new BackendError('ImageTooBig', `Image virtual size is ${Math.ceil((image.status?.size ?? 0) / 1024 ** 3)}GB and doesn't fit in a volume of size ${vol.spec.sizeGiB}GB.`);
    const { body } = await deps.images.get(key);
    await backend.createFromRawStream(idOf(vol), vol.spec.sizeGiB, body as AsyncIterable<Uint8Array>);
    return imageMetadataOf(image);
  }
  await mkdir(deps.workDir, { recursive: true, mode: 0o700 });
  const temp = join(deps.workDir, `image-${vol.metadata.uid}`);
  try {
    const { body } = await deps.images.get(key);
    await pipeline(body, createWriteStream(temp, { mode: 0o600 }));
    await backend.createFromImage(idOf(vol), vol.spec.sizeGiB, temp, format);
  } finally {
    await rm(temp, { force: true });
  }
  return imageMetadataOf(image);
}

/** An image's properties as a volume keeps them (volume_image_metadata). */
function imageMetadataOf(image: Image): Record<string, string> {
  return {
    ...Object.fromEntries(Object.entries(image.spec.properties ?? {}).map(([k, v]) => [k, String(v)])),
    image_id: image.status?.imageId ?? image.metadata.uid!,
    image_name: image.spec.displayName ?? image.metadata.name,
    disk_format: image.spec.diskFormat ?? 'raw',
    container_format: image.spec.containerFormat ?? 'bare',
    min_disk: String(image.spec.minDisk ?? 0),
    min_ram: String(image.spec.minRam ?? 0),
    size: String(image.status?.size ?? 0),
    checksum: image.status?.checksum ?? '',
  };
}

/** Writes a backup's data into the volume (it must fit); marks the backup restoring meanwhile. */
async function restoreInto(vol: Volume, backupName: string, blank: boolean, ctx: ReconcileContext<Volume>, deps: CinderDeps, backend = backendOf(deps, vol.status?.backend)): Promise<void> {
  const { client } = ctx;
  const backup = await client.get<VolumeBackup>(VOLUME_BACKUPS, vol.metadata.namespace, backupName);
  if (!backup || isDeleting(backup)) throw new Refused('BackupNotFound', `Backup ${backupName} could not be found.`);
  if (backup.status?.phase !== 'available' && backup.status?.phase !== 'restoring') throw new Refused('InvalidBackup', 'Invalid backup: Backup status must be available');
  const manifest = await deps.backups.manifest(backup.status.prefix!, backup.status.container);
  if (!manifest) throw new Refused('InvalidBackup', `Backup ${backupName} has no manifest in ${backup.status.container}/${backup.status.prefix}.`);
  if (manifest.sizeBytes > (vol.status?.sizeGiB ?? vol.spec.sizeGiB) * 1024 ** 3) throw new Refused('InvalidInput', `Volume size ${vol.spec.sizeGiB}GB cannot be smaller than the backup size ${backup.status.sizeGiB}GB.`);
  await patchStatusChanges(client, VOLUME_BACKUPS, backup, { phase: 'restoring', restoring: vol.metadata.name }, FIELD_MANAGER, { precondition: false, observedGeneration: false });
  try {
    await deps.backups.restore(backend, manifest, idOf(vol), blank, backup.status.container);
  } finally {
    const fresh = await client.get<VolumeBackup>(VOLUME_BACKUPS, backup.metadata.namespace, backup.metadata.name);
    if (fresh) await patchStatusChanges(client, VOLUME_BACKUPS, fresh, { phase: 'available', restoring: null }, FIELD_MANAGER, { precondition: false, observedGeneration: false });
  }
}

async function deleteVolume(vol: Volume, attachments: VolumeAttachment[], ctx: ReconcileContext<Volume>, deps: CinderDeps): Promise<Result | void> {
  const { client } = ctx;
  if (!hasFinalizer(vol, DATA_FINALIZER)) return;
  const held = attachments.filter((a) => a.status?.phase !== 'error');
  if (held.length) {
    await stall(ctx, VOLUMES, vol, 'VolumeAttached', `Volume is attached to ${held.map((a) => a.spec.instance).join(', ')}: detach it first (delete its VolumeAttachments)`, vol.status?.phase);
    return { requeueAfterMs: 5000 };
  }
  const snapshots = (await client.list<VolumeSnapshot>(VOLUME_SNAPSHOTS, vol.metadata.namespace)).items.filter((s) => s.spec.volume === vol.metadata.name);
  if (snapshots.length) {
    await stall(ctx, VOLUMES, vol, 'VolumeHasSnapshots', `Volume has ${snapshots.length} snapshot(s) (${snapshots.map((s) => s.metadata.name).join(', ')}): delete them first`, vol.status?.phase);
    return { requeueAfterMs: 5000 };
  }
  if (await backendFrozen(client, vol.status?.backend)) return holdWhileFrozen(ctx, VOLUMES, vol);
  return removeDataThenRelease(ctx, VOLUMES, vol, 'Volume', async () => {
    // Given to another project (a transfer): its data belongs to the object there now.
    if (vol.status?.backend && !handedOver(vol)) await backendOf(deps, vol.status.backend).delete(idOf(vol));
  });
}
