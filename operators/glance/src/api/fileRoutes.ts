/**
 * /v2/images/{id}/file: the data itself. Uploads stream from the client through the hashing pass into S3;
 * downloads stream from S3 to the client (with Range support and Content-MD5), or under `stratus up` are written
 * by the embedded S3 server on the client's connection. Neither holds an image in memory.
 */
import { HandedResponse, MERGE_PATCH, canHandOverResponse, markReconciling, now } from '@stratus/runtime';
import { DATA_FINALIZER, IMAGES, UPLOAD_HEARTBEAT_MS, isUploadSource, keyFromLocation, type Image } from '../resources.js';
import { failureOf, killedStatus, recordStoredData, storeImageData } from '../imageData.js';
import { EMBEDDED_S3_PROCESS } from '../store/embeddedS3.js';
import type { HandedRead } from '../store/objectServer/s3Server.js';
import { API_FIELD_MANAGER, modifiable, updateImage, type GlanceApi, type GlanceRouter } from './context.js';
import { GlanceError, badRequest, conflict, forbidden, tooLarge, unsupportedMediaType } from './errors.js';

/**
 * From what size a download is handed to the embedded S3 server (see the GET route): below it, the two
 * round trips of the handover (a HEAD, the socket's passage through the supervisor) weigh more than the copy.
 */
const HANDED_DOWNLOAD_MIN_BYTES = 1024 * 1024;

/** What a refused upload tells the client, by the reason the store gave. */
const UPLOAD_ERRORS: Record<string, (m: string) => GlanceError> = {
  ChecksumMismatch: (m) => badRequest(`Checksum verification failed: ${m}. The data was not kept.`),
  SizeMismatch: (m) => badRequest(`The data is not the announced size: ${m}. The data was not kept.`),
  TooLarge: (m) => tooLarge(`Image exceeds the storage quota: ${m}.`),
  Interrupted: (m) => badRequest(`The upload was cut short: ${m}. The data was not kept.`),
  DiskFormatMismatch: (m) => badRequest(`Image data does not match its disk_format: ${m}. The data was not kept.`),
};

/** Content-MD5 as RFC 1864 says (base64) or as Glance clients send it (hex): the md5 in hex. */
export function md5FromHeader(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (/^[0-9a-fA-F]{32}$/.test(value)) return value.toLowerCase();
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== 16) throw badRequest(`Content-MD5 must be an md5 digest (32 hex digits or 24 base64 characters), not '${value}'.`);
  return bytes.toString('hex');
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` of a `size`-byte object; undefined for a whole-object request. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (!m[1] && !m[2])) throw rangeError(size);
  const range = m[1] ? { start: Number(m[1]), end: m[2] ? Math.min(Number(m[2]), size - 1) : size - 1 } : { start: Math.max(size - Number(m[2]), 0), end: size - 1 };
  if (range.start > range.end || range.start >= size) throw rangeError(size);
  return range;
}

const rangeError = (size: number) => Object.assign(new GlanceError(416, 'Requested Range Not Satisfiable', `The range is not within the image's ${size} bytes.`), { headers: { 'Content-Range': `bytes */${size}` } });

export function fileRoutes(router: GlanceRouter, api: GlanceApi) {
  router.on(
    'PUT',
    '/images/:id/file',
    async (req) => {
      const type = String(req.headers['content-type'] ?? '').split(';')[0].trim();
      if (type !== 'application/octet-stream') throw unsupportedMediaType('Unsupported Content-Type: image data must be sent as application/octet-stream.');
      const ready = (img: Image) => {
        const phase = img.status?.phase ?? 'queued';
        if (phase !== 'queued') throw conflict(`Image status transition from ${phase} to saving is not allowed.`);
        if (!isUploadSource(img.spec)) throw conflict('This image imports its data from a URL or another image; it takes no upload.');
        if (!img.spec.diskFormat || !img.spec.containerFormat) throw badRequest('Properties disk_format, container_format must be set prior to saving data.');
        return img;
      };
      let img = ready(modifiable(api, req.params.id, req.auth));
      const checksum = md5FromHeader(req.headers['content-md5'] as string | undefined);
      const length = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
      if (length !== undefined && length > api.sizeCap) throw tooLarge(`Image exceeds the storage quota: ${length} bytes is more than the ${api.sizeCap}-byte limit.`);

      // Claim the image: the finalizer guards the data before any byte is written; the resourceVersion in
      // the status patch makes a second, concurrent upload a 409.
      if (!img.metadata.finalizers?.includes(DATA_FINALIZER))
        img = await updateImage(api, img, (cur) => ({ metadata: { finalizers: [...new Set([...(cur.metadata.finalizers ?? []), DATA_FINALIZER])] } }), `Image ${req.params.id}`);
      img = await updateImage(
        api,
        img,
        (cur) => ({ status: { phase: 'saving', uploadStartedAt: now(), conditions: markReconciling(ready(cur).status?.conditions, cur.metadata.generation, 'Saving', 'receiving the data through the Image API') } }),
        `Image ${req.params.id}`,
        'status',
      );
      // While the bytes flow, renew the heartbeat so the reconciler knows this upload is alive.
      const claimed = img;
      const heartbeat = setInterval(() => {
        api.client
          .patch(IMAGES, claimed.metadata.namespace, claimed.metadata.name, { status: { uploadHeartbeat: now() } }, API_FIELD_MANAGER, MERGE_PATCH, 'status')
          .catch((e: Error) => api.log.warn('upload heartbeat not written', { namespace: claimed.metadata.namespace, name: claimed.metadata.name, error: e.message }));
      }, UPLOAD_HEARTBEAT_MS);
      // A client that stops sending is given up on: the upload ends (Interrupted) rather than saving for good.
      req.incoming.setTimeout(api.uploadIdleMs, () => req.incoming.destroy(new Error(`no data for ${api.uploadIdleMs / 1000} s: the upload was abandoned`)));
      try {
        const data = await storeImageData(api.store, img, req.incoming, { size: length, checksum, maxSize: api.sizeCap });
        if (!(await recordStoredData(api.client, api.store, img, data))) throw conflict(`Image ${req.params.id} was deleted during the upload; the data was not kept.`);
        api.log.info('image uploaded', { namespace: img.metadata.namespace, name: img.metadata.name, size: data.stored.size, checksum: data.stored.checksum });
        await api.dir.until(img, (c) => c?.status?.phase === 'active' || c?.status?.phase === 'deactivated');
        return { status: 204 };
      } catch (e) {
        if (e instanceof GlanceError) throw e;
        const failure = failureOf(e);
        api.log.warn('image upload refused', { namespace: img.metadata.namespace, name: img.metadata.name, reason: failure.reason, error: failure.message });
        await api.client
          .patch(IMAGES, img.metadata.namespace, img.metadata.name, { status: killedStatus(img, failure) }, API_FIELD_MANAGER, MERGE_PATCH, 'status')
          .catch((err: Error) => api.log.warn('could not mark the image killed', { namespace: img.metadata.namespace, name: img.metadata.name, error: err.message }));
        throw (UPLOAD_ERRORS[failure.reason] ?? ((m: string) => new GlanceError(503, 'Service Unavailable', `The image store failed: ${m}`)))(failure.message);
      } finally {
        clearInterval(heartbeat);
      }
    },
    { raw: true },
  );

  router.on('GET', '/images/:id/file', async (req) => {
    const img = api.dir.visible(req.params.id, req.auth);
    if (img.status?.phase === 'deactivated' && !req.auth.admin) throw forbidden('The requested image has been deactivated. Image data download is forbidden.');
    const key = keyFromLocation(img.status?.location);
    if (!key || img.status?.phase !== 'active' && img.status?.phase !== 'deactivated') return { status: 204 };
    const size = img.status.size ?? 0;
    const range = parseRange(req.headers.range as string | undefined, size);
    const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes' };
    if (img.status.checksum && !range) headers['Content-MD5'] = img.status.checksum;
    if (req.method === 'HEAD') return { status: 200, headers: { ...headers, 'Content-Length': String(size) } };
    if (range) Object.assign(headers, { 'Content-Range': `bytes ${range.start}-${range.end}/${size}`, 'Content-Length': String(range.end - range.start + 1) });
    else headers['Content-Length'] = String(size);
    const status = range ? 206 : 200;
    // What is stored must be what the image says it holds (an object changed behind Glance's back is not served).
    const mismatch = (expected: number, actual: number, of: string) => {
      if (actual === expected) return undefined;
      api.log.error('stored image data does not match the image', { namespace: img.metadata.namespace, name: img.metadata.name, key, size, stored: of });
      return new GlanceError(500, 'Internal Server Error', `The stored data of image ${req.params.id} is ${actual} bytes, not the ${expected} it holds: it was changed outside the Image service.`);
    };
    // Under `stratus up`, a large answer is written by the embedded S3 server itself, on the client's own
    // connection: the bytes then cross one process, not two (runtime's HandedResponse).
    const [start, end] = range ? [range.start, range.end] : [0, size - 1];
    if (end - start + 1 >= HANDED_DOWNLOAD_MIN_BYTES && canHandOverResponse(req.incoming, EMBEDDED_S3_PROCESS)) {
      const whole = await api.store.size(key);
      if (whole !== undefined) {
        const refused = mismatch(size, whole, String(whole));
        if (refused) throw refused;
        const read: HandedRead = { bucket: api.store.config.bucket, key, size, start, end };
        return { status, headers, body: new HandedResponse(EMBEDDED_S3_PROCESS, read) };
      }
    }
    const { body, size: length } = await api.store.get(key, range);
    const refused = length === undefined ? undefined : mismatch(end - start + 1, length, range ? `${length} of a range` : String(length));
    if (refused) {
      body.destroy();
      throw refused;
    }
    return { status, headers, body };
  });
}
