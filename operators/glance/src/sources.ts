/** Where imported data comes from: an HTTP(S) URL (web-download) or another image's stored data. */
import { Readable } from 'node:stream';
import type { KubeClient } from '@stratus/runtime';
import { ImportError } from './imageData.js';
import { IMAGES, keyFromLocation, type Image } from './resources.js';
import type { ImageStore } from './store/imageStore.js';
import { canSee } from './visibility.js';

export interface SourceData {
  body: Readable;
  /** The length the source announced, so a cut-short transfer is caught. */
  size?: number;
}

const CONNECT_TIMEOUT_MS = 30_000;

/** Opens the URL; HTTP errors and unreachable hosts become ImportError with what went wrong. */
export async function openUrl(url: string): Promise<SourceData> {
  const aborter = new AbortController();
  const timer = setTimeout(() => aborter.abort(), CONNECT_TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', signal: aborter.signal });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new ImportError('ImportFailed', `cannot reach ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new ImportError('ImportFailed', `GET ${url} answered ${res.status} ${res.statusText}`);
  }
  const length = res.headers.get('content-length');
  return { body: Readable.fromWeb(res.body as never), size: length && !res.headers.get('content-encoding') ? Number(length) : undefined };
}

/** Opens the data of the image `from` names, which the copying image's tenant must be able to see. */
export async function openImageCopy(client: KubeClient, store: ImageStore, img: Image, from: { namespace?: string; name: string }): Promise<SourceData> {
  const namespace = from.namespace ?? img.metadata.namespace;
  const source = await client.get<Image>(IMAGES, namespace, from.name);
  if (!source || source.metadata.deletionTimestamp || !canSee(source, { tenant: img.metadata.namespace, admin: false }))
    throw new ImportError('SourceNotFound', `image ${namespace}/${from.name} does not exist or is not visible to tenant ${img.metadata.namespace}`);
  const key = keyFromLocation(source.status?.location);
  if (source.status?.phase !== 'active' || !key) throw new ImportError('SourceNotReady', `image ${namespace}/${from.name} is ${source.status?.phase ?? 'queued'}, not active`);
  const { body, size } = await store.get(key);
  return { body, size };
}
