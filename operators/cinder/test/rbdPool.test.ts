/**
 * The Ceph RBD backend against a real Ceph (make test-ceph: STRATUS_TEST_CEPH names the folder of a cluster made
 * by hack/ceph-up.sh), in a pool of its own made for the run and deleted after, as a cephx user of its own that
 * may use RBD in that pool only. Without STRATUS_TEST_CEPH the suite is skipped, and says so in its name.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { DeleteBucketCommand } from '@aws-sdk/client-s3';
import { ImageStore } from '@stratus/glance';
import { BackendError, BackupChunkStore, RbdError, RbdIo, RbdPoolBackend } from '../src/index.js';

const sh = promisify(execFile);
const GiB = 1024 ** 3;
const cephDir = process.env.STRATUS_TEST_CEPH;
const title = cephDir ? 'the Ceph RBD volume backend on a real Ceph' : 'the Ceph RBD volume backend on a real Ceph (skipped: STRATUS_TEST_CEPH names no cluster; make test-ceph runs it)';

(cephDir ? describe : describe.skip)(title, function () {
  this.timeout(180_000);
  const conf = join(cephDir ?? '', 'ceph.conf');
  const pool = `stratus-test-${randomBytes(4).toString('hex')}`;
  const user = `cinder-${pool}`;
  const ceph = (...args: string[]) => sh('ceph', ['-c', conf, ...args]);
  let work: string;
  let keyring: string;
  let backend: RbdPoolBackend;
  let admin: RbdIo;
  const images = async () => (await admin.call<Array<{ name: string; snapshots: string[] }>>('list')).result;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'rbd-test-'));
    await ceph('osd', 'pool', 'create', pool, '8', '8');
    await sh('rbd', ['-c', conf, 'pool', 'init', pool]);
    keyring = join(work, 'keyring');
    writeFileSync(keyring, (await ceph('auth', 'get-or-create', `client.${user}`, 'mon', 'profile rbd', 'osd', `profile rbd pool=${pool}`)).stdout, { mode: 0o600 });
    backend = new RbdPoolBackend({ conf, user, keyring, pool, secretUuid: '3b1f5d0e-8d4c-4b38-a8e1-2f7d9c0e6a11' });
    admin = new RbdIo({ conf, user: 'admin', keyring: join(cephDir!, 'client.admin.keyring'), pool });
  });
  after(async () => {
    backend?.close();
    admin?.close();
    await ceph('osd', 'pool', 'delete', pool, pool, '--yes-i-really-really-mean-it').catch(() => {});
    await ceph('auth', 'del', `client.${user}`).catch(() => {});
    rmSync(work, { recursive: true, force: true });
  });

  it('makes thin volumes, writes and reads them at offsets, and says where guests reach them', async () => {
    await backend.create('a', 2);
    await backend.create('a', 2); // made already: no error
    assert.equal(await backend.sizeBytes('a'), 2 * GiB);
    assert.ok(await backend.exists('a'));
    await backend.write('a', GiB + 4096, Buffer.from('marker in the second GiB'));
    assert.equal((await backend.read('a', GiB + 4096, 24)).toString(), 'marker in the second GiB');
    assert.deepEqual(await backend.read('a', 0, 16), Buffer.alloc(16), 'unwritten space reads as zeroes');
    const cap = await backend.capacity();
    assert.ok(cap.totalGiB > 0 && cap.provisionedGiB >= 2, JSON.stringify(cap));
    const c = backend.connection('a');
    assert.equal(c.driverVolumeType, 'rbd');
    assert.equal(c.name, `${pool}/volume-a`);
    assert.deepEqual(c.hosts, ['127.0.0.1']);
    assert.match(c.ports![0]!, /^\d+$/);
    assert.equal(c.authUsername, user);
    assert.equal(c.secretUuid, '3b1f5d0e-8d4c-4b38-a8e1-2f7d9c0e6a11');
  });

  it('snapshots a volume; volumes from the snapshot and cloned from the volume are independent copies, grown as asked', async () => {
    await backend.write('a', 0, Buffer.from('before the snapshot'));
    await backend.createSnapshot('s1', 'a');
    await backend.write('a', 0, Buffer.from('after the snapshot!'));
    assert.ok(await backend.snapshotExists('s1'));
    await backend.createFromSnapshot('from-s1', 's1', 3);
    assert.equal((await backend.read('from-s1', 0, 19)).toString(), 'before the snapshot');
    assert.equal(await backend.sizeBytes('from-s1'), 3 * GiB);
    await backend.cloneVolume('clone', 'a', 2);
    assert.equal((await backend.read('clone', 0, 19)).toString(), 'after the snapshot!');
    assert.equal((await backend.read('clone', GiB + 4096, 24)).toString(), 'marker in the second GiB');
    // Independent: the source and its snapshot go, the copies stay whole.
    await backend.deleteSnapshot('s1');
    assert.ok(!(await backend.snapshotExists('s1')));
    await backend.write('a', 0, Buffer.from('changed once more!!'));
    assert.equal((await backend.read('clone', 0, 19)).toString(), 'after the snapshot!');
    assert.deepEqual(await backend.list(), { volumes: ['a', 'clone', 'from-s1'], snapshots: [] });
    await assert.rejects(backend.createFromSnapshot('x', 'missing', 1), (e: BackendError) => e.reason === 'SnapshotNotFound');
    await assert.rejects(backend.cloneVolume('x', 'missing', 1), (e: BackendError) => e.reason === 'VolumeNotFound');
  });

  it('grows a volume, and backs it up to chunks and restores it byte for byte', async () => {
    await backend.extend('clone', 3);
    assert.equal(await backend.sizeBytes('clone'), 3 * GiB);
    // Only what was written is read for a backup: librbd's object map knows the rest is zeroes.
    const written = await backend.allocated('clone');
    assert.ok(written.some(([o, l]) => o <= GiB + 4096 && GiB + 4096 < o + l), JSON.stringify(written));
    assert.ok(written.reduce((n, [, l]) => n + l, 0) <= 16 * 1024 * 1024, `a few objects, not the whole volume: ${JSON.stringify(written)}`);
    // Backups go to the same cluster's RADOS Gateway, in a bucket of the run's own.
    const s3 = JSON.parse(readFileSync(join(cephDir!, 's3.json'), 'utf8')) as { endpoint: string; accessKeyId: string; secretAccessKey: string };
    const store = new ImageStore({ ...s3, bucket: pool });
    const chunks = new BackupChunkStore(store);
    const { manifest } = await chunks.backup(backend, 'clone', 'backups/clone');
    assert.ok(manifest.chunks.filter((ch) => ch.key).length <= 2, 'zero chunks are stored as nothing');
    await backend.create('restored', 3);
    await chunks.restore(backend, manifest, 'restored', true);
    for (const at of [0, GiB + 4096]) assert.deepEqual(await backend.read('restored', at, 64), await backend.read('clone', at, 64));
    await chunks.deleteUnder('backups/clone');
    await store.s3.send(new DeleteBucketCommand({ Bucket: pool }));
    store.s3.destroy();
  });

  it('writes a raw image into a new volume as it streams in, and a qcow2 through QEMU, refusing one too big', async () => {
    const raw = Buffer.alloc(20 * 1024 * 1024);
    raw.write('raw image head', 0);
    raw.write('raw image tail', raw.length - 14);
    await backend.createFromRawStream('from-raw', 1, Readable.from([raw.subarray(0, 3_000_001), raw.subarray(3_000_001)]));
    assert.equal((await backend.read('from-raw', 0, 14)).toString(), 'raw image head');
    assert.equal((await backend.read('from-raw', raw.length - 14, 14)).toString(), 'raw image tail');
    const file = join(work, 'image.raw');
    writeFileSync(file, raw);
    await sh('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', file, join(work, 'image.qcow2')]);
    await backend.createFromImage('from-qcow2', 1, join(work, 'image.qcow2'), 'qcow2');
    assert.equal((await backend.read('from-qcow2', raw.length - 14, 14)).toString(), 'raw image tail');
    await sh('qemu-img', ['create', '-f', 'qcow2', join(work, 'big.qcow2'), '2G']);
    await assert.rejects(backend.createFromImage('too-big', 1, join(work, 'big.qcow2'), 'qcow2'), (e: BackendError) => e.reason === 'ImageTooBig');
    await assert.rejects(backend.createFromRawStream('too-big', 1, Readable.from([Buffer.alloc(GiB), Buffer.from('x')])), (e: BackendError) => e.reason === 'ImageTooBig');
    assert.ok(!(await images()).some((i) => i.name.startsWith('volume-too-big')), 'a refused volume leaves no image, whole or half');
  });

  it('reads a whole volume as one raw stream', async () => {
    let bytes = 0;
    let head: Buffer | undefined;
    for await (const chunk of backend.openRaw('from-raw')) {
      head ??= chunk as Buffer;
      bytes += (chunk as Buffer).length;
    }
    assert.equal(bytes, GiB);
    assert.equal(head!.subarray(0, 14).toString(), 'raw image head');
  });

  it("answers for a pool its user may not use with librbd's own refusal", async () => {
    const other = new RbdIo({ conf, user, keyring, pool: 'volumes' });
    try {
      await assert.rejects(other.call('create', { name: 'volume-not-mine', size: GiB }), (e: RbdError) => e instanceof RbdError && /PermissionError|Operation not permitted|HelperExited/.test(`${e.kind} ${e.message}`));
    } finally {
      other.close();
    }
  });

  it('says why when its librbd process cannot start or its pool cannot be opened', async () => {
    const noPython = new RbdIo({ conf, user, keyring, pool, python: join(work, 'no-such-python') });
    await assert.rejects(noPython.call('list'), /rbd-io \(pool .*\) did not start: spawn .*no-such-python ENOENT/);
    const noPool = new RbdIo({ conf, user, keyring, pool: `${pool}-missing` });
    await assert.rejects(noPool.call('list'), /cannot open pool .*-missing as client\./);
    noPool.close();
  });

  it('deletes volumes with their snapshots, and a missing one is no error', async () => {
    await backend.createSnapshot('s2', 'clone');
    for (const v of ['a', 'clone', 'from-s1', 'restored', 'from-raw', 'from-qcow2']) await backend.delete(v);
    await backend.delete('never-made');
    assert.deepEqual(await images(), []);
  });
});
