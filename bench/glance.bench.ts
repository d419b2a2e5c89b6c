/**
 * Glance data-path benchmark: upload and download of an image through the Image API (through the `stratus up`
 * one port, as clients reach it), beside a direct S3 put and get of the same file to the same S3 server in the
 * same run, with the same multipart settings Glance uses. The ratio API/direct is the figure (aim ≥ 0.9).
 * Two API paths are measured: the Image API itself (the Glance process's own port) and through the
 * `stratus up` one port (its front door hands the connection to Glance's process; the gateway process, charged
 * too, proxies only what no API takes).
 * Each round also measures the machine's raw disk under the same folder (`dd` writing with fdatasync, and
 * reading back from the page cache): the one port's upload aims at ≥ 0.3 of the write, its download ≥ 0.2 of
 * the read. Against the disk the upload is sent by curl, as the ceilings' are (a Node client sending it costs
 * about 3 CPU s per GiB on the same two cores); against direct S3 both sides keep their Node clients.
 * Downloads are timed with curl saving the body to memory (tmpfs), as a user saves an image, and checked after
 * the clock stops: a Node client reading the body costs about 4 CPU s per GiB, so with it the
 * figure was the benchmark's own. Two ceilings say what the machine allows at all: a bare Node server, and
 * sendfile(2), sending the same file to curl, which saves it where the downloads are saved. Two more for the
 * upload: curl sending the file to a bare Node server that writes it to the S3 server's disk with fdatasync,
 * without and with Glance's checksums (md5, sha512) on the way.
 * It also reads the Glance process's peak RSS (VmHWM) after each transfer: flat whatever the image size, and
 * under 200 MiB, means no image is ever held in memory.
 *
 * With --ceph (make bench-ceph) the cloud keeps its images on a local Ceph's RADOS Gateway (`stratus up --ceph`),
 * and the direct S3 put and get go to the same gateway.
 *
 *   node bench/dist/glance.bench.js [--sizes 256,1024] [--rounds 2] [--cpu] [--ceph]
 */
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { startCloud, type RunningCloud } from '@stratus/cli';
import { adminToken } from './lib/adminToken.js';
import { rawDisk } from './lib/disk.js';
import { curlDownload, curlUpload } from './lib/curlDownload.js';
import { bareNodeHttpRead, bareNodeHttpWrite, sendfileHttpRead } from './lib/httpCeiling.js';
import { makeFile } from './lib/testData.js';
import { timed, median } from './lib/load.js';
import { childPid, cpuSecondsOf, gatewayPid, glancePid, memoryOf } from './lib/processes.js';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '256,1024' }, rounds: { type: 'string', default: '2' }, cpu: { type: 'boolean', default: false }, ceph: { type: 'boolean', default: false } } });
/** Also print the CPU seconds each process spent on each transfer. */
const CPU = values.cpu;
const SIZES_MIB = values.sizes!.split(',').map(Number);
const ROUNDS = Number(values.rounds);
const MiB = 1024 * 1024;



interface HttpReply {
  status: number;
  body: Readable;
}

function http(url: string, method: string, headers: Record<string, string | number>, body?: Readable | string): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => resolve({ status: res.statusCode ?? 0, body: res }));
    req.on('error', reject);
    if (body === undefined || typeof body === 'string') req.end(body);
    else body.pipe(req);
  });
}

const text = async (r: HttpReply) => {
  const chunks: Buffer[] = [];
  for await (const c of r.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

/** A raw image's record through the Image API at `images`; its ID. */
async function createImage(images: string, token: string, name: string): Promise<string> {
  const created = await http(images, 'POST', { 'X-Auth-Token': token, 'Content-Type': 'application/json' }, JSON.stringify({ name, disk_format: 'raw', container_format: 'bare' }));
  if (created.status !== 201) throw new Error(`image create: HTTP ${created.status} ${await text(created)}`);
  return JSON.parse(await text(created)).id;
}

/** CPU seconds (user + system) each process has used so far: this one, the gateway, Glance, the S3 server. */
function cpuSeconds(cloud: RunningCloud, glance: string): Record<string, number> {
  const used = cpuSecondsOf;
  // On Ceph the S3 server is the RADOS Gateway, not a process of the cloud's: its CPU is not counted.
  return { client: used(process.pid), gateway: used(gatewayPid(cloud)), glance: used(glance), ...(values.ceph ? {} : { s3: used(childPid(cloud, 's3main.js')) }) };
}

const cpuSince = (before: Record<string, number>, after: Record<string, number>) =>
  Object.entries(after).map(([k, v]) => `${k} ${(v - before[k]).toFixed(1)}`).join(', ');

/** The Image API's own port, from the process environment `stratus up` gave it. */
const glancePort = (pid: string) => /(?:^|\0)GLANCE_API_PORT=(\d+)/.exec(readFileSync(`/proc/${pid}/environ`, 'utf8'))![1];

async function main() {
  const cloud = await startCloud(300_000, undefined, values.ceph ? { args: ['--ceph'] } : {});
  const work = mkdtempSync(join(tmpdir(), 'glance-bench-'));
  const store = cloud.s3();
  const BUCKET = store.bucket;
  const s3 = new S3Client({ endpoint: store.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey } });
  try {
    const { authUrl } = cloud.admin();
    const token = await adminToken(cloud);
    const pid = glancePid(cloud);
    const paths = {
      'Image API': `http://127.0.0.1:${glancePort(pid)}/v2/images`,
      'via one port': authUrl.replace(/\/identity\/v3$/, '/image/v2/images'),
    };
    console.log(`Glance data-path benchmark: S3 ${store.endpoint}, Image API ${paths['Image API']}, one port ${paths['via one port']}`);
    console.log(`Glance RSS at rest ${memoryOf(pid).rssMiB.toFixed(0)} MiB; MB/s, and the ratio to the direct S3 put/get of the same file in the same round`);
    console.log('size      path           upload   ratio   download   ratio   Glance peak RSS');
    const ratios: Record<string, { up: number[]; down: number[] }> = { 'Image API': { up: [], down: [] }, 'via one port': { up: [], down: [] } };
    const toDisk: { up: number[]; down: number[] } = { up: [], down: [] };
    const ceilings: number[] = [];
    const kernelCeilings: number[] = [];
    const writeCeilings: { plain: number[]; hashed: number[] } = { plain: [], hashed: [] };

    for (const mib of SIZES_MIB) {
      const file = join(work, `image-${mib}`);
      const { md5: sum, crc32: crc } = await makeFile(file, mib);
      const rate = (seconds: number) => (mib * MiB) / 1e6 / seconds;
      // Downloads are saved to memory (tmpfs), as the page-cache read they are set against: saved to the disk,
      // 1 GiB of dirty pages throttles curl to the disk's write rate.
      const saved = join(existsSync('/dev/shm') ? '/dev/shm' : work, `glance-bench-${process.pid}-${mib}`);
      for (let round = 0; round < ROUNDS; round++) {
        const disk = rawDisk(cloud.dir, mib);
        const ceiling = await bareNodeHttpRead(file, mib * MiB, saved);
        const kernel = await sendfileHttpRead(file, mib * MiB, saved);
        const written = join(cloud.dir, 'bare-writer.bin'); // on the disk the S3 server writes to
        const writer = await bareNodeHttpWrite(file, mib * MiB, written, false);
        const hashingWriter = await bareNodeHttpWrite(file, mib * MiB, written, true);
        ceilings.push(ceiling / disk.readMBs);
        kernelCeilings.push(kernel / disk.readMBs);
        writeCeilings.plain.push(writer / disk.writeMBs);
        writeCeilings.hashed.push(hashingWriter / disk.writeMBs);
        console.log(`${`${mib} MiB`.padEnd(9)} ${'raw disk'.padEnd(12)} ${disk.writeMBs.toFixed(0).padStart(5)} MB/s (dd, fdatasync) ${disk.readMBs.toFixed(0).padStart(5)} MB/s (dd, page cache); to curl: a bare Node server ${ceiling.toFixed(0)} MB/s, sendfile ${kernel.toFixed(0)} MB/s`);
        console.log(`${''.padEnd(9)} ${'from curl'.padEnd(12)} a bare Node server writing with fdatasync ${writer.toFixed(0)} MB/s, and computing md5 and sha512 too ${hashingWriter.toFixed(0)} MB/s`);
        // Direct: lib-storage, as a client would put a large file, with Glance's part size and parts in flight.
        const key = `bench/direct-${mib}-${round}`;
        let cpu = cpuSeconds(cloud, pid);
        const put = await timed(() => new Upload({ client: s3, params: { Bucket: BUCKET, Key: key, Body: createReadStream(file) }, partSize: 8 * MiB, queueSize: 4 }).done());
        const putCpu = cpuSince(cpu, (cpu = cpuSeconds(cloud, pid)));
        const get = await curlDownload(`${store.endpoint}/${BUCKET}/${key}`, saved, { s3: { ...store, region: 'us-east-1' } });
        const getCpu = cpuSince(cpu, cpuSeconds(cloud, pid));
        if (get.crc32 !== crc) throw new Error('direct get returned other bytes');
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
        console.log(`${`${mib} MiB`.padEnd(9)} ${'direct S3'.padEnd(12)} ${rate(put.seconds).toFixed(0).padStart(5)} MB/s          ${rate(get.seconds).toFixed(0).padStart(5)} MB/s`);
        if (CPU) console.log(`            cpu s: put ${putCpu}; get ${getCpu}`);

        for (const [name, images] of Object.entries(paths)) {
          const id = await createImage(images, token, `bench-${mib}`);
          cpu = cpuSeconds(cloud, pid);
          const upload = await timed(async () => {
            const r = await http(`${images}/${id}/file`, 'PUT', { 'X-Auth-Token': token, 'Content-Type': 'application/octet-stream', 'Content-Length': mib * MiB, 'Content-MD5': sum }, createReadStream(file));
            if (r.status !== 204) throw new Error(`upload: HTTP ${r.status} ${await text(r)}`);
            r.body.resume();
          });
          const upCpu = cpuSince(cpu, (cpu = cpuSeconds(cloud, pid)));
          const download = await curlDownload(`${images}/${id}/file`, saved, { headers: { 'X-Auth-Token': token } });
          const downCpu = cpuSince(cpu, cpuSeconds(cloud, pid));
          if (download.crc32 !== crc) throw new Error('the API returned other bytes');
          (await http(`${images}/${id}`, 'DELETE', { 'X-Auth-Token': token })).body.resume();
          const up = rate(upload.seconds) / rate(put.seconds);
          const down = rate(download.seconds) / rate(get.seconds);
          ratios[name].up.push(up);
          ratios[name].down.push(down);
          console.log(
            `${''.padEnd(9)} ${name.padEnd(12)} ${rate(upload.seconds).toFixed(0).padStart(5)} MB/s  ${up.toFixed(2)}  ${rate(download.seconds).toFixed(0).padStart(5)} MB/s  ${down.toFixed(2)}   ${memoryOf(pid).peakMiB.toFixed(0)} MiB`,
          );
          if (CPU) console.log(`            cpu s: upload ${upCpu}; download ${downCpu}`);
          if (name !== 'via one port') continue;
          // Against the disk, the upload is sent by curl, as the ceilings' are and as the downloads are saved: the
          // figure is then the cloud's, not the Node client's (about 3 CPU s per GiB on the same two cores).
          const curlId = await createImage(images, token, `bench-curl-${mib}`);
          cpu = cpuSeconds(cloud, pid);
          // Glance refuses (and removes) data whose md5 is not the Content-MD5 sent: a 204 says every byte arrived.
          const sent = await curlUpload(`${images}/${curlId}/file`, file, { 'X-Auth-Token': token, 'Content-Type': 'application/octet-stream', 'Content-MD5': sum });
          if (sent.status !== 204) throw new Error(`upload by curl: HTTP ${sent.status}`);
          const curlCpu = cpuSince(cpu, cpuSeconds(cloud, pid));
          (await http(`${images}/${curlId}`, 'DELETE', { 'X-Auth-Token': token })).body.resume();
          toDisk.up.push(rate(sent.seconds) / disk.writeMBs);
          toDisk.down.push(rate(download.seconds) / disk.readMBs);
          console.log(`${''.padEnd(9)} ${'  from curl'.padEnd(12)} ${rate(sent.seconds).toFixed(0).padStart(5)} MB/s, ${(rate(sent.seconds) / disk.writeMBs).toFixed(2)} of dd's write`);
          if (CPU) console.log(`            cpu s: upload ${curlCpu}`);
        }
      }
      rmSync(file);
    }
    for (const [name, r] of Object.entries(ratios)) {
      const [up, down] = [median(r.up), median(r.down)];
      console.log(`${name}: median ratio to direct S3, upload ${up.toFixed(2)}, download ${down.toFixed(2)} (aim ≥ 0.9): ${up >= 0.9 && down >= 0.9 ? 'met' : 'NOT met'}`);
    }
    const [up, down] = [median(toDisk.up), median(toDisk.down)];
    console.log(`via one port against the raw disk: median upload (from curl) ${up.toFixed(2)} of dd's write (aim ≥ 0.3): ${up >= 0.3 ? 'met' : 'NOT met'}; download ${down.toFixed(2)} of the page-cache read (aim ≥ 0.2): ${down >= 0.2 ? 'met' : 'NOT met'}; sending the file to curl, one hop and nothing else, a bare Node server reaches ${median(ceilings).toFixed(2)} of it, sendfile(2) ${median(kernelCeilings).toFixed(2)}; receiving it from curl, one hop and nothing else, a bare Node server writing it with fdatasync reaches ${median(writeCeilings.plain).toFixed(2)} of dd's write, ${median(writeCeilings.hashed).toFixed(2)} with Glance's md5 and sha512 on the way`);
    const { peakMiB } = memoryOf(pid);
    console.log(`Glance peak RSS over the run: ${peakMiB.toFixed(0)} MiB (aim < 200 MiB, flat whatever the image size): ${peakMiB < 200 ? 'met' : 'NOT met'}`);
  } finally {
    s3.destroy();
    rmSync(work, { recursive: true, force: true });
    await cloud.stop();
    await cloud.remove();
  }
}

await main();
