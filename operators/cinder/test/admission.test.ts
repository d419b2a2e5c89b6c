/** What a kubectl write of a Volume, VolumeSnapshot or VolumeGroup asks of the tenant's quota, as Cinder's API counts it. */
import { strict as assert } from 'node:assert';
import type { AdmissionRequest } from '@stratus/runtime';
import { askedBy } from '../src/api/admissionRoutes.js';
import type { Volume, VolumeGroup, VolumeSnapshot } from '../src/resources.js';

const volume = (sizeGiB: number, volumeType?: string): Volume => ({ kind: 'Volume', metadata: { name: 'v', namespace: 'demo' }, spec: { sizeGiB, ...(volumeType ? { volumeType } : {}) } });
const request = (operation: 'CREATE' | 'UPDATE', object: Volume | VolumeSnapshot | VolumeGroup, oldObject?: Volume | VolumeSnapshot | VolumeGroup): AdmissionRequest<Volume | VolumeSnapshot | VolumeGroup> => ({ uid: 'u', operation, object, oldObject });
const made = { ...volume(4), status: { sizeGiB: 4, volumeType: 'fast' } };
const sizes = (name: string) => (name === 'v' ? made : undefined);

describe('block storage admission: what a write asks of the quota', () => {
  it('asks a volume and its GiB (and its size) of its type for a new volume, and the GiB of its volume for a new snapshot, of that volume\'s type', () => {
    assert.deepEqual(askedBy(request('CREATE', volume(3)), sizes), { volumes: 1, gigabytes: 3, volumeGiB: 3, volumeType: 'default' }, 'and the size of the one volume (per_volume_gigabytes); no type named: the default');
    assert.deepEqual(askedBy(request('CREATE', volume(3, 'slow')), sizes), { volumes: 1, gigabytes: 3, volumeGiB: 3, volumeType: 'slow' });
    const snap: VolumeSnapshot = { kind: 'VolumeSnapshot', metadata: { name: 's', namespace: 'demo' }, spec: { volume: 'v' } };
    assert.deepEqual(askedBy(request('CREATE', snap), sizes), { snapshots: 1, gigabytes: 4, volumeType: 'fast' });
  });

  it('asks only the GiB an extend adds (and the new size), and nothing for other updates', () => {
    assert.deepEqual(askedBy(request('UPDATE', { ...made, spec: { sizeGiB: 10 } }, made), sizes), { gigabytes: 6, volumeGiB: 10, volumeType: 'fast' });
    assert.equal(askedBy(request('UPDATE', volume(4), volume(4)), sizes), undefined, 'a rename or metadata change');
    assert.deepEqual(askedBy(request('UPDATE', { ...made, spec: { sizeGiB: 4, volumeType: 'slow' } }, made), sizes), { volumes: 1, gigabytes: 4, volumeType: 'slow', typeOnly: true }, "a retype asks the new type's own quota only");
    assert.equal(askedBy(request('UPDATE', volume(2), volume(4)), sizes), undefined, 'a shrink asks nothing (the reconciler refuses it)');
  });

  it('asks one group of the groups quota for a new group, and nothing when a group changes', () => {
    const group: VolumeGroup = { kind: 'VolumeGroup', metadata: { name: 'g', namespace: 'demo' }, spec: { groupType: 'gt', volumeTypes: ['default'] } };
    assert.deepEqual(askedBy(request('CREATE', group), sizes), { groups: 1 });
    assert.equal(askedBy(request('UPDATE', { ...group, spec: { ...group.spec, displayName: 'renamed' } }, group), sizes), undefined);
  });
});
