/** What a kubectl write of a Volume or VolumeSnapshot asks of the tenant's quota, as Cinder's API counts it. */
import { strict as assert } from 'node:assert';
import type { AdmissionRequest } from '@stratus/runtime';
import { askedBy } from '../src/api/admissionRoutes.js';
import type { Volume, VolumeSnapshot } from '../src/resources.js';

const volume = (sizeGiB: number): Volume => ({ kind: 'Volume', metadata: { name: 'v', namespace: 'demo' }, spec: { sizeGiB } });
const request = (operation: 'CREATE' | 'UPDATE', object: Volume | VolumeSnapshot, oldObject?: Volume | VolumeSnapshot): AdmissionRequest<Volume | VolumeSnapshot> => ({ uid: 'u', operation, object, oldObject });
const sizes = (name: string) => (name === 'v' ? 4 : undefined);

describe('block storage admission: what a write asks of the quota', () => {
  it('asks a volume and its GiB (and its size) for a new volume, and the GiB of its volume for a new snapshot', () => {
    assert.deepEqual(askedBy(request('CREATE', volume(3)), sizes), { volumes: 1, gigabytes: 3, volumeGiB: 3 }, 'and the size of the one volume (per_volume_gigabytes)');
    const snap: VolumeSnapshot = { kind: 'VolumeSnapshot', metadata: { name: 's', namespace: 'demo' }, spec: { volume: 'v' } };
    assert.deepEqual(askedBy(request('CREATE', snap), sizes), { snapshots: 1, gigabytes: 4 });
  });

  it('asks only the GiB an extend adds (and the new size), and nothing for other updates', () => {
    assert.deepEqual(askedBy(request('UPDATE', volume(10), volume(4)), sizes), { gigabytes: 6, volumeGiB: 10 });
    assert.equal(askedBy(request('UPDATE', volume(4), volume(4)), sizes), undefined, 'a rename or metadata change');
    assert.equal(askedBy(request('UPDATE', volume(2), volume(4)), sizes), undefined, 'a shrink asks nothing (the reconciler refuses it)');
  });
});
