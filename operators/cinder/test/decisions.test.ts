/** The block storage decisions, pure: the scheduler's filters, quota refusals, status words, attachment holding, backup chunk plans, list queries. */
import { strict as assert } from 'node:assert';
import { defaultQuotasOf, effectiveQuota } from '@stratus/runtime';
import { BACKUP_RESERVED_ANNOTATIONS, BACKUP_SERVICE, IMPORTED_ANNOTATION, dataShared, exportRecord, importedBackup, importedOf, parseRecord, type VolumeBackup, RESERVED_ANNOTATIONS, TRANSFER_ANNOTATION, VOLUME_ID_ANNOTATION, attachmentRecords, chunkPlan, idOf, keyMatches, movedVolume, newTransfer, reservedAnnotationChange, takenOverOf, transferOf, type Volume, flatTenantQuota, containerOf, monHostOf, monitorsOf, overlaps, rbdRoom, holdsVolume, ownKeysOf, pickPool, quotaRefusal, retypeMigration, satisfies, unmetSpecs, volumePhase, type BackupManifest, type VolumeAttachment, type VolumeType } from '../src/index.js';
import { matches } from '../src/api/listing.js';
import { blockStorageRefusal } from '../src/api/admissionRoutes.js';
import { isReserved, pendingStatus, resetAnnotations, resetRequestOf, settledWord, shownStatus, snapshotProgress, snapshotUpdateRefusal } from '../src/statusReset.js';
import { isValidReason, onHost, serviceChange, serviceRecords } from '../src/api/serviceRoutes.js';
import { serviceKey, serviceStates, unschedulable, type ServiceState } from '../src/serviceState.js';
import type { CinderError } from '../src/api/errors.js';
import { MESSAGE_TTL_MS, expiredMessages, messageOf } from '../src/api/messageRoutes.js';
import { volumeStatus } from '../src/api/views.js';
import { cloneName, clonesToMake, groupTypeRefusal, groupWord, snapshotSource, volumeSource } from '../src/groups.js';
import { encryptedTypeRefusal, encryptionAsked, encryptionIdOf } from '../src/encryption.js';

const pool = (backend: string, freeGiB: number) => ({ backend, pool: `${backend}#pool`, capacity: { totalGiB: 100, freeGiB, provisionedGiB: 100 - freeGiB } });
const type = (spec: VolumeType['spec']): VolumeType => ({ metadata: { name: 't' }, spec });
const att = (name: string, phase?: string, created = '2026-01-01T00:00:00Z', deleting = false): VolumeAttachment => ({
  metadata: { name, uid: `uid-${name}`, creationTimestamp: new Date(created), ...(deleting ? { deletionTimestamp: new Date() } : {}) },
  spec: { volume: 'v', instance: name },
  status: phase ? { phase, id: `uid-${name}`, serverId: `server-${name}` } : undefined,
});

describe('block storage decisions', () => {
  it('places a volume in the pool of its type with the most room, and says why there is none', () => {
    assert.equal((pickPool([pool('a', 10), pool('b', 50)], undefined, 5) as { pool: { backend: string } }).pool.backend, 'b');
    assert.equal((pickPool([pool('a', 10), pool('b', 50)], type({ backend: 'a' }), 5) as { pool: { backend: string } }).pool.backend, 'a');
    assert.equal((pickPool([pool('a', 10), pool('b', 50)], type({ extraSpecs: { volume_backend_name: 'a' } }), 5) as { pool: { backend: string } }).pool.backend, 'a');
    assert.match((pickPool([pool('a', 10)], type({ backend: 'rbd' }), 5) as { refused: string }).refused, /No valid backend was found. No backend is named rbd/);
    assert.match((pickPool([pool('a', 10)], undefined, 11) as { refused: string }).refused, /Insufficient free space/);
  });

  it("matches a type's extra specs against a pool's capabilities with Cinder's operators, ignoring other scopes", () => {
    assert.deepEqual(['<is> True', '<is> False', 'True'].map((r) => satisfies(true, r)), [true, false, true]);
    assert.deepEqual(['<in> pen', '<or> file <or> ceph', '<or> ceph <or> nfs', 's== file', 'file', 'FILE'].map((r) => satisfies('file', r)), [false, true, false, true, true, false]);
    assert.deepEqual(['= 50', '>= 101', '<= 100', '== 100', '!= 100'].map((r) => satisfies(100, r)), [true, false, true, true, false]);
    assert.equal(satisfies(undefined, '<is> True'), false);
    const p = { ...pool('file', 10), protocol: 'file' };
    assert.deepEqual(unmetSpecs(type({ extraSpecs: { storage_protocol: 'file', 'capabilities:multiattach': '<is> True', 'RESKEY:x': 'y', 'vendor:tier': 'gold' } }), p), []);
    assert.deepEqual(unmetSpecs(type({ extraSpecs: { storage_protocol: 'iSCSI', tier: 'gold' } }), p), ['storage_protocol=iSCSI', 'tier=gold'], 'a capability the pool does not report fails it');
    assert.match((pickPool([p], type({ extraSpecs: { vendor_name: 'Acme' } }), 1) as { refused: string }).refused, /No valid backend was found. No backend reports what volume type t asks for: vendor_name=Acme/);
  });

  it('tells a project why a request failed as Cinder\'s user messages, from the Warning events on its volumes', () => {
    const event = (kind: string, reason: string, type = 'Warning') => ({ metadata: { uid: 'e1', name: 'v.1', namespace: 'demo' }, type, reason, message: `${reason} happened`, firstTimestamp: new Date('2026-12-01T00:00:00Z'), involvedObject: { apiVersion: 'blockstorage.stratus.io/v1alpha1', kind, uid: 'v1' } }) as never;
    const m = messageOf(event('Volume', 'NoValidBackend'), '/v3')!;
    assert.deepEqual([m.event_id, m.user_message, m.resource_uuid, m.created_at, m.guaranteed_until], ['VOLUME_VOLUME_001_003', 'schedule allocate volume: Could not find any available weighted backend.', 'v1', '2026-12-01T00:00:00.000000', '2026-12-31T00:00:00.000000']);
    assert.equal(messageOf(event('Volume', 'VolumeLimitExceeded'), '/v3')!.event_id, 'VOLUME_VOLUME_001_006');
    assert.deepEqual([messageOf(event('VolumeBackup', 'InvalidBackup'), '/v3')!.event_id, messageOf(event('VolumeBackup', 'InvalidBackup'), '/v3')!.user_message], ['VOLUME_VOLUME_BACKUP_013_001', 'create backup: InvalidBackup happened']);
    assert.equal(messageOf(event('Volume', 'Created', 'Normal'), '/v3'), undefined, 'only warnings');
    assert.equal(messageOf(event('Instance', 'Failed'), '/v3'), undefined, 'only block storage objects');
    const made = new Date('2026-12-01T00:00:00Z').getTime();
    const events = [event('Volume', 'NoValidBackend'), event('Volume', 'Created', 'Normal')];
    assert.deepEqual(expiredMessages(events, made + MESSAGE_TTL_MS), [], 'kept until its guaranteed_until');
    assert.deepEqual(expiredMessages(events, made + MESSAGE_TTL_MS + 1), [events[0]], 'then reaped; other events are not messages');
  });

  it("puts a backup in the container it names, else its parent's, else the default; an incremental one stays with its parent", () => {
    const backup = (container?: string, parentContainer?: string) => [{ metadata: { name: 'b' }, spec: { volume: 'v', ...(container ? { container } : {}) } }, parentContainer ? { metadata: { name: 'p' }, spec: { volume: 'v' }, status: { container: parentContainer } } : undefined] as const;
    assert.equal(containerOf(...backup('mine'), 'default'), 'mine');
    assert.equal(containerOf(...backup(undefined, 'theirs'), 'default'), 'theirs');
    assert.equal(containerOf(...backup(), 'default'), 'default');
    assert.throws(() => containerOf(...backup('mine', 'theirs'), 'default'), /stored in its parent's container \(theirs\), not mine/);
  });

  it('knows a retype that would move a volume to another backend (not offered) from one that keeps it', () => {
    assert.match(retypeMigration(type({ backend: 'ceph' }), 'file')!, /places volumes on backend ceph; this volume is on file/);
    assert.match(retypeMigration(type({ extraSpecs: { volume_backend_name: 'ceph' } }), 'file')!, /backend ceph/);
    assert.equal(retypeMigration(type({ backend: 'file' }), 'file'), undefined, 'the same backend');
    assert.equal(retypeMigration(type({}), 'file'), undefined, 'a type naming no backend keeps any');
    const here = { ...pool('file', 10), protocol: 'file' };
    assert.equal(retypeMigration(type({ extraSpecs: { storage_protocol: 'file' } }), 'file', here), undefined, 'its pool passes the new type');
    assert.match(retypeMigration(type({ extraSpecs: { storage_protocol: 'iSCSI' } }), 'file', here)!, /does not report what volume type t asks for: storage_protocol=iSCSI/);
  });

  it("refuses past a quota with Cinder's exception names and words; unlimited is -1 or unset", () => {
    const used = { volumes: 2, gigabytes: 7, snapshots: 1, backups: 0, backupGigabytes: 0, groups: 3 };
    assert.deepEqual(quotaRefusal({ gigabytes: 10 }, used, { volumes: 1, gigabytes: 4 }), { reason: 'VolumeSizeExceedsAvailableQuota', message: 'Requested volume or snapshot exceeds allowed gigabytes quota. Requested 4G, quota is 10G and 7G has been consumed.' });
    assert.equal(quotaRefusal({ gigabytes: 10 }, used, { volumes: 1, gigabytes: 3 }), undefined);
    assert.equal(quotaRefusal({ volumes: 2 }, used, { volumes: 1, gigabytes: 1 })?.reason, 'VolumeLimitExceeded');
    assert.equal(quotaRefusal({ snapshots: 1 }, used, { snapshots: 1, gigabytes: 1 })?.reason, 'SnapshotLimitExceeded');
    assert.equal(quotaRefusal({ backups: 0 }, used, { backups: 1 })?.reason, 'BackupLimitExceeded');
    assert.deepEqual(quotaRefusal({ groups: 3 }, used, { groups: 1 }), { reason: 'GroupLimitExceeded', message: 'Maximum number of groups allowed (3) exceeded' });
    assert.equal(quotaRefusal({ groups: 4 }, used, { groups: 1 }), undefined, 'up to the limit');
    assert.equal(quotaRefusal({ groups: 3 }, used, { volumes: 1, gigabytes: 1 }), undefined, 'a full groups quota holds back only groups');
    assert.equal(quotaRefusal(undefined, used, { volumes: 100, gigabytes: 1000 }), undefined);
    assert.deepEqual(quotaRefusal({ perVolumeGigabytes: 5, gigabytes: 1 }, used, { volumes: 1, gigabytes: 6, volumeGiB: 6 }), { reason: 'VolumeSizeExceedsLimit', message: 'Requested volume size 6G is larger than maximum allowed limit 5G.' }, 'the size of one volume first');
    assert.equal(quotaRefusal({ perVolumeGigabytes: 5 }, used, { gigabytes: 1, volumeGiB: 5 }), undefined, 'up to the limit');
  });

  it("refuses past a volume type's own quota, named as Cinder names it (volumes_<type>), and only for that type", () => {
    const used = { volumes: 2, gigabytes: 7, snapshots: 1, backups: 0, backupGigabytes: 0, groups: 0, byType: { 'volumes.fast': 2, 'gigabytes.fast': 7, 'snapshots.fast': 1 } };
    const quota = { 'volumes.fast': 2, 'gigabytes.fast': 9, 'snapshots.fast': 1 };
    assert.deepEqual(quotaRefusal(quota, used, { volumes: 1, gigabytes: 1, volumeType: 'fast' }), { reason: 'VolumeLimitExceeded', message: "Maximum number of volumes allowed (2) exceeded for quota 'volumes_fast'." });
    assert.deepEqual(quotaRefusal(quota, used, { gigabytes: 3, volumeType: 'fast' }), {
      reason: 'VolumeSizeExceedsAvailableQuota',
      message: 'Requested volume or snapshot exceeds allowed gigabytes_fast quota. Requested 3G, quota is 9G and 7G has been consumed.',
    });
    assert.equal(quotaRefusal(quota, used, { snapshots: 1, gigabytes: 1, volumeType: 'fast' })?.reason, 'SnapshotLimitExceeded');
    assert.equal(quotaRefusal(quota, used, { volumes: 1, gigabytes: 1, volumeType: 'slow' }), undefined, 'another type is not held by fast\'s limits');
    assert.equal(quotaRefusal({ ...quota, gigabytes: 7 }, used, { gigabytes: 1, volumeType: 'fast' })?.message.includes('allowed gigabytes quota'), true, "the tenant's whole limit is named first");
    assert.equal(quotaRefusal({ volumes: 2, 'volumes.slow': 1 }, used, { volumes: 1, gigabytes: 1, volumeType: 'slow', typeOnly: true }), undefined, "a retype asks the new type's quota, not the tenant's");
    assert.equal(quotaRefusal({ 'volumes.fast': 2 }, used, { volumes: 1, gigabytes: 1, volumeType: 'fast', volumeTypeName: 'Fast Disks', typeOnly: true })?.message, "Maximum number of volumes allowed (2) exceeded for quota 'volumes_Fast Disks'.");
  });

  it("takes a tenant's own limits where it sets them and the default class's elsewhere, a type's own kept flat", () => {
    const own = flatTenantQuota({ volumes: 5, volumeTypes: { fast: { volumes: 1, gigabytes: null }, slow: null } });
    assert.deepEqual(own, { volumes: 5, 'volumes.fast': 1 });
    assert.deepEqual(effectiveQuota(own, { volumes: 10, gigabytes: 100, 'volumes.fast': 3 }), { volumes: 5, gigabytes: 100, 'volumes.fast': 1 });
    assert.equal(effectiveQuota({}, {}), undefined, 'nothing set anywhere: unlimited');
    assert.deepEqual(defaultQuotasOf({ volumes: '7', gigabytes: 'lots', 'snapshots.fast': '2' }), { volumes: 7, 'snapshots.fast': 2 }, 'whole numbers only');
  });

  it('keeps a transfer offer with its key hashed, moves a made volume with its ID, and keeps the transfer annotations from tenants', () => {
    const { record, authKey } = newTransfer('to b', false, new Date('2026-12-02T00:00:00Z'));
    assert.ok(keyMatches(record, authKey));
    assert.ok(!keyMatches(record, authKey.replace(/.$/, (c) => (c === '0' ? '1' : '0'))), 'one character off');
    assert.ok(!JSON.stringify(record).includes(authKey), 'the key itself is not kept');
    const vol: Volume = {
      kind: 'Volume',
      metadata: { name: 'v', namespace: 'a', uid: 'uid-1', annotations: { [TRANSFER_ANNOTATION]: JSON.stringify(record) } },
      spec: { sizeGiB: 1, displayName: 'mine', source: { image: { name: 'cirros' } }, metadata: { k: 'v' } },
      status: { backend: 'file', pool: 'pool', sizeGiB: 2, bootable: true, madeFrom: 'image:x', volumeType: 'fast' },
    };
    assert.deepEqual(transferOf(vol), record);
    const moved = movedVolume(vol, 'b', 'mine', 'user-b')!;
    assert.equal(idOf(moved), 'uid-1', 'the same OpenStack ID');
    const attachment = { kind: 'VolumeAttachment', metadata: { uid: 'uid-a', annotations: { [VOLUME_ID_ANNOTATION]: 'uid-1' } }, spec: { volume: 'v', instance: 'i' } };
    assert.equal(idOf(attachment), 'uid-a', 'an attachment (no admission keeps it from tenants) cannot take an ID so');
    assert.deepEqual(moved.spec, { sizeGiB: 2, displayName: 'mine', metadata: { k: 'v' }, volumeType: 'fast' }, 'not made again from its source');
    assert.deepEqual(takenOverOf(moved), { backend: 'file', pool: 'pool', sizeGiB: 2, bootable: true, madeFrom: 'image:x', from: 'a/v' });
    assert.equal(movedVolume({ ...vol, status: {} }, 'b', 'mine', 'u'), undefined, 'a volume not made yet does not move');
    assert.match(reservedAnnotationChange(RESERVED_ANNOTATIONS, moved, undefined)!, /blockstorage.stratus.io\/id, blockstorage.stratus.io\/taken-over\]: set by the Block Storage API only/);
    assert.equal(reservedAnnotationChange(RESERVED_ANNOTATIONS, vol, vol), undefined, 'unchanged');
  });

  it("exports a backup's record as Cinder does and imports it under its ID, naming the same data, refusing what it cannot import", () => {
    const b: VolumeBackup = {
      kind: 'VolumeBackup',
      metadata: { name: 'nightly', namespace: 'a', uid: '11111111-2222-4333-8444-555555555555', creationTimestamp: new Date('2026-12-02T10:00:00Z') },
      spec: { displayName: 'nightly', description: 'd', volume: 'data' },
      status: { phase: 'available', volumeId: 'vol-1', sizeGiB: 2, container: 'volumebackups', prefix: 'backups/a/uid', objectCount: 3, dataBytes: 4096 },
    };
    const exported = exportRecord(b, 'p1');
    assert.equal(exported.backup_service, BACKUP_SERVICE);
    assert.ok(exported.backup_service.startsWith('cinder.backup.drivers'), "Tempest's check");
    const record = JSON.parse(Buffer.from(exported.backup_url, 'base64').toString());
    assert.deepEqual([record.id, record.display_name, record.size, record.container, record.service_metadata, record.object_count, record.volume_id], [b.metadata.uid, 'nightly', 2, 'volumebackups', 'backups/a/uid', 3, 'vol-1']);
    const newId = '99999999-8888-4777-8666-555555555555';
    const url = Buffer.from(JSON.stringify({ ...record, id: newId })).toString('base64');
    const parsed = parseRecord(BACKUP_SERVICE, url);
    assert.ok(parsed.ok);
    const made = importedBackup(parsed, 'b', 'nightly');
    assert.equal(idOf({ ...made, metadata: { ...made.metadata, uid: 'uid-new' } }), newId, 'the record’s ID');
    assert.deepEqual(importedOf(made), { container: 'volumebackups', prefix: 'backups/a/uid', sizeGiB: 2, objectCount: 3, dataBytes: 4096, volumeId: 'vol-1' });
    assert.deepEqual([made.spec.displayName, made.spec.description, made.spec.volume], ['nightly', 'd', 'data']);
    // Both name the same objects: deleting one leaves them while the other stands.
    const other = { ...made, metadata: { ...made.metadata, uid: 'uid-new' } };
    assert.ok(dataShared(b, [b, other], 'volumebackups', 'backups/a/uid', 'volumebackups'));
    assert.ok(!dataShared(b, [b, { ...other, metadata: { ...other.metadata, deletionTimestamp: new Date() } }], 'volumebackups', 'backups/a/uid', 'volumebackups'), 'the other going too');
    assert.ok(!dataShared(b, [b], 'volumebackups', 'backups/a/uid', 'volumebackups'), 'the last of them');
    const refused = (service: string, u: string) => {
      const p = parseRecord(service, u);
      return p.ok ? 'accepted' : `${p.invalid}: ${p.message}`;
    };
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64');
    assert.match(refused('cinder.backup.drivers.swift.SwiftBackupDriver', url), /^input: Backup service cinder.backup.drivers.swift.SwiftBackupDriver is not/);
    assert.equal(refused(BACKUP_SERVICE, 'not base64 json'), "input: Can't parse backup record.");
    assert.equal(refused(BACKUP_SERVICE, enc({ size: 1 })), 'input: Provided backup record is missing an id');
    assert.equal(refused(BACKUP_SERVICE, enc({ id: newId })), 'input: Provided backup record is missing size attribute');
    assert.equal(refused(BACKUP_SERVICE, enc({ id: newId, size: 1 })), 'backup: Driver successfully decoded imported backup data, but there are missing fields (display_name, display_description, container, service_metadata, object_count).');
    assert.match(refused(BACKUP_SERVICE, enc({ ...record, id: newId, parent_id: 'p' })), /^input: .*parent_id must be a UUID/);
    const parentId = '99999999-8888-4777-8666-555555555555';
    const incremental = parseRecord(BACKUP_SERVICE, enc({ ...record, id: newId, parent_id: parentId }));
    if (!incremental.ok) assert.fail(`an incremental record is taken: ${incremental.message}`);
    assert.equal(incremental.data.parentId, parentId, 'naming its parent');
    assert.equal(importedBackup(incremental, 'acme', 'b').spec.incremental, true);
    assert.match(refused(BACKUP_SERVICE, enc({ ...record, id: 'x' })), /must be a UUID/);
    assert.match(reservedAnnotationChange(BACKUP_RESERVED_ANNOTATIONS, made, undefined)!, /blockstorage.stratus.io\/id, blockstorage.stratus.io\/imported\]/);
  });

  it("refuses a tenant's VolumeBackup that sets an imported backup's ID or data (kubectl through the admission webhook), and lets a plain one through", async () => {
    const tenant = { username: 'wile', groups: ['system:authenticated'] };
    const backup = (annotations?: Record<string, string>): VolumeBackup => ({ kind: 'VolumeBackup', metadata: { name: 'b', namespace: 'acme', ...(annotations ? { annotations } : {}) }, spec: { volume: 'v' } });
    const noApi = {} as never; // a backup's checks need nothing of the API's state
    const stolen = await blockStorageRefusal(noApi, { uid: '1', operation: 'CREATE', namespace: 'acme', userInfo: tenant, object: backup({ [VOLUME_ID_ANNOTATION]: '11111111-2222-4333-8444-555555555555' }) });
    assert.deepEqual(stolen, { code: 403, message: 'VolumeBackup.blockstorage.stratus.io "b" is forbidden: metadata.annotations[blockstorage.stratus.io/id]: set by the Block Storage API only (backup import)' });
    const imported = importedBackup({ ok: true, id: '11111111-2222-4333-8444-555555555555', name: null, description: null, volume: 'v', data: { container: 'c', prefix: 'backups/other/x', sizeGiB: 1, objectCount: 1, dataBytes: 1, volumeId: 'x' } }, 'acme', 'b');
    assert.equal((await blockStorageRefusal(noApi, { uid: '2', operation: 'UPDATE', namespace: 'acme', userInfo: tenant, object: { ...backup(), metadata: { ...backup().metadata, annotations: { [IMPORTED_ANNOTATION]: imported.metadata.annotations![IMPORTED_ANNOTATION] } } }, oldObject: backup() }))?.code, 403, "another project's backup data named");
    assert.equal(await blockStorageRefusal(noApi, { uid: '3', operation: 'CREATE', namespace: 'acme', userInfo: tenant, object: backup() }), undefined);
  });

  it("says Cinder's status word from what holds now", () => {
    const base = { deleting: false, made: true, extending: false, restoring: false, backingUp: false, uploading: false, attachments: [] as VolumeAttachment[] };
    assert.equal(volumePhase({ ...base, made: false }), 'creating');
    assert.equal(volumePhase(base), 'available');
    assert.equal(volumePhase({ ...base, offered: true }), 'awaiting-transfer', 'offered to another project');
    assert.equal(volumePhase({ ...base, offered: true, attachments: [att('a', 'reserved')] }), 'reserved');
    assert.equal(volumePhase({ ...base, attachments: [att('a', 'reserved')] }), 'reserved');
    assert.equal(volumePhase({ ...base, attachments: [att('a', 'attaching')] }), 'attaching');
    assert.equal(volumePhase({ ...base, attachments: [att('a', 'attached')] }), 'in-use');
    assert.equal(volumePhase({ ...base, attachments: [att('a', 'attached', undefined, true)] }), 'detaching');
    assert.equal(volumePhase({ ...base, attachments: [att('a', 'error')] }), 'available', 'a refused attachment holds nothing');
    assert.equal(volumePhase({ ...base, backingUp: true, attachments: [att('a', 'attached')] }), 'backing-up');
    assert.equal(volumePhase({ ...base, deleting: true }), 'deleting');
    assert.deepEqual(attachmentRecords([att('a', 'attached'), att('b', 'error')]).map((r) => r.attachment), ['a']);
  });

  it('gives a single-attach volume to the attachment plugged in, else to the oldest asking', () => {
    const older = att('older', undefined, '2026-01-01T00:00:00Z');
    const newer = att('newer', undefined, '2026-01-02T00:00:00Z');
    assert.ok(holdsVolume(older, [older, newer]));
    assert.ok(!holdsVolume(newer, [older, newer]));
    const plugged = att('plugged', 'attached', '2026-01-03T00:00:00Z');
    assert.ok(holdsVolume(plugged, [older, plugged]));
    assert.ok(!holdsVolume(older, [older, plugged]));
    assert.ok(holdsVolume(newer, [att('refused', 'error'), newer]), 'a refused one holds nothing');
  });

  it("stores a chunk only when it holds data that changed since the parent; deleting a backup removes only its own objects", () => {
    assert.deepEqual(chunkPlan('z', true, undefined), { reuse: { sha256: 'z', key: null } });
    assert.deepEqual(chunkPlan('a', false, { sha256: 'a', key: 'p/chunk-0' }), { reuse: { sha256: 'a', key: 'p/chunk-0' } });
    assert.deepEqual(chunkPlan('b', false, { sha256: 'a', key: 'p/chunk-0' }), { store: true });
    assert.deepEqual(chunkPlan('a', false, undefined), { store: true });
    const m: BackupManifest = { version: 1, volumeId: 'v', sizeBytes: 3, chunkBytes: 1, parent: 'p', chunks: [{ sha256: 'a', key: 'p/chunk-0' }, { sha256: 'b', key: 'c/chunk-1' }, { sha256: 'z', key: null }] };
    assert.deepEqual(ownKeysOf(m, 'c'), ['c/chunk-1']);
  });

  it("filters lists as Cinder's query strings ask: fields, metadata dicts in JSON or Python's repr, ~ for partial names", () => {
    const v = { id: '1', name: 'web data', status: 'available', bootable: 'false', metadata: { k: 'v', n: '2' } };
    const q = (s: string) => new URLSearchParams(s);
    assert.ok(matches(v, q('status=available&name=web%20data')));
    assert.ok(!matches(v, q('status=in-use')));
    assert.ok(matches(v, q(`metadata=${encodeURIComponent("{'k': 'v'}")}`)));
    assert.ok(matches(v, q(`metadata=${encodeURIComponent('{"n": "2"}')}`)));
    assert.ok(!matches(v, q(`metadata=${encodeURIComponent("{'k': 'x'}")}`)));
    assert.ok(matches(v, q('name~=web')));
    assert.ok(matches(v, q('limit=1&sort=name:asc&all_tenants=1')));
  });

  it('hands guests the monitors of a ceph.conf as msgr v1 addresses, which QEMU reaches', () => {
    assert.equal(monHostOf('[global]\nfsid = x\nmon_host = [v2:127.0.0.1:3300,v1:127.0.0.1:6789]\n'), '[v2:127.0.0.1:3300,v1:127.0.0.1:6789]');
    assert.equal(monHostOf('[global]\n  mon host = 10.0.0.1\n'), '10.0.0.1');
    assert.deepEqual(monitorsOf('[v2:127.0.0.1:3300,v1:127.0.0.1:6789]'), [{ host: '127.0.0.1', port: '6789' }]);
    assert.deepEqual(monitorsOf('[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0] [v2:10.0.0.2:3300,v1:10.0.0.2:6790]'), [{ host: '10.0.0.1', port: '6789' }, { host: '10.0.0.2', port: '6790' }]);
    assert.deepEqual(monitorsOf('10.0.0.1:6789,10.0.0.2'), [{ host: '10.0.0.1', port: '6789' }, { host: '10.0.0.2', port: '6789' }]);
    assert.deepEqual(monitorsOf('[v2:127.0.0.1:3300]'), [], 'a v2-only monitor is not one QEMU reaches');
  });

  it('reads for a backup only the chunks that touch a written extent', () => {
    const written: Array<[number, number]> = [[0, 4096], [8 << 20, 4 << 20]];
    assert.equal(overlaps(written, 0, 8 << 20), true);
    assert.equal(overlaps(written, 4096, 8 << 20), true, 'the second extent starts inside this chunk');
    assert.equal(overlaps(written, 12 << 20, 8 << 20), false, 'it ends where this chunk begins');
    assert.equal(overlaps([], 0, 8 << 20), false);
  });

  it("sizes a thin RBD pool as Cinder's capacity filter does (over-subscription 20), or holds it to a fixed capacity", () => {
    const G = 1024 ** 3;
    assert.deepEqual(rbdRoom({ maxAvail: 9 * G, stored: 1 * G, provisioned: 11 * G }, undefined), { totalGiB: 10, provisionedGiB: 11, freeGiB: 180 }, 'promised past the bytes, still room');
    assert.deepEqual(rbdRoom({ maxAvail: 9 * G, stored: 1 * G, provisioned: 195 * G }, undefined), { totalGiB: 10, provisionedGiB: 195, freeGiB: 5 }, 'held to 20 times the total');
    assert.equal(rbdRoom({ maxAvail: 0, stored: 10 * G, provisioned: 11 * G }, undefined).freeGiB, 0, 'a full cluster takes nothing more');
    assert.deepEqual(rbdRoom({ maxAvail: 9 * G, stored: 0, provisioned: 3 * G }, 5), { totalGiB: 5, provisionedGiB: 3, freeGiB: 2 });
  });

  it("reads a type's encryption as Cinder's schema does, and gives it a stable UUID of its own", () => {
    assert.deepEqual(encryptionAsked({ encryption: { provider: 'luks', control_location: 'front-end', key_size: '256', cipher: null } }, false), { provider: 'luks', controlLocation: 'front-end', keySize: 256, cipher: null });
    assert.deepEqual(encryptionAsked({ encryption: { key_size: 128 } }, true), { keySize: 128 }, 'an update may give one field');
    assert.deepEqual(encryptionAsked({ encryption: { key_size: 128 } }, false), { refused: "'provider' is a required property" });
    assert.deepEqual(encryptionAsked({}, true), { refused: "'encryption' is a required property" });
    assert.match((encryptionAsked({ encryption: { provider: 'luks', control_location: 'side' } }, false) as { refused: string }).refused, /control_location/);
    assert.match((encryptionAsked({ encryption: { provider: 'luks', control_location: 'back-end', key_size: 1.5 } }, false) as { refused: string }).refused, /key_size/);
    const id = encryptionIdOf('4a0c4f1e-0000-4000-8000-000000000001');
    assert.equal(id, encryptionIdOf('4a0c4f1e-0000-4000-8000-000000000001'), 'stable');
    assert.notEqual(id, encryptionIdOf('4a0c4f1e-0000-4000-8000-000000000002'));
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(encryptedTypeRefusal(type({})), undefined);
    assert.match(encryptedTypeRefusal(type({ displayName: 'sealed', encryption: { provider: 'luks', controlLocation: 'front-end' } }))!, /^Volume type sealed is encrypted \(luks\): .*key manager/);
  });

  it("takes a snapshot's status update only from creating or deleting, to a word that may follow, with a whole percentage", () => {
    assert.equal(snapshotUpdateRefusal('creating', 'error', '80%'), undefined);
    assert.equal(snapshotUpdateRefusal('creating', 'available', undefined), undefined);
    assert.equal(snapshotUpdateRefusal('deleting', 'error_deleting', '100%'), undefined);
    assert.equal(snapshotUpdateRefusal('available', 'error', undefined), 'Snapshot status available not allowed for update_snapshot_status');
    assert.equal(snapshotUpdateRefusal('creating', 'error_deleting', undefined), 'Provided snapshot status error_deleting not allowed for snapshot with status creating.');
    for (const bad of ['80', '101%', '-1%', 'x%', '8.5%']) assert.equal(snapshotUpdateRefusal('creating', 'error', bad), 'progress must be an integer percentage', bad);
    const updated = { metadata: { annotations: resetAnnotations('error', 't', '80%') } };
    assert.equal(snapshotProgress(updated, 'error'), '80%', 'while its word shows');
    assert.equal(snapshotProgress(updated, 'available'), '100%', 'then what the word says');
    assert.equal(snapshotProgress({ metadata: {} }, 'creating'), '0%');
  });

  it("shows an admin's reset status until the volume's own state or spec changes, and applies each request once", () => {
    const first = { status: 'error', at: '2026-12-01T03:00:00.000Z' };
    const applied = shownStatus('available', first, undefined, 4);
    assert.equal(applied.phase, 'error');
    assert.deepEqual(applied.mark, { at: first.at, status: 'error', over: 'available', generation: 4, ended: false });
    assert.equal(shownStatus('available', first, applied.mark, 4).phase, 'error', 'it holds while nothing changes');
    const attached = shownStatus('in-use', first, applied.mark, 4);
    assert.equal(attached.phase, 'in-use', 'an attach ends it');
    assert.equal(shownStatus('available', first, attached.mark, 4).phase, 'available', 'and it does not come back when the volume does');
    assert.equal(shownStatus('available', first, applied.mark, 5).phase, 'available', 'a spec change ends it too');
    const again = { status: 'error', at: '2026-12-01T03:05:00.000Z' };
    const reapplied = shownStatus('available', again, attached.mark, 5);
    assert.equal(reapplied.phase, 'error', 'the same word asked again is a new request');
    assert.equal(reapplied.mark?.ended, false, "written out, so that a merge patch does not keep the last mark's end");
    assert.deepEqual(shownStatus('available', undefined, undefined, 1), { phase: 'available', mark: undefined });
    const reserved = shownStatus('available', { status: 'attaching', at: 't' }, undefined, 1);
    assert.equal(reserved.phase, 'attaching', 'os-reserve');
    assert.equal(shownStatus('available', undefined, reserved.mark, 1).phase, 'available', 'os-unreserve takes the request back');
    const asked = { metadata: { annotations: resetAnnotations('attaching', 't') } };
    assert.equal(isReserved(asked, 'attaching'), true);
    assert.equal(isReserved(asked, 'in-use'), false, 'attached since: no longer reserved');
    assert.equal(isReserved({ metadata: { annotations: resetAnnotations('maintenance', 't') } }, 'attaching'), false, 'attaching for another reason');
    const annotated = { metadata: { annotations: resetAnnotations('maintenance', first.at) } };
    assert.deepEqual(resetRequestOf(annotated), { status: 'maintenance', at: first.at });
    assert.equal(resetRequestOf({ metadata: {} }), undefined);
  });

  it('knows a snapshot or backup is settled when made (Ready) or refused at its generation (Stalled), not while being made', () => {
    const cond = (type: string, observedGeneration = 2) => [{ type, status: 'True' as const, reason: 'r', message: 'm', lastTransitionTime: 't', observedGeneration }];
    assert.equal(settledWord({ metadata: { generation: 2 }, status: { conditions: cond('Ready') } }), 'available');
    assert.equal(settledWord({ metadata: { generation: 2 }, status: { conditions: cond('Ready') } }, 'restoring'), 'restoring');
    assert.equal(settledWord({ metadata: { generation: 2 }, status: { phase: 'available', conditions: cond('Stalled') } }), 'error', 'refused, whatever word a reset shows');
    assert.equal(settledWord({ metadata: { generation: 3 }, status: { conditions: cond('Stalled') } }), undefined, 'a spec change tries again');
    assert.equal(settledWord({ metadata: { generation: 1 }, status: { phase: 'creating', conditions: cond('Reconciling', 1) } }), undefined);
  });

  it("lists Cinder's services: the scheduler and backup (this process), and a volume service per backend, down when it does not answer", () => {
    const backend = (name: string) => ({ name, pool: `${name}#pool`, protocol: 'file' }) as never;
    const records = serviceRecords([{ backend: backend('file'), capacity: { totalGiB: 10, freeGiB: 9, provisionedGiB: 1 }, at: 't1' }, { backend: backend('ceph'), at: 't2' }], 49);
    assert.deepEqual(records.map((r) => [r.binary, r.host, r.state]), [['cinder-scheduler', 'stratus', 'up'], ['cinder-volume', 'stratus@file', 'up'], ['cinder-volume', 'stratus@ceph', 'down'], ['cinder-backup', 'stratus', 'up']]);
    assert.equal(records[2].backend_state, 'down', 'from 3.49');
    assert.equal(records[2].updated_at, 't2');
    assert.ok(!('backend_state' in serviceRecords([], 48)[0]), 'not before 3.49');
    assert.ok(!('cluster' in serviceRecords([], 6)[0]), 'cluster from 3.7');
    assert.deepEqual(['stratus', 'stratus@file', 'stratus@file#pool', 'stratusx'].map((h) => onHost(h, 'stratus')), [true, true, true, false], "a host filter takes the host's backends and pools");
    const set = serviceStates({ [serviceKey('cinder-volume', 'stratus@file')]: JSON.stringify({ disabled: true, reason: 'disk swap', frozen: true }), other: 'not json' });
    const [, file, ceph] = serviceRecords([{ backend: backend('file'), at: 't1' }, { backend: backend('ceph'), at: 't2' }], 0, set);
    assert.deepEqual([file.status, file.disabled_reason, file.frozen, file.replication_status], ['disabled', 'disk swap', true, 'disabled']);
    assert.deepEqual([ceph.status, ceph.disabled_reason, ceph.frozen], ['enabled', null, false]);
    assert.ok(!('frozen' in serviceRecords([], 0)[0]), 'frozen only on volume services');
    assert.deepEqual([isValidReason('disk swap'), isValidReason(null), isValidReason('  '), isValidReason('x'.repeat(256))], [true, false, false, false]);
    assert.equal(serviceKey('cinder-volume', 'stratus@file#pool'), 'cinder-volume.stratus_file_pool', 'a ConfigMap key');
  });

  it("decides an admin's service change as Cinder does: one state written and its answer, or the 400 or 404", () => {
    const backend = { name: 'file', pool: 'file#pool', protocol: 'file' } as never;
    const records = serviceRecords([{ backend, at: 't' }], 0);
    const none = new Map<string, ServiceState>();
    const disable = serviceChange('disable-log-reason', { host: 'stratus@file', binary: 'cinder-volume', disabled_reason: 'disk swap' }, records, none);
    assert.deepEqual(disable.writes, [['cinder-volume.stratus_file', { disabled: true, reason: 'disk swap', frozen: false }]]);
    assert.deepEqual(disable.answer, { disabled: true, status: 'disabled', host: 'stratus@file', service: '', binary: 'cinder-volume', disabled_reason: 'disk swap' });
    const was = new Map<string, ServiceState>(disable.writes);
    assert.deepEqual(serviceChange('disable', { host: 'stratus@file', service: 'cinder-volume' }, records, was).writes[0][1].reason, 'disk swap', 'a plain disable keeps the reason');
    assert.deepEqual(serviceChange('enable', { host: 'stratus@file', binary: 'cinder-volume' }, records, was).writes[0][1], { disabled: false, reason: null, frozen: false });
    assert.deepEqual(serviceChange('freeze', { host: 'stratus' }, records, none).writes, [['cinder-volume.stratus_file', { disabled: false, reason: null, frozen: true }]], "a host's volume services");
    const status = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as CinderError).status;
      }
      return 'none';
    };
    assert.equal(status(() => serviceChange('enable', { host: 'invalid_host', binary: 'cinder-volume' }, records, none)), 404);
    assert.equal(status(() => serviceChange('disable', { host: 'stratus@file', binary: 'invalid_binary' }, records, none)), 404);
    assert.equal(status(() => serviceChange('disable-log-reason', { host: 'stratus@file', binary: 'cinder-volume', disabled_reason: null }, records, none)), 400);
    assert.equal(status(() => serviceChange('freeze', { host: 'invalid_host' }, records, none)), 400);
    assert.equal(status(() => serviceChange('thaw', { host: 'stratus' }, records, none)), 400, 'not frozen');
    assert.equal(status(() => serviceChange('reboot', { host: 'stratus' }, records, none)), 400);
  });

  it("schedules to enabled, unfrozen volume services only", () => {
    const off = { ...pool('file', 50), unschedulable: unschedulable({ disabled: true, reason: 'disk swap', frozen: false }) };
    assert.equal((pickPool([off, pool('ceph', 10)], undefined, 1) as { pool: { backend: string } }).pool.backend, 'ceph', 'the roomier one is disabled');
    assert.deepEqual(pickPool([off], undefined, 1), { refused: 'No valid backend was found. No volume service takes new volumes: file is disabled (disk swap)' });
    assert.equal(unschedulable({ disabled: false, reason: null, frozen: true }), 'frozen');
    assert.equal(unschedulable(undefined), undefined);
  });

  it('says extending or retyping from the moment a larger size or another type is asked, as Cinder\'s API does', () => {
    const vol = (spec: object, status: object, generation = 2) => ({ metadata: { name: 'v', generation }, spec: { sizeGiB: 1, ...spec }, status: { phase: 'available', sizeGiB: 1, volumeType: 'a', ...status } }) as never;
    assert.equal(volumeStatus(vol({}, {})), 'available');
    assert.equal(volumeStatus(vol({ sizeGiB: 2 }, {})), 'extending');
    assert.equal(volumeStatus(vol({ volumeType: 'b' }, {})), 'retyping');
    assert.equal(volumeStatus(vol({ volumeType: 'b' }, { conditions: [{ type: 'Stalled', status: 'True', observedGeneration: 2 }] })), 'available', 'a refused retype is not shown as under way');
    assert.equal(volumeStatus(vol({ volumeType: 'b' }, { phase: 'error' })), 'error');
  });

  it('shows a status request at once, before the reconciler takes it in, and its end at once when taken back', () => {
    const asked = { metadata: { annotations: resetAnnotations('attaching', 't1') }, status: { phase: 'available' } };
    assert.equal(pendingStatus(asked), 'attaching', 'os-reserve, read back at once');
    const applied = { ...asked, status: { phase: 'attaching', reset: { at: 't1', status: 'attaching', over: 'available', generation: 1 } } };
    assert.equal(pendingStatus(applied), undefined, 'status says it');
    assert.equal(pendingStatus({ metadata: {}, status: applied.status }), 'available', 'os-unreserve, read back at once');
    assert.equal(pendingStatus({ metadata: {}, status: { phase: 'in-use', reset: { ...applied.status.reset, ended: true } } }), undefined);
  });
});

describe('volume groups: what a group made from another still needs, and the word it shows', () => {
  const vol = (name: string, group: string, phase?: string, from?: string): Volume => ({ metadata: { name, namespace: 'p' }, spec: { sizeGiB: 2, volumeType: 'fast', group, ...(from ? { source: { volume: from } } : {}) }, ...(phase ? { status: { phase } } : {}) });
  const copy = { metadata: { name: 'copy', namespace: 'p', annotations: { 'blockstorage.stratus.io/user-id': 'u1' } }, spec: { groupType: 'gt', volumeTypes: ['fast'], sourceGroup: 'orig' } };

  it('clones each source volume or snapshot once, into the group, named the same on every pass', () => {
    const sources = [vol('a', 'orig', 'available'), vol('b', 'orig', 'available')].map(volumeSource);
    const first = clonesToMake(copy, sources, []);
    assert.deepEqual(first.map((v) => [v.metadata.name, v.spec.group, v.spec.source, v.spec.sizeGiB, v.spec.volumeType, v.metadata.annotations]), [['copy-a', 'copy', { volume: 'a' }, 2, 'fast', { 'blockstorage.stratus.io/user-id': 'u1' }], ['copy-b', 'copy', { volume: 'b' }, 2, 'fast', { 'blockstorage.stratus.io/user-id': 'u1' }]]);
    assert.deepEqual(clonesToMake(copy, sources, [first[0]]).map((v) => v.metadata.name), ['copy-b'], 'a made clone is not made again');
    const snap = { metadata: { name: 'gs-a', namespace: 'p' }, spec: { volume: 'a' }, status: { sizeGiB: 3 } };
    const fromSnap = clonesToMake(copy, [snapshotSource(snap, vol('a', 'orig'))], [first[0]]);
    assert.deepEqual(fromSnap.map((v) => [v.metadata.name, v.spec.source, v.spec.sizeGiB, v.spec.volumeType]), [['copy-gs-a', { snapshot: 'gs-a' }, 3, 'fast']], "a snapshot's volume: its size, its volume's type; a clone of the volume itself does not count");
    assert.equal(cloneName({ ...copy, metadata: { ...copy.metadata, name: 'x'.repeat(250) } }, volumeSource(vol('abc', 'orig'))).length, 253, 'a name Kubernetes takes');
  });

  it("refuses a kubectl volume in a group that does not take its type, when it joins or changes type", () => {
    const group = { metadata: { name: 'orig', namespace: 'p' }, spec: { groupType: 'gt', volumeTypes: ['fast'] } };
    assert.equal(groupTypeRefusal(vol('a', 'orig'), undefined, group), undefined);
    const slow = { ...vol('a', 'orig'), spec: { ...vol('a', 'orig').spec, volumeType: 'slow' } };
    assert.equal(groupTypeRefusal(slow, undefined, group), 'group orig does not take volumes of type slow.');
    assert.match(groupTypeRefusal(slow, vol('a', 'orig'), group) ?? '', /does not take/, 'a retype out of the group');
    assert.equal(groupTypeRefusal(slow, slow, group), undefined, 'unchanged: not asked again');
    assert.equal(groupTypeRefusal(slow, undefined, undefined), undefined, 'a group not known yet');
  });

  it('is creating until every clone has been available, then available for good; a failed clone fails it', () => {
    assert.deepEqual(groupWord(copy, [], 2), { word: 'creating', waiting: 2 });
    assert.deepEqual(groupWord(copy, [vol('copy-a', 'copy', 'available', 'a')], 2), { word: 'creating', waiting: 1 });
    assert.deepEqual(groupWord(copy, [vol('copy-a', 'copy', 'available', 'a'), vol('copy-b', 'copy', 'available', 'b')], 2), { word: 'available', populated: true });
    assert.equal(groupWord(copy, [vol('copy-a', 'copy', 'error', 'a')], 2).word, 'error');
    assert.deepEqual(groupWord({ ...copy, status: { populated: true } }, [vol('copy-a', 'copy', 'creating')], 2), { word: 'available' }, 'populated: new members do not make it creating');
    assert.deepEqual(groupWord({ ...copy, spec: { ...copy.spec, sourceGroup: undefined } }, [], 0), { word: 'available' }, 'a plain group');
    assert.deepEqual(groupWord(copy, [], 0), { word: 'available', populated: true }, 'made from an empty group');
  });
});
