/**
 * The networking operator against a real control plane and OVN's real northbound database: what kubectl users
 * see in status, what OVN holds, drift repaired, addresses never given twice, and bad input refused with
 * Neutron's words and nothing half-made.
 */
import { strict as assert } from 'node:assert';
import { eventually } from '@stratus/apiserver';
import { FLOATING_IPS, NETWORKS, PORTS, ROUTERS, SECURITY_GROUPS, SUBNETS, type FloatingIP, type Network, type Port, type Router, type SecurityGroup, type Subnet } from '../src/index.js';
import { asList, asMap } from '../src/ovsdb/values.js';
import { nbctl } from './ovnSupport.js';
import { startNetworkingEnv, type NetworkingEnv } from './support.js';

describe('networking operator on OVN', function () {
  this.timeout(180_000);
  let env: NetworkingEnv;
  before(async () => {
    env = await startNetworkingEnv({ repairEveryMs: 2000 });
  });
  after(async () => {
    await env?.stop();
  });

  const make = <T>(ref: typeof NETWORKS, namespace: string, name: string, kind: string, spec: object) =>
    env.client.create(ref, { apiVersion: 'network.stratus.io/v1alpha1', kind, metadata: { name, namespace }, spec } as never, 'test') as Promise<T>;
  const get = <T>(ref: typeof NETWORKS, ns: string, name: string) => env.client.get(ref, ns, name) as Promise<T | undefined>;
  const condition = (o: { status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> } } | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  async function until<T extends { status?: object }>(ref: typeof NETWORKS, ns: string, name: string, what: string, check: (o: T) => boolean): Promise<T> {
    let last: T | undefined;
    await eventually(`${ns}/${name}: ${what}`, async () => {
      last = await get<T>(ref, ns, name);
      return !!last && check(last);
    });
    return last!;
  }
  const nbRows = (table: string) => env.mechanism.nb.rows(table);
  const lspOf = (portId: string) => nbRows('Logical_Switch_Port').find((r) => r.name === portId);
  const ready = (o: Network | Subnet | Port | SecurityGroup | Router | FloatingIP) => !!condition(o, 'Ready');
  const stalledWith = (reason: string) => (o: Network | Subnet | Port | SecurityGroup | Router | FloatingIP) => condition(o, 'Stalled')?.reason === reason;

  it('makes a logical switch, DHCP options and a switch port with address and port security; Ready with Neutron status words', async () => {
    await make(NETWORKS, 'demo', 'net1', 'Network', { displayName: 'my network' });
    await make(SUBNETS, 'demo', 'sub1', 'Subnet', { network: 'net1', cidr: '10.1.0.0/24', dnsNameservers: ['10.1.0.3'] });
    await make(PORTS, 'demo', 'p1', 'Port', { network: 'net1' });
    const net = await until<Network>(NETWORKS, 'demo', 'net1', 'Ready', ready);
    assert.equal(net.status?.phase, 'ACTIVE');
    assert.equal(net.status?.mtu, 1442);
    const port = await until<Port>(PORTS, 'demo', 'p1', 'Ready with an address', (p) => ready(p) && !!p.status?.fixedIPs?.length);
    assert.equal(port.status?.phase, 'DOWN', 'no guest is bound to it');
    assert.deepEqual(port.status?.fixedIPs?.map((f) => f.ipAddress), ['10.1.0.2']);
    assert.match(port.status!.macAddress!, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
    const ls = nbRows('Logical_Switch').find((r) => r.name === `neutron-${net.metadata.uid}`);
    assert.ok(ls, 'the logical switch');
    assert.equal(asMap(ls.external_ids)['neutron:network_name'], 'my network');
    const lsp = lspOf(port.metadata.uid!)!;
    assert.deepEqual(asList(lsp.addresses), [`${port.status!.macAddress} 10.1.0.2`]);
    assert.deepEqual(asList(lsp.port_security), [`${port.status!.macAddress} 10.1.0.2`]);
    assert.ok(asList(ls.ports).includes(lsp._uuid as string));
    const dhcp = nbRows('DHCP_Options').find((r) => r._uuid === asList(lsp.dhcpv4_options)[0])!;
    assert.equal(dhcp.cidr, '10.1.0.0/24');
    assert.deepEqual({ router: asMap(dhcp.options).router, server_id: asMap(dhcp.options).server_id, mtu: asMap(dhcp.options).mtu, dns: asMap(dhcp.options).dns_server }, { router: '10.1.0.1', server_id: '10.1.0.1', mtu: '1442', dns: '{10.1.0.3}' });
  });

  it('lets a port send from its allowed address pairs: in its port security, another MAC in its addresses too; refused without port security', async () => {
    await make(NETWORKS, 'demo', 'net-aap', 'Network', {});
    await make(SUBNETS, 'demo', 'sub-aap', 'Subnet', { network: 'net-aap', cidr: '10.7.0.0/24' });
    await make(PORTS, 'demo', 'vip-holder', 'Port', { network: 'net-aap', fixedIPs: [{ ipAddress: '10.7.0.10' }], allowedAddressPairs: [{ ipAddress: '10.7.0.50' }, { ipAddress: '10.7.9.0/24', macAddress: 'fa:16:3e:aa:bb:cc' }] });
    const port = await until<Port>(PORTS, 'demo', 'vip-holder', 'Ready with an address', (p) => ready(p) && !!p.status?.fixedIPs?.length);
    const mac = port.status!.macAddress!;
    await eventually('the pairs in the switch port', () => asList(lspOf(port.metadata.uid!)?.port_security).length === 2);
    const lsp = lspOf(port.metadata.uid!)!;
    assert.deepEqual(asList(lsp.port_security).sort(), [`${mac} 10.7.0.10 10.7.0.50`, 'fa:16:3e:aa:bb:cc 10.7.9.0/24'].sort());
    assert.deepEqual(asList(lsp.addresses).sort(), [`${mac} 10.7.0.10`, 'fa:16:3e:aa:bb:cc'].sort());
    // Taken away with kubectl: the port sends from its own addresses only again.
    await env.client.patch(PORTS, 'demo', 'vip-holder', { spec: { allowedAddressPairs: null } }, 'test');
    await eventually('the pairs gone from the switch port', () => asList(lspOf(port.metadata.uid!)?.port_security).join() === `${mac} 10.7.0.10`);
    assert.deepEqual(asList(lspOf(port.metadata.uid!)!.addresses), [`${mac} 10.7.0.10`]);
    // Pairs widen what port security lets out: without it they mean nothing, and the control plane says so.
    await assert.rejects(
      make(PORTS, 'demo', 'open-with-pairs', 'Port', { network: 'net-aap', portSecurityEnabled: false, allowedAddressPairs: [{ ipAddress: '10.7.0.51' }] }),
      (e: Error) => /allowed address pairs need port security/.test(e.message) && /spec\.allowedAddressPairs/.test(e.message),
    );
    await assert.rejects(make(PORTS, 'demo', 'bad-pair', 'Port', { network: 'net-aap', allowedAddressPairs: [{ ipAddress: 'not-an-address' }] }), /ipAddress/);
    assert.equal(await get(PORTS, 'demo', 'open-with-pairs'), undefined);
  });

  it('answers a port with extra DHCP options from a DHCP_Options row of its own, made from its subnet’s; none with dhcp_disabled', async () => {
    await make(NETWORKS, 'demo', 'net-pxe', 'Network', {});
    await make(SUBNETS, 'demo', 'sub-pxe', 'Subnet', { network: 'net-pxe', cidr: '10.8.0.0/24' });
    await make(PORTS, 'demo', 'pxe', 'Port', { network: 'net-pxe', extraDHCPOptions: [{ name: 'bootfile-name', value: 'pxelinux.0' }, { name: 'server-ip-address', value: '10.8.0.5' }, { name: 'router', value: '' }] });
    const port = await until<Port>(PORTS, 'demo', 'pxe', 'Ready with an address', (p) => ready(p) && !!p.status?.fixedIPs?.length);
    const subnetId = (await get<Subnet>(SUBNETS, 'demo', 'sub-pxe'))!.status!.id!;
    const dhcpOfPort = () => nbRows('DHCP_Options').find((r) => r._uuid === asList(lspOf(port.metadata.uid!)?.dhcpv4_options)[0]);
    await eventually('the port’s own DHCP options', () => asMap(dhcpOfPort()?.external_ids).port_id === port.metadata.uid);
    const own = dhcpOfPort()!;
    assert.equal(own.cidr, '10.8.0.0/24');
    assert.equal(asMap(own.external_ids).subnet_id, subnetId);
    const options = asMap(own.options);
    assert.deepEqual([options.bootfile_name, options.tftp_server_address, options.server_id, options.router], ['"pxelinux.0"', '10.8.0.5', '10.8.0.1', undefined], 'the subnet’s options, its own on top, the blank router left out');
    await env.client.patch(PORTS, 'demo', 'pxe', { spec: { extraDHCPOptions: [{ name: 'dhcp_disabled', value: 'true' }] } }, 'test');
    await eventually('no DHCP for the port', () => lspOf(port.metadata.uid!) !== undefined && asList(lspOf(port.metadata.uid!)!.dhcpv4_options).length === 0);
    await env.client.patch(PORTS, 'demo', 'pxe', { spec: { extraDHCPOptions: null } }, 'test');
    await eventually('the subnet’s DHCP options again', () => asMap(dhcpOfPort()?.external_ids).subnet_id === subnetId && !asMap(dhcpOfPort()?.external_ids).port_id);
    assert.ok(!nbRows('DHCP_Options').some((r) => asMap(r.external_ids).port_id === port.metadata.uid), 'the port’s own row is gone');
  });

  it('chooses a port’s addresses once, when it is made: a subnet added later gives it none, as in Neutron', async () => {
    await make(NETWORKS, 'demo', 'late', 'Network', {});
    await make(PORTS, 'demo', 'early', 'Port', { network: 'late' });
    const early = await until<Port>(PORTS, 'demo', 'early', 'Ready without an address', (p) => ready(p) && !!p.status?.macAddress);
    assert.deepEqual(early.status?.fixedIPs, []);
    await make(SUBNETS, 'demo', 'late-sub', 'Subnet', { network: 'late', cidr: '10.9.0.0/24' });
    const sub = await until<Subnet>(SUBNETS, 'demo', 'late-sub', 'Ready', ready);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual((await get<Subnet>(SUBNETS, 'demo', 'late-sub'))!.status?.allocations ?? {}, {}, `no address given to the earlier port (${JSON.stringify(sub.status?.allocations)})`);
    await env.client.delete(PORTS, 'demo', 'early');
    await env.client.delete(NETWORKS, 'demo', 'late');
  });

  it('never gives an address twice when many ports race for a small subnet, and says when it is full', async () => {
    await make(NETWORKS, 'demo', 'small', 'Network', {});
    await make(SUBNETS, 'demo', 'small-sub', 'Subnet', { network: 'small', cidr: '10.2.0.0/28' }); // 13 addresses besides the gateway
    await until<Subnet>(SUBNETS, 'demo', 'small-sub', 'Ready', ready);
    const names = Array.from({ length: 16 }, (_, i) => `race-${i}`);
    await Promise.all(names.map((n) => make(PORTS, 'demo', n, 'Port', { network: 'small' })));
    const settled = await Promise.all(names.map((n) => until<Port>(PORTS, 'demo', n, 'an address or SubnetFull', (p) => !!p.status?.fixedIPs?.length || stalledWith('SubnetFull')(p))));
    const addresses = settled.flatMap((p) => p.status?.fixedIPs?.map((f) => f.ipAddress) ?? []);
    assert.equal(addresses.length, 13);
    assert.equal(new Set(addresses).size, 13, `an address was given twice: ${addresses.sort().join(' ')}`);
    const full = settled.filter(stalledWith('SubnetFull'));
    assert.equal(full.length, 3);
    assert.match(condition(full[0], 'Stalled')!.message!, /No more IP addresses available on subnet 10\.2\.0\.0\/28|no more IP addresses available on subnet 10\.2\.0\.0\/28/);
    const subnet = (await get<Subnet>(SUBNETS, 'demo', 'small-sub'))!;
    assert.deepEqual(Object.keys(subnet.status!.allocations!).sort(), [...addresses].sort());
    // A port deleted gives its address back, and a port that found the subnet full gets it.
    const holder = settled.find((p) => p.status?.fixedIPs?.length)!;
    await env.client.delete(PORTS, 'demo', holder.metadata.name);
    await eventually('a waiting port to get the freed address', async () => (await Promise.all(full.map((p) => get<Port>(PORTS, 'demo', p.metadata.name)))).some((p) => p?.status?.fixedIPs?.[0]?.ipAddress === holder.status!.fixedIPs![0].ipAddress));
    for (const n of names) await env.client.delete(PORTS, 'demo', n).catch(() => {});
  });

  it('refuses bad input with Neutron’s reasons and makes nothing for it', async () => {
    await make(PORTS, 'demo', 'taken-ip', 'Port', { network: 'net1', fixedIPs: [{ ipAddress: '10.1.0.2' }] });
    await make(PORTS, 'demo', 'outside-ip', 'Port', { network: 'net1', fixedIPs: [{ subnet: 'sub1', ipAddress: '10.9.9.9' }] });
    await make(SUBNETS, 'demo', 'overlap', 'Subnet', { network: 'net1', cidr: '10.1.0.128/25' });
    await make(SUBNETS, 'demo', 'bad-cidr', 'Subnet', { network: 'net1', cidr: '10.300.0.0/24' });
    await make(PORTS, 'other', 'foreign', 'Port', { network: 'net1', networkNamespace: 'demo' });
    const taken = await until<Port>(PORTS, 'demo', 'taken-ip', 'Stalled', stalledWith('AddressInUse'));
    assert.match(condition(taken, 'Stalled')!.message!, /IP address 10\.1\.0\.2 already allocated in subnet 10\.1\.0\.0\/24/);
    const outside = await until<Port>(PORTS, 'demo', 'outside-ip', 'Stalled', stalledWith('AddressOutsideSubnet'));
    assert.equal(outside.status?.phase, 'ERROR');
    const overlap = await until<Subnet>(SUBNETS, 'demo', 'overlap', 'Stalled', stalledWith('OverlappingSubnet'));
    assert.match(condition(overlap, 'Stalled')!.message!, /overlaps with subnet sub1/);
    await until<Subnet>(SUBNETS, 'demo', 'bad-cidr', 'Stalled', stalledWith('InvalidInput'));
    await until<Port>(PORTS, 'other', 'foreign', 'Stalled', stalledWith('NetworkNotShared'));
    for (const [ns, n] of [['demo', 'taken-ip'], ['demo', 'outside-ip'], ['other', 'foreign']]) {
      const p = (await get<Port>(PORTS, ns, n))!;
      assert.ok(!lspOf(p.metadata.uid!), `no switch port for refused port ${n}`);
    }
    const sub1 = (await get<Subnet>(SUBNETS, 'demo', 'sub1'))!;
    assert.deepEqual(Object.values(sub1.status!.allocations!), ['demo/p1'], 'the refused ports hold no address');
    assert.equal(nbRows('DHCP_Options').filter((r) => r.cidr === '10.1.0.128/25').length, 0);
    // Shared, the network takes the other tenant's port.
    await env.client.patch(NETWORKS, 'demo', 'net1', { spec: { shared: true } }, 'test');
    await until<Port>(PORTS, 'other', 'foreign', 'Ready once the network is shared', (p) => ready(p) && !!p.status?.fixedIPs?.length);
    assert.ok(ready((await get<Subnet>(SUBNETS, 'demo', 'sub1'))!), 'the subnet made first keeps its range: the overlapping one is the one refused');
    for (const [ns, n] of [['demo', 'taken-ip'], ['demo', 'outside-ip'], ['other', 'foreign']]) await env.client.delete(PORTS, ns, n);
    for (const n of ['overlap', 'bad-cidr']) await env.client.delete(SUBNETS, 'demo', n);
  });

  it('repairs drift made by hand in the northbound database, both ways, and leaves rows it does not own alone', async () => {
    const port = (await get<Port>(PORTS, 'demo', 'p1'))!;
    const net = (await get<Network>(NETWORKS, 'demo', 'net1'))!;
    await nbctl(env.ovn.layout, 'lsp-del', port.metadata.uid!);
    await nbctl(env.ovn.layout, 'ls-add', 'hand-made');
    await nbctl(env.ovn.layout, '--', '--id=@ls', 'create', 'Logical_Switch', 'name=neutron-00000000-0000-0000-0000-000000000000', 'external_ids:stratus\\:owner=demo/gone');
    await eventually('the deleted switch port to be made again', () => !!lspOf(port.metadata.uid!));
    await nbctl(env.ovn.layout, 'lsp-set-addresses', port.metadata.uid!, 'fa:16:3e:00:00:01 10.1.0.99');
    await eventually('the changed addresses to be put back', () => asList(lspOf(port.metadata.uid!)?.addresses)[0] === `${port.status!.macAddress} 10.1.0.2`);
    await eventually('the stale switch no resource calls for to be removed', () => !nbRows('Logical_Switch').some((r) => r.name === 'neutron-00000000-0000-0000-0000-000000000000'));
    assert.ok(nbRows('Logical_Switch').some((r) => r.name === 'hand-made'), 'a switch Stratus did not make stays');
    assert.ok(nbRows('Logical_Switch').some((r) => r.name === `neutron-${net.metadata.uid}`));
  });

  it('converges after the northbound database and the operator are killed mid-change', async () => {
    env.ovn.processes.get('ovsdb-nb')!.kill('SIGKILL');
    await make(NETWORKS, 'demo', 'during-outage', 'Network', {});
    await make(SUBNETS, 'demo', 'during-outage-sub', 'Subnet', { network: 'during-outage', cidr: '10.3.0.0/24' });
    await make(PORTS, 'demo', 'during-outage-port', 'Port', { network: 'during-outage' });
    await env.restartOperator();
    env.ovn.restart('ovsdb-nb');
    const port = await until<Port>(PORTS, 'demo', 'during-outage-port', 'Ready', ready);
    await eventually('the switch port in NB', () => !!lspOf(port.metadata.uid!));
    await until<Network>(NETWORKS, 'demo', 'during-outage', 'Ready', ready);
  });

  it('converges after ovn-northd is killed mid-change: the southbound database gets the new port once it is back', async () => {
    env.ovn.processes.get('ovn-northd')!.kill('SIGKILL');
    await make(PORTS, 'demo', 'while-northd-down', 'Port', { network: 'during-outage' });
    const port = await until<Port>(PORTS, 'demo', 'while-northd-down', 'Ready', ready);
    await eventually('the switch port in NB', () => !!lspOf(port.metadata.uid!));
    assert.ok(!env.mechanism.sb.rows('Port_Binding').some((r) => r.logical_port === port.metadata.uid), 'no binding while northd is down');
    env.ovn.restart('ovn-northd');
    await eventually('a southbound Port_Binding for the port', () => env.mechanism.sb.rows('Port_Binding').some((r) => r.logical_port === port.metadata.uid));
    await env.client.delete(PORTS, 'demo', 'while-northd-down');
  });

  it('puts ports in their security groups’ OVN port groups, the default group made as Neutron makes it, rules as ACLs', async () => {
    const p1 = (await get<Port>(PORTS, 'demo', 'p1'))!;
    const def = await until<SecurityGroup>(SECURITY_GROUPS, 'demo', 'default', 'Ready', ready);
    assert.equal(def.status?.ruleCount, 4);
    const pgOf = (name: string) => nbRows('Port_Group').find((r) => r.name === name);
    const defPg = pgOf(def.status!.portGroup!)!;
    assert.ok(asList(defPg.ports).includes(lspOf(p1.metadata.uid!)!._uuid as string), 'p1 is in the default group');
    assert.ok(asList(pgOf('neutron_pg_drop')!.ports).includes(lspOf(p1.metadata.uid!)!._uuid as string), 'and in the drop-all group');
    const matches = () => asList(pgOf(def.status!.portGroup!)?.acls).map((u) => String(env.mechanism.nb.tables.get('ACL')!.get(u)?.match));
    assert.ok(matches().includes(`outport == @${def.status!.portGroup} && ip4 && ip4.src == $${def.status!.portGroup}_ip4`));
    // A group of its own with an SSH rule, and the port moved into it.
    await make(SECURITY_GROUPS, 'demo', 'ssh', 'SecurityGroup', { rules: [{ direction: 'ingress', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIPPrefix: '0.0.0.0/0' }] });
    const ssh = await until<SecurityGroup>(SECURITY_GROUPS, 'demo', 'ssh', 'Ready', ready);
    await env.client.patch(PORTS, 'demo', 'p1', { spec: { securityGroups: ['ssh'] } }, 'test');
    await eventually('p1 to move from the default group to ssh', () => {
      const lsp = lspOf(p1.metadata.uid!)!._uuid as string;
      return asList(pgOf(ssh.status!.portGroup!)?.ports).includes(lsp) && !asList(pgOf(def.status!.portGroup!)?.ports).includes(lsp);
    });
    assert.deepEqual(asList(pgOf(ssh.status!.portGroup!)!.acls).map((u) => String(env.mechanism.nb.tables.get('ACL')!.get(u)?.match)), [`outport == @${ssh.status!.portGroup} && ip4 && ip4.src == 0.0.0.0/0 && tcp && tcp.dst == 22`]);
    // A bad rule is refused and the group's ACLs stay as they were; a group in use is not deleted.
    await env.client.patch(SECURITY_GROUPS, 'demo', 'ssh', { spec: { rules: [{ direction: 'ingress', remoteIPPrefix: '10.0.0.0/99' }] } }, 'test');
    await until<SecurityGroup>(SECURITY_GROUPS, 'demo', 'ssh', 'Stalled on the bad rule', stalledWith('InvalidInput'));
    assert.equal(asList(pgOf(ssh.status!.portGroup!)!.acls).length, 1);
    await env.client.delete(SECURITY_GROUPS, 'demo', 'ssh');
    await until<SecurityGroup>(SECURITY_GROUPS, 'demo', 'ssh', 'SecurityGroupInUse', stalledWith('SecurityGroupInUse'));
    await env.client.patch(PORTS, 'demo', 'p1', { spec: { securityGroups: null } }, 'test');
    await eventually('the unused group and its port group to go', async () => !(await get(SECURITY_GROUPS, 'demo', 'ssh')) && !pgOf(ssh.status!.portGroup!));
    await make(PORTS, 'demo', 'no-such-group', 'Port', { network: 'net1', securityGroups: ['nope'] });
    await until<Port>(PORTS, 'demo', 'no-such-group', 'SecurityGroupNotFound', stalledWith('SecurityGroupNotFound'));
    await env.client.delete(PORTS, 'demo', 'no-such-group');
  });

  it('says so when a rule’s peer group is deleted (kubectl), and lets nobody in by that rule meanwhile', async () => {
    await make(SECURITY_GROUPS, 'demo', 'web', 'SecurityGroup', { rules: [] });
    await until<SecurityGroup>(SECURITY_GROUPS, 'demo', 'web', 'Ready', ready);
    await make(SECURITY_GROUPS, 'demo', 'db', 'SecurityGroup', { rules: [{ direction: 'ingress', protocol: 'tcp', portRangeMin: 5432, portRangeMax: 5432, remoteGroup: 'web' }, { direction: 'ingress', protocol: 'icmp' }] });
    const db = await until<SecurityGroup>(SECURITY_GROUPS, 'demo', 'db', 'Ready', ready);
    const pg = db.status!.portGroup!;
    const matches = () => asList(nbRows('Port_Group').find((r) => r.name === pg)?.acls).map((u) => String(env.mechanism.nb.tables.get('ACL')!.get(u)?.match));
    await eventually('db’s two rules as ACLs', () => matches().length === 2);
    await env.client.delete(SECURITY_GROUPS, 'demo', 'web');
    const stalled = await until<SecurityGroup>(SECURITY_GROUPS, 'demo', 'db', 'Stalled for want of web', stalledWith('InvalidInput'));
    assert.match(condition(stalled, 'Stalled')!.message!, /Security group web does not exist/);
    await eventually('the rule naming web out of OVN, the ICMP rule kept', () => matches().length === 1 && matches()[0]!.includes('icmp4') && !matches().some((m) => m.includes('5432')));
    await env.client.delete(SECURITY_GROUPS, 'demo', 'db');
    await eventually('db and its port group gone', async () => !(await get(SECURITY_GROUPS, 'demo', 'db')) && !nbRows('Port_Group').some((r) => r.name === pg));
  });

  it('joins subnets with a logical router whose ports hold their gateways, refuses overlapping ones, and cleans up', async () => {
    await make(ROUTERS, 'demo', 'r1', 'Router', { interfaces: [{ subnet: 'sub1' }, { subnet: 'small-sub' }] });
    const r1 = await until<Router>(ROUTERS, 'demo', 'r1', 'Ready', ready);
    assert.deepEqual(r1.status!.interfaces!.map((i) => i.ipAddress).sort(), ['10.1.0.1', '10.2.0.1']);
    const lr = nbRows('Logical_Router').find((r) => r.name === `neutron-${r1.metadata.uid}`)!;
    const lrps = asList(lr.ports).map((u) => env.mechanism.nb.tables.get('Logical_Router_Port')!.get(u)!);
    assert.deepEqual(lrps.map((p) => asList(p.networks)[0]).sort(), ['10.1.0.1/24', '10.2.0.1/28']);
    const legs = nbRows('Logical_Switch_Port').filter((r) => r.type === 'router');
    assert.equal(legs.length, 2);
    assert.ok(legs.every((l) => asList(l.addresses)[0] === 'router' && lrps.some((p) => p.name === asMap(l.options)['router-port'])));
    // A subnet that overlaps one it already joins is refused, with Neutron's words.
    await make(SUBNETS, 'demo', 'clash', 'Subnet', { network: 'small', cidr: '10.1.0.0/25' });
    await until<Subnet>(SUBNETS, 'demo', 'clash', 'Ready', ready);
    await env.client.patch(ROUTERS, 'demo', 'r1', { spec: { interfaces: [{ subnet: 'sub1' }, { subnet: 'small-sub' }, { subnet: 'clash' }] } }, 'test');
    const refused = await until<Router>(ROUTERS, 'demo', 'r1', 'Stalled', stalledWith('InvalidInput'));
    assert.match(condition(refused, 'Stalled')!.message!, /Bad router request: Cidr 10\.1\.0\.0\/25 of subnet clash overlaps with cidr 10\.1\.0\.0\/24 of subnet sub1/);
    // Leaving a subnet removes its port and router port; deleting the router removes the rest.
    await env.client.patch(ROUTERS, 'demo', 'r1', { spec: { interfaces: [{ subnet: 'sub1' }] } }, 'test');
    await eventually('one router port left', () => asList(nbRows('Logical_Router').find((r) => r.name === `neutron-${r1.metadata.uid}`)?.ports).length === 1);
    await env.client.delete(ROUTERS, 'demo', 'r1');
    await eventually('the router, its ports and rows to go', async () => !(await get(ROUTERS, 'demo', 'r1')) && !nbRows('Logical_Router').length && !nbRows('Logical_Switch_Port').some((r) => r.type === 'router'));
    await env.client.delete(SUBNETS, 'demo', 'clash');
  });

  it('translates a fixed IP for one floating IP only: of two asking for it the later is refused and takes over when the first goes; a port deleted takes its rule at once', async () => {
    await make(NETWORKS, 'demo', 'ext', 'Network', { external: true });
    await make(SUBNETS, 'demo', 'ext-sub', 'Subnet', { network: 'ext', cidr: '172.24.4.0/24', enableDHCP: false });
    await make(ROUTERS, 'demo', 'edge', 'Router', { externalGateway: { network: 'ext' }, interfaces: [{ subnet: 'sub1' }] });
    await make(PORTS, 'demo', 'target', 'Port', { network: 'net1' });
    await until<Router>(ROUTERS, 'demo', 'edge', 'Ready', ready);
    // The gateway translates the subnet's outbound traffic unless SNAT is off (Neutron's ext-gw-mode).
    const snat = () => nbRows('NAT').filter((r) => r.type === 'snat').map((r) => r.logical_ip);
    await eventually('an SNAT rule for the subnet', () => JSON.stringify(snat()) === JSON.stringify(['10.1.0.0/24']));
    await env.client.patch(ROUTERS, 'demo', 'edge', { spec: { externalGateway: { network: 'ext', enableSNAT: false } } }, 'test');
    await eventually('no SNAT rule with SNAT off', () => snat().length === 0);
    await env.client.patch(ROUTERS, 'demo', 'edge', { spec: { externalGateway: { network: 'ext', enableSNAT: true } } }, 'test');
    await eventually('the SNAT rule back', () => JSON.stringify(snat()) === JSON.stringify(['10.1.0.0/24']));
    // The gateway's address chosen (Neutron's external_fixed_ips): its port moves there, and so does the SNAT.
    await env.client.patch(ROUTERS, 'demo', 'edge', { spec: { externalGateway: { network: 'ext', fixedIPs: [{ ipAddress: '172.24.4.77' }] } } }, 'test');
    await until<Router>(ROUTERS, 'demo', 'edge', 'its gateway at 172.24.4.77', (r) => r.status?.gatewayIP === '172.24.4.77');
    await eventually('the SNAT rule from 172.24.4.77', () => nbRows('NAT').some((r) => r.type === 'snat' && r.external_ip === '172.24.4.77'));
    const target = await until<Port>(PORTS, 'demo', 'target', 'an address', (p) => !!p.status?.fixedIPs?.[0]?.ipAddress);
    const fixed = target.status!.fixedIPs![0].ipAddress!;
    // Both written with no check between, as two kubectl applies can (or two API calls both passing the API's check).
    for (const name of ['fip-a', 'fip-b']) await make(FLOATING_IPS, 'demo', name, 'FloatingIP', { network: 'ext', port: 'target' });
    const nats = () => nbRows('NAT').filter((r) => r.type === 'dnat_and_snat').map((r) => `${r.external_ip}>${r.logical_ip}`);
    const a = await until<FloatingIP>(FLOATING_IPS, 'demo', 'fip-a', 'ACTIVE', (f) => f.status?.phase === 'ACTIVE');
    const b = await until<FloatingIP>(FLOATING_IPS, 'demo', 'fip-b', 'refused for the fixed IP fip-a holds', stalledWith('FloatingIPPortAlreadyAssociated'));
    assert.match(condition(b, 'Stalled')!.message!, new RegExp(`with port ${target.metadata.uid} using fixed IP ${fixed.replace(/\./g, '\\.')}, as that fixed IP already has a floating IP on external network`));
    assert.equal(b.status?.phase, 'ERROR');
    assert.equal(b.status?.fixedIPAddress, undefined, 'the refused one translates nothing');
    await eventually(`one NAT rule, ${a.status!.floatingIPAddress} to ${fixed}`, () => JSON.stringify(nats()) === JSON.stringify([`${a.status!.floatingIPAddress}>${fixed}`]));
    await env.client.delete(FLOATING_IPS, 'demo', 'fip-a');
    const taken = await until<FloatingIP>(FLOATING_IPS, 'demo', 'fip-b', 'ACTIVE once fip-a is gone', (f) => f.status?.phase === 'ACTIVE' && ready(f));
    await eventually(`one NAT rule, now ${taken.status!.floatingIPAddress} to ${fixed}`, () => JSON.stringify(nats()) === JSON.stringify([`${taken.status!.floatingIPAddress}>${fixed}`]));
    // Its port deleted, the floating IP reaches nothing: the address may go to another port, and must not be reached.
    await env.client.delete(PORTS, 'demo', 'target');
    const orphan = await until<FloatingIP>(FLOATING_IPS, 'demo', 'fip-b', 'refused for its port gone', stalledWith('PortNotFound'));
    assert.deepEqual([orphan.status?.fixedIPAddress, orphan.status?.routerId, orphan.status?.portId], [undefined, undefined, undefined]);
    await eventually('no NAT rule for a port that is gone', () => nats().length === 0);
    await env.client.delete(FLOATING_IPS, 'demo', 'fip-b');
    await env.client.delete(ROUTERS, 'demo', 'edge');
    await eventually('the floating IPs and the router to go', async () => !(await get(FLOATING_IPS, 'demo', 'fip-b')) && !(await get(ROUTERS, 'demo', 'edge')) && !nbRows('Logical_Router').length);
    await env.client.delete(SUBNETS, 'demo', 'ext-sub');
    await env.client.delete(NETWORKS, 'demo', 'ext');
    await eventually('the external network to go', async () => !(await get(NETWORKS, 'demo', 'ext')));
  });

  it('deletes a network only once its ports are gone, taking its subnets and every row it made', async () => {
    const net = (await get<Network>(NETWORKS, 'demo', 'net1'))!;
    await env.client.delete(NETWORKS, 'demo', 'net1');
    const blocked = await until<Network>(NETWORKS, 'demo', 'net1', 'NetworkInUse', stalledWith('NetworkInUse'));
    assert.match(condition(blocked, 'Stalled')!.message!, /port\(s\)/);
    await env.client.delete(PORTS, 'demo', 'p1');
    await eventually('the network, its subnet and its ports to be gone', async () => !(await get(NETWORKS, 'demo', 'net1')) && !(await get(SUBNETS, 'demo', 'sub1')) && !(await get(PORTS, 'demo', 'p1')));
    await eventually('its rows to leave NB', () => !nbRows('Logical_Switch').some((r) => r.name === `neutron-${net.metadata.uid}`) && !nbRows('DHCP_Options').some((r) => r.cidr === '10.1.0.0/24'));
  });
});
