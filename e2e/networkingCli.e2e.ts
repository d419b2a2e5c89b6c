/**
 * Networking as OpenStack users drive it with the real `openstack` CLI against `stratus up`: a network and
 * subnet, two servers on it (`server create --network`, one with `--nic v4-fixed-ip=`) that get their
 * addresses by DHCP, show them in `server show`/`server list`, and ping each other; bad input answered with
 * Neutron's 4xx and nothing half-made; another project's network out of reach; nothing left once deleted.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { eventually } from '@stratus/apiserver';
import { startCloud, type RunningCloud } from '@stratus/cli';
import { ovnLayout } from '@stratus/neutron';
import { serveTestImage, type ServedImage } from './lib/testImage.js';
import { kubectlOk, openstack as run, openstackJson, openstackOk, type CliResult, consoleUntil as consoleOf, uploadTestImage, itAskedNothingTheChartRefuses } from './lib/up.js';

const sh = promisify(execFile);

describe('networking with the openstack CLI', function () {
  this.timeout(600_000);
  let cloud: RunningCloud;
  let image: ServedImage;
  const os = (...args: string[]) => openstackOk(cloud, args);
  const json = (...args: string[]) => openstackJson(cloud, args);
  const as = (user: string, project: string, ...args: string[]): Promise<CliResult> =>
    run(cloud, args, { OS_CLOUD: '', OS_CLIENT_CONFIG_FILE: '/dev/null', OS_AUTH_URL: cloud.admin().authUrl, OS_USERNAME: user, OS_PASSWORD: 'secret-pw-1', OS_PROJECT_NAME: project, OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_IDENTITY_API_VERSION: '3' });
  const consoleUntil = (server: string, marker: RegExp, timeoutMs?: number) => consoleOf(cloud, server, marker, timeoutMs);
  /** The admin's token and the Networking API's endpoint, for calls whose answer the CLI does not show. */
  const networkingApi = async () => ({
    token: (await os('token', 'issue', '-f', 'value', '-c', 'id')).trim(),
    endpoint: (await os('endpoint', 'list', '--service', 'network', '--interface', 'public', '-f', 'value', '-c', 'URL')).trim(),
  });
  const nbRows = async () => (await sh('ovn-nbctl', [`--db=${ovnLayout(cloud.dir).nbRemote}`, '--bare', '--columns=name', 'list', 'Logical_Switch_Port'])).stdout.split('\n').filter(Boolean);

  before(async () => {
    image = await serveTestImage();
    cloud = await startCloud(undefined, undefined, { imageImportAllow: [image.host] });
    await uploadTestImage(cloud, image.path);
  });
  after(async () => {
    image?.close();
    await cloud?.stop();
    await cloud?.remove();
  });

  it('boots two servers on a network; they get their addresses by DHCP, show them, and reach each other', async () => {
    const net = await json('network', 'create', 'private');
    assert.equal(net.status, 'ACTIVE');
    assert.equal(net.mtu, 1442);
    const subnet = await json('subnet', 'create', '--network', 'private', '--subnet-range', '10.30.0.0/24', '--dns-nameserver', '10.30.0.3', 'private-v4');
    assert.equal(subnet.gateway_ip, '10.30.0.1');
    const ping = Buffer.from('#!/bin/sh\n# Both servers boot at once: the other one is waited for (up to 60 tries, some 5 minutes), not pinged once.\ni=0\nwhile [ $i -lt 60 ]; do ping -c 1 -W 2 10.30.0.10 && { echo PING-OK; exit 0; }; i=$((i+1)); sleep 3; done\necho PING-FAILED\n');
    await os('server', 'create', '--flavor', 'm1.tiny', '--image', 'stratus-test', '--nic', `net-id=${net.id},v4-fixed-ip=10.30.0.10`, '--wait', 'alpha');
    await sh('bash', ['-c', `printf '%s' '${ping.toString('base64')}' | base64 -d > ${cloud.dir}/ping.sh`]);
    await os('server', 'create', '--flavor', 'm1.tiny', '--image', 'stratus-test', '--network', 'private', '--user-data', `${cloud.dir}/ping.sh`, '--wait', 'beta');
    const alpha = await json('server', 'show', 'alpha');
    assert.deepEqual(alpha.addresses, { private: ['10.30.0.10'] });
    // The Compute API's server addresses (GET /servers/{id}/ips), as Nova answers them.
    const token = (await os('token', 'issue', '-f', 'value', '-c', 'id')).trim();
    const compute = cloud.admin().authUrl.replace(/\/identity\/v3$/, '/compute/v2.1');
    const ips = await (await fetch(`${compute}/servers/${alpha.id}/ips`, { headers: { 'X-Auth-Token': token } })).json();
    assert.deepEqual(ips, { addresses: { private: [{ version: 4, addr: '10.30.0.10' }] } });
    const list = await json('server', 'list');
    assert.ok(list.some((s: { Name: string; Networks: Record<string, string[]> }) => s.Name === 'beta' && /^10\.30\.0\.\d+$/.test(s.Networks.private?.[0] ?? '')), JSON.stringify(list));
    assert.match(await consoleUntil('alpha', /STRATUS-NET eth0/), /STRATUS-NET eth0 10\.30\.0\.10 gateway=10\.30\.0\.1/);
    const beta = await consoleUntil('beta', /USER-SCRIPT PING-(OK|FAILED)/, 600_000);
    assert.match(beta, /USER-SCRIPT PING-OK/);
    // Their ports: bound to this node, ACTIVE, owned by compute:nova.
    const ports = await json('port', 'list', '--server', 'alpha', '--long');
    assert.equal(ports.length, 1);
    assert.equal(ports[0].Status, 'ACTIVE');
    assert.deepEqual(ports[0]['Fixed IP Addresses'].map((f: { ip_address: string }) => f.ip_address), ['10.30.0.10']);
  });

  it('keeps a server behind a group without an ICMP rule, and one on another network, out until a rule and a router let them in', async () => {
    const loop = (name: string, ip: string) => Buffer.from(`#!/bin/sh\nwhile true; do ping -c 1 -W 1 ${ip} >/dev/null 2>&1 && echo ${name}-OK || echo ${name}-NO; sleep 1; done\n`);
    const file = (name: string, body: Buffer) => sh('bash', ['-c', `printf '%s' '${body.toString('base64')}' | base64 -d > ${cloud.dir}/${name}.sh`]).then(() => `${cloud.dir}/${name}.sh`);
    await os('security', 'group', 'create', 'locked');
    await os('server', 'create', '--flavor', 'm1.tiny', '--image', 'stratus-test', '--nic', 'net-id=private,v4-fixed-ip=10.30.0.30', '--security-group', 'locked', '--wait', 'gamma');
    await os('server', 'create', '--flavor', 'm1.tiny', '--image', 'stratus-test', '--network', 'private', '--user-data', await file('probe', loop('PROBE', '10.30.0.30')), '--wait', 'delta');
    await os('network', 'create', 'far');
    await os('subnet', 'create', '--network', 'far', '--subnet-range', '10.32.0.0/24', 'far-v4');
    await os('server', 'create', '--flavor', 'm1.tiny', '--image', 'stratus-test', '--network', 'far', '--user-data', await file('far', loop('FAR', '10.30.0.10')), '--wait', 'epsilon');
    const before = await consoleUntil('delta', /(USER-SCRIPT PROBE-NO[\s\S]*){3}/);
    assert.ok(!before.includes('USER-SCRIPT PROBE-OK'), 'the group lets no ICMP in');
    const far = await consoleUntil('epsilon', /(USER-SCRIPT FAR-NO[\s\S]*){3}/);
    assert.ok(!far.includes('USER-SCRIPT FAR-OK'), 'no path between the networks');
    await os('security', 'group', 'rule', 'create', '--protocol', 'icmp', 'locked');
    await consoleUntil('delta', /USER-SCRIPT PROBE-OK/);
    await os('router', 'create', 'joiner');
    await os('router', 'add', 'subnet', 'joiner', 'private-v4');
    await os('router', 'add', 'subnet', 'joiner', 'far-v4');
    await consoleUntil('epsilon', /USER-SCRIPT FAR-OK/);
    await os('server', 'delete', '--wait', 'gamma', 'delta', 'epsilon');
    await os('router', 'remove', 'subnet', 'joiner', 'private-v4');
    await os('router', 'remove', 'subnet', 'joiner', 'far-v4');
    await os('router', 'delete', 'joiner');
    await os('subnet', 'delete', 'far-v4');
    await os('network', 'delete', 'far');
    await os('security', 'group', 'delete', 'locked');
  });

  it('answers bad input with Neutron’s 4xx and makes nothing', async () => {
    const before = await nbRows();
    const overlap = await run(cloud, ['subnet', 'create', '--network', 'private', '--subnet-range', '10.30.0.128/25', 'overlap']);
    assert.notEqual(overlap.code, 0);
    assert.match(overlap.stderr, /400.*overlaps with another subnet/);
    const used = await run(cloud, ['port', 'create', '--network', 'private', '--fixed-ip', 'ip-address=10.30.0.10', 'dup']);
    assert.match(used.stderr, /409.*IP address 10\.30\.0\.10 already allocated/);
    const outside = await run(cloud, ['port', 'create', '--network', 'private', '--fixed-ip', 'ip-address=192.168.9.9', 'outside']);
    assert.match(outside.stderr, /400/);
    await os('security', 'group', 'create', 'web');
    const badRule = await run(cloud, ['security', 'group', 'rule', 'create', '--protocol', 'tcp', '--remote-ip', '10.0.0.0/99', 'web']);
    assert.match(badRule.stderr, /400.*not a valid IP prefix/);
    const renamed = await run(cloud, ['security', 'group', 'set', '--name', 'Default', 'web']);
    assert.match(renamed.stderr, /409.*Default security group already exists/, 'the name default is the project default group’s alone');
    const badServer = await run(cloud, ['server', 'create', '--flavor', 'm1.tiny', '--image', 'stratus-test', '--nic', 'net-id=00000000-0000-0000-0000-000000000000', 'nowhere']);
    assert.match(badServer.stderr, /Network 00000000-0000-0000-0000-000000000000 could not be found|No Network found for 00000000-0000-0000-0000-000000000000/);
    assert.deepEqual(await json('subnet', 'list', '--name', 'overlap'), []);
    assert.deepEqual((await json('port', 'list')).filter((p: { Name: string }) => ['dup', 'outside'].includes(p.Name)), []);
    assert.deepEqual((await json('server', 'list')).filter((s: { Name: string }) => s.Name === 'nowhere'), []);
    assert.deepEqual((await json('security', 'group', 'rule', 'list', 'web')).length, 2, 'only the two egress rules a new group has');
    // The address asked for is held by one port, which a list by address finds alone (Neutron's fixed_ips filter).
    const byAddress = await json('port', 'list', '--fixed-ip', 'ip-address=10.30.0.10');
    assert.deepEqual(byAddress.map((p: { 'Fixed IP Addresses': Array<{ ip_address: string }> }) => p['Fixed IP Addresses'].map((f) => f.ip_address)), [['10.30.0.10']]);
    // And by a part of it (ip-substring-filtering): every port listed has an address holding it, that one too.
    const byPart = (await json('port', 'list', '--fixed-ip', 'ip-substring=.0.10')) as Array<{ 'Fixed IP Addresses': Array<{ ip_address: string }> }>;
    assert.ok(byPart.every((p) => p['Fixed IP Addresses'].some((f) => f.ip_address.includes('.0.10'))), JSON.stringify(byPart));
    assert.ok(byPart.some((p) => p['Fixed IP Addresses'].some((f) => f.ip_address === '10.30.0.10')), JSON.stringify(byPart));
    assert.ok((await json('port', 'list')).length > byPart.length, 'ports without such an address are left out');
    type Listed = { ID: string; 'Fixed IP Addresses': Array<{ subnet_id: string }> };
    const subnetId = (await json('subnet', 'show', 'private-v4')).id;
    const onSubnet = ((await json('port', 'list', '--fixed-ip', 'subnet=private-v4')) as Listed[]).map((p) => p.ID).sort();
    const expected = ((await json('port', 'list')) as Listed[]).filter((p) => p['Fixed IP Addresses'].some((f) => f.subnet_id === subnetId)).map((p) => p.ID).sort();
    assert.ok(expected.length >= 2, 'the two servers’ ports at least');
    assert.deepEqual(onSubnet, expected, 'a list by subnet finds the ports with an address on it');
    assert.deepEqual(await nbRows(), before, 'no switch port was made for the refused ports');
    // Another project's member cannot see, nor put a port on, this project's network.
    await os('project', 'create', 'other');
    await os('user', 'create', '--password', 'secret-pw-1', '--project', 'other', 'bob');
    await os('role', 'add', '--project', 'other', '--user', 'bob', 'member');
    const id = (await json('network', 'show', 'private')).id;
    const foreign = await as('bob', 'other', 'port', 'create', '--network', id, 'sneaky');
    assert.match(foreign.stderr, /404|not found|No Network found/i);
    assert.deepEqual(JSON.parse((await as('bob', 'other', 'network', 'list', '-f', 'json')).stdout), []);
    // A network quota set by the admin holds for the project's member.
    await os('quota', 'set', '--networks', '1', 'other');
    const first = await as('bob', 'other', 'network', 'create', 'mine');
    assert.equal(first.code, 0, first.stderr);
    const second = await as('bob', 'other', 'network', 'create', 'another');
    assert.match(second.stderr, /409.*Quota exceeded for resources: \['network'\]/);
    assert.equal(JSON.parse((await as('bob', 'other', 'network', 'list', '-f', 'json')).stdout).length, 1, 'the refused network was not made');
    assert.equal((await as('bob', 'other', 'network', 'delete', 'mine')).code, 0);
  });

  it('keeps the allowed address pairs the CLI sets on a port, in OVN’s port security too, and refuses them without port security', async () => {
    await os('port', 'create', '--network', 'private', '--allowed-address', 'ip-address=10.30.0.200', '--allowed-address', 'ip-address=10.31.0.0/24,mac-address=fa:16:3e:12:34:56', 'vip-holder');
    const port = await json('port', 'show', 'vip-holder');
    const pairs = (p: { allowed_address_pairs: unknown }) => (typeof p.allowed_address_pairs === 'string' ? JSON.parse(p.allowed_address_pairs.replace(/'/g, '"')) : p.allowed_address_pairs) as Array<{ ip_address: string; mac_address: string }>;
    assert.deepEqual(pairs(port), [{ ip_address: '10.30.0.200', mac_address: port.mac_address }, { ip_address: '10.31.0.0/24', mac_address: 'fa:16:3e:12:34:56' }], 'a pair without a MAC shows the port’s');
    const portSecurity = async () => (await sh('ovn-nbctl', [`--db=${ovnLayout(cloud.dir).nbRemote}`, '--bare', '--columns=port_security', 'find', 'Logical_Switch_Port', `name=${port.id}`])).stdout.trim();
    await eventually('the pairs in the switch port’s port security', async () => (await portSecurity()).includes('fa:16:3e:12:34:56 10.31.0.0/24'), 60_000, 500);
    assert.match(await portSecurity(), new RegExp(`${port.mac_address} 10\\.30\\.0\\.\\d+ 10\\.30\\.0\\.200`));
    await os('port', 'set', '--no-allowed-address', 'vip-holder');
    assert.deepEqual(pairs(await json('port', 'show', 'vip-holder')), []);
    await eventually('the pairs gone from the switch port', async () => !(await portSecurity()).includes('10.30.0.200'), 60_000, 500);
    const bad = await run(cloud, ['port', 'set', '--allowed-address', 'ip-address=10.30.0.300', 'vip-holder']);
    assert.match(bad.stderr, /400.*'10\.30\.0\.300' is not a valid IP address/);
    const open = await run(cloud, ['port', 'create', '--network', 'private', '--disable-port-security', '--allowed-address', 'ip-address=10.30.0.201', 'open-with-pairs']);
    assert.match(open.stderr, /409.*Port Security must be enabled in order to have allowed address pairs on a port/);
    assert.deepEqual((await json('port', 'list')).filter((p: { Name: string }) => p.Name === 'open-with-pairs'), [], 'the refused port was not made');
    await os('port', 'delete', 'vip-holder');
  });

  it('keeps the extra DHCP options the CLI sets on a port, in a DHCP_Options row of its own, and refuses a value OVN could not use', async () => {
    await os('port', 'create', '--network', 'private', '--extra-dhcp-option', 'name=bootfile-name,value=pxelinux.0', '--extra-dhcp-option', 'name=server-ip-address,value=10.30.0.5', 'pxe');
    const port = await json('port', 'show', 'pxe');
    const options = (p: { extra_dhcp_opts: unknown }) => (typeof p.extra_dhcp_opts === 'string' ? JSON.parse(p.extra_dhcp_opts.replace(/'/g, '"')) : p.extra_dhcp_opts) as Array<{ opt_name: string; opt_value: string; ip_version: number }>;
    assert.deepEqual(options(port).map((o) => [o.opt_name, o.opt_value, o.ip_version]).sort(), [['bootfile-name', 'pxelinux.0', 4], ['server-ip-address', '10.30.0.5', 4]]);
    const nbctl = async (...args: string[]) => (await sh('ovn-nbctl', [`--db=${ovnLayout(cloud.dir).nbRemote}`, '--bare', ...args])).stdout.trim();
    await eventually('the port’s own DHCP options', async () => (await nbctl('--columns=options', 'find', 'DHCP_Options', `external_ids:port_id=${port.id}`)).includes('bootfile_name="pxelinux.0"'), 60_000, 500);
    assert.match(await nbctl('--columns=options', 'find', 'DHCP_Options', `external_ids:port_id=${port.id}`), /tftp_server_address=10\.30\.0\.5/);
    const bad = await run(cloud, ['port', 'set', '--extra-dhcp-option', 'name=ntp-server,value=time.example', 'pxe']);
    assert.match(bad.stderr, /400.*'time\.example' is not an IPv4 address/);
    await os('port', 'delete', 'pxe');
    await eventually('the port’s DHCP options gone with it', async () => (await nbctl('--columns=_uuid', 'find', 'DHCP_Options', `external_ids:port_id=${port.id}`)) === '', 60_000, 500);
  });

  it('tags networks, ports and routers, finds them by their tags (all, any, not), and keeps the tags on the objects kubectl sees', async () => {
    await os('network', 'create', '--tag', 'red', '--tag', 'blue', 'tagged-a');
    await os('network', 'create', '--tag', 'red', 'tagged-b');
    const names = async (...filter: string[]) => ((await json('network', 'list', ...filter)) as Array<{ Name: string }>).map((n) => n.Name).filter((n) => n.startsWith('tagged-')).sort();
    assert.deepEqual(await names('--tags', 'red,blue'), ['tagged-a'], 'every tag asked for');
    assert.deepEqual(await names('--any-tags', 'blue,green'), ['tagged-a'], 'one of them');
    assert.deepEqual(await names('--not-tags', 'red,blue'), ['tagged-b'], 'not all of them');
    assert.deepEqual(await names('--not-any-tags', 'blue'), ['tagged-b'], 'none of them');
    await os('network', 'set', '--tag', 'green', 'tagged-b');
    await os('network', 'unset', '--tag', 'red', 'tagged-b');
    const b = await json('network', 'show', 'tagged-b');
    assert.deepEqual([...b.tags].sort(), ['green']);
    const stored = (JSON.parse(await kubectlOk(cloud, ['get', 'networks', '-A', '-o', 'json'])).items as Array<{ spec: { tags?: string[] }; status?: { id?: string } }>).find((n) => n.status?.id === b.id);
    assert.deepEqual(stored?.spec.tags, ['green'], 'the Network object holds the same tags');
    await os('port', 'create', '--network', 'tagged-a', '--tag', 'web', 'tagged-port');
    await os('router', 'create', '--tag', 'edge', 'tagged-router');
    assert.deepEqual(((await json('port', 'list', '--tags', 'web')) as Array<{ Name: string }>).map((p) => p.Name), ['tagged-port']);
    assert.deepEqual(((await json('router', 'list', '--tags', 'edge')) as Array<{ Name: string }>).map((r) => r.Name), ['tagged-router']);
    const long = await run(cloud, ['network', 'set', '--tag', 'x'.repeat(256), 'tagged-a']);
    assert.match(long.stderr, /400.*exceeds maximum length of 255/);
    assert.deepEqual([...(await json('network', 'show', 'tagged-a')).tags].sort(), ['blue', 'red'], 'a refused change leaves the tags as they were');
    await os('router', 'delete', 'tagged-router');
    await os('port', 'delete', 'tagged-port');
    await os('network', 'delete', 'tagged-a', 'tagged-b');
  });

  it('shows a project’s network quota usage (quota list --detail), also at the .json path Tempest asks for', async () => {
    const project = (await os('token', 'issue', '-f', 'value', '-c', 'project_id')).trim();
    const networks = (await json('network', 'list', '--project', project)).length;
    const rows = (await json('quota', 'list', '--detail', '--network')) as Array<{ Resource: string; 'In Use': number; Limit: number }>;
    assert.equal(rows.find((r) => r.Resource === 'networks')?.['In Use'], networks, JSON.stringify(rows));
    // Neutron takes a format suffix on its paths; Tempest's quota client asks for details.json.
    const { token, endpoint } = await networkingApi();
    const res = await fetch(`${endpoint}/v2.0/quotas/${project}/details.json`, { headers: { 'X-Auth-Token': token } });
    assert.equal(res.status, 200);
    const quota = ((await res.json()) as { quota: Record<string, { used: number; limit: number; reserved: number }> }).quota;
    assert.deepEqual(quota.network, { used: networks, limit: -1, reserved: 0 });
  });

  it('lets an admin create for a project made a moment before (project_id), as Tempest does', async () => {
    const { token, endpoint } = await networkingApi();
    const post = (url: string, body: object) => fetch(url, { method: 'POST', headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    // No pause between the two: Keystone answers before its reconciler has made the project's namespace.
    const made = await post(`${cloud.admin().authUrl}/projects`, { project: { name: 'fresh', domain_id: 'default' } });
    assert.equal(made.status, 201);
    const projectId = ((await made.json()) as { project: { id: string } }).project.id;
    const router = await post(`${endpoint}/v2.0/routers`, { router: { name: 'theirs', project_id: projectId } });
    assert.equal(router.status, 201, await router.clone().text());
    assert.equal(((await router.json()) as { router: { project_id: string } }).router.project_id, projectId);
    await os('router', 'delete', 'theirs');
    await os('project', 'delete', 'fresh');
  });

  it('lists the availability zones of every service, the network ones included, and each by itself', async () => {
    const all = (await json('availability', 'zone', 'list', '--long')) as Array<Record<string, string>>;
    const network = all.filter((z) => z['Zone Resource']).map((z) => `${z['Zone Name']} ${z['Zone Resource']} ${z['Zone Status']}`);
    assert.deepEqual(network.sort(), ['nova network available', 'nova router available']);
    assert.ok(all.some((z) => z['Service Name'] === 'nova-compute'), `the compute zone among ${JSON.stringify(all)}`);
    const only = (await json('availability', 'zone', 'list', '--network')) as Array<Record<string, string>>;
    assert.deepEqual(only.map((z) => z['Zone Name']), ['nova', 'nova']);
    const network0 = await json('network', 'create', 'zoned');
    assert.deepEqual(network0.availability_zones, ['nova'], 'a network is in a zone the list has');
    await os('network', 'delete', 'zoned');
  });

  it('lists OVN as the default provider of routers, to a project member as to an admin (service-type)', async () => {
    const providers = (await json('network', 'service', 'provider', 'list')) as Array<Record<string, unknown>>;
    assert.deepEqual(providers, [{ 'Service Type': 'L3_ROUTER_NAT', Name: 'ovn', Default: true }]);
    await os('project', 'create', 'providerless');
    await os('user', 'create', '--password', 'secret-pw-1', '--project', 'providerless', 'erin');
    await os('role', 'add', '--project', 'providerless', '--user', 'erin', 'member');
    const theirs = await as('erin', 'providerless', 'network', 'service', 'provider', 'list', '-f', 'json');
    assert.deepEqual(JSON.parse(theirs.stdout), providers, theirs.stderr);
    await os('user', 'delete', 'erin');
    await os('project', 'delete', 'providerless');
  });

  it('lists the node’s ovn-controller as an alive agent to an admin, none to a member; a description sticks; a gone chassis is deleted', async () => {
    const agents = (await json('network', 'agent', 'list')) as Array<Record<string, unknown>>;
    const node = agents.find((a) => a['Agent Type'] === 'OVN Controller agent');
    assert.ok(node, `the node's chassis among ${JSON.stringify(agents)}`);
    assert.equal(node.Binary, 'ovn-controller');
    assert.equal(node.Alive, true);
    assert.equal(node.State, true);
    // A project's member sees none: listing agents is for admins.
    await os('project', 'create', 'agentless');
    await os('user', 'create', '--password', 'secret-pw-1', '--project', 'agentless', 'carol');
    await os('role', 'add', '--project', 'agentless', '--user', 'carol', 'member');
    const theirs = await as('carol', 'agentless', 'network', 'agent', 'list', '-f', 'json');
    assert.equal(theirs.code, 0, theirs.stderr);
    assert.deepEqual(JSON.parse(theirs.stdout), []);
    assert.match((await as('carol', 'agentless', 'network', 'agent', 'show', String(node.ID))).stderr, /could not be found|404/i);
    await os('network', 'agent', 'set', '--description', 'the only node', String(node.ID));
    assert.equal((await json('network', 'agent', 'show', String(node.ID))).description, 'the only node');
    const down = await run(cloud, ['network', 'agent', 'set', '--disable', String(node.ID)]);
    assert.match(down.stderr, /OVN agent status cannot be updated/);
    // A chassis whose node is gone (registered by hand, nothing behind it) is listed until deleted, then gone.
    const sb = `--db=${ovnLayout(cloud.dir).sbRemote}`;
    await sh('ovn-sbctl', [sb, 'chassis-add', 'gone-node', 'geneve', '127.0.0.9']);
    const listed = (await json('network', 'agent', 'list', '--host', 'gone-node')) as Array<Record<string, unknown>>;
    assert.deepEqual(listed.map((a) => a.ID), ['gone-node']);
    await os('network', 'agent', 'delete', 'gone-node');
    assert.deepEqual(await json('network', 'agent', 'list', '--host', 'gone-node'), []);
    assert.equal((await sh('ovn-sbctl', [sb, '--bare', '--columns=name', 'find', 'Chassis', 'name=gone-node'])).stdout.trim(), '', 'the chassis is gone from the southbound database');
    await os('user', 'delete', 'carol');
    await os('project', 'delete', 'agentless');
  });

  it('lets an admin make a port on a member’s private network, as Tempest’s port binding tests do; its owner sees and deletes it', async () => {
    await os('project', 'create', 'owner');
    await os('user', 'create', '--password', 'secret-pw-1', '--project', 'owner', 'dave');
    await os('role', 'add', '--project', 'owner', '--user', 'dave', 'member');
    const dave = async (...args: string[]) => {
      const r = await as('dave', 'owner', ...args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const net = JSON.parse(await dave('network', 'create', '-f', 'json', 'daves-net'));
    await dave('subnet', 'create', '--network', 'daves-net', '--subnet-range', '10.50.0.0/24', 'daves-subnet');
    const host = (await os('hypervisor', 'list', '-f', 'value', '-c', 'Hypervisor Hostname')).trim().split('\n')[0];
    const port = await json('port', 'create', '--network', net.id, '--host', host, 'admins-port');
    assert.equal(port.binding_host_id, host);
    assert.match(port.fixed_ips[0].ip_address, /^10\.50\.0\.\d+$/);
    assert.equal(port.project_id, net.project_id, 'the port is with its network');
    assert.ok(JSON.parse(await dave('port', 'list', '-f', 'json')).some((p: { ID: string }) => p.ID === port.id), 'the network’s owner sees it');
    await dave('port', 'delete', port.id);
    await dave('network', 'delete', 'daves-net');
    // The default group made for the port is the project's to delete first (an admin may), as any resource of a
    // project being deleted; then no other 'default' is left for the admin's `… rule create … default` below.
    const theirDefault = ((await json('security', 'group', 'list', '--project', net.project_id)) as Array<{ ID: string; Name: string }>).filter((g) => g.Name === 'default');
    assert.equal(theirDefault.length, 1, JSON.stringify(theirDefault));
    await os('security', 'group', 'delete', theirDefault[0]!.ID);
    assert.deepEqual(await json('security', 'group', 'list', '--project', net.project_id), []);
    await os('user', 'delete', 'dave');
    await os('project', 'delete', 'owner');
  });

  it('deletes the rules naming a peer group with it, as Neutron does, through the Networking API and Nova’s proxy alike', async () => {
    await os('security', 'group', 'create', 'peer-a');
    await os('security', 'group', 'create', 'peer-b');
    const a = await json('security', 'group', 'show', 'peer-a');
    await os('security', 'group', 'rule', 'create', '--remote-group', 'peer-a', '--protocol', 'tcp', '--dst-port', '5432', 'peer-b');
    const naming = async () => ((await json('security', 'group', 'rule', 'list', 'peer-b')) as Array<Record<string, unknown>>).filter((r) => r['Remote Security Group'] === a.id);
    assert.equal((await naming()).length, 1);
    await os('security', 'group', 'delete', 'peer-a');
    assert.deepEqual(await naming(), [], 'the rule went with its peer group');
    await os('security', 'group', 'delete', 'peer-b');
    // Nova's os-security-groups (before microversion 2.36), as Tempest's compute tests use it.
    const token = (await os('token', 'issue', '-f', 'value', '-c', 'id')).trim();
    const compute = cloud.admin().authUrl.replace(/\/identity\/v3$/, '/compute/v2.1');
    const nova = async (method: string, path: string, body?: object) => {
      const res = await fetch(`${compute}${path}`, { method, headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json', 'X-OpenStack-Nova-API-Version': '2.1' }, ...(body ? { body: JSON.stringify(body) } : {}) });
      assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
      return res.status === 202 ? undefined : ((await res.json()) as Record<string, any>);
    };
    const peer = (await nova('POST', '/os-security-groups', { security_group: { name: 'nova-peer', description: 'peer' } }))!.security_group;
    const other = (await nova('POST', '/os-security-groups', { security_group: { name: 'nova-other', description: 'other' } }))!.security_group;
    await nova('POST', '/os-security-group-rules', { security_group_rule: { parent_group_id: other.id, ip_protocol: 'tcp', from_port: 22, to_port: 22, group_id: peer.id } });
    assert.equal((await nova('GET', `/os-security-groups/${other.id}`))!.security_group.rules.length, 1);
    await nova('DELETE', `/os-security-groups/${peer.id}`);
    assert.deepEqual((await nova('GET', `/os-security-groups/${other.id}`))!.security_group.rules, []);
    await nova('DELETE', `/os-security-groups/${other.id}`);
  });

  it('gives subnets blocks of a subnet pool, never the same one twice', async () => {
    const pool = await json('subnet', 'pool', 'create', '--pool-prefix', '10.40.0.0/16', '--default-prefix-length', '26', 'pool1');
    assert.deepEqual(pool.prefixes, ['10.40.0.0/16']);
    await os('network', 'create', 'pooled');
    const first = await json('subnet', 'create', '--network', 'pooled', '--subnet-pool', 'pool1', 'pooled-1');
    const second = await json('subnet', 'create', '--network', 'pooled', '--subnet-pool', 'pool1', 'pooled-2');
    assert.deepEqual([first.cidr, second.cidr], ['10.40.0.0/26', '10.40.0.64/26']);
    assert.equal(first.subnetpool_id, pool.id);
    assert.notEqual((await run(cloud, ['subnet', 'pool', 'delete', 'pool1'])).code, 0, 'a pool with subnets is not deleted');
    await os('subnet', 'delete', 'pooled-1', 'pooled-2');
    await os('network', 'delete', 'pooled');
    await os('subnet', 'pool', 'delete', 'pool1');
  });

  it('attaches a NIC on another network to a running server, and detaches it (hot-plug)', async () => {
    await os('network', 'create', 'second');
    await os('subnet', 'create', '--network', 'second', '--subnet-range', '10.31.0.0/24', 'second-v4');
    const id = (await json('server', 'show', 'alpha')).id;
    const nics = async () => (await sh('virsh', ['-q', '-c', 'qemu:///system', 'domiflist', `instance-${id}`])).stdout.split('\n').filter((l) => l.trim()).length;
    assert.equal(await nics(), 1);
    await os('server', 'add', 'network', 'alpha', 'second');
    await eventually('the new address in server show', async () => Object.keys((await json('server', 'show', 'alpha')).addresses).includes('second'), 120_000, 1000);
    assert.equal(await nics(), 2, 'the guest has a second NIC');
    assert.equal((await json('port', 'list', '--server', 'alpha')).length, 2);
    await os('server', 'remove', 'network', 'alpha', 'second');
    await eventually('the address to leave server show', async () => !Object.keys((await json('server', 'show', 'alpha')).addresses).includes('second'), 120_000, 1000);
    assert.equal(await nics(), 1, 'the NIC is unplugged');
    await eventually('the port made for it to go', async () => (await json('port', 'list', '--network', 'second')).length === 0, 60_000, 500);
    await os('subnet', 'delete', 'second-v4');
    await os('network', 'delete', 'second');
  });

  it('makes a router, joins the subnet at its gateway, and refuses to delete it while it has interfaces', async () => {
    const router = await json('router', 'create', 'r1');
    assert.equal(router.status, 'ACTIVE');
    await os('router', 'add', 'subnet', 'r1', 'private-v4');
    const legs = await json('port', 'list', '--router', 'r1', '--long');
    assert.equal(legs.length, 1);
    assert.equal(legs[0]['Device Owner'], 'network:router_interface');
    assert.deepEqual(legs[0]['Fixed IP Addresses'].map((f: { ip_address: string }) => f.ip_address), ['10.30.0.1']);
    // Extra routes: a next hop on a joined subnet, in OVN's static routes; one elsewhere is refused.
    await os('router', 'set', '--route', 'destination=10.99.0.0/24,gateway=10.30.0.5', 'r1');
    assert.deepEqual((await json('router', 'show', 'r1')).routes, [{ destination: '10.99.0.0/24', nexthop: '10.30.0.5' }]);
    const lr = `neutron-${router.id}`;
    await eventually('the static route in OVN', async () => (await sh('ovn-nbctl', [`--db=${ovnLayout(cloud.dir).nbRemote}`, 'lr-route-list', lr])).stdout.includes('10.99.0.0/24'), 30_000, 500);
    const far = await run(cloud, ['router', 'set', '--route', 'destination=10.98.0.0/24,gateway=192.168.1.1', 'r1']);
    assert.match(far.stderr, /400.*not connected with router/);
    await os('router', 'unset', '--route', 'destination=10.99.0.0/24,gateway=10.30.0.5', 'r1');
    assert.deepEqual((await json('router', 'show', 'r1')).routes, []);
    const busy = await run(cloud, ['router', 'delete', 'r1']);
    assert.notEqual(busy.code, 0);
    const busyNet = await run(cloud, ['subnet', 'delete', 'private-v4']);
    assert.match(busyNet.stderr, /409|in use|One or more ports/i);
    await os('router', 'remove', 'subnet', 'r1', 'private-v4');
    await eventually('the router interface port to go', async () => (await json('port', 'list', '--router', 'r1')).length === 0, 60_000, 500);
    // By port: a port of the tenant's becomes the router's leg at its own address, and goes when removed.
    await os('port', 'create', '--network', 'private', '--fixed-ip', 'subnet=private-v4,ip-address=10.30.0.254', 'rport');
    await os('router', 'add', 'port', 'r1', 'rport');
    const taken = await json('port', 'show', 'rport');
    assert.equal(taken.device_owner, 'network:router_interface');
    assert.equal(taken.device_id, router.id);
    await os('router', 'remove', 'port', 'r1', 'rport');
    await eventually('the port to go with the interface', async () => (await run(cloud, ['port', 'show', 'rport'])).code !== 0, 60_000, 500);
    await os('router', 'delete', 'r1');
  });

  it('reaches a server through a floating IP from the provider network, and no longer once it is unset', async () => {
    const ext = ovnLayout(cloud.dir).externalNetns;
    await sh('ip', ['-n', ext, 'addr', 'replace', '172.24.4.1/24', 'dev', 'ext0']);
    const reachable = (ip: string) => sh('ip', ['netns', 'exec', ext, 'ping', '-c', '1', '-W', '2', ip]).then(() => true, () => false);
    await os('network', 'create', '--external', 'public');
    await os('subnet', 'create', '--network', 'public', '--subnet-range', '172.24.4.0/24', '--gateway', '172.24.4.1', '--no-dhcp', '--allocation-pool', 'start=172.24.4.10,end=172.24.4.99', 'public-v4');
    await os('router', 'create', 'edge');
    await os('router', 'set', '--external-gateway', 'public', 'edge');
    await os('router', 'add', 'subnet', 'edge', 'private-v4');
    const gw = (await json('router', 'show', 'edge')).external_gateway_info;
    assert.equal(gw.enable_snat, true);
    assert.match(gw.external_fixed_ips[0].ip_address, /^172\.24\.4\.\d+$/);
    // Whether a gateway translates is the admin's to choose (Neutron's policy for ext-gw-mode's enable_snat).
    const mine = await as('bob', 'other', 'router', 'create', 'bobs');
    assert.equal(mine.code, 0, mine.stderr);
    const snatOff = await as('bob', 'other', 'router', 'set', '--external-gateway', 'public', '--disable-snat', 'bobs');
    assert.match(snatOff.stderr, /403.*rule:update_router:external_gateway_info:enable_snat\) is disallowed by policy/);
    assert.equal((await as('bob', 'other', 'router', 'delete', 'bobs')).code, 0);
    await os('router', 'set', '--external-gateway', 'public', '--disable-snat', 'edge');
    assert.equal((await json('router', 'show', 'edge')).external_gateway_info.enable_snat, false, 'an admin turns it off');
    // The admin chooses the gateway's address too (external_fixed_ips); a member may not. A port deleted a moment
    // before has given its address back by the time its delete answers, as in Neutron (Tempest reuses it at once).
    await os('port', 'create', '--network', 'public', '--fixed-ip', 'ip-address=172.24.4.50', 'placeholder');
    await os('port', 'delete', 'placeholder');
    await os('router', 'set', '--external-gateway', 'public', '--enable-snat', '--fixed-ip', 'ip-address=172.24.4.50', 'edge');
    assert.equal((await json('router', 'show', 'edge')).external_gateway_info.external_fixed_ips[0].ip_address, '172.24.4.50');
    const taken = await run(cloud, ['router', 'create', '--external-gateway', 'public', '--fixed-ip', 'ip-address=172.24.4.50', 'second-edge']);
    assert.match(taken.stderr, /409.*IP address 172\.24\.4\.50 already allocated/);
    assert.deepEqual((await json('router', 'list')).filter((r: { Name: string }) => r.Name === 'second-edge'), [], 'the refused router was not made');
    await os('security', 'group', 'rule', 'create', '--protocol', 'icmp', 'default');
    const fip = await json('floating', 'ip', 'create', 'public');
    assert.equal(fip.status, 'DOWN');
    await os('server', 'add', 'floating', 'ip', 'alpha', fip.floating_ip_address);
    const shown = await json('floating', 'ip', 'show', fip.id);
    assert.equal(shown.fixed_ip_address, '10.30.0.10');
    await eventually(`${fip.floating_ip_address} to answer from the provider network`, () => reachable(fip.floating_ip_address), 60_000, 1000);
    // Moved to another server's port and back, each answer says where it is now (as Tempest checks it).
    const { token, endpoint } = await networkingApi();
    type Listed = { ID: string; 'Fixed IP Addresses': Array<{ ip_address: string }> };
    for (const server of ['beta', 'alpha']) {
      const port = ((await json('port', 'list', '--server', server)) as Listed[])[0];
      const moved = await fetch(`${endpoint}/v2.0/floatingips/${fip.id}`, { method: 'PUT', headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' }, body: JSON.stringify({ floatingip: { port_id: port.ID } }) });
      assert.equal(moved.status, 200);
      const now = ((await moved.json()) as { floatingip: { port_id: string; fixed_ip_address: string } }).floatingip;
      assert.deepEqual([now.port_id, now.fixed_ip_address], [port.ID, port['Fixed IP Addresses'][0].ip_address], `the answer to moving it to ${server}`);
    }
    await eventually(`${fip.floating_ip_address} to answer again once back on alpha`, () => reachable(fip.floating_ip_address), 60_000, 1000);
    await os('server', 'remove', 'floating', 'ip', 'alpha', fip.floating_ip_address);
    await eventually(`${fip.floating_ip_address} to stop answering`, async () => !(await reachable(fip.floating_ip_address)), 60_000, 1000);
    // Nova's floating IP proxy (before 2.36; its actions before 2.44), over the same floating IPs.
    const compute = cloud.admin().authUrl.replace(/\/identity\/v3$/, '/compute/v2.1');
    const nova = async (method: string, path: string, body?: unknown, version = '2.1') => {
      const res = await fetch(`${compute}${path}`, { method, headers: { 'X-Auth-Token': token, 'X-OpenStack-Nova-API-Version': version, ...(body ? { 'Content-Type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    };
    const [alphaId, betaId] = [(await json('server', 'show', 'alpha')).id, (await json('server', 'show', 'beta')).id];
    assert.deepEqual((await nova('GET', '/os-floating-ip-pools')).body.floating_ip_pools, [{ name: 'public' }]);
    assert.equal((await nova('POST', '/os-floating-ips', { pool: 'no-such-pool' })).status, 404);
    const made = await nova('POST', '/os-floating-ips', { pool: 'public' });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    const proxied = made.body.floating_ip;
    assert.deepEqual([proxied.pool, proxied.fixed_ip, proxied.instance_id], ['public', null, null]);
    assert.equal((await json('floating', 'ip', 'show', proxied.id)).floating_ip_address, proxied.ip, 'the same floating IP, in Neutron');
    assert.equal((await nova('POST', `/servers/${alphaId}/action`, { addFloatingIp: { address: proxied.ip } })).status, 202);
    assert.deepEqual((await nova('GET', `/os-floating-ips/${proxied.id}`)).body.floating_ip, { ...proxied, fixed_ip: '10.30.0.10', instance_id: alphaId });
    await eventually(`${proxied.ip} (associated through Nova) to answer`, () => reachable(proxied.ip), 60_000, 1000);
    const second = (await nova('POST', '/os-floating-ips', { pool: 'public' })).body.floating_ip;
    const refused = await nova('POST', `/servers/${alphaId}/action`, { addFloatingIp: { address: second.ip } });
    assert.equal(refused.status, 400, "a port holds one floating IP: Neutron's refusal is Nova's 400");
    assert.match(refused.body.badRequest.message, /as that fixed IP already has a floating IP on external network/);
    assert.equal((await nova('POST', `/servers/${betaId}/action`, { removeFloatingIp: { address: proxied.ip } })).status, 409, 'not associated with beta');
    assert.equal((await nova('POST', `/servers/${alphaId}/action`, { removeFloatingIp: { address: proxied.ip } }, '2.44')).status, 404, 'the actions are gone at 2.44');
    assert.equal((await nova('POST', `/servers/${alphaId}/action`, { removeFloatingIp: { address: proxied.ip } })).status, 202);
    await eventually(`${proxied.ip} to stop answering once removed through Nova`, async () => !(await reachable(proxied.ip)), 60_000, 1000);
    for (const f of [proxied, second]) assert.equal((await nova('DELETE', `/os-floating-ips/${f.id}`)).status, 202);
    assert.equal((await nova('GET', `/os-floating-ips/${proxied.id}`)).status, 404);
    assert.equal((await nova('GET', '/os-floating-ips', undefined, '2.36')).status, 404, 'gone from 2.36');
    // A port deleted while it holds the floating IP lets go of it at once, as in Neutron.
    const holder = await json('port', 'create', '--network', 'private', 'holder');
    await os('floating', 'ip', 'set', '--port', 'holder', fip.id);
    assert.equal((await json('floating', 'ip', 'show', fip.id)).port_id, holder.id);
    await os('port', 'delete', 'holder');
    const released = await json('floating', 'ip', 'show', fip.id);
    assert.deepEqual([released.port_id, released.fixed_ip_address, released.router_id, released.status], [null, null, null, 'DOWN']);
    await os('floating', 'ip', 'delete', fip.id);
    await os('router', 'remove', 'subnet', 'edge', 'private-v4');
    await os('router', 'unset', '--external-gateway', 'edge');
    await os('router', 'delete', 'edge');
    // A floating IP no port holds goes with its external network, subnet and all, as in Neutron; a list with a
    // filter on what floating IPs do not have ignores it (Neutron without filter-validation).
    const spare = await json('floating', 'ip', 'create', 'public');
    const listed = await fetch(`${endpoint}/v2.0/floatingips?invalid_filter=x`, { headers: { 'X-Auth-Token': token } });
    assert.ok(((await listed.json()) as { floatingips: Array<{ id: string }> }).floatingips.some((f) => f.id === spare.id), 'an unknown filter is ignored');
    await os('network', 'delete', 'public');
    assert.deepEqual((await json('floating', 'ip', 'list')).filter((f: { ID: string }) => f.ID === spare.id), []);
    assert.deepEqual(await json('subnet', 'list', '--name', 'public-v4'), []);
  });

  it('leaves nothing behind once the servers, ports, subnet and network are deleted', async () => {
    await os('server', 'delete', '--wait', 'alpha', 'beta');
    await os('security', 'group', 'delete', 'web');
    await os('subnet', 'delete', 'private-v4');
    await os('network', 'delete', 'private');
    assert.deepEqual(await json('port', 'list'), []);
    await eventually('no switch port left in OVN', async () => (await nbRows()).length === 0, 60_000, 500);
  });

  itAskedNothingTheChartRefuses(() => cloud);
});
