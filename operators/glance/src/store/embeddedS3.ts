/**
 * The S3-compatible server `stratus up` runs on loopback as the embedded default (s3rver, objects as files
 * under the data directory). Production points the image store at any S3 endpoint instead.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface EmbeddedS3 {
  endpoint: string;
  /** s3rver accepts these fixed credentials. */
  accessKeyId: string;
  secretAccessKey: string;
  close(): Promise<void>;
}

/** s3rver accepts only these fixed credentials. */
export const EMBEDDED_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export async function startEmbeddedS3(opts: { directory: string; host?: string; port?: number; buckets?: string[] }): Promise<EmbeddedS3> {
  mkdirSync(opts.directory, { recursive: true });
  const host = opts.host ?? '127.0.0.1';
  const server = new S3rver({ address: host, port: opts.port ?? 0, silent: true, directory: opts.directory, configureBuckets: (opts.buckets ?? []).map((name) => ({ name })) });
  server.middleware.unshift(abortMultipartUpload(server));
  const { port } = await server.run();
  return { endpoint: `http://${host}:${port}`, ...EMBEDDED_S3_CREDENTIALS, close: () => server.close() };
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
    const bucket = decodeURIComponent(String(ctx.path).split('/')[1] ?? '');
    const dir = /^[0-9a-f]{1,64}$/.test(uploadId) && bucket ? join(server.store.getResourcePath(bucket, undefined, 'uploads'), uploadId) : undefined;
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
