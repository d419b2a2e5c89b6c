/**
 * Glance under uploads that stop: ten clients each declare 5 MB and send 100 kB, then nothing. Printed: the
 * Glance process's RSS before, while they hang, and after the idle timeout has ended them; how many images
 * were killed; and the bytes left on the S3 server's disk (multipart parts) beside what was there before.
 * Before the idle timeout, such uploads stayed `saving` for good and Glance's memory grew with them.
 *
 *   node bench/dist/stalledUploads.bench.js [--uploads 10] [--idle 5]
 */
import { readdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startCloud } from '@stratus/cli';
import { adminToken } from './lib/adminToken.js';
import { glancePid, memoryOf } from './lib/processes.js';

const { values } = parseArgs({ options: { uploads: { type: 'string', default: '10' }, idle: { type: 'string', default: '5' } } });
const UPLOADS = Number(values.uploads);
// The cloud's Glance takes its idle timeout from the environment stratus up passes on.
process.env.GLANCE_UPLOAD_IDLE_SECONDS = values.idle;

const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : [join(d, e.name)]));
const bytesUnder = (d: string) => files(d).filter((f) => !f.includes('.S3rver_')).reduce((n, f) => n + statSync(f).size, 0);

const cloud = await startCloud();
try {
  const { authUrl } = cloud.admin();
  const token = await adminToken(cloud);
  const images = `${authUrl.replace(/\/identity\/v3$/, '')}/image/v2/images`;
  const glance = glancePid(cloud);
  const s3Dir = join(cloud.dir, 's3');
  const before = { ...memoryOf(glance), s3Bytes: bytesUnder(s3Dir) };

  const ids: string[] = [];
  for (let i = 0; i < UPLOADS; i++) {
    const r = await fetch(images, { method: 'POST', headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: `stalled-${i}`, disk_format: 'raw', container_format: 'bare' }) });
    ids.push(((await r.json()) as { id: string }).id);
  }
  const hanging = ids.map((id) => {
    const req = request(`${images}/${id}/file`, { method: 'PUT', headers: { 'X-Auth-Token': token, 'Content-Type': 'application/octet-stream', 'Content-Length': String(5 * 1024 * 1024) } });
    req.on('error', () => {}); // the server ends it
    req.write(Buffer.alloc(100 * 1024));
    return req;
  });
  await new Promise((r) => setTimeout(r, 1000));
  const during = memoryOf(glance);

  // Until every image is killed, bounded: the idle timeout plus a generous margin for a loaded machine.
  const phases = async () => Promise.all(ids.map(async (id) => ((await (await fetch(`${images}/${id}`, { headers: { 'X-Auth-Token': token } })).json()) as { status: string }).status));
  const deadline = Date.now() + (Number(values.idle) + 120) * 1000;
  let seen = await phases();
  while (seen.some((p) => p !== 'killed') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    seen = await phases();
  }
  await new Promise((r) => setTimeout(r, 2000));
  const after = { ...memoryOf(glance), s3Bytes: bytesUnder(s3Dir) };
  for (const req of hanging) req.destroy();

  const mib = (n: number) => n.toFixed(1);
  console.log(`Glance under ${UPLOADS} stalled uploads (5 MB declared, 100 kB sent), idle timeout ${values.idle} s`);
  console.log(`RSS before ${mib(before.rssMiB)} MiB, while hanging ${mib(during.rssMiB)} MiB, after they ended ${mib(after.rssMiB)} MiB (peak ${mib(after.peakMiB)} MiB)`);
  console.log(`images killed: ${seen.filter((p) => p === 'killed').length}/${UPLOADS} (${[...new Set(seen)].join(', ')})`);
  console.log(`bytes on the S3 server's disk: ${before.s3Bytes} before, ${after.s3Bytes} after (parts left behind: ${after.s3Bytes - before.s3Bytes})`);
} finally {
  await cloud.stop();
  await cloud.remove();
}
