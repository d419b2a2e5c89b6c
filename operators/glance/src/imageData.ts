/**
 * Putting an image's data in the store and saying so in its status: one path for uploads through the
 * Image API and for imports by the reconciler, so both end in the same status and leave nothing behind.
 */
import type { Readable } from 'node:stream';
import { KubeApiError, markReady, markStalled, patchStatus, type KubeClient } from '@stratus/runtime';
import { FormatMismatch, inspectStoredImage, type Inspection } from './inspect.js';
import { DATA_FINALIZER, FIELD_MANAGER, IMAGES, imageIdOf, storeKeyOf, type Image, type ImageStatus } from './resources.js';
import { UploadError, type ImageStore, type StoredImage } from './store/imageStore.js';

/** Glance's image_size_cap default: 1 TiB. */
export const DEFAULT_SIZE_CAP = 1024 ** 4;

export interface StoredData {
  stored: StoredImage;
  inspection: Inspection;
}

/** Why data could not become an image: a CamelCase reason and what a person needs to know. */
export interface Failure {
  reason: string;
  message: string;
}

/** An import whose source could not be read (unreachable URL, HTTP error, missing source image) or may not be (a URL the import filter refuses). */
export class ImportError extends Error {
  constructor(
    readonly reason: 'ImportFailed' | 'ImportRefused' | 'SourceNotFound' | 'SourceNotReady',
    message: string,
  ) {
    super(message);
    this.name = 'ImportError';
  }
}

export function failureOf(e: unknown): Failure {
  if (e instanceof UploadError || e instanceof FormatMismatch || e instanceof ImportError) return { reason: e.reason, message: e.message };
  return { reason: 'StoreFailed', message: e instanceof Error ? e.message : String(e) };
}

/**
 * Streams `body` into the image's object, then checks it with qemu-img against the declared disk format.
 * Any failure removes what was written and throws (UploadError, FormatMismatch).
 */
export async function storeImageData(store: ImageStore, img: Image, body: Readable, expect: { size?: number; checksum?: string; maxSize?: number }): Promise<StoredData> {
  const key = storeKeyOf(img);
  const stored = await store.put(key, body, expect);
  try {
    return { stored, inspection: await inspectStoredImage(store, key, stored.size, img.spec.diskFormat ?? 'raw') };
  } catch (e) {
    await store.delete(key);
    throw e;
  }
}

/** The identity fields every status carries. */
export const identityStatus = (img: Image, owner: string | undefined): Partial<ImageStatus> => ({ imageId: imageIdOf(img), ...(owner ? { owner } : {}) });

/** The status of an image whose data is stored: active (or deactivated), with sizes and hashes. */
export function storedStatus(img: Image, data: StoredData): Partial<ImageStatus> {
  const { stored, inspection } = data;
  const phase = img.spec.deactivated ? 'deactivated' : 'active';
  return {
    phase,
    size: stored.size,
    virtualSize: inspection.virtualSize,
    checksum: stored.checksum,
    osHashAlgo: 'sha512',
    osHashValue: stored.hashValue,
    location: stored.location,
    conditions: markReady(img.status?.conditions, img.metadata.generation, phase === 'active' ? 'Active' : 'Deactivated', `${stored.size} bytes stored at ${stored.location}`),
  };
}

/** The status of an image whose data could not be stored: killed, with the reason. */
export const killedStatus = (img: Image, f: Failure): Partial<ImageStatus> => ({
  phase: 'killed',
  conditions: markStalled(img.status?.conditions, img.metadata.generation, f.reason, f.message),
});

/**
 * Records stored data in the image's status. If the image was deleted (or re-made) while the data was on
 * its way, nothing guards the object any more: it is removed, and this returns false.
 */
export async function recordStoredData(client: KubeClient, store: ImageStore, img: Image, data: StoredData): Promise<boolean> {
  const current = await client.get<Image>(IMAGES, img.metadata.namespace, img.metadata.name);
  if (!current || current.metadata.uid !== img.metadata.uid || current.metadata.deletionTimestamp || !current.metadata.finalizers?.includes(DATA_FINALIZER)) {
    await store.delete(data.stored.key);
    return false;
  }
  try {
    await patchStatus(client, IMAGES, current, storedStatus(current, data), FIELD_MANAGER);
  } catch (e) {
    if (e instanceof KubeApiError) await store.delete(data.stored.key);
    throw e;
  }
  return true;
}
