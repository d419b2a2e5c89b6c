import { strict as assert } from 'node:assert';
import { dhcpOptionsView, mergeDhcpOptions, ovnDhcpOptionsOf, parseDhcpOptions, portDhcpOptions } from '../src/dhcpOptions.js';

describe('extra DHCP options', () => {
  const tempest = [
    { opt_value: 'pxelinux.0', opt_name: 'bootfile-name' },
    { opt_value: '123.123.123.123', opt_name: 'tftp-server' },
    { opt_value: '123.123.123.45', opt_name: 'server-ip-address' },
  ];

  it('takes Neutron’s option list, IPv4 unless it says 6, and shows it back as given', () => {
    const parsed = parseDhcpOptions(tempest);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.options, [
      { name: 'bootfile-name', value: 'pxelinux.0', ipVersion: 4 },
      { name: 'tftp-server', value: '123.123.123.123', ipVersion: 4 },
      { name: 'server-ip-address', value: '123.123.123.45', ipVersion: 4 },
    ]);
    assert.deepEqual(dhcpOptionsView(parsed.options), tempest.map((o) => ({ ...o, ip_version: 4 })));
    const v6 = parseDhcpOptions([{ opt_name: 'dns-server', opt_value: '2001:db8::1', ip_version: 6 }]);
    assert.ok(v6.ok && v6.options[0].ipVersion === 6);
  });

  it('refuses what Neutron refuses, and a value OVN could not use for its option', () => {
    const reason = (v: unknown, update = false) => {
      const r = parseDhcpOptions(v, update);
      assert.equal(r.ok, false, `${JSON.stringify(v)} is refused`);
      return r.ok ? '' : r.message;
    };
    assert.match(reason('bootfile-name=x'), /^Invalid input for extra_dhcp_opts\. Reason: .* is not a list\.$/);
    assert.match(reason([{ opt_name: 'mtu' }]), /Required attribute 'opt_value' not specified/);
    assert.match(reason([{ opt_name: '', opt_value: 'x' }]), /is not a valid option name/);
    assert.match(reason([{ opt_name: 'bootfile-name', opt_value: '' }]), /'' is not a valid value for bootfile-name/);
    assert.match(reason([{ opt_name: 'bootfile-name', opt_value: null }]), /not a valid value/, 'a null value only removes an option in an update');
    assert.match(reason([{ opt_name: 'mtu', opt_value: '1400', ip_version: 5 }]), /5 is not in \[4, 6\]/);
    assert.match(reason([{ opt_name: 'mtu', opt_value: '1400', colour: 'red' }]), /Unrecognized attribute\(s\) 'colour'/);
    assert.match(reason([{ opt_name: 'mtu', opt_value: '1400' }, { opt_name: 'mtu', opt_value: '1300' }]), /Duplicate option mtu for IP version 4/);
    assert.match(reason([{ opt_name: 'ntp-server', opt_value: 'time.example' }]), /'time\.example' is not an IPv4 address or a list of them \(option ntp-server\)/);
    assert.match(reason([{ opt_name: 'mtu', opt_value: 'big' }]), /'big' is not a whole number/);
    assert.ok(parseDhcpOptions([{ opt_name: 'router', opt_value: '' }]).ok, 'a blank router: a client without a default route');
    assert.ok(parseDhcpOptions([{ opt_name: 'bootfile-name', opt_value: null }], true).ok, 'an update removes an option by a null value');
    assert.ok(parseDhcpOptions([{ opt_name: 'some-option-ovn-lacks', opt_value: 'anything' }]).ok, 'kept, though OVN does not send it (as Neutron)');
  });

  it('merges an update into the port’s options as Neutron does: replaced by name and IP version, removed by a null value', () => {
    const current = [{ name: 'bootfile-name', value: 'a.0', ipVersion: 4 as const }, { name: 'mtu', value: '1400', ipVersion: 4 as const }];
    assert.deepEqual(mergeDhcpOptions(current, [{ name: 'bootfile-name', value: 'b.0', ipVersion: 4 }, { name: 'mtu', ipVersion: 4 }, { name: 'ntp-server', value: '10.0.0.9', ipVersion: 4 }]), [
      { name: 'bootfile-name', value: 'b.0', ipVersion: 4 },
      { name: 'ntp-server', value: '10.0.0.9', ipVersion: 4 },
    ]);
    assert.deepEqual(mergeDhcpOptions(undefined, [{ name: 'mtu', ipVersion: 4 }]), [], 'removing what is not there');
  });

  it('writes the options OVN has under its names, strings quoted and address lists in braces; leaves out the rest', () => {
    const parsed = parseDhcpOptions([...tempest, { opt_name: 'ntp-server', opt_value: '10.0.0.8, 10.0.0.9' }, { opt_name: '15', opt_value: 'example.test' }, { opt_name: 'dns-server', opt_value: '2001:db8::1', ip_version: 6 }, { opt_name: 'some-option-ovn-lacks', opt_value: 'x' }]);
    assert.ok(parsed.ok);
    assert.deepEqual(ovnDhcpOptionsOf(parsed.options), {
      set: { bootfile_name: '"pxelinux.0"', tftp_server: '"123.123.123.123"', tftp_server_address: '123.123.123.45', ntp_server: '{10.0.0.8, 10.0.0.9}', domain_name: '"example.test"' },
      unset: [],
    });
    assert.equal(ovnDhcpOptionsOf([{ name: 'dhcp_disabled', value: 'True' }]), 'disabled');
    assert.deepEqual(ovnDhcpOptionsOf([{ name: 'dhcp_disabled', value: 'false' }]), { set: {}, unset: [] });
    assert.deepEqual(ovnDhcpOptionsOf([{ name: 'mtu', value: 'big' }]), { set: {}, unset: [] }, 'a value kubectl wrote that OVN could not use');
  });

  it('answers a port with its subnet’s options and its own on top, a blank router leaving the subnet’s out', () => {
    const subnet = { router: '10.0.0.1', server_id: '10.0.0.1', lease_time: '43200' };
    assert.equal(portDhcpOptions(subnet, { set: {}, unset: [] }), undefined, 'nothing of its own: the subnet’s row serves');
    assert.deepEqual(portDhcpOptions(subnet, { set: { lease_time: '600' }, unset: ['router'] }), { server_id: '10.0.0.1', lease_time: '600' });
  });
});
