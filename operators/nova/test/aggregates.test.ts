/** Host aggregates' zones and migration records: the pure decisions the API and the scheduler share. */
import { strict as assert } from 'node:assert';
import { aggregateIdOf, aggregateMetadataOf, zoneConflict, zoneOfHost, type Aggregate, type Hypervisor } from '../src/index.js';
import { resizeStatus } from '../src/api/migrationRoutes.js';
import { defaultQuotasOf, effectiveQuota } from '../src/quota.js';
import { backupsPastRotation } from '../src/backups.js';

const hv = (name: string, zone?: string) => ({ metadata: { name }, spec: { capacity: {}, ...(zone ? { availabilityZone: zone } : {}) } }) as unknown as Hypervisor;
const agg = (uid: string, hosts: string[], zone?: string, metadata: Record<string, string> = {}) => ({ apiVersion: 'compute.stratus.io/v1alpha1', kind: 'Aggregate', metadata: { name: uid, uid }, spec: { hosts, metadata, ...(zone ? { availabilityZone: zone } : {}) } }) as Aggregate;

describe('host aggregates', () => {
  it('puts a host in the zone of an aggregate holding it, else the zone it registered with', () => {
    assert.equal(zoneOfHost(hv('a'), []), 'nova');
    assert.equal(zoneOfHost(hv('a', 'rack-1'), []), 'rack-1');
    assert.equal(zoneOfHost(hv('a', 'rack-1'), [agg('1', ['a'])]), 'rack-1', 'an aggregate without a zone changes nothing');
    assert.equal(zoneOfHost(hv('a'), [agg('1', ['b'], 'east'), agg('2', ['a'], 'west')]), 'west');
  });

  it('keeps a host in one zone at most', () => {
    const east = agg('1', ['a'], 'east');
    assert.match(zoneConflict(agg('2', []), ['a'], 'west', [east])!, /already in availability zone east/);
    assert.equal(zoneConflict(agg('2', []), ['a'], 'east', [east]), undefined, 'the same zone twice is fine');
    assert.equal(zoneConflict(agg('2', []), ['a'], undefined, [east]), undefined, 'an aggregate without a zone may hold it');
    assert.equal(zoneConflict(east, ['a'], 'west', [east]), undefined, 'an aggregate does not conflict with itself');
  });

  it('shows integer IDs that stay the same, and the zone among the metadata as Nova does', () => {
    assert.equal(aggregateIdOf(agg('uid-1', [])), aggregateIdOf(agg('uid-1', [])));
    assert.ok(Number.isInteger(aggregateIdOf(agg('uid-1', []))) && aggregateIdOf(agg('uid-1', [])) >= 0);
    assert.deepEqual(aggregateMetadataOf(agg('1', [], 'east', { ssd: 'true' })), { ssd: 'true', availability_zone: 'east' });
  });
});

describe('migration records of resizes', () => {
  it('follow what came after the resize, or the instance as it is now', () => {
    assert.equal(resizeStatus(['confirmResize'], undefined), 'confirmed');
    assert.equal(resizeStatus(['revertResize'], undefined), 'reverted');
    assert.equal(resizeStatus([], 'RESIZE'), 'migrating');
    assert.equal(resizeStatus([], 'VERIFY_RESIZE'), 'finished');
    assert.equal(resizeStatus(['resize'], 'RESIZE'), 'finished', 'a later resize started after this one ended');
  });
});

describe('the default quota class', () => {
  it("fills in the limits a tenant does not set, and only whole numbers count", () => {
    const defaults = defaultQuotasOf({ instances: '10', cores: 'lots', ramMiB: '2048' });
    assert.deepEqual(defaults, { instances: 10, ramMiB: 2048 });
    assert.deepEqual(effectiveQuota({ instances: 3 }, defaults), { instances: 3, ramMiB: 2048 });
    assert.equal(effectiveQuota(undefined, {}), undefined, 'unlimited');
  });
});

describe('backup rotation', () => {
  const image = (uid: string, at: string, props: Record<string, string>, rotation?: number) =>
    ({ metadata: { name: uid, uid, creationTimestamp: at, ...(rotation !== undefined ? { annotations: { 'compute.stratus.io/backup-rotation': String(rotation) } } : {}) }, spec: { properties: { image_type: 'backup', backup_type: 'daily', instance_uuid: 's1', ...props } } }) as never;
  it("keeps the `rotation` newest of the server's backups of the type, the new one counted", () => {
    const b1 = image('b1', '2026-01-01T00:00:00Z', {});
    const b2 = image('b2', '2026-01-02T00:00:00Z', {});
    const weekly = image('w1', '2026-01-01T00:00:00Z', { backup_type: 'weekly' });
    const otherServer = image('o1', '2026-01-01T00:00:00Z', { instance_uuid: 's2' });
    const b3 = image('b3', '2026-01-03T00:00:00Z', {}, 2);
    assert.deepEqual(backupsPastRotation([b1, b2, weekly, otherServer, b3], b3).map((i: any) => i.metadata.name), ['b1']);
    assert.deepEqual(backupsPastRotation([b1, b2], image('b4', '2026-01-04T00:00:00Z', {}, 1)).map((i: any) => i.metadata.name), ['b2', 'b1']);
    assert.deepEqual(backupsPastRotation([b1], image('plain', '2026-01-04T00:00:00Z', {})), [], 'no rotation asked: nothing rotated');
  });
});
