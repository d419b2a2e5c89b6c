/**
 * The embedded S3 server candidates side by side: Stratus's own (objectServer/) and s3rver, which it replaced,
 * each in a process of its own as `stratus up` runs its S3 server (s3main.js; lib/s3rverMain.js), on the same disk in the same run,
 * alternating rounds. Each round puts a file with the AWS SDK's multipart upload (Glance's part size, 4 parts in
 * flight) and gets it back, checking its CRC32; it prints MB/s, the server's CPU seconds per GiB and its peak
 * RSS, beside the machine's raw disk (`dd` with fdatasync, and a page-cache read) measured in the same run.
 *
 *   node bench/dist/s3.bench.js [--mib 1024] [--rounds 2]
 */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { newS3Credentials } from '@stratus/glance';
import { S3_SERVER_MAIN, startS3Process } from '@stratus/cli/s3';
import { rawDisk } from './lib/disk.js';
import { drainCrc32, makeFile } from './lib/testData.js';
import { timed, median } from './lib/load.js';
import { cpuSecondsOf, memoryOf } from './lib/processes.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '1024' }, rounds: { type: 'string', default: '2' } } });
const MIB = Number(values.mib);
const ROUNDS = Number(values.rounds);
const MiB = 1024 * 1024;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENGINES = ['stratus', 's3rver'] as const;
const MAINS = { stratus: join(ROOT, S3_SERVER_MAIN), s3rver: join(ROOT, 'bench/dist/lib/s3rverMain.js') };

async function main() {
  const work = mkdtempSync(join(tmpdir(), 's3-bench-'));
  const file = join(work, 'object');
  const { crc32: sum } = await makeFile(file, MIB);
  const rate = (s: number) => (MIB * MiB) / 1e6 / s;
  const results: Record<string, { put: number[]; get: number[]; putCpu: number[]; getCpu: number[]; peak: number[] }> = {};
  const disk: { write: number[]; read: number[] } = { write: [], read: [] };
  console.log(`Embedded S3 servers side by side: ${MIB} MiB, multipart 8 MiB × 4 in flight, ${ROUNDS} rounds, on ${work}`);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const d = rawDisk(work, MIB);
      disk.write.push(d.writeMBs);
      disk.read.push(d.readMBs);
      console.log(`round ${round + 1}: raw disk dd write+fdatasync ${d.writeMBs.toFixed(0)} MB/s, page-cache read ${d.readMBs.toFixed(0)} MB/s`);
      for (const engine of round % 2 ? [...ENGINES].reverse() : ENGINES) {
        const directory = join(work, `store-${engine}`);
        const server = await startS3Process(MAINS[engine], { directory, host: '127.0.0.1', port: 0, credentials: newS3Credentials() });
        const s3 = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } });
        try {
          await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
          let cpu = cpuSecondsOf(server.pid);
          const put = await timed(() => new Upload({ client: s3, params: { Bucket: 'bench', Key: 'images/object', Body: createReadStream(file) }, partSize: 8 * MiB, queueSize: 4 }).done());
          const putCpu = cpuSecondsOf(server.pid) - cpu;
          cpu = cpuSecondsOf(server.pid);
          const get = await timed(async () => drainCrc32((await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: 'images/object' }))).Body as Readable));
          const getCpu = cpuSecondsOf(server.pid) - cpu;
          if (get.value !== sum) throw new Error(`${engine} returned other bytes`);
          const r = (results[engine] ??= { put: [], get: [], putCpu: [], getCpu: [], peak: [] });
          const perGiB = (s: number) => (s * 1024) / MIB;
          r.put.push(rate(put.seconds));
          r.get.push(rate(get.seconds));
          r.putCpu.push(perGiB(putCpu));
          r.getCpu.push(perGiB(getCpu));
          r.peak.push(memoryOf(String(server.pid)).peakMiB);
          console.log(
            `  ${engine.padEnd(8)} put ${rate(put.seconds).toFixed(0).padStart(5)} MB/s (server CPU ${perGiB(putCpu).toFixed(1)} s/GiB), get ${rate(get.seconds).toFixed(0).padStart(5)} MB/s (${perGiB(getCpu).toFixed(1)} s/GiB), peak RSS ${r.peak.at(-1)!.toFixed(0)} MiB`,
          );
        } finally {
          s3.destroy();
          await server.stop();
          rmSync(directory, { recursive: true, force: true });
        }
      }
    }
    const [w, rd] = [median(disk.write), median(disk.read)];
    console.log(`medians; raw disk: write ${w.toFixed(0)} MB/s, read ${rd.toFixed(0)} MB/s`);
    for (const engine of ENGINES) {
      const r = results[engine];
      console.log(
        `  ${engine.padEnd(8)} put ${median(r.put).toFixed(0)} MB/s (${(median(r.put) / w).toFixed(2)} of the disk's write), get ${median(r.get).toFixed(0)} MB/s (${(median(r.get) / rd).toFixed(2)} of its read); server CPU per GiB put ${median(r.putCpu).toFixed(1)} s, get ${median(r.getCpu).toFixed(1)} s; peak RSS ${median(r.peak).toFixed(0)} MiB`,
      );
    }
    const [ours, theirs] = [results.stratus, results.s3rver];
    console.log(`stratus vs s3rver, same run: put ${(median(ours.put) / median(theirs.put)).toFixed(2)}×, get ${(median(ours.get) / median(theirs.get)).toFixed(2)}×`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
