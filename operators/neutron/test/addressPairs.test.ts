import { strict as assert } from 'node:assert';
import { addressPairsView, isAddressOrCidr, parseAddressPairs, portSecurityOf } from '../src/addressPairs.js';

describe('allowed address pairs', () => {
  it('takes addresses and CIDRs of either family, with or without a MAC, and null to clear them', () => {
    assert.deepEqual(parseAddressPairs([{ ip_address: '10.0.0.50' }, { ip_address: '10.1.0.0/24', mac_address: 'FA:16:3E:00:00:01' }, { ip_address: 'fd00::5' }]), {
      ok: true,
      pairs: [{ ipAddress: '10.0.0.50' }, { ipAddress: '10.1.0.0/24', macAddress: 'fa:16:3e:00:00:01' }, { ipAddress: 'fd00::5' }],
    });
    assert.deepEqual(parseAddressPairs(null), { ok: true, pairs: [] });
    assert.deepEqual(parseAddressPairs([]), { ok: true, pairs: [] });
  });

  it('refuses what Neutron refuses, in its words', () => {
    const refused = (v: unknown) => {
      const r = parseAddressPairs(v);
      assert.equal(r.ok, false, `${JSON.stringify(v)} is refused`);
      return r.ok ? '' : `${r.type}: ${r.message}`;
    };
    assert.equal(refused('10.0.0.5'), 'HTTPBadRequest: Allowed address pairs must be a list.');
    assert.equal(refused(Array.from({ length: 11 }, (_, i) => ({ ip_address: `10.0.0.${i + 1}` }))), 'AllowedAddressPairExhausted: The number of allowed address pair exceeds the maximum 10.');
    assert.equal(refused([{ mac_address: 'fa:16:3e:00:00:01' }]), 'AllowedAddressPairsMissingIP: AllowedAddressPair must contain ip_address');
    assert.equal(refused([{ ip_address: '10.0.0.5' }, { ip_address: '10.0.0.5' }]), 'DuplicateAddressPairInRequest: Request contains duplicate address pair: mac_address None ip_address 10.0.0.5.');
    assert.equal(refused([{ ip_address: '10.0.0.5', mac_address: 'nope' }]), "HTTPBadRequest: 'nope' is not a valid MAC address");
    assert.equal(refused([{ ip_address: '10.0.0.5', vip: true }]), "HTTPBadRequest: Unrecognized attribute(s) 'vip'");
    assert.equal(refused([{ ip_address: '10.0.0.300' }]), "HTTPBadRequest: '10.0.0.300' is not a valid IP address");
    assert.equal(refused([{ ip_address: '10.0.0.0/33' }]), "HTTPBadRequest: '10.0.0.0/33' is not a valid IP subnet");
    assert.match(refused(['10.0.0.5']), /^HTTPBadRequest: Invalid input for allowed_address_pairs\. Reason: '"10\.0\.0\.5"' is not a dictionary/);
  });

  it('tells an address or a CIDR from anything else', () => {
    for (const ok of ['10.0.0.1', '10.0.0.0/8', '10.0.0.5/24', '0.0.0.0/0', 'fd00::1', 'fd00::/64']) assert.ok(isAddressOrCidr(ok), ok);
    for (const bad of ['', '10.0.0', '10.0.0.1/', '10.0.0.1/33', 'fd00::/129', '10.0.0.1/24/1', 'host.example']) assert.ok(!isAddressOrCidr(bad), bad);
  });

  it('shows each pair with a MAC: the port’s where it names none', () => {
    assert.deepEqual(addressPairsView([{ ipAddress: '10.0.0.50' }, { ipAddress: '10.0.1.0/24', macAddress: 'fa:16:3e:00:00:02' }], 'fa:16:3e:00:00:01'), [
      { ip_address: '10.0.0.50', mac_address: 'fa:16:3e:00:00:01' },
      { ip_address: '10.0.1.0/24', mac_address: 'fa:16:3e:00:00:02' },
    ]);
    assert.deepEqual(addressPairsView(undefined, 'fa:16:3e:00:00:01'), []);
  });

  it('secures the port’s own MAC with its addresses and its pairs on that MAC, and every other MAC with its own pairs', () => {
    const mac = 'fa:16:3e:00:00:01';
    assert.deepEqual(portSecurityOf(mac, ['10.0.0.5'], undefined), { portSecurity: [`${mac} 10.0.0.5`], extraMacs: [] });
    assert.deepEqual(
      portSecurityOf(mac, ['10.0.0.5'], [{ ipAddress: '10.0.0.50' }, { ipAddress: '10.0.0.5', macAddress: mac.toUpperCase() }, { ipAddress: '10.0.9.0/24', macAddress: 'fa:16:3e:00:00:02' }, { ipAddress: '10.0.9.9', macAddress: 'fa:16:3e:00:00:02' }]),
      { portSecurity: [`${mac} 10.0.0.5 10.0.0.50`, 'fa:16:3e:00:00:02 10.0.9.0/24 10.0.9.9'], extraMacs: ['fa:16:3e:00:00:02'] },
    );
    assert.deepEqual(portSecurityOf(mac, ['10.0.0.5'], [{ ipAddress: '999.0.0.1' }]).portSecurity, [`${mac} 10.0.0.5`], 'an address OVN could not parse is left out');
  });
});
