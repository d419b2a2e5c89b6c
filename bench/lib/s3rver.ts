/**
 * s3rver, Stratus's embedded S3 server before its own (operators/glance/src/store/objectServer/), kept here
 * only to be measured side by side with it (s3.bench.ts). As it ran in Stratus: it answers only requests
 * signed with its own credentials, with AbortMultipartUpload and ListMultipartUploads added.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import S3rver from 's3rver';
import { DUMMY_ACCOUNT } from 's3rver/lib/models/account.js';
import { newS3Credentials, sigV4Refusal, type EmbeddedS3, type S3Credentials } from '@stratus/glance';

export async function startS3rver(opts: { directory: string; host?: string; port?: number; buckets?: string[]; credentials?: S3Credentials }): Promise<EmbeddedS3> {
  // Every tenant's image data: the owner's only (a folder kept from before is closed too).
  mkdirSync(opts.directory, { recursive: true, mode: 0o700 });
  chmodSync(opts.directory, 0o700);
  const host = opts.host ?? '127.0.0.1';
  const credentials = opts.credentials ?? newS3Credentials();
  // s3rver knows one account with the published key S3RVER: it gets this server's key instead.
  DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
  DUMMY_ACCOUNT.createKeyPair(credentials.accessKeyId, credentials.secretAccessKey);
  const server = new S3rver({ address: host, port: opts.port ?? 0, silent: true, directory: opts.directory, configureBuckets: (opts.buckets ?? []).map((name) => ({ name })) });
  server.middleware.unshift(abortMultipartUpload(server));
  server.middleware.unshift(listMultipartUploads(server));
  server.middleware.unshift(requireSignature(credentials));
  const { port } = await server.run();
  return { endpoint: `http://${host}:${port}`, ...credentials, close: () => server.close() };
}

/** Nothing is answered that is not signed with the server's credentials (s3rver alone serves anonymous requests). */
function requireSignature(credentials: S3Credentials) {
  return async (ctx: any, next: () => Promise<void>) => {
    const refused = await sigV4Refusal({ method: ctx.method, url: ctx.req.url ?? '/', headers: ctx.req.headers }, credentials);
    if (!refused) return next();
    ctx.status = 403;
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied: ${refused.replace(/[<&>]/g, '')}</Message></Error>`;
  };
}

/**
 * s3rver (3.7) answers AbortMultipartUpload with 405 and keeps the parts of an abandoned upload forever.
 * This adds the call as S3 defines it (DELETE /bucket/key?uploadId=…: 204, or 404 NoSuchUpload), so an
 * interrupted image upload leaves nothing on disk. Koa composes middleware when the server starts, so
 * putting this first works.
 */
function abortMultipartUpload(server: S3rver) {
  return async (ctx: any, next: () => Promise<void>) => {
    const uploadId = ctx.query?.uploadId;
    if (ctx.method !== 'DELETE' || typeof uploadId !== 'string') return next();
    const { uploads } = uploadsOf(server, ctx);
    const dir = /^[0-9a-f]{1,64}$/.test(uploadId) && uploads ? join(uploads, uploadId) : undefined;
    if (!dir || !existsSync(dir)) {
      ctx.status = 404;
      ctx.type = 'application/xml';
      ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><UploadId>${uploadId.replace(/[^0-9a-zA-Z]/g, '')}</UploadId></Error>`;
      return;
    }
    rmSync(dir, { recursive: true, force: true });
    ctx.status = 204;
  };
}

/** The request's bucket, and the folder where s3rver keeps its unfinished multipart uploads (one folder per upload ID). */
function uploadsOf(server: S3rver, ctx: any): { bucket: string; uploads?: string } {
  const bucket = decodeURIComponent(String(ctx.path).split('/')[1] ?? '');
  return { bucket, uploads: bucket ? server.store.getResourcePath(bucket, undefined, 'uploads') : undefined };
}

const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * s3rver (3.7) does not list multipart uploads, so an upload whose uploader died mid-way (its upload ID lost
 * with it) could never be found and aborted: its parts stayed on disk for good. This answers
 * ListMultipartUploads (GET /bucket?uploads, with prefix) as S3 defines it, from the uploads s3rver keeps
 * (one folder per upload ID, holding the key), so Glance's deletion finds and aborts them as on any S3.
 */
function listMultipartUploads(server: S3rver) {
  return async (ctx: any, next: () => Promise<void>) => {
    if (ctx.method !== 'GET' || ctx.query?.uploads === undefined) return next();
    const { bucket, uploads: root } = uploadsOf(server, ctx);
    const prefix = typeof ctx.query.prefix === 'string' ? ctx.query.prefix : '';
    const ids = root && existsSync(root) ? readdirSync(root) : [];
    const uploads = ids.flatMap((id) => {
      try {
        return [{ id, key: readFileSync(join(root!, id, 'key'), 'utf8'), initiated: statSync(join(root!, id)).mtime }];
      } catch {
        return []; // completed or aborted meanwhile
      }
    }).filter((u) => u.key.startsWith(prefix)).sort((a, b) => a.key.localeCompare(b.key) || a.id.localeCompare(b.id));
    ctx.status = 200;
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${xmlText(bucket)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><Prefix>${xmlText(prefix)}</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>${uploads
      .map((u) => `<Upload><Key>${xmlText(u.key)}</Key><UploadId>${u.id}</UploadId><StorageClass>STANDARD</StorageClass><Initiated>${u.initiated.toISOString()}</Initiated></Upload>`)
      .join('')}</ListMultipartUploadsResult>`;
  };
}
