/** Host aggregates' zones and migration records: the pure decisions the API and the scheduler share. */
import { strict as assert } from 'node:assert';
import { aggregateIdOf, aggregateMetadataOf, zoneConflict, zoneOfHost, type Aggregate, type Hypervisor } from '../src/index.js';
import { resizeStatus } from '../src/api/migrationRoutes.js';
import { defaultQuotasOf, effectiveQuota } from '../src/quota.js';

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
