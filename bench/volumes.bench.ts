/**
 * Block storage benchmark, two parts, each beside a baseline measured in the same run.
 *
 * Guest I/O (on `stratus up`): one guest writes then reads 512 MiB with direct I/O (busybox dd, oflag/iflag=direct, timed by the guest's /proc/uptime)
 * on an attached volume and on its own root disk; the volume's file is written and read with `dd` on the host
 * (the disk's own speed, O_DIRECT). Prints MiB/s and the ratios volume/root and volume/host.
 *
 * With --ceph (make bench-ceph): the same guest on `stratus up --ceph`, its volume an RBD image; the baseline is
 * `rbd bench` on the same image of the same cluster, sequential 1 MiB I/O one at a time as the guest's dd does it.
 *
 * Volume churn (embedded control plane, the Cinder operator on a file pool): 200 blank volumes created, made
 * available and deleted; volumes per second beside the same number of Volume objects created, given one status
 * write and deleted by a plain client with no operator, the least any operator must do per volume.
 *
 *   node bench/dist/volumes.bench.js [--volumes 200] [--concurrency 16] [--mib 512] [--skip-io] [--ceph]
 */
import { execFile } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startTestControlPlane } from '@stratus/apiserver';
import { cloudCephOf, startCloud } from '@stratus/cli';
import { BackupChunkStore, FilePoolBackend, VOLUMES, VOLUME_ATTACHMENTS, cinderManager, type Volume, type VolumeAttachment } from '@stratus/cinder';
import { IMAGES, ImageStore } from '@stratus/glance';
import { INSTANCES, type Instance } from '@stratus/nova';
import { KubeClient, MERGE_PATCH, createLogger, selfHealingInformer, type ResourceRef } from '@stratus/runtime';
import { load, ms, pct, until } from './lib/load.js';

const { values } = parseArgs({ options: { volumes: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '16' }, mib: { type: 'string', default: '512' }, 'skip-io': { type: 'boolean', default: false }, ceph: { type: 'boolean', default: false } } });
const N = Number(values.volumes);
const CONCURRENCY = Number(values.concurrency);
const MIB = Number(values.mib);
const ROOT = new URL('../../', import.meta.url).pathname;
const CRDS: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };
const NAMESPACES: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };
const API = 'blockstorage.stratus.io/v1alpha1';
const run = promisify(execFile);


/** The guest's seconds for one copy (Debian's busybox dd says no rate: the guest times it by /proc/uptime): MiB/s. */
function ddRate(seconds: string): number {
  const s = Number(seconds);
  if (!(s > 0)) throw new Error(`no time measured by the guest: ${seconds}`);
  return MIB / s;
}

async function guestIo(): Promise<void> {
  const image = (await run('bash', [join(ROOT, 'hack/build-test-image.sh')], { maxBuffer: 1 << 20 })).stdout.trim().split('\n').pop()!;
  const ceph = values.ceph;
  const cloud = await startCloud(300_000, undefined, ceph ? { args: ['--ceph'] } : {});
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(cloud.kubeconfig);
    const client = new KubeClient(kc);
    const kubectl = (stdin: string) =>
      new Promise<void>((resolve, reject) => {
        const child = execFile('kubectl', ['apply', '-f', '-'], { env: { ...process.env, KUBECONFIG: cloud.kubeconfig, HOME: cloud.dir } }, (e, _o, err) => (e ? reject(new Error(err)) : resolve()));
        child.stdin!.end(stdin);
      });
    const store = new ImageStore(cloud.s3());
    const stored = await store.put('images/volumes-bench', createReadStream(image));
    store.destroy();
    const virtualSize = JSON.parse((await run('qemu-img', ['info', '--output=json', image])).stdout)['virtual-size'];
    await kubectl(`apiVersion: compute.stratus.io/v1alpha1\nkind: Flavor\nmetadata: {name: bench.io}\nspec: {vcpus: 1, ramMiB: 256, diskGiB: 1}\n---\napiVersion: image.stratus.io/v1alpha1\nkind: Image\nmetadata: {name: stratus-test, namespace: admin}\nspec: {diskFormat: raw}\n---\napiVersion: ${API}\nkind: Volume\nmetadata: {name: io, namespace: admin}\nspec: {sizeGiB: 1}\n`);
    await client.patch(IMAGES, 'admin', 'stratus-test', { status: { phase: 'active', size: stored.size, virtualSize, checksum: stored.checksum, location: stored.location } }, 'bench', MERGE_PATCH, 'status');
    const vol = await until(async () => {
      const v = await client.get<Volume>(VOLUMES, 'admin', 'io');
      return v?.status?.phase === 'available' ? v : undefined;
    }, 'the volume');
    const serial = vol.metadata.uid!.slice(0, 20);
    // The guest finds the volume by its serial, then writes and reads it and its root disk, each with direct I/O.
    const dd = (what: string, args: string) => `a=$(cut -d' ' -f1 /proc/uptime); dd ${args} bs=1M count=${MIB} 2>/dev/null; b=$(cut -d' ' -f1 /proc/uptime); echo "${what} $(awk -v a=$a -v b=$b 'BEGIN { print b - a }')"`;
    const script = [
      '#!/bin/sh',
      `while true; do for d in /sys/block/vd*; do [ "$(cat $d/serial 2>/dev/null)" = "${serial}" ] && vol=/dev/$(basename $d); done; [ -n "$vol" ] && break; sleep 1; done`,
      dd('VOLUME-WRITE', 'if=/dev/zero of=$vol oflag=direct'),
      dd('VOLUME-READ', 'if=$vol of=/dev/null iflag=direct'),
      dd('ROOT-WRITE', 'if=/dev/zero of=/dev/vda oflag=direct'),
      dd('ROOT-READ', 'if=/dev/vda of=/dev/null iflag=direct'),
      'echo IO-DONE',
    ].join('\n');
    await kubectl(`apiVersion: compute.stratus.io/v1alpha1\nkind: Instance\nmetadata: {name: io, namespace: admin}\nspec: {flavor: bench.io, image: {name: stratus-test}, userData: ${Buffer.from(script + '\n').toString('base64')}}\n---\napiVersion: ${API}\nkind: VolumeAttachment\nmetadata: {name: io, namespace: admin}\nspec: {volume: io, instance: io}\n`);
    const inst = await until(async () => {
      const i = await client.get<Instance>(INSTANCES, 'admin', 'io');
      return i?.status?.phase === 'ACTIVE' ? i : undefined;
    }, 'the guest ACTIVE');
    await until(async () => (await client.get<VolumeAttachment>(VOLUME_ATTACHMENTS, 'admin', 'io'))?.status?.phase === 'attached', 'the volume attached');
    const log = join(cloud.dir, 'nova/instances', inst.metadata.uid!, 'console.log');
    const text = await until(() => (existsSync(log) && readFileSync(log, 'latin1').includes('IO-DONE') ? readFileSync(log, 'latin1') : undefined), 'the guest’s I/O', 1_800_000, 1000);
    const rate = (what: string) => ddRate(new RegExp(`USER-SCRIPT ${what} (\\S+)`).exec(text)?.[1] ?? '');
    const guest = { volumeWrite: rate('VOLUME-WRITE'), volumeRead: rate('VOLUME-READ'), rootWrite: rate('ROOT-WRITE'), rootRead: rate('ROOT-READ') };
    // The volume's file on the host, after the guest is done with it: the disk's own speed with O_DIRECT.
    await client.delete(VOLUME_ATTACHMENTS, 'admin', 'io');
    await until(async () => !(await client.get(VOLUME_ATTACHMENTS, 'admin', 'io')), 'the volume detached');
    const rbd = cloudCephOf(cloud.dir);
    const host = rbd ? await rbdBench(join(rbd.cluster, 'ceph.conf'), `${rbd.pool}/volume-${vol.metadata.uid}`) : await hostFile(join(cloud.dir, 'cinder/pool', `volume-${vol.metadata.uid}`));
    const r1 = (n: number) => Math.round(n * 10) / 10;
    const baseline = ceph ? 'rbd bench on the volume (1 MiB, one at a time)' : 'host dd on the volume file';
    console.log(`guest I/O, ${MIB} MiB with direct I/O (the guest runs ${existsSync('/dev/kvm') ? 'under KVM if usable' : 'emulated (TCG)'}; the volume ${ceph ? 'an RBD image on Ceph' : 'a file in the pool'}):`);
    console.log(`  write: volume ${r1(guest.volumeWrite)} MiB/s, root disk ${r1(guest.rootWrite)} MiB/s, ${baseline} ${r1(host.write)} MiB/s`);
    console.log(`  read:  volume ${r1(guest.volumeRead)} MiB/s, root disk ${r1(guest.rootRead)} MiB/s, ${baseline} ${r1(host.read)} MiB/s`);
    console.log(`  ratios: volume/root write ${(guest.volumeWrite / guest.rootWrite).toFixed(2)}, read ${(guest.volumeRead / guest.rootRead).toFixed(2)}; volume/${ceph ? 'rbd bench' : 'host'} write ${(guest.volumeWrite / host.write).toFixed(2)}, read ${(guest.volumeRead / host.read).toFixed(2)}`);
  } finally {
    await cloud.stop();
    await cloud.remove();
  }
}

/** The volume's file on the host, after the guest is done with it: the disk's own speed with O_DIRECT. */
async function hostFile(file: string): Promise<{ write: number; read: number }> {
  const hostDd = async (args: string[]) => {
    const r = await run('dd', [...args, 'bs=1M', `count=${MIB}`], { encoding: 'utf8' });
    const m = /(\d+) bytes .* copied, ([\d.]+) s/.exec(r.stderr);
    if (!m) throw new Error(`no dd statistics in: ${r.stderr}`);
    return Number(m[1]) / 1024 / 1024 / Number(m[2]);
  };
  return { write: await hostDd(['if=/dev/zero', `of=${file}`, 'oflag=direct', 'conv=notrunc']), read: await hostDd([`if=${file}`, 'of=/dev/null', 'iflag=direct']) };
}

/** `rbd bench` on the volume's image (as the cluster's admin), sequential 1 MiB I/O, one at a time: MiB/s. */
async function rbdBench(conf: string, image: string): Promise<{ write: number; read: number }> {
  const bench = async (type: string) => {
    const r = await run('rbd', ['-c', conf, 'bench', '--io-type', type, '--io-size', '1M', '--io-threads', '1', '--io-total', `${MIB}M`, '--io-pattern', 'seq', image], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const m = /elapsed:\s*([\d.]+)\s+ops:\s*(\d+)\s+ops\/sec:\s*([\d.]+)/.exec(r.stdout);
    if (!m) throw new Error(`no rbd bench summary in: ${r.stdout.slice(-500)}`);
    return Number(m[3]);
  };
  return { write: await bench('write'), read: await bench('read') };
}

async function churn(): Promise<void> {
  const log = createLogger('volumes-bench', 'error');
  const plane = await startTestControlPlane();
  const dir = mkdtempSync(join(tmpdir(), 'volumes-bench-'));
  try {
    const kc = new KubeConfig();
    kc.loadFromString(plane.kubeconfig());
    const client = new KubeClient(kc);
    const crdDir = new URL('../../crds/', import.meta.url);
    for (const f of readdirSync(crdDir).filter((f) => f.endsWith('.yaml'))) await client.create(CRDS, parse(readFileSync(new URL(f, crdDir), 'utf8')), 'bench');
    await plane.server.controllers.idle();
    for (const ns of ['bench', 'baseline', 'stratus-system']) await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, 'bench');
    const volume = (ns: string, i: number) => ({ apiVersion: API, kind: 'Volume', metadata: { name: `v-${i}`, namespace: ns }, spec: { sizeGiB: 1 } });

    // Baseline: create, one status write and delete per volume, no operator.
    const base = await load(N, CONCURRENCY, async (i) => {
      await client.create(VOLUMES, volume('baseline', i) as never, 'bench');
      await client.patch(VOLUMES, 'baseline', `v-${i}`, { status: { phase: 'available' } }, 'bench', MERGE_PATCH, 'status');
      await client.delete(VOLUMES, 'baseline', `v-${i}`);
    });

    // Nothing here reads images or backups: a store that is never called.
    const unused = new ImageStore({ endpoint: 'http://127.0.0.1:9', bucket: 'unused', accessKeyId: 'x', secretAccessKey: 'y' });
    const backend = new FilePoolBackend({ dir: join(dir, 'pool'), capacityGiB: N * 2 });
    const manager = cinderManager({ backends: [backend], images: unused, imageStore: unused, backups: new BackupChunkStore(unused), workDir: join(dir, 'work') }, { kubeConfig: kc, logger: log });
    await manager.start();
    const watch = selfHealingInformer<Volume>(kc, client, VOLUMES, { namespace: 'bench', log });
    await watch.start();
    const seen = (name: string, check: (v: Volume | undefined) => boolean, what: string) => until(() => check(watch.informer.get(name, 'bench')), `${name} ${what}`, 300_000, 5);
    const latencies: number[] = [];
    const runs = await load(N, CONCURRENCY, async (i) => {
      const t = performance.now();
      await client.create(VOLUMES, volume('bench', i) as never, 'bench');
      await seen(`v-${i}`, (v) => v?.status?.phase === 'available', 'available');
      latencies.push(performance.now() - t);
      await client.delete(VOLUMES, 'bench', `v-${i}`);
      await seen(`v-${i}`, (v) => !v, 'gone');
    });
    await manager.stop();
    await watch.stop();
    unused.destroy();
    const files = readdirSync(join(dir, 'pool')).length;
    const perSecond = N / runs.seconds;
    const basePerSecond = N / base.seconds;
    console.log(`volume churn: ${N} blank volumes created, available and deleted, ${CONCURRENCY} at a time`);
    console.log(`  baseline (create + status write + delete, no operator): ${basePerSecond.toFixed(1)}/s`);
    console.log(`  cinder operator on a file pool: ${perSecond.toFixed(1)}/s, create→available p50 ${ms(pct(latencies, 50))} ms, p99 ${ms(pct(latencies, 99))} ms`);
    console.log(`  ratio to the baseline: ${(perSecond / basePerSecond).toFixed(2)}; files left in the pool: ${files}`);
  } finally {
    await plane.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// Volume churn is the operator's and the control plane's, whichever backend: --ceph measures guest I/O only.
if (!values.ceph) await churn();
if (!values['skip-io']) await guestIo();
process.exit(0);
