import { strict as assert } from 'node:assert';
import { OWNER_KEY, desiredNorthbound, planNorthbound, type DesiredNorthbound, type NorthboundRows } from '../src/ovn/northbound.js';
import { portGroupNameOf } from '../src/securityGroups.js';
import type { SecurityGroup } from '../src/resources.js';

describe('the northbound plan', () => {
  const address = 'fa:16:3e:00:00:01 10.0.0.2';
  const want = (portIds: Record<string, string> = {}, portAddresses = [address]): DesiredNorthbound => ({
    switches: [{ name: 'neutron-net', external_ids: { [OWNER_KEY]: 'demo/net', 'neutron:mtu': '1442' }, other_config: { mcast_snoop: 'false' } }],
    ports: [{ name: 'p1', switch: 'neutron-net', addresses: portAddresses, port_security: portAddresses, enabled: true, external_ids: { [OWNER_KEY]: 'demo/p1', 'neutron:port_name': 'one', ...portIds } }],
    dhcp: [],
    portGroups: [],
    routers: [],
  });
  // NB as the monitor copies it: maps as objects, sets as lists, references as UUID strings.
  const have = (portIds: Record<string, string> = {}, portAddresses = [address]): NorthboundRows => ({
    switches: [{ _uuid: 'sw-1', name: 'neutron-net', ports: ['lsp-1'], external_ids: { 'neutron:mtu': '1442', [OWNER_KEY]: 'demo/net' }, other_config: { mcast_snoop: 'false' } }],
    switchPorts: [{ _uuid: 'lsp-1', name: 'p1', addresses: portAddresses, port_security: portAddresses, enabled: true, type: '', options: {}, external_ids: { 'neutron:port_name': 'one', [OWNER_KEY]: 'demo/p1', ...portIds } }],
    dhcp: [],
  });
  const updatesOf = (ops: object[]) => ops.map((o) => o as { op: string; table: string }).filter((o) => o.op === 'update').map((o) => o.table);

  it('plans nothing when NB holds what the resources call for, whatever order its maps and sets are in', () => {
    assert.deepEqual(planNorthbound(want(), have()), []);
    const two = ['fa:16:3e:00:00:01 10.0.0.2', 'fa:16:3e:00:00:01 fd00::2'];
    assert.deepEqual(planNorthbound(want({}, two), have({}, [...two].reverse())), []);
  });

  it('updates a switch port whose marks or addresses differ, or that has a key too many, too few or another', () => {
    assert.deepEqual(updatesOf(planNorthbound(want({ 'neutron:device_id': 'vm-1' }), have({ 'neutron:device_id': 'vm-2' }))), ['Logical_Switch_Port']);
    assert.deepEqual(updatesOf(planNorthbound(want(), have({ 'hand:made': 'x' }))), ['Logical_Switch_Port']);
    assert.deepEqual(updatesOf(planNorthbound(want({ 'neutron:device_id': 'vm-1' }), have())), ['Logical_Switch_Port']);
    assert.deepEqual(updatesOf(planNorthbound(want({ 'neutron:device_id': 'vm-1' }), have({ 'neutron:device_owner': 'vm-1' }))), ['Logical_Switch_Port']);
    assert.deepEqual(updatesOf(planNorthbound(want(), have({}, ['fa:16:3e:00:00:01 10.0.0.9']))), ['Logical_Switch_Port']);
    assert.deepEqual(updatesOf(planNorthbound(want(), have({}, [address, 'fa:16:3e:00:00:01 10.0.0.9']))), ['Logical_Switch_Port']);
  });
});

describe('the security groups northbound holds', () => {
  const group = (name: string, uid: string, rules: SecurityGroup['spec']['rules']) =>
    ({ apiVersion: 'network.stratus.io/v1alpha1', kind: 'SecurityGroup', metadata: { name, namespace: 'demo', uid }, spec: { rules }, status: { id: uid, phase: 'ACTIVE' } }) as SecurityGroup;
  const web = group('web', '11111111-0000-4000-a000-000000000001', [{ direction: 'ingress', protocol: 'tcp', portRangeMin: 80, portRangeMax: 80 }]);
  const db = (peerRules = true) => group('db', '22222222-0000-4000-a000-000000000002', [{ direction: 'egress' }, ...(peerRules ? [{ direction: 'ingress' as const, remoteGroup: 'web' }] : [])]);
  const matchesOf = (groups: SecurityGroup[], name: string) => {
    const pg = desiredNorthbound([], [], [], groups).portGroups.find((g) => g.name === portGroupNameOf(groups.find((x) => x.metadata.name === name)!.metadata.uid!));
    return (pg!.acls as Array<{ match: string }>).map((a) => a.match);
  };

  it('lets a peer group’s members in by their addresses while the peer group is there', () => {
    assert.ok(matchesOf([web, db()], 'db').some((m) => m.includes(`$${portGroupNameOf(web.metadata.uid!)}_ip4`)));
  });

  it('lets nobody in by a rule whose peer group is gone, rather than everyone', () => {
    const matches = matchesOf([db()], 'db');
    assert.equal(matches.length, 1, `only the egress rule: ${JSON.stringify(matches)}`);
    assert.match(matches[0]!, /^inport == /);
  });
});
