/**
 * The Block Storage API and the volume manager against a real control plane, a real S3 server and a real
 * file pool: what a user of the API (and of kubectl) sees, what lands in the pool and the bucket, and bad
 * input refused with Cinder's bodies and nothing left behind.
 */
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { eventually } from '@stratus/apiserver';
import { EVENTS } from '@stratus/runtime';
import { reapMessages } from '../src/api/messageRoutes.js';
import { TENANTS, type Tenant } from '@stratus/keystone';
import { IMAGES } from '@stratus/glance';
import { CHUNK_BYTES, QOS_SPECS, VOLUME_GROUPS, VOLUME_GROUP_TYPES, VOLUMES, VOLUME_ATTACHMENTS, VOLUME_TYPES, idOf, type Volume, type VolumeAttachment, type VolumeType } from '../src/index.js';

const INSTANCES = { group: 'compute.stratus.io', version: 'v1alpha1', plural: 'instances', namespaced: true };
import { IMAGE_BUCKET, call, passwordAuth, startBlockStorageEnv, type BlockStorageEnv } from './support.js';

const GiB = 1024 ** 3;

describe('block storage: volumes, snapshots, backups (Block Storage API v3)', function () {
  this.timeout(180_000);
  let env: BlockStorageEnv;
  before(async () => {
    env = await startBlockStorageEnv();
  });
  after(async () => {
    await env?.stop();
  });

  const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => call(env.v3, method, path, { token: env.adminToken, body, headers });
  async function until(kind: 'volumes' | 'snapshots' | 'backups', id: string, status: string): Promise<Record<string, any>> {
    let last: Record<string, any> | undefined;
    const key = kind.slice(0, -1);
    await eventually(`${key} ${id} ${status}`, async () => {
      last = (await api('GET', `/${kind}/${id}`)).body[key];
      if (last?.status === 'error' && status !== 'error') throw new Error(`${key} ${id} went to error`);
      return last?.status === status;
    });
    return last!;
  }
  const gone = (kind: string, id: string) => eventually(`${kind} ${id} gone`, async () => (await api('GET', `/${kind}/${id}`)).status === 404);
  const file = (id: string) => join(env.poolDir, `volume-${id}`);
  const writeAt = (id: string, offset: number, text: string) => env.backend.write(id, offset, Buffer.from(text));
  const readAt = async (id: string, offset: number, length: number) => (await env.backend.read(id, offset, length)).toString();
  /** A new project with a member user in it, signed in: the project, the user and the member's token. */
  async function memberOf(projectName: string, userName: string, password: string) {
    const identity = env.identity;
    const project = (await call(identity.v3, 'POST', '/projects', { token: env.adminToken, body: { project: { name: projectName } } })).body.project;
    const user = (await call(identity.v3, 'POST', '/users', { token: env.adminToken, body: { user: { name: userName, password, default_project_id: project.id } } })).body.user;
    const role = (await call(identity.v3, 'GET', '/roles?name=member', { token: env.adminToken })).body.roles[0];
    await call(identity.v3, 'PUT', `/projects/${project.id}/users/${user.id}/roles/${role.id}`, { token: env.adminToken });
    let token = '';
    await eventually(`member ${userName} signed in`, async () => {
      const r = await call(identity.v3, 'POST', '/auth/tokens', { body: passwordAuth(userName, password, projectName) });
      token = r.headers.get('x-subject-token') ?? '';
      return r.status === 201;
    });
    return { project, user, token };
  }
  async function newVolume(body: Record<string, unknown>): Promise<string> {
    const r = await api('POST', '/volumes', { volume: body });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await until('volumes', r.body.volume.id, 'available');
    return r.body.volume.id;
  }

  it('makes a blank volume as a sparse file of its size; lists, filters, pages and shows it as Cinder does', async () => {
    const r = await api('POST', '/volumes', { volume: { size: 1, name: 'data one', description: 'first', metadata: { purpose: 'test' } } });
    assert.equal(r.status, 202);
    assert.equal(r.body.volume.status, 'creating');
    assert.match(r.body.volume.id, /^[0-9a-f-]{36}$/);
    const v = await until('volumes', r.body.volume.id, 'available');
    assert.equal(v.name, 'data one', 'a free-text name');
    assert.equal(v.size, 1);
    assert.equal(v.bootable, 'false');
    assert.equal(v.volume_type, '__DEFAULT__');
    assert.deepEqual(v.metadata, { purpose: 'test' });
    assert.deepEqual(v.attachments, []);
    assert.equal(statSync(file(v.id)).size, GiB, 'the file has the volume size');
    assert.ok(statSync(file(v.id)).blocks * 512 < 1024 * 1024, 'and holds nothing yet (sparse)');
    const other = await newVolume({ size: 2, name: 'data two' });
    const summary = (await api('GET', '/volumes')).body.volumes;
    assert.deepEqual(Object.keys(summary[0]).sort(), ['id', 'links', 'name']);
    // Newest first; creation times are whole seconds, so the name breaks a tie here.
    const sorted = (await api('GET', '/volumes?sort=created_at:desc,name:desc')).body.volumes;
    assert.deepEqual(sorted.slice(0, 2).map((x: { id: string }) => x.id), [other, v.id]);
    const byName = (await api('GET', '/volumes/detail?name=data%20one')).body.volumes;
    assert.deepEqual(byName.map((x: { id: string }) => x.id), [v.id]);
    const byMeta = (await api('GET', `/volumes/detail?metadata=${encodeURIComponent("{'purpose': 'test'}")}`)).body.volumes;
    assert.deepEqual(byMeta.map((x: { id: string }) => x.id), [v.id]);
    const page = (await api('GET', '/volumes/detail?limit=1&sort=name:asc')).body;
    assert.equal(page.volumes[0].id, v.id);
    assert.match(page.volumes_links[0].href, new RegExp(`marker=${v.id}`));
    const next = (await api('GET', `/volumes/detail?limit=1&sort=name:asc&marker=${v.id}`)).body.volumes;
    assert.equal(next[0].id, other);
    const renamed = await api('PUT', `/volumes/${v.id}`, { volume: { name: 'renamed', description: 'second' } });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.volume.name, 'renamed');
    assert.equal((await api('POST', `/volumes/${v.id}/metadata`, { metadata: { more: 'yes' } })).body.metadata.more, 'yes');
    assert.equal((await api('DELETE', `/volumes/${v.id}/metadata/more`)).status, 200);
    assert.deepEqual((await api('GET', `/volumes/${v.id}/metadata`)).body.metadata, { purpose: 'test' });
  });

  it('extends an available volume (the file grows) and refuses shrinking or a size that is not a whole number', async () => {
    const id = await newVolume({ size: 1 });
    assert.equal((await api('POST', `/volumes/${id}/action`, { 'os-extend': { new_size: 3 } })).status, 202);
    await eventually('the volume is 3 GiB', async () => (await api('GET', `/volumes/${id}`)).body.volume.size === 3 && (await api('GET', `/volumes/${id}`)).body.volume.status === 'available');
    assert.equal(statSync(file(id)).size, 3 * GiB);
    const smaller = await api('POST', `/volumes/${id}/action`, { 'os-extend': { new_size: 2 } });
    assert.equal(smaller.status, 400);
    assert.match(smaller.body.badRequest.message, /New size for extend must be greater than current size/);
    for (const size of [0, -1, 'big', 1.5]) {
      const r = await api('POST', '/volumes', { volume: { size } });
      assert.equal(r.status, 400, `size ${size}`);
      assert.equal(r.body.badRequest.code, 400);
      assert.match(r.body.badRequest.message, /size/);
    }
  });

  it('snapshots a volume and makes new volumes from the snapshot and from the volume, each with the data', async () => {
    const id = await newVolume({ size: 1 });
    await writeAt(id, 4096, 'MARKER-ONE');
    const s = await api('POST', '/snapshots', { snapshot: { volume_id: id, name: 'snap' } });
    assert.equal(s.status, 202);
    const snap = await until('snapshots', s.body.snapshot.id, 'available');
    assert.equal(snap.volume_id, id);
    assert.equal(snap.size, 1);
    assert.ok(!('user_id' in snap) && !('group_snapshot_id' in snap), 'neither before its microversion');
    const at341 = (await api('GET', `/snapshots/${snap.id}`, undefined, { 'OpenStack-API-Version': 'volume 3.41' })).body.snapshot;
    const maker = (await api('GET', `/volumes/${id}`)).body.volume.user_id;
    assert.deepEqual([at341.user_id, at341.group_snapshot_id], [maker, null], 'from 3.41 the user who made it (the same who made the volume); from 3.14 no group snapshot');
    await writeAt(id, 4096, 'MARKER-TWO');
    const fromSnap = await newVolume({ size: 2, snapshot_id: snap.id });
    assert.equal(await readAt(fromSnap, 4096, 10), 'MARKER-ONE', 'the snapshot has the data as it was');
    assert.equal(statSync(file(fromSnap)).size, 2 * GiB, 'grown to the size asked');
    assert.equal((await api('GET', `/volumes/${fromSnap}`)).body.volume.snapshot_id, snap.id);
    const clone = await newVolume({ source_volid: id });
    assert.equal(await readAt(clone, 4096, 10), 'MARKER-TWO', 'the clone has the data as it is now');
    assert.equal((await api('GET', `/volumes/${clone}`)).body.volume.size, 1, 'the source size when none is asked');
    // A volume with a snapshot is not deleted, unless in cascade with it.
    const refused = await api('DELETE', `/volumes/${id}`);
    assert.equal(refused.status, 400);
    assert.match(refused.body.badRequest.message, /have snapshots/);
    assert.equal((await api('DELETE', `/volumes/${id}?cascade=true`)).status, 202);
    await gone('volumes', id);
    await gone('snapshots', snap.id);
    assert.ok(!env.poolFiles().includes(`volume-${id}`) && !env.poolFiles().includes(`snapshot-${snap.id}`), 'the files are gone');
  });

  it("takes a snapshot's status update (Nova's assisted snapshots) only while it is being made, and shows its progress", async () => {
    const id = await newVolume({ size: 1 });
    const snap = (await api('POST', '/snapshots', { snapshot: { volume_id: id } })).body.snapshot.id as string;
    await until('snapshots', snap, 'available');
    const update = (args: Record<string, unknown>) => api('POST', `/snapshots/${snap}/action`, { 'os-update_snapshot_status': args });
    const made = await update({ status: 'error' });
    assert.equal(made.status, 400, 'a snapshot already made');
    assert.equal(made.body.badRequest.message, 'Snapshot status available not allowed for update_snapshot_status');
    assert.equal((await api('POST', `/snapshots/${snap}/action`, { 'os-reset_status': { status: 'creating' } })).status, 202);
    await until('snapshots', snap, 'creating');
    const badProgress = await update({ status: 'error', progress: '180%' });
    assert.equal(badProgress.status, 400);
    assert.equal(badProgress.body.badRequest.message, 'progress must be an integer percentage');
    assert.equal((await update({ progress: '80%' })).status, 400, 'no status');
    assert.equal((await update({ status: 'error_deleting' })).status, 400, 'not a word that follows creating');
    assert.equal((await api('GET', `/snapshots/${snap}`)).body.snapshot.status, 'creating', 'the refusals changed nothing');
    const taken = await update({ status: 'error', progress: '80%' });
    assert.equal(taken.status, 202, JSON.stringify(taken.body));
    const shown = (await api('GET', `/snapshots/${snap}`)).body.snapshot;
    assert.deepEqual([shown.status, shown['os-extended-snapshot-attributes:progress']], ['error', '80%']);
    assert.equal((await api('POST', `/snapshots/${snap}/action`, { 'os-reset_status': { status: 'available' } })).status, 202);
    const back = await until('snapshots', snap, 'available');
    assert.equal(back['os-extended-snapshot-attributes:progress'], '100%', 'the update over, its progress goes');
    assert.equal((await api('DELETE', `/volumes/${id}?cascade=true`)).status, 202);
    await gone('volumes', id);
  });

  it('backs a volume up to S3 in chunks, incrementally, restores each state, and deletes the objects it stored', async () => {
    const id = await newVolume({ size: 1, metadata: { owner: 'ops' } });
    await writeAt(id, 0, 'FIRST-STATE');
    await writeAt(id, 3 * CHUNK_BYTES + 10, 'FAR-AWAY');
    const full = await api('POST', '/backups', { backup: { volume_id: id, name: 'full' } });
    assert.equal(full.status, 202);
    const f = await until('backups', full.body.backup.id, 'available');
    assert.equal(f.is_incremental, false);
    assert.equal(f.object_count, 2, 'two chunks hold data; the zeroes are stored as nothing');
    await writeAt(id, 0, 'SECOND-STATE');
    const inc = await api('POST', '/backups', { backup: { volume_id: id, name: 'inc', incremental: true } });
    const i = await until('backups', inc.body.backup.id, 'available');
    assert.equal(i.is_incremental, true);
    assert.equal(i.object_count, 1, 'only the changed chunk');
    assert.equal((await api('GET', `/backups/${f.id}`)).body.backup.has_dependent_backups, true);
    const objects = await env.backupObjects();
    assert.equal(objects.filter((k) => k.includes('/chunk-')).length, 3);
    // Restored into a new volume, each backup brings back its own state.
    const r1 = await api('POST', `/backups/${f.id}/restore`, { restore: { name: 'from-full' } });
    assert.equal(r1.status, 202);
    await until('volumes', r1.body.restore.volume_id, 'available');
    assert.equal(await readAt(r1.body.restore.volume_id, 0, 11), 'FIRST-STATE');
    assert.deepEqual((await api('GET', `/volumes/${r1.body.restore.volume_id}`)).body.volume.metadata, { owner: 'ops' }, "the volume's metadata comes back with its data");
    assert.equal(await readAt(r1.body.restore.volume_id, 3 * CHUNK_BYTES + 10, 8), 'FAR-AWAY');
    const r2 = await api('POST', `/backups/${i.id}/restore`, { restore: { volume_id: r1.body.restore.volume_id } });
    assert.equal(r2.status, 202);
    await eventually('the restore into the existing volume is done', async () => (await readAt(r1.body.restore.volume_id, 0, 12)) === 'SECOND-STATE');
    assert.equal(await readAt(r1.body.restore.volume_id, 3 * CHUNK_BYTES + 10, 8), 'FAR-AWAY', "the parent's chunk came too");
    // A backup reset to error is restored and exported by nobody until it is reset back.
    assert.equal((await api('POST', `/backups/${i.id}/action`, { 'os-reset_status': { status: 'error' } })).status, 202);
    const refused = await api('POST', `/backups/${i.id}/restore`, { restore: { name: 'from-error' } });
    assert.deepEqual([refused.status, refused.body.badRequest?.message], [400, 'Invalid backup: Backup status must be available, but is error.']);
    assert.equal((await api('GET', `/backups/${i.id}/export_record`)).status, 400);
    assert.equal((await api('POST', `/backups/${i.id}/action`, { 'os-reset_status': { status: 'available' } })).status, 202);
    await until('backups', i.id, 'available');
    // The incremental backup's record imports beside its parent (not without it) and restores the same state.
    const rec = (await api('GET', `/backups/${i.id}/export_record`)).body['backup-record'];
    const recordWith = (changes: object) => Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(rec.backup_url, 'base64').toString()), ...changes })).toString('base64');
    const importing = (changes: object) => api('POST', '/backups/import_record', { 'backup-record': { backup_service: rec.backup_service, backup_url: recordWith(changes) } });
    const orphan = await importing({ id: randomUUID(), parent_id: randomUUID() });
    assert.equal(orphan.status, 400);
    assert.match(orphan.body.badRequest.message, /is incremental: the backup it builds on \(.*\) must be in this project and available; import its record first/);
    const copyId = randomUUID();
    assert.equal((await importing({ id: copyId })).status, 201);
    const copy = await until('backups', copyId, 'available');
    assert.deepEqual([copy.is_incremental, copy.object_count], [true, 1]);
    const r3 = (await api('POST', `/backups/${copyId}/restore`, { restore: { name: 'from-imported-inc' } })).body.restore.volume_id as string;
    await until('volumes', r3, 'available');
    assert.deepEqual([await readAt(r3, 0, 12), await readAt(r3, 3 * CHUNK_BYTES + 10, 8)], ['SECOND-STATE', 'FAR-AWAY'], "its own chunk and its parent's");
    assert.equal((await api('DELETE', `/volumes/${r3}`)).status, 202);
    // The full backup goes only after the incremental ones built on it, the imported one too.
    const early = await api('DELETE', `/backups/${f.id}`);
    assert.equal(early.status, 400);
    assert.match(early.body.badRequest.message, /Incremental backups exist/);
    await until('volumes', r1.body.restore.volume_id, 'available');
    for (const b of [copyId, i.id, f.id]) {
      assert.equal((await api('DELETE', `/backups/${b}`)).status, 202);
      await gone('backups', b);
    }
    assert.deepEqual(await env.backupObjects(), [], 'no object is left in the bucket');
  });

  it("exports a backup's record and imports it under another ID, as Tempest does: the same data, restorable from both, its objects gone with the last of them", async () => {
    const before = await env.backupObjects();
    const id = await newVolume({ size: 1 });
    await writeAt(id, 0, 'EXPORTED-STATE');
    const b = await until('backups', (await api('POST', '/backups', { backup: { volume_id: id, name: 'to-export' } })).body.backup.id, 'available');
    const exported = await api('GET', `/backups/${b.id}/export_record`);
    assert.equal(exported.status, 200, JSON.stringify(exported.body));
    const rec = exported.body['backup-record'];
    assert.ok(rec.backup_service.startsWith('cinder.backup.drivers'), rec.backup_service);
    const newId = randomUUID();
    const withId = (record: string, changes: object) => Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(record, 'base64').toString()), ...changes })).toString('base64');
    const importing = (backupUrl: string, token = env.adminToken) => call(env.v3, 'POST', '/backups/import_record', { token, body: { 'backup-record': { backup_service: rec.backup_service, backup_url: backupUrl } } });
    const { token: member } = await memberOf('records', 'rita', 'rita-pw');
    assert.equal((await importing(withId(rec.backup_url, { id: newId }), member)).status, 403, "an admin's call");
    assert.equal((await call(env.v3, 'GET', `/backups/${b.id}/export_record`, { token: member })).status, 404, "another project's backup");
    const dup = await importing(rec.backup_url);
    assert.deepEqual([dup.status, dup.body.badRequest?.message], [400, 'Invalid backup: Backup already exists in database.']);
    const bad = await importing('bm90IGpzb24=');
    assert.deepEqual([bad.status, bad.body.badRequest?.message], [400, "Invalid input received: Can't parse backup record."]);
    const imported = await importing(withId(rec.backup_url, { id: newId }));
    assert.equal(imported.status, 201, JSON.stringify(imported.body));
    assert.deepEqual([imported.body.backup.id, imported.body.backup.name], [newId, 'to-export']);
    const early = (await api('GET', `/backups/${newId}`)).body.backup;
    assert.deepEqual([early.volume_id, early.size, early.container], [id, b.size, b.container], 'what it is of, shown from the first moment (Tempest checks volume_id is a string)');
    const i = await until('backups', newId, 'available');
    assert.deepEqual([i.volume_id, i.size, i.object_count, i.container], [id, b.size, b.object_count, b.container], 'the same backup under its new ID');
    assert.ok((await api('GET', '/backups')).body.backups.some((x: { id: string }) => x.id === newId), 'listed');
    const restored = (await api('POST', `/backups/${newId}/restore`, { restore: { name: 'from-imported' } })).body.restore.volume_id as string;
    await until('volumes', restored, 'available');
    assert.equal(await readAt(restored, 0, 14), 'EXPORTED-STATE', 'restored from the imported record');
    const shared = await env.backupObjects();
    assert.equal((await api('DELETE', `/backups/${newId}`)).status, 202);
    await gone('backups', newId);
    assert.deepEqual(await env.backupObjects(), shared, 'the first backup still holds the objects');
    const again = (await api('POST', `/backups/${b.id}/restore`, { restore: { name: 'from-first' } })).body.restore.volume_id as string;
    await until('volumes', again, 'available');
    assert.equal(await readAt(again, 0, 14), 'EXPORTED-STATE', 'restored from the first backup, after the imported one went');
    assert.equal((await api('DELETE', `/backups/${b.id}`)).status, 202);
    await gone('backups', b.id);
    assert.deepEqual(await env.backupObjects(), before, 'no object of it is left');
    for (const v of [again, restored, id]) {
      const d = await api('DELETE', `/volumes/${v}`);
      assert.equal(d.status, 202, JSON.stringify(d.body));
    }
  });

  it("backs up a snapshot's data, not the volume's as it is now, through a temporary volume that does not stay, into the container asked for", async () => {
    const id = await newVolume({ size: 1 });
    await writeAt(id, 0, 'SNAPPED-STATE');
    const snap = (await api('POST', '/snapshots', { snapshot: { volume_id: id, name: 'snapped' } })).body.snapshot.id as string;
    await until('snapshots', snap, 'available');
    await writeAt(id, 0, 'LATER-STATE!!');
    const other = await newVolume({ size: 1 });
    const wrong = await api('POST', '/backups', { backup: { volume_id: other, snapshot_id: snap } });
    assert.equal(wrong.status, 400, "a snapshot of another volume: 400");
    assert.equal((await api('POST', '/backups', { backup: { volume_id: id, snapshot_id: '00000000-0000-0000-0000-000000000000' } })).status, 404);
    assert.equal((await api('POST', '/backups', { backup: { volume_id: id, container: 'Not A Bucket' } })).status, 400);
    const made = await api('POST', '/backups', { backup: { volume_id: id, snapshot_id: snap, name: 'of-snap', container: 'snap-backups' } });
    assert.equal(made.status, 202, JSON.stringify(made.body));
    const b = await until('backups', made.body.backup.id, 'available');
    assert.deepEqual([b.volume_id, b.snapshot_id, b.container], [id, snap, 'snap-backups']);
    assert.ok((await env.backupObjects('snap-backups')).some((k) => k.endsWith('/manifest.json') || k.includes('/chunk-')), 'its objects are in its own container');
    assert.deepEqual(await env.backupObjects(), [], 'and none in the default one');
    await until('snapshots', snap, 'available'); // back from backing-up
    assert.equal((await api('GET', `/volumes/${id}`)).body.volume.status, 'available');
    assert.ok(!env.poolFiles().some((f) => f.includes(`backup-`)), `no temporary volume stays: ${env.poolFiles()}`);
    const restored = (await api('POST', `/backups/${b.id}/restore`, { restore: { name: 'from-snap' } })).body.restore.volume_id as string;
    await until('volumes', restored, 'available');
    assert.equal(await readAt(restored, 0, 13), 'SNAPPED-STATE');
    await api('DELETE', `/backups/${b.id}`);
    await gone('backups', b.id);
    assert.deepEqual(await env.backupObjects('snap-backups'), [], 'deleted from its container');
    for (const v of [restored, other]) await api('DELETE', `/volumes/${v}`);
    await api('DELETE', `/snapshots/${snap}`);
    await gone('snapshots', snap);
    await api('DELETE', `/volumes/${id}`);
    for (const v of [restored, other, id]) await gone('volumes', v);
  });

  it('makes a bootable volume from an image, with the image data and its properties as volume_image_metadata', async () => {
    const data = Buffer.alloc(3 * 1024 * 1024, 7);
    data.write('IMAGE-DATA', 0);
    await env.images.s3.send(new PutObjectCommand({ Bucket: IMAGE_BUCKET, Key: 'images/admin/raw1', Body: data }));
    const img = await env.identity.client.create(IMAGES, { apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name: 'raw1', namespace: 'admin' }, spec: { displayName: 'raw one', diskFormat: 'raw', containerFormat: 'bare', properties: { hw_disk_bus: 'virtio' } } } as never, 'test');
    await env.identity.client.patch(IMAGES, 'admin', 'raw1', { status: { phase: 'active', location: `s3://${IMAGE_BUCKET}/images/admin/raw1`, size: data.length, virtualSize: data.length } }, 'test', 'application/merge-patch+json', 'status');
    const id = await newVolume({ size: 1, imageRef: (img as { metadata: { uid: string } }).metadata.uid });
    const v = (await api('GET', `/volumes/${id}`)).body.volume;
    assert.equal(v.bootable, 'true');
    assert.equal(v.volume_image_metadata.image_name, 'raw one');
    assert.equal(v.volume_image_metadata.hw_disk_bus, 'virtio');
    assert.equal(await readAt(id, 0, 10), 'IMAGE-DATA');
    assert.deepEqual(readFileSync(file(id)).subarray(0, data.length), data);
    const missing = await api('POST', '/volumes', { volume: { size: 1, imageRef: '00000000-0000-0000-0000-000000000000' } });
    assert.equal(missing.status, 404);
    assert.match(missing.body.itemNotFound.message, /Image 00000000-0000-0000-0000-000000000000 could not be found/);

    // The image metadata actions: set keys (kept beside the image's), drop one of the image's, show the set.
    const set = await api('POST', `/volumes/${id}/action`, { 'os-set_image_metadata': { metadata: { kernel_id: 'k1', ramdisk_id: 'r1' } } });
    assert.equal(set.status, 200);
    assert.deepEqual({ k: set.body.metadata.kernel_id, h: set.body.metadata.hw_disk_bus }, { k: 'k1', h: 'virtio' });
    assert.equal((await api('POST', `/volumes/${id}/action`, { 'os-unset_image_metadata': { key: 'hw_disk_bus' } })).status, 200);
    const shown = (await api('POST', `/volumes/${id}/action`, { 'os-show_image_metadata': {} })).body.metadata;
    assert.equal(shown.kernel_id, 'k1');
    assert.equal(shown.image_name, 'raw one');
    assert.ok(!('hw_disk_bus' in shown), "the image's key is dropped");
    assert.deepEqual((await api('GET', `/volumes/${id}`)).body.volume.volume_image_metadata, shown);
    const unknown = await api('POST', `/volumes/${id}/action`, { 'os-unset_image_metadata': { key: 'nope' } });
    assert.equal(unknown.status, 404);
    assert.equal((await api('POST', `/volumes/${id}/action`, { 'os-set_image_metadata': { metadata: ['x'] } })).status, 400);
    const kept = (await env.identity.client.list<Volume>(VOLUMES, 'admin')).items.find((x) => x.metadata.uid === id)!;
    assert.equal(kept.status?.imageMetadata?.hw_disk_bus, 'virtio', 'what the volume was made from stays in status');
    assert.equal(kept.spec.imageMetadata?.hw_disk_bus, undefined, 'kubectl sees the set in spec');
  });

  it("attaches with Cinder's os-attach as Nova once called it: an attachment to the server named, which os-detach deletes", async () => {
    const id = await newVolume({ size: 1 });
    const inst = await env.identity.client.create<{ metadata: { uid: string; name: string } }>(INSTANCES, { apiVersion: 'compute.stratus.io/v1alpha1', kind: 'Instance', metadata: { name: 'web', namespace: 'admin' }, spec: { flavor: 'none' } } as never, 'test');
    assert.equal((await api('POST', `/volumes/${id}/action`, { 'os-attach': { instance_uuid: inst.metadata.uid, mountpoint: '/dev/vdd' } })).status, 202);
    const atts = (await env.identity.client.list<VolumeAttachment>(VOLUME_ATTACHMENTS, 'admin')).items.filter((a) => a.spec.instance === 'web');
    assert.deepEqual(atts.map((a) => [a.spec.volume, a.spec.device]), [[(await env.identity.client.list<Volume>(VOLUMES, 'admin')).items.find((v) => v.metadata.uid === id)!.metadata.name, '/dev/vdd']]);
    await eventually('the volume reserved for it', async () => (await api('GET', `/volumes/${id}`)).body.volume.status === 'reserved');
    const again = await api('POST', `/volumes/${id}/action`, { 'os-attach': { instance_uuid: inst.metadata.uid } });
    assert.equal(again.status, 400, 'not twice');
    const nobody = await api('POST', `/volumes/${id}/action`, { 'os-attach': { instance_uuid: '55555555-5555-5555-5555-555555555555' } });
    assert.equal(nobody.status, 400, 'a reserved volume first');
    assert.equal((await api('POST', `/volumes/${id}/action`, { 'os-detach': {} })).status, 202);
    await until('volumes', id, 'available');
    // Cinder's API casts a detach and answers 202 even with nothing attached; nothing changes.
    assert.equal((await api('POST', `/volumes/${id}/action`, { 'os-detach': {} })).status, 202, 'not attached: nothing to do');
    assert.equal((await api('GET', `/volumes/${id}`)).body.volume.status, 'available');
    const missing = await api('POST', `/volumes/${id}/action`, { 'os-attach': { instance_uuid: '55555555-5555-5555-5555-555555555555' } });
    assert.equal(missing.status, 404);
    assert.match(missing.body.itemNotFound.message, /Instance 55555555-5555-5555-5555-555555555555 could not be found/);
    await env.identity.client.delete(INSTANCES, 'admin', 'web');
  });

  it('keeps volume types: extra specs one by one, private types given to projects, and volumes made of a type', async () => {
    const t = (await api('POST', '/types', { volume_type: { name: 'fast', description: 'on files', extra_specs: { volume_backend_name: 'file' }, 'os-volume-type-access:is_public': false } })).body.volume_type;
    assert.equal(t.is_public, false);
    assert.equal((await api('PUT', `/types/${t.id}/extra_specs/tier`, { tier: 'gold' })).body.tier, 'gold');
    assert.deepEqual((await api('GET', `/types/${t.id}/extra_specs/tier`)).body, { tier: 'gold' });
    assert.equal((await api('DELETE', `/types/${t.id}/extra_specs/tier`)).status, 202);
    assert.equal((await api('GET', `/types/${t.id}/extra_specs/tier`)).status, 404);
    const project = '0123456789abcdef0123456789abcdef';
    assert.equal((await api('POST', `/types/${t.id}/action`, { addProjectAccess: { project } })).status, 202);
    assert.deepEqual((await api('GET', `/types/${t.id}/os-volume-type-access`)).body.volume_type_access, [{ volume_type_id: t.id, project_id: project }]);
    assert.equal((await api('POST', `/types/${t.id}/action`, { addProjectAccess: { project } })).status, 409);
    assert.equal((await api('POST', `/types/${t.id}/action`, { removeProjectAccess: { project } })).status, 202);
    const id = await newVolume({ size: 1, volume_type: 'fast' });
    assert.equal((await api('GET', `/volumes/${id}`)).body.volume.volume_type, 'fast');
    assert.equal((await api('DELETE', `/types/${t.id}`)).status, 400, 'in use by a volume');
    await api('DELETE', `/volumes/${id}`);
    await gone('volumes', id);
    assert.equal((await api('DELETE', `/types/${t.id}`)).status, 202);
  });

  it("keeps a type's encryption as Cinder's admins set it, and refuses volumes of an encrypted type (no key manager) before making anything", async () => {
    const t = (await api('POST', '/types', { volume_type: { name: 'sealed' } })).body.volume_type;
    const enc = `/types/${t.id}/encryption`;
    assert.deepEqual((await api('GET', enc)).body, {}, 'none yet: an empty answer, not 404');
    const asked = { provider: 'luks', cipher: 'aes-xts-plain64', key_size: 256, control_location: 'front-end' };
    for (const [bad, field] of [[{ ...asked, control_location: 'middle' }, 'control_location'], [{ cipher: 'x', control_location: 'front-end' }, 'provider'], [{ ...asked, key_size: -1 }, 'key_size'], [{ ...asked, colour: 'red' }, 'colour']] as const) {
      const r = await api('POST', enc, { encryption: bad });
      assert.equal(r.status, 400, field);
      assert.match(r.body.badRequest.message, new RegExp(field), 'the field named');
    }
    const made = await api('POST', enc, { encryption: asked });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    assert.deepEqual({ ...made.body.encryption, encryption_id: 'x' }, { volume_type_id: t.id, encryption_id: 'x', ...asked });
    assert.match(made.body.encryption.encryption_id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal((await api('POST', enc, { encryption: asked })).status, 400, 'once per type');
    const shown = (await api('GET', enc)).body;
    assert.deepEqual([shown.provider, shown.key_size, shown.encryption_id, shown.deleted], ['luks', 256, made.body.encryption.encryption_id, false]);
    assert.deepEqual((await api('GET', `${enc}/cipher`)).body, { cipher: 'aes-xts-plain64' });
    assert.equal((await api('GET', `${enc}/colour`)).status, 404);
    const updated = await api('PUT', `${enc}/provider`, { encryption: { key_size: 128, control_location: 'back-end' } });
    assert.deepEqual(updated.body.encryption, { provider: 'luks', cipher: 'aes-xts-plain64', key_size: 128, control_location: 'back-end' });
    assert.equal((await api('GET', enc)).body.key_size, 128);

    // No key manager here: a volume of the type is refused, through the API and through kubectl, and nothing is made.
    const before = (await api('GET', '/volumes')).body.volumes.length;
    const refused = await api('POST', '/volumes', { volume: { size: 1, volume_type: 'sealed' } });
    assert.equal(refused.status, 400);
    assert.match(refused.body.badRequest.message, /encrypted .*key manager/);
    const typeName = (await env.identity.client.list<VolumeType>(VOLUME_TYPES)).items.find((x) => x.metadata.uid === t.id)!.metadata.name;
    assert.equal((await api('GET', '/volumes')).body.volumes.length, before, 'nothing made');
    const client = env.identity.client;
    const kubectl = await client.create<Volume>(VOLUMES, { apiVersion: 'blockstorage.stratus.io/v1alpha1', kind: 'Volume', metadata: { name: 'sealed-one', namespace: 'admin' }, spec: { sizeGiB: 1, volumeType: typeName } } as never, 'test');
    await eventually('the kubectl volume of the encrypted type refused', async () => (await client.get<Volume>(VOLUMES, 'admin', 'sealed-one'))?.status?.phase === 'error');
    const stalled = (await client.get<Volume>(VOLUMES, 'admin', 'sealed-one'))?.status?.conditions?.find((c) => c.type === 'Stalled');
    assert.equal(stalled?.reason, 'EncryptedVolumeType');
    assert.match(stalled?.message ?? '', /key manager/);
    const plain = await newVolume({ size: 1 });
    assert.ok(!env.poolFiles().includes(`volume-${kubectl.metadata.uid}`) && env.poolFiles().includes(`volume-${plain}`), 'no file for it (one for a plain volume)');
    await client.delete(VOLUMES, 'admin', 'sealed-one');
    await gone('volumes', kubectl.metadata.uid!);
    const retype = await api('POST', `/volumes/${plain}/action`, { 'os-retype': { new_type: 'sealed' } });
    assert.equal(retype.status, 400, 'nor a retype to it');

    assert.equal((await api('DELETE', `${enc}/provider`)).status, 202);
    assert.deepEqual((await api('GET', enc)).body, {});
    assert.equal((await api('DELETE', `${enc}/provider`)).status, 404, 'gone');
    assert.equal((await api('DELETE', `/volumes/${plain}`)).status, 202);
    await gone('volumes', plain);
    assert.equal((await api('DELETE', `/types/${t.id}`)).status, 202);
  });

  it("keeps QoS specs, associates them with types, and hands a front-end spec's limits to the attachments of the type's volumes", async () => {
    const made = await api('POST', '/qos-specs', { qos_specs: { name: 'Gold I/O', consumer: 'front-end', total_iops_sec: '200', iops_bytes: 500 } });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    const qos = made.body.qos_specs;
    assert.deepEqual({ ...qos, id: undefined }, { id: undefined, name: 'Gold I/O', consumer: 'front-end', specs: { total_iops_sec: '200', iops_bytes: '500' } });
    assert.ok((await api('GET', '/qos-specs')).body.qos_specs.some((q: unknown) => JSON.stringify(q) === JSON.stringify(qos)), 'listed as made');
    assert.equal((await api('POST', '/qos-specs', { qos_specs: { name: 'Gold I/O' } })).status, 409);
    assert.equal((await api('POST', '/qos-specs', { qos_specs: { name: 'x', consumer: 'middle' } })).status, 400);
    assert.equal((await api('POST', '/qos-specs', { qos_specs: { name: 'y' } })).body.qos_specs.consumer, 'back-end', "Cinder's default consumer");
    const object = (await env.identity.client.list<{ metadata: { uid: string; name: string }; spec: Record<string, unknown> }>(QOS_SPECS)).items.find((o) => o.metadata.uid === qos.id)!;
    assert.deepEqual(object.spec, { displayName: 'Gold I/O', consumer: 'front-end', specs: { total_iops_sec: '200', iops_bytes: '500' } }, 'a QosSpec kubectl sees');
    assert.deepEqual((await api('PUT', `/qos-specs/${qos.id}`, { qos_specs: { read_bytes_sec: '1048576' } })).body, { qos_specs: { read_bytes_sec: '1048576' } });
    assert.equal((await api('PUT', `/qos-specs/${qos.id}/delete_keys`, { keys: ['iops_bytes'] })).status, 202);
    assert.equal((await api('PUT', `/qos-specs/${qos.id}/delete_keys`, { keys: ['nope'] })).status, 404);
    assert.deepEqual((await api('GET', `/qos-specs/${qos.id}`)).body.qos_specs.specs, { total_iops_sec: '200', read_bytes_sec: '1048576' });

    // Associated with a type: shown on it, listed as the spec's association, and not given to another spec.
    const type = (await api('POST', '/types', { volume_type: { name: 'limited' } })).body.volume_type;
    assert.equal((await api('GET', `/qos-specs/${qos.id}/associate?vol_type_id=${type.id}`)).status, 202);
    assert.equal((await api('GET', `/types/${type.id}`)).body.volume_type.qos_specs_id, qos.id);
    assert.deepEqual((await api('GET', `/qos-specs/${qos.id}/associations`)).body.qos_associations, [{ association_type: 'volume_type', name: 'limited', id: type.id }]);
    const other = (await api('POST', '/qos-specs', { qos_specs: { name: 'Other' } })).body.qos_specs;
    assert.equal((await api('GET', `/qos-specs/${other.id}/associate?vol_type_id=${type.id}`)).status, 400, 'a type has one QoS spec');
    assert.equal((await api('GET', `/qos-specs/${qos.id}/associate`)).status, 400);
    assert.equal((await api('DELETE', `/qos-specs/${qos.id}`)).status, 400, 'in use: not without force');

    // A volume of the type, attached: its attachment's connection carries the limits to the hypervisor.
    const id = await newVolume({ size: 1, volume_type: 'limited' });
    const inst = await env.identity.client.create<{ metadata: { uid: string } }>(INSTANCES, { apiVersion: 'compute.stratus.io/v1alpha1', kind: 'Instance', metadata: { name: 'qos-web', namespace: 'admin' }, spec: { flavor: 'none' } } as never, 'test');
    assert.equal((await api('POST', `/volumes/${id}/action`, { 'os-attach': { instance_uuid: inst.metadata.uid } })).status, 202);
    let att: VolumeAttachment | undefined;
    await eventually('the attachment reserved, with its connection', async () => {
      att = (await env.identity.client.list<VolumeAttachment>(VOLUME_ATTACHMENTS, 'admin')).items.find((a) => a.spec.instance === 'qos-web');
      return !!att?.status?.connection;
    });
    assert.deepEqual(att!.status!.connection!.qosSpecs, { total_iops_sec: '200', read_bytes_sec: '1048576' });
    assert.equal((await api('POST', `/volumes/${id}/action`, { 'os-detach': {} })).status, 202);
    await until('volumes', id, 'available');
    await env.identity.client.delete(INSTANCES, 'admin', 'qos-web');
    await api('DELETE', `/volumes/${id}`);
    await gone('volumes', id);

    assert.equal((await api('GET', `/qos-specs/${qos.id}/disassociate?vol_type_id=${type.id}`)).status, 202);
    assert.equal((await api('GET', `/types/${type.id}`)).body.volume_type.qos_specs_id, null);
    await api('GET', `/qos-specs/${qos.id}/associate?vol_type_id=${type.id}`);
    assert.equal((await api('GET', `/qos-specs/${qos.id}/disassociate_all`)).status, 202);
    assert.deepEqual((await api('GET', `/qos-specs/${qos.id}/associations`)).body.qos_associations, []);
    await api('GET', `/qos-specs/${qos.id}/associate?vol_type_id=${type.id}`);
    assert.equal((await api('DELETE', `/qos-specs/${qos.id}?force=True`)).status, 202, 'forced: its associations go with it');
    assert.equal((await api('GET', `/types/${type.id}`)).body.volume_type.qos_specs_id, null);
    await eventually('the QoS spec gone', async () => (await api('GET', `/qos-specs/${qos.id}`)).status === 404);
    for (const q of (await api('GET', '/qos-specs')).body.qos_specs) await api('DELETE', `/qos-specs/${q.id}`);
    await api('DELETE', `/types/${type.id}`);
  });

  it('keeps group types (3.11 and later) as VolumeGroupType objects: an admin makes, changes and deletes them and their group specs; a member sees the public ones, without specs', async () => {
    const v311 = { 'OpenStack-API-Version': 'volume 3.11' };
    const gapi = (method: string, path: string, body?: unknown) => api(method, path, body, v311);
    assert.equal((await api('GET', '/group_types')).status, 404, 'group types are 3.11 and later');
    const made = await gapi('POST', '/group_types', { group_type: { name: 'Gold groups', description: 'consistent', group_specs: { consistent_group_snapshot_enabled: '<is> False' } } });
    assert.equal(made.status, 202, JSON.stringify(made.body));
    const gt = made.body.group_type;
    assert.deepEqual({ ...gt, id: undefined }, { id: undefined, name: 'Gold groups', description: 'consistent', is_public: true, group_specs: { consistent_group_snapshot_enabled: '<is> False' } });
    assert.equal((await gapi('POST', '/group_types', { group_type: { name: 'Gold groups' } })).status, 409, 'names are unique');
    assert.equal((await gapi('POST', '/group_types', { group_type: { description: 'no name' } })).status, 400);
    assert.equal((await gapi('POST', '/group_types', { group_type: { name: 'bad specs', group_specs: ['x'] } })).status, 400);
    const hidden = (await gapi('POST', '/group_types', { group_type: { name: 'hidden', is_public: false } })).body.group_type;
    await eventually('the GroupType kubectl sees, available', async () => {
      const o = (await env.identity.client.list<{ metadata: { uid: string }; spec: Record<string, unknown>; status?: { phase?: string } }>(VOLUME_GROUP_TYPES)).items.find((x) => x.metadata.uid === gt.id);
      return o?.status?.phase === 'available' && o.spec.displayName === 'Gold groups';
    });

    const names = async (query: string) => ((await gapi('GET', `/group_types${query}`)).body.group_types as Array<{ name: string }>).map((t) => t.name);
    assert.deepEqual((await names('?sort=name:asc')).filter((n) => n === 'Gold groups' || n === 'hidden'), ['Gold groups', 'hidden']);
    assert.deepEqual((await names('?sort=name:desc')).filter((n) => n === 'Gold groups' || n === 'hidden'), ['hidden', 'Gold groups']);
    assert.ok(!(await names('?is_public=true')).includes('hidden') && (await names('?is_public=false')).includes('hidden'));

    const { token: member } = await memberOf('groupers', 'gina', 'gina-pw');
    const asMember = (method: string, path: string, body?: unknown) => call(env.v3, method, path, { token: member, body, headers: v311 });
    const seen = (await asMember('GET', '/group_types')).body.group_types as Array<Record<string, unknown>>;
    assert.deepEqual(seen.find((t) => t.id === gt.id), { id: gt.id, name: 'Gold groups', description: 'consistent', is_public: true }, 'public, without its specs');
    assert.ok(!seen.some((t) => t.id === hidden.id), 'a private type is not shown to members');
    assert.equal((await asMember('GET', `/group_types/${hidden.id}`)).status, 404);
    assert.equal((await asMember('POST', '/group_types', { group_type: { name: 'mine' } })).status, 403);
    assert.equal((await asMember('GET', `/group_types/${gt.id}/group_specs`)).status, 403);

    const renamed = await gapi('PUT', `/group_types/${gt.id}`, { group_type: { name: 'Silver groups', description: 'changed' } });
    assert.deepEqual([renamed.status, renamed.body.group_type.name, renamed.body.group_type.description], [200, 'Silver groups', 'changed']);
    assert.equal((await gapi('PUT', `/group_types/${gt.id}`, { group_type: {} })).status, 400, 'nothing to change');
    const cinderclients = (await gapi('PUT', `/group_types/${hidden.id}`, { group_type: { name: null, description: null, is_public: true } })).body.group_type;
    assert.deepEqual([cinderclients.name, cinderclients.is_public], ['hidden', true], "null fields (cinderclient's update) are fields not given");
    await gapi('PUT', `/group_types/${hidden.id}`, { group_type: { is_public: false } });
    assert.equal((await gapi('PUT', `/group_types/${gt.id}`, { group_type: { name: 'hidden' } })).status, 409);

    const specs = `/group_types/${gt.id}/group_specs`;
    assert.deepEqual(await gapi('POST', specs, { group_specs: { key1: 'value1', key2: 'value2' } }).then((r) => [r.status, r.body]), [202, { group_specs: { key1: 'value1', key2: 'value2' } }]);
    assert.deepEqual((await gapi('PUT', `${specs}/key2`, { key2: 'updated' })).body, { key2: 'updated' });
    assert.equal((await gapi('PUT', `${specs}/key2`, { key3: 'x' })).status, 400, 'body and URI mismatch');
    assert.deepEqual((await gapi('GET', `${specs}/key2`)).body, { key2: 'updated' });
    assert.equal((await gapi('DELETE', `${specs}/key1`)).status, 202);
    assert.equal((await gapi('GET', `${specs}/key1`)).status, 404);
    assert.equal((await gapi('DELETE', `${specs}/key1`)).status, 404, 'already gone');
    assert.deepEqual((await gapi('GET', specs)).body.group_specs, { consistent_group_snapshot_enabled: '<is> False', key2: 'updated' });

    for (const t of [gt, hidden]) assert.equal((await gapi('DELETE', `/group_types/${t.id}`)).status, 202);
    assert.ok(!(await names('')).some((n) => n === 'Silver groups' || n === 'hidden'), 'gone from the next list');
    assert.equal((await gapi('GET', `/group_types/${gt.id}`)).status, 404);
  });

  it("keeps generic volume groups (3.13 and later): volumes join at create or by update, a group made from another clones its volumes, and a delete takes its volumes with it only when asked", async () => {
    const v = (minor: number) => ({ 'OpenStack-API-Version': `volume 3.${minor}` });
    const gapi = (method: string, path: string, body?: unknown, minor = 13) => api(method, path, body, v(minor));
    const groupUntil = async (id: string, status: string) => {
      await eventually(`group ${id} ${status}`, async () => (await gapi('GET', `/groups/${id}`)).body.group?.status === status);
    };
    const gt = (await gapi('POST', '/group_types', { group_type: { name: 'grouping' } }, 11)).body.group_type;
    const inGroups = (await api('POST', '/types', { volume_type: { name: 'in-groups' } })).body.volume_type;
    const other = (await api('POST', '/types', { volume_type: { name: 'not-in-groups' } })).body.volume_type;
    assert.equal((await gapi('POST', '/groups', { group: { name: 'g', group_type: gt.id, volume_types: [inGroups.id] } }, 12)).status, 404, 'groups are 3.13 and later');
    assert.equal((await gapi('POST', '/groups', { group: { name: 'g', volume_types: [inGroups.id] } })).status, 400, 'a group type is required');
    assert.equal((await gapi('POST', '/groups', { group: { name: 'g', group_type: gt.id, volume_types: ['nope'] } })).status, 404);
    const made = await gapi('POST', '/groups', { group: { name: 'first group', description: 'd', group_type: gt.id, volume_types: [inGroups.id] } });
    assert.equal(made.status, 202, JSON.stringify(made.body));
    assert.deepEqual(Object.keys(made.body.group).sort(), ['id', 'name']);
    const g = made.body.group.id as string;
    await groupUntil(g, 'available');

    const projectId = (await api('GET', `/groups/${g}`, undefined, v(58))).body.group.project_id as string;
    assert.equal((await api('GET', `/os-quota-sets/${projectId}?usage=True`)).body.quota_set.groups.in_use, 1, 'the group counted in the quota set');
    // Its quota holds: past a limit of one, a second group is refused with Cinder's words, and none is made.
    assert.equal((await api('PUT', `/os-quota-sets/${projectId}`, { quota_set: { groups: 1 } })).body.quota_set.groups, 1);
    const over = await gapi('POST', '/groups', { group: { name: 'one too many', group_type: gt.id, volume_types: [inGroups.id] } });
    assert.equal(over.status, 413, JSON.stringify(over.body));
    assert.equal(over.body.overLimit.message, 'GroupLimitExceeded: Maximum number of groups allowed (1) exceeded');
    assert.deepEqual(((await gapi('GET', '/groups')).body.groups as Array<{ name: string }>).map((x) => x.name), ['first group'], 'the refused group was not made');
    assert.equal((await api('PUT', `/os-quota-sets/${projectId}`, { quota_set: { groups: -1 } })).body.quota_set.groups, -1);
    const joined = await gapi('POST', '/volumes', { volume: { size: 1, volume_type: inGroups.id, group_id: g, name: 'member' } });
    assert.equal(joined.status, 202, JSON.stringify(joined.body));
    assert.equal(joined.body.volume.group_id, g);
    const member = joined.body.volume.id as string;
    assert.equal((await gapi('POST', '/volumes', { volume: { size: 1, volume_type: other.id, group_id: g } })).status, 400, "a type the group does not take");
    const loose = await newVolume({ size: 1, volume_type: inGroups.id, name: 'loose' });
    const stranger = await newVolume({ size: 1, volume_type: other.id });
    await until('volumes', member, 'available');

    assert.ok(!('volumes' in (await gapi('GET', `/groups/${g}`, undefined, 25)).body.group), 'its volumes only when asked for');
    const shown = (await gapi('GET', `/groups/${g}?list_volume=True`, undefined, 25)).body.group;
    assert.deepEqual([shown.name, shown.description, shown.status, shown.group_type, shown.volume_types, shown.volumes, shown.source_group_id], ['first group', 'd', 'available', gt.id, [inGroups.id], [member], null]);
    assert.deepEqual(((await gapi('GET', '/groups')).body.groups as Array<Record<string, unknown>>).find((x) => x.id === g), { id: g, name: 'first group' }, "a list without detail: ID and name");

    const update = (body: Record<string, unknown>) => gapi('PUT', `/groups/${g}`, { group: body });
    const membersNow = async () => (await gapi('GET', `/groups/${g}?list_volume=True`, undefined, 25)).body.group.volumes as string[];
    assert.equal((await api('POST', `/volumes/${member}/action`, { 'os-retype': { new_type: other.id } })).status, 400, "no retype out of the group's types");
    assert.equal((await update({ add_volumes: `${loose},${stranger}` })).status, 400, "one volume of a type the group does not take");
    assert.deepEqual(await membersNow(), [member], 'and the other did not join either');
    assert.equal((await update({ add_volumes: loose, remove_volumes: member, name: 'renamed' })).status, 202);
    assert.deepEqual([await membersNow(), (await api('GET', `/volumes/${member}`)).body.volume.group_id], [[loose], null]);
    assert.equal((await gapi('GET', `/groups/${g}`)).body.group.name, 'renamed');
    assert.equal((await update({ remove_volumes: member })).status, 400, 'not in the group');
    assert.equal((await update({})).status, 400, 'nothing to change');
    assert.equal((await update({ add_volumes: member })).status, 202);
    assert.deepEqual((await membersNow()).sort(), [member, loose].sort());

    // A group made from this one: a clone of each of its volumes, in the new group.
    assert.equal((await gapi('POST', '/groups/action', { 'create-from-src': { source_group_id: g, name: 'copy' } })).status, 404, 'made from a source: 3.14 and later');
    const copy = await gapi('POST', '/groups/action', { 'create-from-src': { source_group_id: g, name: 'copy' } }, 14);
    assert.equal(copy.status, 202, JSON.stringify(copy.body));
    const c = copy.body.group.id as string;
    await groupUntil(c, 'available');
    const copied = (await gapi('GET', `/groups/${c}?list_volume=True`, undefined, 25)).body.group;
    assert.equal(copied.source_group_id, g);
    assert.equal(copied.volumes.length, 2, 'one clone per volume');
    for (const id of copied.volumes) {
      const vol = (await api('GET', `/volumes/${id}`)).body.volume;
      assert.deepEqual([vol.status, vol.group_id, [member, loose].includes(vol.source_volid)], ['available', c, true]);
    }

    // An admin's reset shows the word asked for.
    assert.equal((await gapi('POST', `/groups/${g}/action`, { reset_status: { status: 'error' } }, 20)).status, 202);
    await groupUntil(g, 'error');
    assert.equal((await gapi('POST', `/groups/${g}/action`, { reset_status: { status: 'bogus' } }, 20)).status, 400);
    assert.equal((await gapi('POST', `/groups/${g}/action`, { reset_status: { status: 'available' } }, 20)).status, 202);
    await groupUntil(g, 'available');

    assert.equal((await gapi('DELETE', `/group_types/${gt.id}`, undefined, 11)).status, 400, 'a group type in use');
    assert.equal((await api('DELETE', `/types/${inGroups.id}`)).status, 400, 'a volume type a group takes');
    assert.equal((await gapi('POST', `/groups/${g}/action`, { delete: { 'delete-volumes': false } })).status, 400, 'it still has volumes');
    assert.equal((await gapi('POST', `/groups/${g}/action`, { delete: { 'delete-volumes': true } })).status, 202);
    await eventually('the group gone', async () => (await gapi('GET', `/groups/${g}`)).status === 404);
    for (const id of [member, loose]) await gone('volumes', id);

    // kubectl's delete of a group with a volume: the group waits (deleting) until the volume leaves it.
    const object = (await env.identity.client.list<{ metadata: { name: string; namespace: string; uid: string; finalizers?: string[] } }>(VOLUME_GROUPS)).items.find((o) => o.metadata.uid === c)!;
    assert.deepEqual(object.metadata.finalizers, ['blockstorage.stratus.io/members']);
    await env.identity.client.delete(VOLUME_GROUPS, object.metadata.namespace, object.metadata.name);
    await groupUntil(c, 'deleting');
    for (const id of copied.volumes) assert.equal((await api('DELETE', `/volumes/${id}`)).status, 202);
    await eventually('the copy gone once its volumes are', async () => (await gapi('GET', `/groups/${c}`)).status === 404);
    await api('DELETE', `/volumes/${stranger}`);
    await gone('volumes', stranger);
    for (const t of [inGroups, other]) assert.equal((await api('DELETE', `/types/${t.id}`)).status, 202);
    assert.equal((await gapi('DELETE', `/group_types/${gt.id}`, undefined, 11)).status, 202);
  });

  it("takes group snapshots (3.14 and later): a snapshot of each volume in the group, deleted with it; a group made from one has a volume of each", async () => {
    const v = (minor: number) => ({ 'OpenStack-API-Version': `volume 3.${minor}` });
    const gapi = (method: string, path: string, body?: unknown, minor = 14) => api(method, path, body, v(minor));
    const statusUntil = async (path: string, key: string, status: string) => {
      await eventually(`${path} ${status}`, async () => (await gapi('GET', path)).body[key]?.status === status);
    };
    const gt = (await gapi('POST', '/group_types', { group_type: { name: 'snapping' } }, 11)).body.group_type;
    const type = (await api('POST', '/types', { volume_type: { name: 'snapped' } })).body.volume_type;
    const g = (await gapi('POST', '/groups', { group: { name: 'to snap', group_type: gt.id, volume_types: [type.id] } })).body.group.id as string;
    await statusUntil(`/groups/${g}`, 'group', 'available');
    const vols: string[] = [];
    for (const name of ['one', 'two']) vols.push((await gapi('POST', '/volumes', { volume: { size: 1, volume_type: type.id, group_id: g, name } })).body.volume.id);
    for (const id of vols) await until('volumes', id, 'available');
    await writeAt(vols[0], 0, 'IN-THE-GROUP');

    assert.equal((await gapi('POST', '/group_snapshots', { group_snapshot: { group_id: g } }, 13)).status, 404, 'group snapshots are 3.14 and later');
    assert.equal((await gapi('POST', '/group_snapshots', { group_snapshot: { group_id: 'nope' } })).status, 404);
    const made = await gapi('POST', '/group_snapshots', { group_snapshot: { group_id: g, name: 'both', description: 'together' } });
    assert.equal(made.status, 202, JSON.stringify(made.body));
    assert.deepEqual({ ...made.body.group_snapshot, id: undefined }, { id: undefined, name: 'both', group_type_id: gt.id });
    const gs = made.body.group_snapshot.id as string;
    await statusUntil(`/group_snapshots/${gs}`, 'group_snapshot', 'available');
    const shown = (await gapi('GET', `/group_snapshots/${gs}`)).body.group_snapshot;
    assert.deepEqual([shown.name, shown.description, shown.group_id, shown.group_type_id], ['both', 'together', g, gt.id]);
    assert.ok(((await gapi('GET', '/group_snapshots/detail')).body.group_snapshots as Array<{ id: string; created_at: string }>).some((x) => x.id === gs && !!x.created_at));
    const snaps = ((await api('GET', '/snapshots/detail')).body.snapshots as Array<{ id: string; volume_id: string; status: string }>).filter((s) => vols.includes(s.volume_id));
    assert.deepEqual([snaps.length, snaps.every((s) => s.status === 'available')], [2, true], 'a snapshot of each volume, available');
    assert.ok(snaps.every((s) => !('group_snapshot_id' in s)), 'no group_snapshot_id before 3.14, as Cinder');
    const named = ((await gapi('GET', '/snapshots/detail')).body.snapshots as Array<{ volume_id: string; group_snapshot_id: string | null }>).filter((s) => vols.includes(s.volume_id));
    assert.deepEqual(named.map((s) => s.group_snapshot_id), [gs, gs], 'from 3.14 each names the group snapshot it was taken for');
    assert.equal((await api('DELETE', `/snapshots/${snaps[0].id}`)).status, 400, 'not deleted by itself');
    assert.equal((await gapi('POST', `/groups/${g}/action`, { delete: { 'delete-volumes': true } })).status, 400, 'a group with group snapshots stays');

    // A group made from the group snapshot: a volume of each snapshot, with its data.
    assert.equal((await gapi('POST', '/groups/action', { 'create-from-src': { group_snapshot_id: gs, source_group_id: g } })).status, 400, 'one source, not both');
    const copy = (await gapi('POST', '/groups/action', { 'create-from-src': { group_snapshot_id: gs, name: 'restored' } })).body.group.id as string;
    await statusUntil(`/groups/${copy}`, 'group', 'available');
    const copied = (await gapi('GET', `/groups/${copy}?list_volume=True`, undefined, 25)).body.group;
    assert.deepEqual([copied.group_snapshot_id, copied.source_group_id, copied.volumes.length], [gs, null, 2]);
    const restored = await Promise.all((copied.volumes as string[]).map(async (id) => (await api('GET', `/volumes/${id}`)).body.volume));
    assert.deepEqual(restored.map((r) => snaps.some((s) => s.id === r.snapshot_id)), [true, true], 'each made from a snapshot of the group snapshot');
    const fromFirst = restored.find((r) => r.snapshot_id === snaps.find((s) => s.volume_id === vols[0])!.id)!;
    assert.equal(await readAt(fromFirst.id, 0, 12), 'IN-THE-GROUP', "the first volume's data");

    // An admin's reset of its status.
    assert.equal((await gapi('POST', `/group_snapshots/${gs}/action`, { reset_status: { status: 'error' } }, 18)).status, 404, 'reset is 3.19 and later');
    assert.equal((await gapi('POST', `/group_snapshots/${gs}/action`, { reset_status: { status: 'error' } }, 19)).status, 202);
    await statusUntil(`/group_snapshots/${gs}`, 'group_snapshot', 'error');
    assert.equal((await gapi('POST', `/group_snapshots/${gs}/action`, { reset_status: { status: 'available' } }, 19)).status, 202);
    await statusUntil(`/group_snapshots/${gs}`, 'group_snapshot', 'available');

    assert.equal((await gapi('DELETE', `/group_snapshots/${gs}`)).status, 202);
    await eventually('the group snapshot gone', async () => (await gapi('GET', `/group_snapshots/${gs}`)).status === 404);
    for (const s of snaps) assert.equal((await api('GET', `/snapshots/${s.id}`)).status, 404, 'its snapshots went first');
    for (const id of [g, copy]) assert.equal((await gapi('POST', `/groups/${id}/action`, { delete: { 'delete-volumes': true } })).status, 202);
    for (const id of [g, copy]) await eventually(`group ${id} gone`, async () => (await gapi('GET', `/groups/${id}`)).status === 404);
    for (const id of [...vols, ...copied.volumes]) await gone('volumes', id);
    assert.equal((await api('DELETE', `/types/${type.id}`)).status, 202);
    assert.equal((await gapi('DELETE', `/group_types/${gt.id}`, undefined, 11)).status, 202);
  });

  it("schedules by the type's extra specs against the pool's capabilities, and tells the project why not in a user message", async () => {
    const pools = (await api('GET', '/scheduler-stats/get_pools?detail=True')).body.pools;
    const caps = pools[0].capabilities;
    assert.deepEqual([caps.vendor_name, caps.storage_protocol, caps.multiattach], ['Open Source', 'file', true]);
    const shown = await api('GET', `/capabilities/${pools[0].name}`);
    assert.equal(shown.status, 200);
    assert.deepEqual([shown.body.volume_backend_name, shown.body.vendor_name, shown.body.storage_protocol], [caps.volume_backend_name, caps.vendor_name, caps.storage_protocol], 'the same backend seen two ways');
    assert.equal((await api('GET', '/capabilities/nowhere@none')).status, 404);

    // A type the pool satisfies places its volumes; one asking for what no pool reports fails them.
    const fits = (await api('POST', '/types', { volume_type: { name: 'fits', extra_specs: { storage_protocol: 'file', vendor_name: 'Open Source', 'capabilities:thin_provisioning_support': '<is> True', 'vendor:tier': 'gold' } } })).body.volume_type;
    const ok = await newVolume({ size: 1, volume_type: fits.id });
    const bogus = (await api('POST', '/types', { volume_type: { name: 'bogus', extra_specs: { storage_protocol: 'carrier-pigeon' } } })).body.volume_type;
    const failed = (await api('POST', '/volumes', { volume: { size: 1, volume_type: bogus.id } })).body.volume.id as string;
    await until('volumes', failed, 'error');
    const v33 = { 'OpenStack-API-Version': 'volume 3.3' };
    let message: Record<string, any> | undefined;
    await eventually('a user message about the failed volume', async () => {
      message = (await api('GET', '/messages', undefined, v33)).body.messages?.find((m: { resource_uuid: string }) => m.resource_uuid === failed);
      return !!message;
    });
    assert.deepEqual([message!.event_id, message!.user_message, message!.resource_type, message!.message_level], ['VOLUME_VOLUME_001_003', 'schedule allocate volume: Could not find any available weighted backend.', 'VOLUME', 'ERROR']);
    assert.deepEqual((await api('GET', `/messages/${message!.id}`, undefined, v33)).body.message, message);
    assert.equal((await api('GET', '/messages')).status, 404, 'messages are 3.3 and later');
    // One older than Cinder's message_ttl (30 days) is reaped; the fresh one stays.
    const vol = (await env.identity.client.list<Volume>(VOLUMES, 'admin')).items.find((o) => o.metadata.uid === failed)!;
    const longAgo = new Date(Date.now() - 31 * 24 * 3600 * 1000);
    const old = await env.identity.client.create<{ metadata: { uid: string } }>(EVENTS, { apiVersion: 'v1', kind: 'Event', metadata: { name: 'an-old-message', namespace: 'admin' }, involvedObject: { apiVersion: 'blockstorage.stratus.io/v1alpha1', kind: 'Volume', name: vol.metadata.name, namespace: 'admin', uid: failed }, type: 'Warning', reason: 'NoValidBackend', message: 'old', firstTimestamp: longAgo, lastTimestamp: longAgo, count: 1 } as never, 'test');
    assert.equal((await api('GET', `/messages/${old.metadata.uid}`, undefined, v33)).status, 200, 'a message while it lives');
    assert.equal(await reapMessages({ client: env.identity.client } as never), 1, 'one message past its time');
    assert.equal((await api('GET', `/messages/${old.metadata.uid}`, undefined, v33)).status, 404, 'reaped');
    assert.equal((await api('GET', `/messages/${message!.id}`, undefined, v33)).status, 200, 'the fresh one stays');
    assert.equal((await api('DELETE', `/messages/${message!.id}`, undefined, v33)).status, 204);
    assert.equal((await api('GET', `/messages/${message!.id}`, undefined, v33)).status, 404);
    for (const id of [ok, failed]) await api('DELETE', `/volumes/${id}`);
    for (const id of [ok, failed]) await gone('volumes', id);
    for (const t of [fits, bogus]) await api('DELETE', `/types/${t.id}`);
  });

  it("lets an admin disable, enable, freeze and thaw Cinder's services: a disabled or frozen volume service takes no new volume, a frozen one's volumes are neither deleted nor snapshotted until thawed, a disabled backup service takes no backup", async () => {
    const services = async () => (await api('GET', '/os-services')).body.services as Array<Record<string, any>>;
    const volumeService = (await services()).find((x) => x.binary === 'cinder-volume')!;
    assert.deepEqual([volumeService.status, volumeService.frozen, volumeService.disabled_reason], ['enabled', false, null]);
    const { host } = volumeService;
    const put = (action: string, body: Record<string, unknown>) => api('PUT', `/os-services/${action}`, body);

    assert.equal((await put('enable', { host: 'invalid_host', binary: 'cinder-volume' })).status, 404);
    assert.equal((await put('disable', { host, binary: 'invalid_binary' })).status, 404);
    const noReason = await put('disable-log-reason', { host, binary: 'cinder-volume', disabled_reason: null });
    assert.equal(noReason.status, 400);
    assert.match(noReason.body.badRequest.message, /Disabled reason/);
    assert.equal((await put('freeze', { host: 'invalid_host' })).status, 400);
    assert.equal((await put('thaw', { host: 'invalid_host' })).status, 400);
    assert.equal((await services()).find((x) => x.host === host)!.status, 'enabled', 'the refusals changed nothing');

    const disabled = await put('disable-log-reason', { host, binary: 'cinder-volume', disabled_reason: 'disk swap' });
    assert.deepEqual(disabled.body, { disabled: true, status: 'disabled', host, service: '', binary: 'cinder-volume', disabled_reason: 'disk swap' });
    const shown = (await services()).find((x) => x.host === host)!;
    assert.deepEqual([shown.status, shown.disabled_reason], ['disabled', 'disk swap']);
    const refused = (await api('POST', '/volumes', { volume: { size: 1, name: 'nowhere' } })).body.volume.id as string;
    await until('volumes', refused, 'error');
    const stalled = (await env.identity.client.list<Volume>(VOLUMES, 'admin')).items.find((v) => v.metadata.uid === refused)!.status?.conditions?.find((c) => c.type === 'Stalled');
    assert.match(stalled?.message ?? '', /No volume service takes new volumes: .* is disabled \(disk swap\)/);
    assert.equal((await api('DELETE', `/volumes/${refused}`)).status, 202);
    await gone('volumes', refused);

    const enabled = await put('enable', { host, binary: 'cinder-volume' });
    assert.deepEqual(enabled.body, { disabled: false, status: 'enabled', host, service: '', binary: 'cinder-volume', disabled_reason: null });
    const onFrozen = await newVolume({ size: 1 });
    assert.equal((await put('freeze', { host: 'stratus' })).status, 200, "a host's volume services");
    // Cinder refuses changing what a frozen backend holds: deleting a volume, snapshotting it (assert_not_frozen).
    const noDelete = await api('DELETE', `/volumes/${onFrozen}`);
    assert.equal(noDelete.status, 400);
    assert.equal(noDelete.body.badRequest.message, 'Invalid input received: Modification operations are not allowed on frozen storage backends.');
    assert.equal((await api('POST', '/snapshots', { snapshot: { volume_id: onFrozen } })).status, 400);
    // Deleted with kubectl all the same, it waits, saying why, until the backend is thawed.
    const frozenObject = (await env.identity.client.list<Volume>(VOLUMES, 'admin')).items.find((v) => v.metadata.uid === onFrozen)!;
    await env.identity.client.delete(VOLUMES, 'admin', frozenObject.metadata.name);
    await eventually('the kubectl deletion on a frozen backend to wait, Stalled BackendFrozen', async () => (await env.identity.client.get<Volume>(VOLUMES, 'admin', frozenObject.metadata.name))?.status?.conditions?.some((c) => c.type === 'Stalled' && c.reason === 'BackendFrozen') === true);
    assert.ok(existsSync(file(onFrozen)), 'its data is kept while frozen');
    assert.equal((await services()).find((x) => x.host === host)!.frozen, true);
    assert.equal((await put('freeze', { host })).status, 400, 'not twice');
    const frozenOut = (await api('POST', '/volumes', { volume: { size: 1 } })).body.volume.id as string;
    await until('volumes', frozenOut, 'error');
    await api('DELETE', `/volumes/${frozenOut}`);
    await gone('volumes', frozenOut);
    assert.equal((await put('thaw', { host })).status, 200);
    assert.equal((await services()).find((x) => x.host === host)!.frozen, false);
    await eventually('the volume deleted while frozen to go once thawed', async () => !(await env.identity.client.get<Volume>(VOLUMES, 'admin', frozenObject.metadata.name)), 180_000);
    assert.ok(!existsSync(file(onFrozen)), 'and its data with it');
    const placed = await newVolume({ size: 1 });

    await put('disable', { host: 'stratus', binary: 'cinder-backup' });
    const noBackup = await api('POST', '/backups', { backup: { volume_id: placed } });
    assert.equal(noBackup.status, 404);
    assert.equal(noBackup.body.itemNotFound.message, 'Service cinder-backup could not be found.');
    await put('enable', { host: 'stratus', binary: 'cinder-backup' });
    assert.deepEqual((await services()).map((x) => x.status), ['enabled', 'enabled', 'enabled'], 'all enabled again');
    await api('DELETE', `/volumes/${placed}`);
    await gone('volumes', placed);
  });

  it('refuses what Cinder refuses, with its bodies, and makes nothing', async () => {
    const before = env.poolFiles();
    const type = await api('POST', '/volumes', { volume: { size: 1, volume_type: 'no-such-type' } });
    assert.equal(type.status, 404);
    assert.match(type.body.itemNotFound.message, /Volume type with name no-such-type could not be found/);
    const snap = await api('POST', '/snapshots', { snapshot: { volume_id: '11111111-1111-1111-1111-111111111111' } });
    assert.equal(snap.status, 404);
    assert.match(snap.body.itemNotFound.message, /Volume 11111111-1111-1111-1111-111111111111 could not be found/);
    const fromSnap = await api('POST', '/volumes', { volume: { size: 1, snapshot_id: '22222222-2222-2222-2222-222222222222' } });
    assert.equal(fromSnap.status, 404);
    const action = await api('POST', '/volumes/33333333-3333-3333-3333-333333333333/action', { 'os-extend': { new_size: 2 } });
    assert.equal(action.status, 404);
    assert.equal((await api('GET', '/volumes/44444444-4444-4444-4444-444444444444')).body.itemNotFound.code, 404);
    assert.equal((await api('POST', '/volumes', { notvolume: {} })).status, 400);
    assert.equal((await api('GET', '/volumes', undefined, { 'OpenStack-API-Version': 'volume 3.99' })).status, 406);
    assert.deepEqual(env.poolFiles(), before, 'no file was made');
  });

  it("holds a tenant's gigabytes and volumes quota exactly, through the API (413) and through kubectl (error, nothing made)", async () => {
    const client = env.identity.client;
    await client.patch(TENANTS, undefined, 'admin', { spec: { quota: { volumes: 100, gigabytes: 100 } } }, 'test');
    const usedGiB = (await api('GET', '/limits')).body.limits.absolute.totalGigabytesUsed as number;
    await client.patch(TENANTS, undefined, 'admin', { spec: { quota: { gigabytes: usedGiB + 3 } } }, 'test');
    const over = await api('POST', '/volumes', { volume: { size: 4 } });
    assert.equal(over.status, 413);
    assert.match(over.body.overLimit.message, /^VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested 4G, quota is \d+G and \d+G has been consumed./);
    // Eight at once through the API, 1 GiB each, with room for three: exactly three are made.
    const answers = await Promise.all(Array.from({ length: 8 }, (_, n) => api('POST', '/volumes', { volume: { size: 1, name: `race-${n}` } })));
    assert.deepEqual(answers.map((a) => a.status).sort(), [202, 202, 202, 413, 413, 413, 413, 413]);
    const made = answers.filter((a) => a.status === 202).map((a) => a.body.volume.id as string);
    for (const id of made) await until('volumes', id, 'available');
    // Eight Volumes written straight to the control plane (kubectl apply) with no room left: none is made.
    for (const id of made) await api('DELETE', `/volumes/${id}`);
    for (const id of made) await gone('volumes', id);
    const names = Array.from({ length: 8 }, (_, n) => `kubectl-${n}`);
    await Promise.all(names.map((name) => client.create(VOLUMES, { apiVersion: 'blockstorage.stratus.io/v1alpha1', kind: 'Volume', metadata: { name, namespace: 'admin' }, spec: { sizeGiB: 1 } } as never, 'test')));
    const outcome = async () => Promise.all(names.map(async (n) => (await client.get<Volume>(VOLUMES, 'admin', n))?.status?.phase));
    await eventually('every kubectl volume is available or refused', async () => (await outcome()).every((p) => p === 'available' || p === 'error'));
    const phases = await outcome();
    assert.equal(phases.filter((p) => p === 'available').length, 3, `exactly three fit: ${phases}`);
    const refused = await client.get<Volume>(VOLUMES, 'admin', names[phases.indexOf('error')]);
    assert.equal(refused?.status?.conditions?.find((c) => c.type === 'Stalled')?.reason, 'VolumeSizeExceedsAvailableQuota');
    assert.ok(!env.poolFiles().includes(`volume-${refused!.metadata.uid}`), 'no file for a refused volume');
    for (const n of names) await client.delete(VOLUMES, 'admin', n);
    await client.patch(TENANTS, undefined, 'admin', { spec: { quota: { gigabytes: null, volumes: null } } }, 'test');

    // per_volume_gigabytes: the largest volume, set through the API; a larger one is refused when made or extended.
    const projectId = (await client.get<Tenant>(TENANTS, undefined, 'admin'))!.status!.projectId!;
    const put = await api('PUT', `/os-quota-sets/${projectId}`, { quota_set: { per_volume_gigabytes: 2 } });
    assert.equal(put.status, 200);
    assert.equal(put.body.quota_set.per_volume_gigabytes, 2);
    assert.equal(((await client.get<Tenant>(TENANTS, undefined, 'admin'))?.spec as { quota?: Record<string, number> }).quota?.perVolumeGigabytes, 2, 'kept on the Tenant');
    const big = await api('POST', '/volumes', { volume: { size: 3 } });
    assert.equal(big.status, 413);
    assert.equal(big.body.overLimit.message, 'VolumeSizeExceedsLimit: Requested volume size 3G is larger than maximum allowed limit 2G.');
    const small = (await api('POST', '/volumes', { volume: { size: 2 } })).body.volume.id as string;
    await until('volumes', small, 'available');
    assert.equal((await api('POST', `/volumes/${small}/action`, { 'os-extend': { new_size: 3 } })).status, 413);
    await client.create(VOLUMES, { apiVersion: 'blockstorage.stratus.io/v1alpha1', kind: 'Volume', metadata: { name: 'kubectl-big', namespace: 'admin' }, spec: { sizeGiB: 3 } } as never, 'test').catch(() => undefined);
    await eventually('the kubectl volume past the limit is refused (or never made)', async () => {
      const v = await client.get<Volume>(VOLUMES, 'admin', 'kubectl-big');
      return !v || v.status?.phase === 'error';
    });
    const bigOne = await client.get<Volume>(VOLUMES, 'admin', 'kubectl-big');
    if (bigOne) assert.equal(bigOne.status?.conditions?.find((c) => c.type === 'Stalled')?.reason, 'VolumeSizeExceedsLimit');
    await client.delete(VOLUMES, 'admin', 'kubectl-big').catch(() => undefined);
    await api('DELETE', `/volumes/${small}`);
    await gone('volumes', small);
    assert.equal((await api('DELETE', `/os-quota-sets/${projectId}`)).status, 200);
    assert.equal((await api('GET', `/os-quota-sets/${projectId}`)).body.quota_set.per_volume_gigabytes, -1);
  });

  it("keeps the default quota class and each volume type's own limits, and holds volumes to them through the API and kubectl", async () => {
    const client = env.identity.client;
    const projectId = (await client.get<Tenant>(TENANTS, undefined, 'admin'))!.status!.projectId!;
    const type = (await api('POST', '/types', { volume_type: { name: 'Fast Disks' } })).body.volume_type;
    const key = 'volumes_Fast Disks';
    const set = await api('PUT', '/os-quota-class-sets/default', { quota_class_set: { backups: 40, [key]: 1, 'gigabytes_Fast Disks': 30 } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.quota_class_set.backups, 40);
    assert.equal(set.body.quota_class_set[key], 1);
    const shown = (await api('GET', '/os-quota-class-sets/default')).body.quota_class_set;
    assert.equal(shown.id, 'default');
    assert.equal(shown[key], 1);
    assert.equal(shown.snapshots_Fast_Disks, undefined, 'keys are the type names as they are');
    assert.equal(shown['snapshots_Fast Disks'], -1, 'and each type has all three, unlimited where unset');
    const defaults = (await api('GET', `/os-quota-sets/${projectId}/defaults`)).body.quota_set;
    assert.equal(defaults.backups, 40);
    assert.equal(defaults[key], 1);
    assert.equal((await api('GET', `/os-quota-sets/${projectId}`)).body.quota_set[key], 1, 'a tenant setting none of its own has the default');
    assert.equal((await api('GET', '/limits')).body.limits.absolute.maxTotalBackups, 40);

    const bad = await api('PUT', '/os-quota-class-sets/default', { quota_class_set: { volumes_nosuch: 3 } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.badRequest.message, 'Bad key(s) in quota set: volumes_nosuch');
    assert.equal((await api('PUT', `/os-quota-sets/${projectId}`, { quota_set: { [key]: 'many' } })).status, 400);

    // One volume of the type fits; a second is refused naming the type's quota, through the API and through kubectl.
    const first = (await api('POST', '/volumes', { volume: { size: 1, volume_type: 'Fast Disks' } })).body.volume.id as string;
    await until('volumes', first, 'available');
    const over = await api('POST', '/volumes', { volume: { size: 1, volume_type: type.id } });
    assert.equal(over.status, 413);
    assert.equal(over.body.overLimit.message, "VolumeLimitExceeded: Maximum number of volumes allowed (1) exceeded for quota 'volumes_Fast Disks'.");
    assert.equal((await api('GET', `/os-quota-sets/${projectId}?usage=true`)).body.quota_set[key].in_use, 1);
    const typeName = (await api('GET', `/volumes/${first}`)).body.volume.volume_type as string;
    assert.equal(typeName, 'Fast Disks');
    const objectName = (await client.list<Volume>(VOLUMES, 'admin')).items.find((v) => v.metadata.uid === first)!.status!.volumeType!;
    await client.create(VOLUMES, { apiVersion: 'blockstorage.stratus.io/v1alpha1', kind: 'Volume', metadata: { name: 'kubectl-fast', namespace: 'admin' }, spec: { sizeGiB: 1, volumeType: objectName } } as never, 'test');
    await eventually('the kubectl volume past its type\'s quota is refused', async () => (await client.get<Volume>(VOLUMES, 'admin', 'kubectl-fast'))?.status?.phase === 'error');
    const refused = await client.get<Volume>(VOLUMES, 'admin', 'kubectl-fast');
    assert.equal(refused?.status?.conditions?.find((c) => c.type === 'Stalled')?.reason, 'VolumeLimitExceeded');
    await client.delete(VOLUMES, 'admin', 'kubectl-fast');
    const untyped = await api('POST', '/volumes', { volume: { size: 1 } });
    assert.equal(untyped.status, 202, 'another type is not held by it');
    await until('volumes', untyped.body.volume.id, 'available');
    const retype = await api('POST', `/volumes/${untyped.body.volume.id}/action`, { 'os-retype': { new_type: 'Fast Disks' } });
    assert.equal(retype.status, 413, 'a retype asks the new type\'s quota');
    assert.match(retype.body.overLimit.message, /exceeded for quota 'volumes_Fast Disks'/);

    // The tenant's own limit for the type outranks the class's, and is kept on the Tenant by the type's object name.
    assert.equal((await api('PUT', `/os-quota-sets/${projectId}`, { quota_set: { [key]: 2 } })).body.quota_set[key], 2);
    const quota = ((await client.get<Tenant>(TENANTS, undefined, 'admin'))?.spec as { quota?: { volumeTypes?: Record<string, Record<string, number>> } }).quota;
    assert.equal(quota?.volumeTypes?.[objectName]?.volumes, 2);
    const second = (await api('POST', '/volumes', { volume: { size: 1, volume_type: 'Fast Disks' } })).body.volume.id as string;
    await until('volumes', second, 'available');

    const made = [first, second, untyped.body.volume.id as string];
    for (const id of made) await api('DELETE', `/volumes/${id}`);
    for (const id of made) await gone('volumes', id);
    assert.equal((await api('DELETE', `/os-quota-sets/${projectId}`)).status, 200);
    const reset = await api('PUT', '/os-quota-class-sets/default', { quota_class_set: { backups: -1, [key]: -1, 'gigabytes_Fast Disks': -1 } });
    assert.equal(reset.body.quota_class_set.backups, -1, 'unlimited again');
    assert.equal((await api('DELETE', `/types/${type.id}`)).status, 202);
  });

  it('transfers a volume to another project: offered with a key, awaiting-transfer until accepted, then the other project\'s with the same ID and data, within its quota', async () => {
    const identity = env.identity;
    const { project, user, token } = await memberOf('roadrunner', 'beep', 'beep-pw');
    const as = (method: string, path: string, body?: unknown) => call(env.v3, method, path, { token, body });
    const adminProject = (await call(identity.v3, 'GET', '/projects?name=admin', { token: env.adminToken })).body.projects[0].id;

    const id = await newVolume({ size: 1, name: 'moving' });
    await writeAt(id, 4096, 'carried over');
    const offer = await api('POST', '/os-volume-transfer', { transfer: { volume_id: id, name: 'to roadrunner' } });
    assert.equal(offer.status, 202, JSON.stringify(offer.body));
    const t = offer.body.transfer;
    assert.deepEqual(Object.keys(t).sort(), ['auth_key', 'created_at', 'id', 'links', 'name', 'volume_id']);
    assert.deepEqual([t.name, t.volume_id, t.auth_key.length], ['to roadrunner', id, 16]);
    assert.equal((await api('GET', `/volumes/${id}`)).body.volume.status, 'awaiting-transfer');
    await eventually('kubectl to show the Volume awaiting-transfer', async () => (await identity.client.list<Volume>(VOLUMES, 'admin')).items.find((x) => idOf(x) === id)?.status?.phase === 'awaiting-transfer');
    assert.equal((await api('DELETE', `/volumes/${id}`)).status, 400, 'not deleted while offered');
    assert.equal((await api('POST', '/os-volume-transfer', { transfer: { volume_id: id } })).status, 400, 'one offer at a time');
    assert.deepEqual(Object.keys((await api('GET', '/os-volume-transfer')).body.transfers.find((x: { id: string }) => x.id === t.id)).sort(), ['id', 'links', 'name', 'volume_id']);
    assert.equal((await api('GET', '/os-volume-transfer/detail')).body.transfers.find((x: { id: string }) => x.id === t.id).created_at, t.created_at);
    const v357 = await api('GET', `/volume-transfers/${t.id}`, undefined, { 'OpenStack-API-Version': 'volume 3.57' });
    assert.deepEqual([v357.body.transfer.no_snapshots, v357.body.transfer.accepted, v357.body.transfer.source_project_id, v357.body.transfer.destination_project_id], [false, false, adminProject, null]);
    assert.equal((await api('GET', `/volume-transfers/${t.id}`, undefined, { 'OpenStack-API-Version': 'volume 3.54' })).status, 404, 'the new API is there from 3.55');

    // The other project does not see the offer, and cannot take it without its key.
    assert.equal((await as('GET', `/os-volume-transfer/${t.id}`)).status, 404);
    const wrong = await as('POST', `/os-volume-transfer/${t.id}/accept`, { accept: { auth_key: 'not-the-key' } });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.badRequest.message, `Invalid auth key: Attempt to transfer ${t.id} with invalid auth key.`);
    const taken = await as('POST', `/os-volume-transfer/${t.id}/accept`, { accept: { auth_key: t.auth_key } });
    assert.equal(taken.status, 202, JSON.stringify(taken.body));
    assert.deepEqual(Object.keys(taken.body.transfer).sort(), ['id', 'links', 'name', 'volume_id']);
    let moved: Record<string, any> = {};
    await eventually('the transferred volume available to its new project', async () => {
      moved = (await as('GET', `/volumes/${id}`)).body.volume;
      return moved?.status === 'available';
    });
    assert.equal(moved.user_id, user.id, 'the accepting user has it');
    assert.equal((await api('GET', `/volumes/${id}`)).body.volume['os-vol-tenant-attr:tenant_id'], project.id, 'in the accepting project');
    assert.equal(await readAt(id, 4096, 12), 'carried over', 'with its data, under the same ID');
    await eventually('the first object gone from the giving namespace', async () => !(await identity.client.list<Volume>(VOLUMES, 'admin')).items.some((x) => idOf(x) === id));
    assert.equal(await readAt(id, 4096, 12), 'carried over', 'which the first object did not take with it');
    assert.equal((await as('GET', `/os-quota-sets/${project.id}?usage=true`)).body.quota_set.volumes.in_use, 1, 'counted in the new project');
    assert.equal((await as('POST', `/os-volume-transfer/${t.id}/accept`, { accept: { auth_key: t.auth_key } })).status, 404, 'taken once');

    // An offer deleted: the volume is available again. One past the accepting project's quota: refused, kept.
    const second = await newVolume({ size: 1, name: 'staying' });
    const offer2 = (await api('POST', '/os-volume-transfer', { transfer: { volume_id: second } })).body.transfer;
    await identity.client.patch(TENANTS, undefined, 'roadrunner', { spec: { quota: { volumes: 1 } } }, 'test');
    const over = await as('POST', `/os-volume-transfer/${offer2.id}/accept`, { accept: { auth_key: offer2.auth_key } });
    assert.equal(over.status, 413);
    assert.match(over.body.overLimit.message, /^VolumeLimitExceeded/);
    assert.equal((await api('GET', `/volumes/${second}`)).body.volume.status, 'awaiting-transfer', 'still offered, still the admin\'s');
    assert.equal((await api('DELETE', `/os-volume-transfer/${offer2.id}`)).status, 202);
    assert.equal((await api('GET', `/volumes/${second}`)).body.volume.status, 'available');
    assert.equal((await api('DELETE', `/volumes/${second}`)).status, 202);

    // Deleted by its new project, the volume's data goes.
    assert.equal((await as('DELETE', `/volumes/${id}`)).status, 202);
    await eventually('the transferred volume gone', async () => (await as('GET', `/volumes/${id}`)).status === 404);
    await eventually('its data gone with it', async () => !existsSync(file(id)));
    await identity.client.patch(TENANTS, undefined, 'roadrunner', { spec: { quota: { volumes: null } } }, 'test');
  });

  it("keeps every call that names another project's object from a member: 404 or 403, for every route in the table", async () => {
    const identity = env.identity;
    const { token: member } = await memberOf('acme', 'wile', 'wile-pw');
    // What the admin project owns, which the member must not reach.
    const vol = await newVolume({ size: 1, name: 'iso-volume', metadata: { k: 'v' } });
    const snap = (await api('POST', '/snapshots', { snapshot: { volume_id: vol, metadata: { k: 'v' } } })).body.snapshot.id;
    await until('snapshots', snap, 'available');
    const backup = (await api('POST', '/backups', { backup: { volume_id: vol } })).body.backup.id;
    await until('backups', backup, 'available');
    const type = (await api('POST', '/types', { volume_type: { name: 'iso-private', 'os-volume-type-access:is_public': false } })).body.volume_type.id;
    const adminProject = (await call(identity.v3, 'GET', '/projects?name=admin', { token: env.adminToken })).body.projects[0].id;
    const other = await newVolume({ size: 1, name: 'iso-offered' });
    const transfer = (await api('POST', '/os-volume-transfer', { transfer: { volume_id: other } })).body.transfer.id as string;
    const idFor = (path: string) =>
      path.startsWith('/v3/volumes/') ? vol : path.startsWith('/v3/snapshots/') ? snap : path.startsWith('/v3/backups/') ? backup : path.startsWith('/v3/types/') ? type : /transfer/.test(path) ? transfer : adminProject;
    // Accepting a transfer is open to every project that has its key (tested on its own): not in this table.
    const routes = env.api.routes().filter((r) => !r.public && r.path.includes('/:id') && !r.path.startsWith('/v3/:project_id') && !r.path.endsWith('/accept'));
    assert.ok(routes.length > 20, `${routes.length} routes with an ID`);
    const leaks: string[] = [];
    for (const r of routes) {
      const path = r.path.replace(':id', idFor(r.path)).replace(':key', 'k').replace(/^\/v3/, '');
      const body = r.path.endsWith('/action') ? { 'os-extend': { new_size: 5 } } : r.path.endsWith('/restore') ? { restore: {} } : ['POST', 'PUT'].includes(r.method) ? { volume: { name: 'x' }, snapshot: { name: 'x' }, metadata: { a: 'b' }, meta: { k: 'x' }, volume_type: { name: 'x' }, backup: { name: 'x' } } : undefined;
      const res = await call(env.v3, r.method, path, { token: member, body });
      if (res.status !== 404 && res.status !== 403) leaks.push(`${r.method} ${r.path} -> ${res.status} ${JSON.stringify(res.body)?.slice(0, 160)}`);
    }
    assert.deepEqual(leaks, [], 'every call answered 404 or 403');
    // The member lists nothing of the admin's, even asking for all tenants; and the objects are as they were.
    for (const kind of ['volumes', 'snapshots', 'backups']) assert.deepEqual((await call(env.v3, 'GET', `/${kind}/detail?all_tenants=1`, { token: member })).body[kind], []);
    const v = (await api('GET', `/volumes/${vol}`)).body.volume;
    assert.deepEqual([v.name, v.size, v.metadata], ['iso-volume', 1, { k: 'v' }]);
    assert.equal((await api('GET', `/os-volume-transfer/${transfer}`)).body.transfer.volume_id, other, 'the offer stands');
    assert.equal((await api('DELETE', `/os-volume-transfer/${transfer}`)).status, 202);
    assert.equal((await api('DELETE', `/types/${type}`)).status, 202);
  });

  it('leaves nothing in the pool or the bucket once every volume, snapshot and backup is deleted', async () => {
    for (const kind of ['backups', 'snapshots', 'volumes'] as const) {
      const items = (await api('GET', `/${kind}/detail?all_tenants=1`)).body[kind] as Array<{ id: string }>;
      for (const o of items) await api('DELETE', `/${kind}/${o.id}${kind === 'volumes' ? '?cascade=true' : ''}`);
      for (const o of items) await gone(kind, o.id);
    }
    await eventually('the pool is empty', async () => env.poolFiles().length === 0);
    assert.deepEqual(await env.backupObjects(), []);
  });
});
