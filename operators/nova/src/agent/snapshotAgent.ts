/**
 * Instance snapshots (Nova's createImage), taken by the node agent running the instance: an Image whose
 * source is an instance on this host is marked saving, the guest's root disk is copied by the hypervisor at
 * one point in time (live), and the copy is stored as the image's data in the image store, checked and
 * recorded as Glance records any data. A failure kills the image with the reason and leaves nothing.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DATA_FINALIZER,
  DEFAULT_SIZE_CAP,
  IMAGES,
  UPLOAD_HEARTBEAT_MS,
  failureOf,
  killedStatus,
  recordStoredData,
  storeImageData,
  type Image,
  type ImageStore,
} from '@stratus/glance';
import { isDeleting, markReconciling, now, patchStatus, type ReconcileContext, type Reconciler, type Result } from '@stratus/runtime';
import { INSTANCES, type Instance } from '../resources.js';
import { BACKUP_ROTATION_ANNOTATION, backupsPastRotation } from '../backups.js';
import type { AgentConfig } from './config.js';
import type { InstanceFiles } from './instanceFiles.js';
import { AGENT_FIELD_MANAGER, type AgentDriver } from './instanceAgent.js';

export interface SnapshotDeps {
  config: AgentConfig;
  driver: AgentDriver;
  files: InstanceFiles;
  store: ImageStore;
}

/** The root disk, as every guest spec names it. */
const ROOT_DISK_OF = (targets: string[]) => targets.find((t) => t === 'vda' || t === 'sda') ?? targets[0];

export function snapshotReconciler(deps: SnapshotDeps): Reconciler<Image> {
  return async (req, ctx: ReconcileContext<Image>): Promise<Result | void> => {
    // Most images are no snapshot: the cache says so without a round trip.
    if (!ctx.cached()?.spec.source?.instance) return;
    const img = await ctx.client.get<Image>(IMAGES, req.namespace, req.name);
    if (!img?.spec.source?.instance || isDeleting(img) || (img.status?.phase ?? 'queued') !== 'queued') return;
    const inst = await ctx.client.get<Instance>(INSTANCES, img.metadata.namespace, img.spec.source.instance.name);
    if (!inst || inst.status?.host !== deps.config.host) return; // another host's, or no instance: not ours
    // Glance's finalizer guards the data before any is written.
    if (!img.metadata.finalizers?.includes(DATA_FINALIZER)) return { requeueAfterMs: 500 };
    await takeSnapshot(img, inst, ctx, deps);
  };
}

async function takeSnapshot(img: Image, inst: Instance, ctx: ReconcileContext<Image>, deps: SnapshotDeps): Promise<void> {
  const { client, log } = ctx;
  const uid = inst.metadata.uid!;
  const started = now();
  const saving = { phase: 'saving' as const, uploadStartedAt: started, uploadHeartbeat: started, conditions: markReconciling(img.status?.conditions, img.metadata.generation, 'Snapshotting', `the root disk of instance ${inst.metadata.name} is being copied on ${deps.config.host}`) };
  await patchStatus(client, IMAGES, img, saving, AGENT_FIELD_MANAGER);
  // Glance kills a saving image whose writer stops saying it is alive: say it while the copy runs.
  const heartbeat = setInterval(() => void client.patch(IMAGES, img.metadata.namespace, img.metadata.name, { status: { uploadHeartbeat: now() } }, AGENT_FIELD_MANAGER, 'application/merge-patch+json', 'status').catch(() => {}), UPLOAD_HEARTBEAT_MS);
  const copy = join(deps.files.paths(uid).dir, `snapshot-${img.metadata.uid}.qcow2`);
  try {
    const spec = await deps.files.loadGuestSpec(uid);
    if (!spec) throw new Error(`instance ${inst.metadata.name} has no guest on ${deps.config.host} yet`);
    await deps.driver.snapshotDisk(spec, ROOT_DISK_OF(spec.disks.map((d) => d.target)), copy);
    const data = await storeImageData(deps.store, img, createReadStream(copy), { maxSize: DEFAULT_SIZE_CAP });
    if (await recordStoredData(client, deps.store, img, data)) {
      log.info('snapshot stored', { instance: inst.metadata.name, size: data.stored.size, location: data.stored.location });
      await ctx.events.record(img, 'Normal', 'Snapshotted', `Snapshot of instance ${inst.metadata.name}: ${data.stored.size} bytes`);
      await ctx.events.record(inst, 'Normal', 'Snapshotted', `Snapshot stored as image ${img.spec.displayName ?? img.metadata.name}`);
      await rotateBackups(img, inst, ctx);
    }
  } catch (e) {
    const failure = failureOf(e);
    const reason = failure.reason === 'StoreFailed' ? 'SnapshotFailed' : failure.reason;
    log.warn('snapshot failed', { instance: inst.metadata.name, reason, error: failure.message });
    await ctx.events.record(img, 'Warning', reason, failure.message);
    const fresh = (await client.get<Image>(IMAGES, img.metadata.namespace, img.metadata.name)) ?? img;
    await patchStatus(client, IMAGES, fresh, killedStatus(fresh, { reason, message: failure.message }), AGENT_FIELD_MANAGER);
  } finally {
    clearInterval(heartbeat);
    await rm(copy, { force: true });
  }
}

/** A stored backup rotates its server's older backups of its type out, as Nova's backup does once uploaded. */
async function rotateBackups(img: Image, inst: Instance, ctx: ReconcileContext<Image>): Promise<void> {
  if (img.metadata.annotations?.[BACKUP_ROTATION_ANNOTATION] === undefined) return;
  const { items } = await ctx.client.list<Image>(IMAGES, img.metadata.namespace);
  for (const old of backupsPastRotation(items, img)) {
    await ctx.client.delete(IMAGES, old.metadata.namespace, old.metadata.name).catch((e: Error) => ctx.log.warn('backup not rotated out', { image: old.metadata.name, error: e.message }));
    ctx.log.info('backup rotated out', { instance: inst.metadata.name, image: old.metadata.name });
    await ctx.events.record(inst, 'Normal', 'BackupRotated', `Backup ${old.spec.displayName ?? old.metadata.name} deleted: ${img.metadata.annotations[BACKUP_ROTATION_ANNOTATION]} kept`);
  }
}
