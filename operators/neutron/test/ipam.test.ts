import { strict as assert } from 'node:assert';
import { IpamError, checkWantedAddress, cidrContains, firstFreeBlock, gatewayOf, nextFreeAddress, overlaps, parseCidr, poolsOf } from '../src/ipam.js';

const v4 = { network: 'n', cidr: '10.0.0.0/29' };
const reasonOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof IpamError) return e.reason;
    throw e;
  }
  return 'no error';
};

describe('IPAM decisions', () => {
  it('takes the first usable address as gateway unless told, and none when told none', () => {
    assert.equal(gatewayOf(v4), '10.0.0.1');
    assert.equal(gatewayOf({ ...v4, gatewayIP: '10.0.0.6' }), '10.0.0.6');
    assert.equal(gatewayOf({ ...v4, gatewayIP: 'none' }), undefined);
    assert.equal(reasonOf(() => gatewayOf({ ...v4, gatewayIP: '10.0.1.1' })), 'AddressOutsideSubnet');
  });

  it('hands out addresses in order, skipping the gateway, the network and broadcast addresses, then says the subnet is full', () => {
    const taken: Record<string, string> = {};
    const given: string[] = [];
    for (;;) {
      try {
        const ip = nextFreeAddress(v4, taken);
        taken[ip] = `p${given.length}`;
        given.push(ip);
      } catch (e) {
        assert.equal((e as IpamError).reason, 'SubnetFull');
        break;
      }
    }
    assert.deepEqual(given, ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
  });

  it('keeps to allocation pools, and refuses a pool outside the range', () => {
    const spec = { ...v4, cidr: '10.0.0.0/24', allocationPools: [{ start: '10.0.0.100', end: '10.0.0.101' }] };
    assert.equal(nextFreeAddress(spec, {}), '10.0.0.100');
    assert.equal(nextFreeAddress(spec, { '10.0.0.100': 'x' }), '10.0.0.101');
    assert.equal(reasonOf(() => nextFreeAddress(spec, { '10.0.0.100': 'x', '10.0.0.101': 'y' })), 'SubnetFull');
    assert.equal(reasonOf(() => poolsOf({ ...spec, allocationPools: [{ start: '10.0.0.200', end: '10.0.1.5' }] })), 'InvalidPool');
    assert.deepEqual(poolsOf({ ...v4, gatewayIP: '10.0.0.4' }).map((p) => [p.start, p.end].map(String)), [
      [String(0x0a000001), String(0x0a000003)],
      [String(0x0a000005), String(0x0a000006)],
    ]);
  });

  it('checks a wanted address: in the subnet, usable, not the gateway, not held by another port', () => {
    assert.equal(checkWantedAddress(v4, '10.0.0.3', {}, 'a'), '10.0.0.3');
    assert.equal(checkWantedAddress(v4, '10.0.0.3', { '10.0.0.3': 'a' }, 'a'), '10.0.0.3', 'its own address stays its own');
    assert.equal(reasonOf(() => checkWantedAddress(v4, '10.0.0.3', { '10.0.0.3': 'b' }, 'a')), 'AddressInUse');
    assert.equal(reasonOf(() => checkWantedAddress(v4, '10.0.0.1', {}, 'a')), 'AddressInUse');
    assert.equal(reasonOf(() => checkWantedAddress(v4, '10.0.0.7', {}, 'a')), 'AddressOutsideSubnet', 'the broadcast address');
    assert.equal(reasonOf(() => checkWantedAddress(v4, '10.9.0.3', {}, 'a')), 'AddressOutsideSubnet');
    assert.equal(reasonOf(() => checkWantedAddress(v4, 'ten', {}, 'a')), 'InvalidAddress');
  });

  it('refuses CIDRs that are malformed, have host bits set, or leave no room', () => {
    assert.equal(reasonOf(() => parseCidr('10.0.0.0/33')), 'InvalidCidr');
    assert.equal(reasonOf(() => parseCidr('10.0.0.5/24')), 'InvalidCidr');
    assert.equal(reasonOf(() => parseCidr('10.0.0.0/31')), 'InvalidCidr');
    assert.equal(reasonOf(() => parseCidr('not-a-cidr')), 'InvalidCidr');
  });

  it('tells overlapping ranges and contained addresses, IPv6 too', () => {
    assert.ok(overlaps('10.0.0.0/24', '10.0.0.128/25'));
    assert.ok(!overlaps('10.0.0.0/25', '10.0.0.128/25'));
    assert.ok(!overlaps('10.0.0.0/24', 'fd00::/64'));
    assert.ok(cidrContains('fd00::/64', 'fd00::5'));
    assert.ok(!cidrContains('10.0.0.0/24', 'fd00::5'));
    assert.equal(nextFreeAddress({ network: 'n', cidr: 'fd00::/64', ipVersion: 6 }, {}), 'fd00::2');
  });

  it('takes the first free block of a subnet pool, around the blocks already taken, and says when none is left', () => {
    assert.equal(firstFreeBlock(['10.40.0.0/24'], 26, []), '10.40.0.0/26');
    assert.equal(firstFreeBlock(['10.40.0.0/24'], 26, ['10.40.0.0/26', '10.40.0.128/25']), '10.40.0.64/26');
    assert.equal(firstFreeBlock(['10.40.0.0/24', '10.50.0.0/24'], 25, ['10.40.0.0/24']), '10.50.0.0/25');
    assert.equal(firstFreeBlock(['10.40.0.0/24'], 25, ['10.40.0.0/25', '10.40.0.128/25']), undefined);
    assert.equal(firstFreeBlock(['10.40.0.0/24'], 16, []), undefined, 'a block larger than the pool');
  });
});
