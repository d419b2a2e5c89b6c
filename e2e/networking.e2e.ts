/**
 * Networking as a kubectl user drives it against `stratus up`: a Network and Subnet applied, two servers on
 * it get their addresses from OVN's DHCP and ping each other; their Ports are bound and ACTIVE; the node's
 * switch and its guest links live in the cloud's own network namespace, none in the machine's; deleting
 * everything leaves no OVN row, switch port, tap or namespace behind.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '@stratus/apiserver';
import { startCloud, type RunningCloud } from '@stratus/cli';
import { ovnLayout } from '@stratus/neutron';
import { runKubectl } from './lib/cluster.js';
import { serveTestImage, type ServedImage } from './lib/testImage.js';
import { itAskedNothingTheChartRefuses } from './lib/up.js';

const sh = promisify(execFile);
const lines = async (cmd: string, ...args: string[]) => (await sh(cmd, args)).stdout.split('\n').filter(Boolean);

describe('networking with kubectl: servers on an OVN network', function () {
  this.timeout(600_000);
  let cloud: RunningCloud;
  let image: ServedImage;
  const kubectlOk = async (args: string[], stdin?: string) => {
    const r = await runKubectl(cloud.kubeconfig, cloud.dir, args, stdin);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const layout = () => ovnLayout(cloud.dir);
  const nb = (...args: string[]) => lines('ovn-nbctl', `--db=${layout().nbRemote}`, '--bare', ...args);
  /** NB rows of tenants' resources (the drop-all port group of port security is the cloud's own and stays). */
  const nbOurs = async () => [...(await nb('--columns=name', 'list', 'Logical_Switch')), ...(await nb('--columns=name', 'list', 'Logical_Switch_Port')), ...(await nb('--columns=_uuid', 'list', 'DHCP_Options')), ...(await nb('--columns=name', 'list', 'Port_Group')).filter((n) => n !== 'neutron_pg_drop'), ...(await nb('--columns=name', 'list', 'Logical_Router'))];
  const switchPorts = async () => [...(await lines('ovs-vsctl', `--db=${layout().ovsRemote}`, 'list-ports', 'br-int')), ...(await lines('ovs-vsctl', `--db=${layout().ovsRemote}`, 'list-ports', 'br-ex'))].filter((p) => !p.startsWith('patch-'));
  const taps = async (netns?: string) => (await lines('ip', ...(netns ? ['-n', netns] : []), '-o', 'link', 'show')).filter((l) => /^\d+: tap/.test(l));
  async function consoleOf(ns: string, name: string, marker: RegExp, timeoutMs = 180_000): Promise<string> {
    const uid = (await kubectlOk(['get', `instance/${name}`, '-n', ns, '-o', 'jsonpath={.metadata.uid}'])).trim();
    const file = join(cloud.dir, 'nova/instances', uid, 'console.log');
    let text = '';
    await eventually(`${marker} on the console of ${name}`, () => {
      text = existsSync(file) ? readFileSync(file, 'latin1') : '';
      return marker.test(text);
    }, timeoutMs, 500);
    return text;
  }

  before(async () => {
    image = await serveTestImage();
    cloud = await startCloud(undefined, undefined, { imageImportAllow: [image.host] });
  });
  after(async () => {
    image?.close();
    await cloud?.stop();
    await cloud?.remove();
  });

  it('gives two servers on one network their addresses by DHCP, and they reach each other', async () => {
    await kubectlOk(['apply', '-f', '-'], 'apiVersion: identity.stratus.io/v1alpha1\nkind: Tenant\nmetadata: {name: demo}\nspec: {}');
    await kubectlOk(['wait', '--for=condition=Ready', 'tenant/demo', '--timeout=60s']);
    const ping = Buffer.from('#!/bin/sh\n# Both servers boot at once: the other one is waited for (up to 60 tries, some 5 minutes), not pinged once.\ni=0\nwhile [ $i -lt 60 ]; do ping -c 1 -W 2 10.20.0.10 && { echo PING-OK; exit 0; }; i=$((i+1)); sleep 3; done\necho PING-FAILED\n').toString('base64');
    // Nova boots only an active image, as its API does.
    await kubectlOk(['apply', '-f', '-'], [
      'apiVersion: compute.stratus.io/v1alpha1\nkind: Flavor\nmetadata: {name: m1.tiny}\nspec: {vcpus: 1, ramMiB: 256, diskGiB: 1}',
      `apiVersion: image.stratus.io/v1alpha1\nkind: Image\nmetadata: {name: stratus-test, namespace: demo}\nspec: {diskFormat: raw, visibility: public, source: {url: "${image.url}", checksum: "${image.md5}"}}`,
    ].join('\n---\n'));
    await kubectlOk(['wait', '--for=condition=Ready', 'image/stratus-test', '-n', 'demo', '--timeout=120s']);
    // The network, its subnet and the servers on it in one apply: the ports wait for the subnet.
    await kubectlOk(['apply', '-f', '-'], [
      'apiVersion: network.stratus.io/v1alpha1\nkind: Network\nmetadata: {name: private, namespace: demo}\nspec: {displayName: private}',
      'apiVersion: network.stratus.io/v1alpha1\nkind: Subnet\nmetadata: {name: private-v4, namespace: demo}\nspec: {network: private, cidr: 10.20.0.0/24}',
      'apiVersion: compute.stratus.io/v1alpha1\nkind: Instance\nmetadata: {name: a, namespace: demo}\nspec: {flavor: m1.tiny, image: {name: stratus-test}, networks: [{network: private, fixedIP: 10.20.0.10}]}',
      `apiVersion: compute.stratus.io/v1alpha1\nkind: Instance\nmetadata: {name: b, namespace: demo}\nspec: {flavor: m1.tiny, image: {name: stratus-test}, networks: [{network: private}], userData: "${ping}"}`,
    ].join('\n---\n'));
    await kubectlOk(['wait', '--for=condition=Ready', 'network/private', 'subnet/private-v4', '-n', 'demo', '--timeout=60s']);
    await kubectlOk(['wait', '--for=condition=Ready', 'instance/a', 'instance/b', '-n', 'demo', '--timeout=300s']);
    const a = await consoleOf('demo', 'a', /STRATUS-NET eth0 \S+/);
    assert.match(a, /STRATUS-NET eth0 10\.20\.0\.10 gateway=10\.20\.0\.1 mtu=1442/);
    const portId = (await kubectlOk(['get', 'port/a-nic0', '-n', 'demo', '-o', 'jsonpath={.metadata.uid}'])).trim();
    assert.match(a, new RegExp(`STRATUS-NETWORK-DATA "vif_id": *"${portId}"`), 'the config drive says the NIC in network_data.json');
    const b = await consoleOf('demo', 'b', /USER-SCRIPT PING-(OK|FAILED)/, 600_000);
    assert.match(b, /STRATUS-NET eth0 10\.20\.0\.\d+ gateway=10\.20\.0\.1/);
    assert.match(b, /USER-SCRIPT PING-OK/, `b could not ping a:\n${b.slice(-1500)}`);
    // The ports the servers got: bound on this node's chassis and ACTIVE, their addresses in the instances' status.
    await kubectlOk(['wait', '--for=jsonpath={.status.phase}=ACTIVE', 'port/a-nic0', 'port/b-nic0', '-n', 'demo', '--timeout=60s']);
    const addresses = JSON.parse(await kubectlOk(['get', 'instance/a', '-n', 'demo', '-o', 'jsonpath={.status.addresses}']));
    assert.deepEqual(addresses.map((x: { network: string; ips: string[] }) => [x.network, x.ips]), [['private', ['10.20.0.10']]]);
  });

  it('drops what no security group rule allows, and lets it through once a rule does', async () => {
    const probe = Buffer.from('#!/bin/sh\nwhile true; do ping -c 1 -W 1 10.20.0.30 >/dev/null 2>&1 && echo PROBE-OK || echo PROBE-DROPPED; sleep 1; done\n').toString('base64');
    await kubectlOk(['apply', '-f', '-'], [
      'apiVersion: network.stratus.io/v1alpha1\nkind: SecurityGroup\nmetadata: {name: locked, namespace: demo}\nspec: {rules: [{direction: egress}]}',
      'apiVersion: compute.stratus.io/v1alpha1\nkind: Instance\nmetadata: {name: c, namespace: demo}\nspec: {flavor: m1.tiny, image: {name: stratus-test}, securityGroups: [locked], networks: [{network: private, fixedIP: 10.20.0.30}]}',
      `apiVersion: compute.stratus.io/v1alpha1\nkind: Instance\nmetadata: {name: d, namespace: demo}\nspec: {flavor: m1.tiny, image: {name: stratus-test}, networks: [{network: private}], userData: "${probe}"}`,
    ].join('\n---\n'));
    await kubectlOk(['wait', '--for=condition=Ready', 'instance/c', 'instance/d', '-n', 'demo', '--timeout=300s']);
    await consoleOf('demo', 'c', /STRATUS-NET eth0 10\.20\.0\.30/);
    const before = await consoleOf('demo', 'd', /(USER-SCRIPT PROBE-DROPPED[\s\S]*){5}/);
    assert.ok(!before.includes('USER-SCRIPT PROBE-OK'), `nothing lets ICMP into c:\n${before.slice(-3000)}`);
    await kubectlOk(['patch', 'securitygroup/locked', '-n', 'demo', '--type=merge', '-p', '{"spec":{"rules":[{"direction":"egress"},{"direction":"ingress","protocol":"icmp"}]}}']);
    await consoleOf('demo', 'd', /USER-SCRIPT PROBE-OK/);
  });

  it('lets a server send from a VIP once its port allows that address pair, and drops it before', async () => {
    // v takes 10.20.0.50 as a second address (a VIP, as keepalived would) and pings c from it: c lets ICMP in
    // from anywhere since the test above, so only v's own port security stands between them.
    const vip = Buffer.from('#!/bin/sh\nip addr add 10.20.0.50/24 dev eth0\nwhile true; do ping -c 1 -W 1 -I 10.20.0.50 10.20.0.30 >/dev/null 2>&1 && echo VIP-OK || echo VIP-DROPPED; sleep 1; done\n').toString('base64');
    await kubectlOk(['apply', '-f', '-'], `apiVersion: compute.stratus.io/v1alpha1\nkind: Instance\nmetadata: {name: v, namespace: demo}\nspec: {flavor: m1.tiny, image: {name: stratus-test}, networks: [{network: private}], userData: "${vip}"}`);
    await kubectlOk(['wait', '--for=condition=Ready', 'instance/v', '-n', 'demo', '--timeout=300s']);
    const before = await consoleOf('demo', 'v', /(USER-SCRIPT VIP-DROPPED[\s\S]*){5}/);
    assert.ok(!before.includes('USER-SCRIPT VIP-OK'), `port security lets nothing leave v from an address not its own:\n${before.slice(-3000)}`);
    await kubectlOk(['patch', 'port/v-nic0', '-n', 'demo', '--type=merge', '-p', '{"spec":{"allowedAddressPairs":[{"ipAddress":"10.20.0.50"}]}}']);
    await consoleOf('demo', 'v', /USER-SCRIPT VIP-OK/);
    // The same pair on a port without port security is refused: it would mean nothing there.
    const refused = await runKubectl(cloud.kubeconfig, cloud.dir, ['patch', 'port/v-nic0', '-n', 'demo', '--type=merge', '-p', '{"spec":{"portSecurityEnabled":false,"securityGroups":[]}}']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /allowed address pairs need port security/);
  });

  it('gives a server the extra DHCP options its port asks for, from OVN’s DHCP server', async () => {
    // x asks for a lease every few seconds and says the options it got: none of these until its port has them.
    const show = Buffer.from([
      '#!/bin/sh',
      "printf '#!/bin/sh\\n[ \"$1\" = bound ] && echo \"DHCP-OPTIONS domain=$domain bootfile=$bootfile ntp=$ntpsrv\"\\n' > /tmp/dhcp-show",
      'chmod +x /tmp/dhcp-show',
      'while true; do udhcpc -i eth0 -s /tmp/dhcp-show -q -n -t 3 -T 1 -O bootfile -O ntpsrv 2>/dev/null; sleep 2; done',
      '',
    ].join('\n')).toString('base64');
    await kubectlOk(['apply', '-f', '-'], `apiVersion: compute.stratus.io/v1alpha1\nkind: Instance\nmetadata: {name: x, namespace: demo}\nspec: {flavor: m1.tiny, image: {name: stratus-test}, networks: [{network: private}], userData: "${show}"}`);
    await kubectlOk(['wait', '--for=condition=Ready', 'instance/x', '-n', 'demo', '--timeout=300s']);
    const before = await consoleOf('demo', 'x', /USER-SCRIPT DHCP-OPTIONS [^\n]*\n/);
    assert.match(before, /USER-SCRIPT DHCP-OPTIONS domain= bootfile= ntp=\s/, 'its subnet’s options only');
    await kubectlOk(['patch', 'port/x-nic0', '-n', 'demo', '--type=merge', '-p', JSON.stringify({ spec: { extraDHCPOptions: [{ name: 'domain-name', value: 'example.test' }, { name: 'bootfile-name', value: 'pxelinux.0' }, { name: 'ntp-server', value: '10.20.0.9' }] } })]);
    await consoleOf('demo', 'x', /USER-SCRIPT DHCP-OPTIONS domain=example\.test bootfile=pxelinux\.0 ntp=10\.20\.0\.9/);
  });

  it('lets a server on another network reach them once a router joins the two subnets', async () => {
    const probe = Buffer.from('#!/bin/sh\nwhile true; do ping -c 1 -W 1 10.20.0.10 >/dev/null 2>&1 && echo ROUTED-OK || echo ROUTED-UNREACHABLE; sleep 1; done\n').toString('base64');
    await kubectlOk(['apply', '-f', '-'], [
      'apiVersion: network.stratus.io/v1alpha1\nkind: Network\nmetadata: {name: backend, namespace: demo}\nspec: {}',
      'apiVersion: network.stratus.io/v1alpha1\nkind: Subnet\nmetadata: {name: backend-v4, namespace: demo}\nspec: {network: backend, cidr: 10.21.0.0/24}',
      `apiVersion: compute.stratus.io/v1alpha1\nkind: Instance\nmetadata: {name: e, namespace: demo}\nspec: {flavor: m1.tiny, image: {name: stratus-test}, networks: [{network: backend}], userData: "${probe}"}`,
    ].join('\n---\n'));
    await kubectlOk(['wait', '--for=condition=Ready', 'instance/e', '-n', 'demo', '--timeout=300s']);
    const before = await consoleOf('demo', 'e', /(USER-SCRIPT ROUTED-UNREACHABLE[\s\S]*){3}/);
    assert.ok(!before.includes('USER-SCRIPT ROUTED-OK'), 'no path between the networks without a router');
    await kubectlOk(['apply', '-f', '-'], 'apiVersion: network.stratus.io/v1alpha1\nkind: Router\nmetadata: {name: r1, namespace: demo}\nspec: {interfaces: [{subnet: private-v4}, {subnet: backend-v4}]}');
    await kubectlOk(['wait', '--for=condition=Ready', 'router/r1', '-n', 'demo', '--timeout=60s']);
    await consoleOf('demo', 'e', /USER-SCRIPT ROUTED-OK/);
  });

  it('reaches a server from the provider network through a floating IP, and no longer once it is released', async () => {
    const ext = layout().externalNetns;
    // The provider network's side: the upstream router's address, in the cloud's own provider namespace.
    await sh('ip', ['-n', ext, 'addr', 'replace', '172.24.4.1/24', 'dev', 'ext0']);
    const pingFromOutside = (ip: string) => sh('ip', ['netns', 'exec', ext, 'ping', '-c', '1', '-W', '2', ip]).then(() => true, () => false);
    await kubectlOk(['apply', '-f', '-'], [
      'apiVersion: network.stratus.io/v1alpha1\nkind: Network\nmetadata: {name: public, namespace: demo}\nspec: {external: true}',
      'apiVersion: network.stratus.io/v1alpha1\nkind: Subnet\nmetadata: {name: public-v4, namespace: demo}\nspec: {network: public, cidr: 172.24.4.0/24, gatewayIP: 172.24.4.1, enableDHCP: false, allocationPools: [{start: 172.24.4.100, end: 172.24.4.200}]}',
    ].join('\n---\n'));
    await kubectlOk(['wait', '--for=condition=Ready', 'subnet/public-v4', '-n', 'demo', '--timeout=60s']);
    await kubectlOk(['patch', 'router/r1', '-n', 'demo', '--type=merge', '-p', '{"spec":{"externalGateway":{"network":"public"}}}']);
    await kubectlOk(['wait', '--for=jsonpath={.status.gatewayIP}=172.24.4.100', 'router/r1', '-n', 'demo', '--timeout=60s']);
    // The default group lets in only its own members: ICMP from anywhere is allowed for this test.
    await kubectlOk(['patch', 'securitygroup/default', '-n', 'demo', '--type=json', '-p', '[{"op":"add","path":"/spec/rules/-","value":{"direction":"ingress","protocol":"icmp","remoteIPPrefix":"0.0.0.0/0"}}]']);
    await kubectlOk(['apply', '-f', '-'], 'apiVersion: network.stratus.io/v1alpha1\nkind: FloatingIP\nmetadata: {name: fip-a, namespace: demo}\nspec: {network: public, port: a-nic0}');
    await kubectlOk(['wait', '--for=jsonpath={.status.phase}=ACTIVE', 'floatingip/fip-a', '-n', 'demo', '--timeout=60s']);
    const fip = (await kubectlOk(['get', 'floatingip/fip-a', '-n', 'demo', '-o', 'jsonpath={.status.floatingIPAddress}'])).trim();
    assert.match(fip, /^172\.24\.4\.\d+$/);
    await eventually(`${fip} to answer from the provider network`, () => pingFromOutside(fip), 60_000, 1000);
    await kubectlOk(['delete', 'floatingip/fip-a', '-n', 'demo', '--timeout=60s']);
    await eventually(`${fip} to stop answering once released`, async () => !(await pingFromOutside(fip)), 60_000, 1000);
    assert.ok(!(await lines('ip', '-o', 'addr', 'show')).some((l) => l.includes('172.24.4.')), 'no provider address in the machine namespace');
  });

  it('keeps every guest link in the cloud’s own network namespace, none in the machine’s', async () => {
    assert.equal((await switchPorts()).filter((p) => p.startsWith('tap')).length, 7, 'seven guest ports on br-int');
    assert.equal((await taps(layout().netns)).length, 7);
    assert.deepEqual(await taps(), [], 'no tap in the machine namespace');
    const hostAddrs = await lines('ip', '-o', 'addr', 'show');
    assert.ok(!hostAddrs.some((l) => l.includes('10.20.0.')), 'no tenant address in the machine namespace');
  });

  it('leaves no OVN row, switch port, tap or namespace behind once everything is deleted', async () => {
    await kubectlOk(['delete', 'instance/a', 'instance/b', 'instance/c', 'instance/d', 'instance/e', 'instance/v', 'instance/x', 'router/r1', '-n', 'demo', '--timeout=120s']);
    await kubectlOk(['delete', 'network/private', 'network/backend', 'network/public', 'securitygroup/locked', 'securitygroup/default', '-n', 'demo', '--timeout=120s']);
    await kubectlOk(['wait', '--for=delete', 'subnet/private-v4', 'port/a-nic0', 'port/b-nic0', '-n', 'demo', '--timeout=60s']);
    await eventually('no OVN northbound row of the deleted resources', async () => (await nbOurs()).length === 0, 60_000, 500);
    assert.deepEqual((await switchPorts()).filter((p) => p !== 'phy0'), []);
    assert.deepEqual(await taps(layout().netns), []);
    const { netns } = layout();
    const pids = ['ovsdb-nb', 'ovsdb-sb', 'ovn-northd', 'ovsdb-ovs', 'ovs-vswitchd', 'ovn-controller'].map((d) => Number(readFileSync(join(layout().dir, `${d}.pid`), 'utf8')));
    await cloud.stop();
    assert.ok(!(await lines('ip', 'netns', 'list')).some((l) => l.startsWith(netns)), `namespaces ${netns} and ${netns}-ext removed`);
    for (const pid of pids) assert.ok(!existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] === 'Z', `OVN daemon ${pid} stopped`);
  });

  itAskedNothingTheChartRefuses(() => cloud);
});
