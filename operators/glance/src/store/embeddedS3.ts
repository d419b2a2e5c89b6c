/**
 * The S3 server `stratus up` runs on loopback as the embedded default (objectServer/: objects as files under
 * the data directory, readable by no one else), answering only requests signed with its own credentials.
 * Production points the image store at any S3 endpoint instead.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { startS3Server, type S3Server } from './objectServer/s3Server.js';
import type { S3Credentials } from './sigv4.js';

/** The embedded S3 server's name among `stratus up`'s processes, to which Glance hands large downloads. */
export const EMBEDDED_S3_PROCESS = 'object-store';

export interface EmbeddedS3 {
  endpoint: string;
  /** The only credentials it accepts (SigV4-signed requests only). */
  accessKeyId: string;
  secretAccessKey: string;
  close(): Promise<void>;
}

/** Credentials of its own for one server: 20 and 40 characters, as AWS's look. */
export const newS3Credentials = (): S3Credentials => ({ accessKeyId: `STRATUS${randomBytes(10).toString('hex').toUpperCase().slice(0, 13)}`, secretAccessKey: randomBytes(30).toString('base64url') });

export async function startEmbeddedS3(opts: { directory: string; host?: string; port?: number; buckets?: string[]; credentials?: S3Credentials }): Promise<EmbeddedS3 & Pick<S3Server, 'writeHanded'>> {
  // Every tenant's image data: the owner's only (a folder kept from before is closed too).
  mkdirSync(opts.directory, { recursive: true, mode: 0o700 });
  chmodSync(opts.directory, 0o700);
  const { accessKeyId, secretAccessKey } = opts.credentials ?? newS3Credentials();
  const credentials = { accessKeyId, secretAccessKey };
  const server = await startS3Server({ directory: opts.directory, host: opts.host ?? '127.0.0.1', port: opts.port ?? 0, credentials, buckets: opts.buckets ?? [] });
  return { endpoint: server.endpoint, ...credentials, writeHanded: server.writeHanded, close: () => server.close() };
}
