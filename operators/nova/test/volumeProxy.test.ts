/** Nova's volume proxy views, pure: Cinder's volumes and snapshots in Nova's camelCase shapes. */
import { strict as assert } from 'node:assert';
import { novaSnapshot, novaVolume } from '../src/api/volumeProxyRoutes.js';

describe("Nova's volume proxy views", () => {
  const volume = { id: 'v1', status: 'available', size: 2, availability_zone: 'nova', created_at: '2026-11-30T23:00:00.000000', name: 'data', description: null, volume_type: '__DEFAULT__', snapshot_id: null, metadata: { Type: 'work' }, attachments: [] };

  it('shows an unattached volume with [{}] as its attachments, as Nova does', () => {
    assert.deepEqual(novaVolume(volume), { id: 'v1', status: 'available', size: 2, availabilityZone: 'nova', createdAt: '2026-11-30T23:00:00.000000', attachments: [{}], displayName: 'data', displayDescription: null, volumeType: '__DEFAULT__', snapshotId: null, metadata: { Type: 'work' } });
  });

  it('shows an attached volume with its server and device', () => {
    const attached = novaVolume({ ...volume, status: 'in-use', attachments: [{ server_id: 's1', device: '/dev/vdb' }] });
    assert.deepEqual(attached.attachments, [{ id: 'v1', volumeId: 'v1', serverId: 's1', device: '/dev/vdb' }]);
  });

  it("shows a snapshot with its volume's ID and size", () => {
    assert.deepEqual(novaSnapshot({ id: 's1', volume_id: 'v1', status: 'creating', size: 2, created_at: 't', name: 'snap', description: 'd' }), { id: 's1', volumeId: 'v1', status: 'creating', size: 2, createdAt: 't', displayName: 'snap', displayDescription: 'd' });
  });
});
