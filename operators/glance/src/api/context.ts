/** What every Image API route works with, and the steps several of them share. */
import { randomUUID } from 'node:crypto';
import { KubeApiError, MERGE_PATCH, type KubeClient, type Logger, type Router } from '@stratus/runtime';
import { FIELD_MANAGER, IMAGES, type Image } from '../resources.js';
import type { ImageStore } from '../store/imageStore.js';
import { canModify } from '../visibility.js';
import type { ImageDirectory } from './directory.js';
import { GlanceError, badRequest, conflict, forbidden } from './errors.js';
import type { ImageAuth } from './tokens.js';

export const API_FIELD_MANAGER = `${FIELD_MANAGER}-api`;

export interface GlanceApi {
  dir: ImageDirectory;
  client: KubeClient;
  store: ImageStore;
  sizeCap: number;
  log: Logger;
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

/** A merge patch of the image carrying its resourceVersion, so a concurrent change is a 409, not lost; waits for the cache. */
export async function patchImage(api: GlanceApi, img: Image, patch: Record<string, unknown>, what: string, subresource?: string): Promise<Image> {
  const body = { ...patch, metadata: { ...((patch.metadata as object) ?? {}), resourceVersion: img.metadata.resourceVersion } };
  const written = await api.client.patch<Image>(IMAGES, img.metadata.namespace, img.metadata.name, body, API_FIELD_MANAGER, MERGE_PATCH, subresource).catch((e) => fromKubernetes(e, what));
  await api.dir.seen(written);
  return written;
}
