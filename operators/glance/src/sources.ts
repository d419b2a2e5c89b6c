/** Where imported data comes from: an HTTP(S) URL (web-download) or another image's stored data. */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { DEFAULT_IMPORT_FILTER, addressRefusal, urlRefusal, type ImportFilter } from './importFilter.js';
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
/** A source that sends nothing for this long is given up on (the import is killed, not left importing). */
const IDLE_TIMEOUT_MS = 60_000;
const MAX_REDIRECTS = 5;

/**
 * Opens the URL as the filter allows: the URL is checked, the name's addresses are checked as they are
 * resolved (the connection goes to the address checked, so a second answer cannot differ), and each redirect
 * is checked anew. HTTP errors, refusals and unreachable hosts become ImportError with what went wrong.
 */
export async function openUrl(url: string, filter: ImportFilter = DEFAULT_IMPORT_FILTER): Promise<SourceData> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new ImportError('ImportRefused', `${url} is not a URL`);
  }
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const refused = urlRefusal(filter, target);
    if (refused) throw new ImportError('ImportRefused', `import from ${target.href} refused: ${refused}`);
    const res = await get(target, filter);
    const location = res.headers.location;
    if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && location) {
      res.destroy();
      target = new URL(location, target);
      continue;
    }
    if (!res.statusCode || res.statusCode >= 300) {
      res.destroy();
      throw new ImportError('ImportFailed', `GET ${target.href} answered ${res.statusCode} ${res.statusMessage ?? ''}`.trim());
    }
    // Nothing arriving for a minute ends the import rather than leaving it importing for good.
    res.setTimeout(IDLE_TIMEOUT_MS, () => res.destroy(new Error(`${target.href} sent nothing for ${IDLE_TIMEOUT_MS / 1000} s`)));
    const length = res.headers['content-length'];
    return { body: res, size: length && !res.headers['content-encoding'] ? Number(length) : undefined };
  }
  throw new ImportError('ImportFailed', `${url} redirected more than ${MAX_REDIRECTS} times`);
}

/** One GET, connecting only to an address the filter allows. */
function get(url: URL, filter: ImportFilter): Promise<IncomingMessage> {
  const checkedLookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as LookupAddress[];
      const fine = list.filter((a) => !addressRefusal(filter, url, a.address));
      if (!fine.length) return callback(new ImportError('ImportRefused', `import from ${url.href} refused: ${addressRefusal(filter, url, list[0].address)}`), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, fine);
      callback(null, fine[0].address, fine[0].family);
    });
  };
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsGet : httpGet)(url, { lookup: checkedLookup, timeout: CONNECT_TIMEOUT_MS }, resolve);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)));
    req.on('error', (e: Error & { code?: string }) => reject(e instanceof ImportError ? e : new ImportError('ImportFailed', `cannot reach ${url.href}: ${e.code ?? e.message}`)));
  });
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
