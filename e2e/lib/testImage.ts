/** The test disk image, built and served over HTTP on loopback for a cloud to import (its imports allow that host). */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';

const ROOT = new URL('../../../', import.meta.url).pathname;

export interface ServedImage {
  path: string;
  url: string;
  md5: string;
  host: string;
  close(): void;
}

export async function serveTestImage(): Promise<ServedImage> {
  const path = (await promisify(execFile)('bash', [`${ROOT}hack/build-test-image.sh`], { maxBuffer: 1 << 20 })).stdout.trim().split('\n').pop()!;
  const data = readFileSync(path);
  const server = http.createServer((req, res) => (req.url === '/stratus-test.img' ? res.end(data) : res.writeHead(404).end()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { path, url: `http://${host}/stratus-test.img`, md5: createHash('md5').update(data).digest('hex'), host, close: () => server.close() };
}
