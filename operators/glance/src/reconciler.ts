/**
 * The Image reconciler. The story of an image: it gets a finalizer guarding its data; an uploaded image waits
 * (queued) for its data through the Image API, and an instance snapshot for the node agent taking it; an
 * imported one has its URL or source image streamed into S3 (importing) and checked with qemu-img; then it is
 * active, or deactivated as spec says, or killed with the reason its data was refused. Deleting it removes
 * the object in S3 first, unless it is protected.
 */
import {
  addFinalizerPatch,
  hasFinalizer,
  isDeleting,
  markReady,
  markReconciling,
  markStalled,
  patchStatus,
  removeFinalizerPatch,
  type ReconcileContext,
  type Reconciler,
  type Request,
  type Result,
} from '@stratus/runtime';
import { DEFAULT_SIZE_CAP, ImportError, failureOf, identityStatus, killedStatus, recordStoredData, storeImageData } from './imageData.js';
import { DATA_FINALIZER, FIELD_MANAGER, IMAGES, TENANTS, UPLOAD_STALE_MS, imageIdOf, isUploadSource, keyFromLocation, storeKeyOf, type Image, type Tenant } from './resources.js';
import { openImageCopy, openUrl } from './sources.js';
import type { ImportFilter } from './importFilter.js';
import type { ImageStore } from './store/imageStore.js';

export interface ImageReconcilerOptions {
  store: ImageStore;
  sizeCap?: number;
  /** Which URLs imports may fetch (default: Glance's, and no address that is not public). */
  importFilter?: ImportFilter;
}

const WAIT_FOR_SOURCE_MS = 5000;

export function imageReconciler(opts: ImageReconcilerOptions): Reconciler<Image> {
  return async function reconcileImage(req: Request, ctx: ReconcileContext<Image>): Promise<Result | void> {
    const { client } = ctx;
    const img = await client.get<Image>(IMAGES, req.namespace, req.name);
    if (!img) return;
    if (isDeleting(img)) return finalizeImage(img, ctx, opts.store);

    const withFinalizer = addFinalizerPatch(img, DATA_FINALIZER);
    if (withFinalizer) {
      await client.patch(IMAGES, req.namespace, req.name, withFinalizer, FIELD_MANAGER);
      return; // the write brings the image back here
    }

    const gen = img.metadata.generation;
    const conditions = img.status?.conditions;
    const tenant = await client.get<Tenant>(TENANTS, undefined, img.metadata.namespace);
    const identity = identityStatus(img, tenant?.status?.projectId);
    const write = (change: object) => patchStatus(client, IMAGES, img, { ...identity, ...change }, FIELD_MANAGER);

    switch (img.status?.phase) {
      case 'active':
      case 'deactivated': {
        const phase = img.spec.deactivated ? 'deactivated' : 'active';
        if (phase !== img.status.phase) await ctx.events.record(img, 'Normal', phase === 'active' ? 'Reactivated' : 'Deactivated', `The image is ${phase}`);
        await write({ phase, conditions: markReady(conditions, gen, phase === 'active' ? 'Active' : 'Deactivated', phase === 'active' ? `${img.status.size} bytes stored at ${img.status.location}` : 'the image is deactivated: only admins may download or boot it') });
        return;
      }
      case 'saving': {
        // An upload through the Image API is under way and records its own result, unless its process died.
        const lastSign = Date.parse(img.status.uploadHeartbeat ?? img.status.uploadStartedAt ?? '') || 0;
        const quietFor = Date.now() - lastSign;
        if (quietFor < UPLOAD_STALE_MS) return { requeueAfterMs: UPLOAD_STALE_MS - quietFor + 1000 };
        await opts.store.discard(storeKeyOf(img));
        const failure = { reason: 'UploadAbandoned', message: `the upload stopped without a word for ${Math.round(quietFor / 1000)} s (its API process died?); what it wrote was removed` };
        await ctx.events.record(img, 'Warning', failure.reason, failure.message);
        await write(killedStatus(img, failure));
        return;
      }
      case 'killed':
        if (img.status.observedGeneration === gen) return; // refused data stays refused until the spec changes
    }

    if (!img.spec.diskFormat) {
      await write({ phase: 'queued', conditions: markStalled(conditions, gen, 'DiskFormatRequired', 'set spec.diskFormat before the image can take data') });
      return;
    }
    if (img.spec.source?.instance) {
      // The compute node running the instance takes the snapshot and records the data (saving, then active).
      await write({ phase: 'queued', conditions: markReconciling(conditions, gen, 'AwaitingSnapshot', `the node agent running instance ${img.spec.source.instance.name} is taking the snapshot`) });
      return;
    }
    if (img.spec.source?.volume) {
      // The block storage service copies the volume in and records the data (saving, then active).
      await write({ phase: 'queued', conditions: markReconciling(conditions, gen, 'AwaitingVolumeUpload', `the block storage service is copying volume ${img.spec.source.volume.name}`) });
      return;
    }
    if (isUploadSource(img.spec)) {
      await write({ phase: 'queued', conditions: markReconciling(conditions, gen, 'AwaitingUpload', `upload the data with PUT /v2/images/${imageIdOf(img)}/file (openstack image create --file, or image set with data)`) });
      return;
    }
    return importImage(img, ctx, opts, write);
  };
}

/** Streams the URL or source image into the store; the image ends active or killed with the reason. */
async function importImage(img: Image, ctx: ReconcileContext<Image>, opts: ImageReconcilerOptions, write: (change: object) => Promise<boolean>): Promise<Result | void> {
  const gen = img.metadata.generation;
  const source = img.spec.source!;
  const from = source.url ?? `image ${source.copyFrom!.namespace ?? img.metadata.namespace}/${source.copyFrom!.name}`;
  await write({ phase: 'importing', conditions: markReconciling(img.status?.conditions, gen, 'Importing', `importing the data from ${from}`) });
  try {
    const opened = source.url ? await openUrl(source.url, opts.importFilter) : await openImageCopy(ctx.client, opts.store, img, source.copyFrom!);
    const data = await storeImageData(opts.store, img, opened.body, { size: opened.size, checksum: source.checksum, maxSize: opts.sizeCap ?? DEFAULT_SIZE_CAP });
    if (await recordStoredData(ctx.client, opts.store, img, data)) {
      ctx.log.info('image imported', { from, size: data.stored.size, checksum: data.stored.checksum });
      await ctx.events.record(img, 'Normal', 'Imported', `Imported ${data.stored.size} bytes from ${from}`);
    }
  } catch (e) {
    if (e instanceof ImportError && e.reason === 'SourceNotReady') {
      await write({ phase: 'queued', conditions: markReconciling(img.status?.conditions, gen, e.reason, e.message) });
      return { requeueAfterMs: WAIT_FOR_SOURCE_MS };
    }
    const failure = failureOf(e);
    ctx.log.warn('image import failed', { from, reason: failure.reason, error: failure.message });
    await ctx.events.record(img, 'Warning', failure.reason, failure.message);
    await write(killedStatus(img, failure));
  }
}

async function finalizeImage(img: Image, ctx: ReconcileContext<Image>, store: ImageStore): Promise<void> {
  if (!hasFinalizer(img, DATA_FINALIZER)) return;
  const { client } = ctx;
  if (img.spec.protected) {
    const message = 'the image is protected: set spec.protected to false to let it be deleted';
    if (img.status?.conditions?.find((c) => c.type === 'Stalled')?.reason !== 'Protected') await ctx.events.record(img, 'Warning', 'DeletionBlocked', message);
    await patchStatus(client, IMAGES, img, { conditions: markStalled(img.status?.conditions, img.metadata.generation, 'Protected', message) }, FIELD_MANAGER);
    return; // a change to spec.protected brings it back here
  }
  const key = keyFromLocation(img.status?.location) ?? storeKeyOf(img);
  // discard, not delete: an upload cut off by a dying process left parts that only their listing finds.
  await store.discard(key);
  const release = removeFinalizerPatch(img, DATA_FINALIZER);
  if (release) await client.patch(IMAGES, img.metadata.namespace, img.metadata.name, release, FIELD_MANAGER);
  ctx.log.info('image data deleted', { key });
}
