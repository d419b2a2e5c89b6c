/** Block device mappings as a server create sends them (both forms), read and checked as Nova does. Pure. */
import { strict as assert } from 'node:assert';
import { bootsFromVolume, localBootImage, parseBlockDevices } from '../src/api/blockDevices.js';

describe('block device mappings', () => {
  it('reads boot from an existing volume, from a new volume made of an image, and volumes attached at boot', () => {
    const byVolume = parseBlockDevices({ block_device_mapping_v2: [{ uuid: 'v1', source_type: 'volume', destination_type: 'volume', boot_index: '0', delete_on_termination: false }] });
    assert.deepEqual(byVolume, [{ source: 'volume', destination: 'volume', uuid: 'v1', sizeGiB: undefined, bootIndex: 0, deleteOnTermination: false, device: undefined, tag: undefined }]);
    assert.ok(bootsFromVolume(byVolume));
    const fromImage = parseBlockDevices({ block_device_mapping_v2: [{ uuid: 'i1', source_type: 'image', destination_type: 'volume', volume_size: '2', boot_index: 0, delete_on_termination: 'true' }, { source_type: 'blank', destination_type: 'volume', volume_size: 1 }] });
    assert.deepEqual(fromImage.map((d) => [d.source, d.sizeGiB, d.bootIndex, d.deleteOnTermination]), [['image', 2, 0, true], ['blank', 1, undefined, false]]);
    const legacy = parseBlockDevices({ block_device_mapping: [{ volume_id: 'v2', device_name: 'vda', delete_on_termination: '1' }] });
    assert.deepEqual(legacy.map((d) => [d.source, d.uuid, d.bootIndex, d.deleteOnTermination]), [['volume', 'v2', 0, true]]);
  });

  it("takes the CLI's image-to-volume form (--image X with a boot volume made of X) as boot from that volume", () => {
    const sent = parseBlockDevices({ block_device_mapping_v2: [{ uuid: 'i1', source_type: 'image', destination_type: 'local', boot_index: 0, delete_on_termination: true }, { uuid: 'i1', source_type: 'image', destination_type: 'volume', volume_size: '1', boot_index: 0 }] });
    assert.equal(sent.length, 1);
    assert.ok(bootsFromVolume(sent));
    assert.equal(localBootImage(parseBlockDevices({ block_device_mapping_v2: [{ uuid: 'i1', source_type: 'image', destination_type: 'local', boot_index: 0 }] })), 'i1');
  });

  it('refuses what Nova refuses: two boot devices, unknown sources, a blank volume without a size, a missing uuid', () => {
    assert.throws(() => parseBlockDevices({ block_device_mapping_v2: [{ uuid: 'a', source_type: 'volume', boot_index: 0 }, { uuid: 'b', source_type: 'volume', boot_index: 0 }] }), /Boot sequence/);
    assert.throws(() => parseBlockDevices({ block_device_mapping_v2: [{ uuid: 'a', source_type: 'tape' }] }), /source_type/);
    assert.throws(() => parseBlockDevices({ block_device_mapping_v2: [{ source_type: 'blank', destination_type: 'volume' }] }), /volume_size/);
    assert.throws(() => parseBlockDevices({ block_device_mapping_v2: [{ source_type: 'volume', destination_type: 'volume' }] }), /missing uuid/);
    assert.throws(() => parseBlockDevices({ block_device_mapping_v2: [{ uuid: 'a', source_type: 'volume', volume_size: 0 }] }), /volume_size/);
  });
});
