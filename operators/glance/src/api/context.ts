/** What every Image API route works with, and the steps several of them share. */
import type { ImportFilter } from '../importFilter.js';
import { randomUUID } from 'node:crypto';
import { KubeApiError, MERGE_PATCH, isConflict, type KubeClient, type Logger, type Router } from '@stratus/runtime';
import { FIELD_MANAGER, IMAGES, imageIdOf, type Image } from '../resources.js';
import type { ImageStore } from '../store/imageStore.js';
import { canModify } from '../visibility.js';
import type { ImageDirectory } from './directory.js';
import { GlanceError, badRequest, conflict, forbidden, noImage } from './errors.js';
import type { ImageAuth } from './tokens.js';

export const API_FIELD_MANAGER = `${FIELD_MANAGER}-api`;

export interface GlanceApi {
  dir: ImageDirectory;
  client: KubeClient;
  store: ImageStore;
  sizeCap: number;
  log: Logger;
  /** Which URLs web-download may name (checked again, with DNS, when the data is fetched). */
  importFilter: ImportFilter;
  /** An upload that sends nothing for this long is abandoned. */
  uploadIdleMs: number;
}

export type GlanceRouter = Router<ImageAuth>;

export const newImageId = () => randomUUID();

/** The image the caller may change, or 404 (cannot see it) / 403 (can see, not theirs). */
export function modifiable(api: GlanceApi, id: string, auth: ImageAuth): Image {
  const img = api.dir.visible(id, auth);
  if (!canModify(img, auth)) throw forbidden(`You are not permitted to modify image ${id}: it belongs to another project.`);
  return img;
}

/** Kubernetes errors on the way out, as Glance would say them. */
export function fromKubernetes(e: unknown, what: string): never {
  if (e instanceof KubeApiError) {
    if (e.code === 409 && e.reason === 'AlreadyExists') throw conflict(`${what} already exists.`);
    if (e.code === 409) throw conflict(`${what} was changed by someone else at the same time; try again.`);
    if (e.code === 422 || e.code === 400) throw badRequest(`Invalid ${what}: ${e.message}`);
    if (e.code === 404) throw new GlanceError(404, 'Not Found', `${what} no longer exists.`);
  }
  throw e;
}

const CONFLICT_RETRIES = 5;

/**
 * Changes an image with a merge patch that `change` makes from its current state. The patch carries that
 * state's resourceVersion, so nothing written meanwhile (say, the reconciler's status) is lost: on a conflict
 * the image is read again and `change` decides anew (and may refuse, by throwing). Waits for the cache.
 */
export async function updateImage(api: GlanceApi, img: Image, change: (current: Image) => Record<string, unknown>, what: string, subresource?: string): Promise<Image> {
  let current = img;
  for (let attempt = 1; ; attempt++) {
    const patch = change(current);
    const body = { ...patch, metadata: { ...((patch.metadata as object) ?? {}), resourceVersion: current.metadata.resourceVersion } };
    try {
      const written = await api.client.patch<Image>(IMAGES, current.metadata.namespace, current.metadata.name, body, API_FIELD_MANAGER, MERGE_PATCH, subresource);
      await api.dir.seen(written);
      return written;
    } catch (e) {
      if (!isConflict(e) || attempt === CONFLICT_RETRIES) fromKubernetes(e, what);
      const fresh = await api.client.get<Image>(IMAGES, current.metadata.namespace, current.metadata.name);
      if (!fresh || fresh.metadata.deletionTimestamp || fresh.metadata.uid !== img.metadata.uid) throw noImage(imageIdOf(img));
      current = fresh;
    }
  }
}
