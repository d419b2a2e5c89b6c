import { strict as assert } from 'node:assert';
import { aclMatch, defaultRules, normalizedProtocol, portGroupNameOf, ruleIdOf, ruleProblem } from '../src/securityGroups.js';

describe('security group rules', () => {
  const pg = portGroupNameOf('0b5a7c7e-1111-2222-3333-444455556666');

  it("names port groups as Neutron's OVN driver does", () => assert.equal(pg, 'pg_0b5a7c7e_1111_2222_3333_444455556666'));

  it('turns rules into OVN ACL matches: direction, ethertype, remote prefix or group, protocol and ports', () => {
    assert.equal(aclMatch(pg, { direction: 'ingress', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIPPrefix: '10.0.0.5/8' }), `outport == @${pg} && ip4 && ip4.src == 10.0.0.0/8 && tcp && tcp.dst == 22`);
    assert.equal(aclMatch(pg, { direction: 'egress', ethertype: 'IPv6', protocol: 'udp', portRangeMin: 1000, portRangeMax: 2000 }), `inport == @${pg} && ip6 && udp && udp.dst >= 1000 && udp.dst <= 2000`);
    assert.equal(aclMatch(pg, { direction: 'ingress', protocol: 'icmp', portRangeMin: 8, portRangeMax: 0 }), `outport == @${pg} && ip4 && icmp4 && icmp4.type == 8 && icmp4.code == 0`);
    assert.equal(aclMatch(pg, { direction: 'ingress', remoteGroup: 'web' }, 'pg_web'), `outport == @${pg} && ip4 && ip4.src == $pg_web_ip4`);
    assert.equal(aclMatch(pg, { direction: 'egress', protocol: '47' }), `inport == @${pg} && ip4 && ip4.proto == 47`);
  });

  it('refuses what Neutron refuses, with its words', () => {
    assert.match(ruleProblem({ direction: 'ingress', protocol: 'foo' }, [])!, /protocol foo not supported/);
    assert.match(ruleProblem({ direction: 'ingress', remoteIPPrefix: '10.0.0.0/40' }, [])!, /not a valid IP prefix/);
    assert.match(ruleProblem({ direction: 'ingress', remoteIPPrefix: 'fd00::/64' }, [])!, /Conflicting value ethertype IPv4/);
    assert.match(ruleProblem({ direction: 'ingress', protocol: 'tcp', portRangeMin: 90, portRangeMax: 80 }, [])!, /port_range_min must be <= port_range_max/);
    assert.match(ruleProblem({ direction: 'ingress', remoteGroup: 'nope' }, ['default'])!, /Security group nope does not exist/);
    assert.match(ruleProblem({ direction: 'ingress', remoteGroup: 'default', remoteIPPrefix: '10.0.0.0/8' }, ['default'])!, /Only remote_ip_prefix or remote_group_id/);
    assert.equal(ruleProblem({ direction: 'ingress', protocol: 'icmp', portRangeMin: 8 }, []), undefined);
    assert.equal(normalizedProtocol('6'), 'tcp');
    assert.equal(normalizedProtocol('256'), undefined);
  });

  it('gives the default group Neutron’s four rules, and every rule a stable ID', () => {
    assert.deepEqual(defaultRules().map((r) => `${r.direction} ${r.ethertype} ${r.remoteGroup ?? 'any'}`), ['egress IPv4 any', 'ingress IPv4 default', 'egress IPv6 any', 'ingress IPv6 default']);
    const rule = { direction: 'ingress' as const, protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 };
    assert.equal(ruleIdOf('g', rule), ruleIdOf('g', { ...rule }));
    assert.notEqual(ruleIdOf('g', rule), ruleIdOf('h', rule));
    assert.match(ruleIdOf('g', rule), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(ruleIdOf('g', { ...rule, id: 'given' }), 'given');
  });
});
