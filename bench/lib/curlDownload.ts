/**
 * A download as a user makes it: curl (a C client that costs next to nothing) saving the body to a file, as
 * `curl -o` or `openstack image save --file` do. The time is curl's alone; the file's CRC32 is read after the
 * clock stops, so the check costs the figure nothing and a download still proves its bytes.
 * A Node client reading the same body spends about 4 CPU s per GiB here: the figure would be the benchmark's own.
 */
import { execFile } from 'node:child_process';
import { createReadStream, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { drainCrc32 } from './testData.js';

export interface CurlAuth {
  /** Sent as they are, e.g. X-Auth-Token. */
  headers?: Record<string, string>;
  /** S3 credentials: curl signs the request itself (SigV4). */
  s3?: { accessKeyId: string; secretAccessKey: string; region: string };
}

/** Downloads `url` to `file`: seconds curl took, and the CRC32 of the file's bytes (the file is removed). */
export async function curlDownload(url: string, file: string, auth: CurlAuth = {}): Promise<{ seconds: number; crc32: number }> {
  const args = ['--silent', '--show-error', '--fail', '--output', file];
  for (const [name, value] of Object.entries(auth.headers ?? {})) args.push('--header', `${name}: ${value}`);
  if (auth.s3) {
    const { accessKeyId, secretAccessKey, region } = auth.s3;
    args.push('--aws-sigv4', `aws:amz:${region}:s3`, '--user', `${accessKeyId}:${secretAccessKey}`, '--header', 'x-amz-content-sha256: UNSIGNED-PAYLOAD');
  }
  try {
    const start = process.hrtime.bigint();
    await promisify(execFile)('curl', [...args, url]);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return { seconds, crc32: await drainCrc32(createReadStream(file, { highWaterMark: 16 * 1024 * 1024 })) };
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * An upload as a user makes it: curl sending `file` with PUT (`curl -T`), as the ceilings' uploads are sent. The
 * seconds curl took, and the answer's status. A Node client sending it costs about 3 CPU s per GiB here, on the
 * same two cores as the servers it is measuring.
 */
export async function curlUpload(url: string, file: string, headers: Record<string, string>): Promise<{ seconds: number; status: number }> {
  const args = ['--silent', '--show-error', '--upload-file', file, '--output', '/dev/null', '--write-out', '%{http_code}'];
  for (const [name, value] of Object.entries(headers)) args.push('--header', `${name}: ${value}`);
  const start = process.hrtime.bigint();
  const { stdout } = await promisify(execFile)('curl', [...args, url]);
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, status: Number(stdout.trim()) };
}
