/**
 * Volumes uploaded to images (Cinder's os-volume_upload_image): an Image whose source is a volume of its
 * namespace is marked saving, the volume's raw bytes are stored as its data in the image store, checked and
 * recorded as Glance records any data. A failure kills the image with the reason and leaves no object.
 */
import { DATA_FINALIZER as IMAGE_DATA_FINALIZER, DEFAULT_SIZE_CAP, IMAGES, UPLOAD_HEARTBEAT_MS, failureOf, killedStatus, recordStoredData, storeImageData, type Image, type ImageStore } from '@stratus/glance';
import { isDeleting, markReconciling, now, patchStatus, type ReconcileContext, type Reconciler, type Result } from '@stratus/runtime';
import { FIELD_MANAGER, VOLUMES, idOf, type Volume } from './resources.js';
import { backendOf, type CinderDeps } from './volumes.js';

export function imageUploadReconciler(deps: CinderDeps & { imageStore: ImageStore }): Reconciler<Image> {
  return async (req, ctx: ReconcileContext<Image>): Promise<Result | void> => {
    if (!ctx.cached()?.spec.source?.volume) return;
    const { client, log } = ctx;
    const img = await client.get<Image>(IMAGES, req.namespace, req.name);
    if (!img?.spec.source?.volume || isDeleting(img) || (img.status?.phase ?? 'queued') !== 'queued') return;
    if (!img.metadata.finalizers?.includes(IMAGE_DATA_FINALIZER)) return { requeueAfterMs: 500 };
    const volName = img.spec.source.volume.name;
    const vol = await client.get<Volume>(VOLUMES, img.metadata.namespace, volName);
    const started = now();
    if (!vol?.status?.madeFrom) {
      await patchStatus(client, IMAGES, img, killedStatus(img, { reason: 'VolumeNotFound', message: `Volume ${volName} could not be found.` }), FIELD_MANAGER);
      return;
    }
    await patchStatus(client, IMAGES, img, { phase: 'saving', uploadStartedAt: started, uploadHeartbeat: started, conditions: markReconciling(img.status?.conditions, img.metadata.generation, 'UploadingVolume', `volume ${volName} is being copied`) }, FIELD_MANAGER);
    const heartbeat = setInterval(() => void client.patch(IMAGES, img.metadata.namespace, img.metadata.name, { status: { uploadHeartbeat: now() } }, FIELD_MANAGER, 'application/merge-patch+json', 'status').catch(() => {}), UPLOAD_HEARTBEAT_MS);
    try {
      const data = await storeImageData(deps.imageStore, img, backendOf(deps, vol.status.backend).openRaw(idOf(vol)), { maxSize: DEFAULT_SIZE_CAP });
      if (await recordStoredData(client, deps.imageStore, img, data)) {
        log.info('volume uploaded to image', { volume: volName, size: data.stored.size });
        await ctx.events.record(img, 'Normal', 'VolumeUploaded', `Volume ${volName}: ${data.stored.size} bytes stored`);
        await ctx.events.record(vol, 'Normal', 'UploadedToImage', `Uploaded to image ${img.spec.displayName ?? img.metadata.name}`);
      }
    } catch (e) {
      const failure = failureOf(e);
      log.warn('volume upload failed', { volume: volName, reason: failure.reason, error: failure.message });
      await ctx.events.record(img, 'Warning', failure.reason, failure.message);
      const fresh = (await client.get<Image>(IMAGES, img.metadata.namespace, img.metadata.name)) ?? img;
      await patchStatus(client, IMAGES, fresh, killedStatus(fresh, failure), FIELD_MANAGER);
    } finally {
      clearInterval(heartbeat);
    }
  };
}
