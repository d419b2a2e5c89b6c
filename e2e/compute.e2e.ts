/**
 * Compute as users drive it against `stratus up`: manifests applied with kubectl boot the test disk image
 * under QEMU through libvirt, and the real `openstack` CLI creates, lists, shows, stops, starts, reboots,
 * reads the console log of and deletes servers. After every deletion no libvirt domain and no file is left.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startCloud, type RunningCloud } from '@stratus/cli';
import { runKubectl } from './lib/cluster.js';
import { openstack as run, openstackJson, openstackOk, itAskedNothingTheChartRefuses } from './lib/up.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const sh = promisify(execFile);
const virsh = (...args: string[]) => sh('virsh', ['-q', '-c', 'qemu:///system', ...args]).then((r) => r.stdout.trim());

describe('compute with kubectl and the openstack CLI', function () {
  this.timeout(300_000);
  let cloud: RunningCloud;
  let image: string;
  let files: http.Server;
  let imageUrl: string;
  const os = (...args: string[]) => openstackOk(cloud, args);
  const json = (...args: string[]) => openstackJson(cloud, args);
  const kubectl = (args: string[], stdin?: string) => runKubectl(cloud.kubeconfig, cloud.dir, args, stdin);
  const kubectlOk = async (args: string[], stdin?: string) => {
    const r = await kubectl(args, stdin);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** The guests this cloud's node agent made (other clouds may share the libvirt). */
  const instanceDirs = () => (existsSync(join(cloud.dir, 'nova/instances')) ? readdirSync(join(cloud.dir, 'nova/instances')) : []);
  const domains = async () => (await virsh('list', '--all', '--name')).split('\n').filter((n) => n.startsWith('instance-'));
  async function consoleUntil(server: string, marker: string, count = 1): Promise<string> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const out = await os('console', 'log', 'show', server);
      if (out.split(marker).length - 1 >= count) return out;
      assert.ok(Date.now() < deadline, `no ${count}× ${marker} in the console log of ${server}:\n${out.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  before(async () => {
    image = (await sh('bash', [join(ROOT, 'hack/build-test-image.sh')], { maxBuffer: 1 << 20 })).stdout.trim().split('\n').pop()!;
    files = http.createServer((req, res) => (req.url === '/stratus-test.img' ? res.end(readFileSync(image)) : res.writeHead(404).end()));
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    imageUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}/stratus-test.img`;
    cloud = await startCloud(undefined, undefined, { imageImportAllow: [new URL(imageUrl).host] });
  });
  after(async () => {
    files?.close();
    await cloud?.stop();
    await cloud?.remove();
  });

  it('boots an Instance applied with kubectl: the guest prints its marker, and it is Ready and ACTIVE', async () => {
    const md5 = createHash('md5').update(readFileSync(image)).digest('hex');
    // The Tenant first: it makes the namespace the rest lives in.
    await kubectlOk(['apply', '-f', '-'], 'apiVersion: identity.stratus.io/v1alpha1\nkind: Tenant\nmetadata: {name: demo}\nspec: {description: Demo}');
    await kubectlOk(['wait', '--for=condition=Ready', 'tenant/demo', '--timeout=60s']);
    const manifest = [
      'apiVersion: compute.stratus.io/v1alpha1\nkind: Flavor\nmetadata: {name: m1.tiny}\nspec: {vcpus: 1, ramMiB: 256, diskGiB: 1}',
      `apiVersion: image.stratus.io/v1alpha1\nkind: Image\nmetadata: {name: stratus-test, namespace: demo}\nspec: {diskFormat: raw, visibility: public, source: {url: "${imageUrl}", checksum: "${md5}"}}`,
    ].join('\n---\n');
    await kubectlOk(['apply', '-f', '-'], manifest);
    await kubectlOk(['wait', '--for=condition=Ready', 'image/stratus-test', '-n', 'demo', '--timeout=60s']);
    await kubectlOk(['apply', '-f', '-'], 'apiVersion: compute.stratus.io/v1alpha1\nkind: Instance\nmetadata: {name: web-1, namespace: demo}\nspec: {flavor: m1.tiny, image: {name: stratus-test}}');
    await kubectlOk(['wait', '--for=condition=Ready', 'instance/web-1', '-n', 'demo', '--timeout=120s']);
    const row = await kubectlOk(['get', 'instances', '-n', 'demo']);
    assert.match(row, /web-1\s+m1\.tiny\s+stratus-test\s+\S+\s+Running\s+ACTIVE\s+True/);
    const id = (await kubectlOk(['get', 'instance/web-1', '-n', 'demo', '-o', 'jsonpath={.status.serverId}'])).trim();
    const log = await consoleUntil(id, 'STRATUS-TEST-IMAGE-READY');
    assert.match(log, new RegExp(`STRATUS-CONFIG-DRIVE instance-id=${id} hostname=web-1`));
    assert.ok((await domains()).includes(`instance-${id}`));
    assert.match(await kubectlOk(['get', 'hypervisors']), /\s+up\s+nova\s+1\s+256\s+1\s+/);
  });

  it('deletes it with kubectl, leaving no domain and no file', async () => {
    const id = (await kubectlOk(['get', 'instance/web-1', '-n', 'demo', '-o', 'jsonpath={.status.serverId}'])).trim();
    await kubectlOk(['delete', 'instance/web-1', '-n', 'demo', '--timeout=60s']);
    assert.ok(!(await domains()).includes(`instance-${id}`), 'the domain is gone');
    assert.deepEqual(instanceDirs(), [], 'no instance files');
  });

  it('drives a server through its life with the openstack CLI', async () => {
    await os('flavor', 'create', '--vcpus', '1', '--ram', '256', '--disk', '1', 'm1.small');
    const created = await json('server', 'create', '--flavor', 'm1.small', '--image', 'stratus-test', '--wait', 'web-2');
    assert.equal(created.status, 'ACTIVE');
    assert.equal(created.flavor, 'm1.small (m1.small)');
    const list = await json('server', 'list');
    assert.deepEqual(list.map((s: any) => [s.Name, s.Status, s.Image, s.Flavor]), [['web-2', 'ACTIVE', 'stratus-test', 'm1.small']]);
    const shown = await json('server', 'show', 'web-2');
    assert.equal(shown['OS-EXT-STS:power_state'], 1, "Nova's RUNNING");
    assert.equal(shown['OS-EXT-SRV-ATTR:instance_name'], `instance-${created.id}`);
    await consoleUntil('web-2', 'STRATUS-TEST-IMAGE-READY');

    await os('server', 'stop', 'web-2');
    await os('server', 'show', 'web-2'); // the stop is asked; wait for it as a user would
    await until(async () => (await json('server', 'show', 'web-2')).status === 'SHUTOFF', 'SHUTOFF');
    assert.match(await os('console', 'log', 'show', 'web-2'), /STRATUS-TEST-IMAGE-POWEROFF/, 'the guest was powered off gracefully');
    await os('server', 'start', 'web-2');
    await until(async () => (await json('server', 'show', 'web-2')).status === 'ACTIVE', 'ACTIVE');
    await consoleUntil('web-2', 'STRATUS-TEST-IMAGE-READY', 2);
    await os('server', 'reboot', '--wait', 'web-2');
    await consoleUntil('web-2', 'STRATUS-TEST-IMAGE-READY', 3);
    const last = await os('console', 'log', 'show', '--lines', '1', 'web-2');
    assert.equal(last.trim().split('\n').length, 1);

    // Shelved, its disk is the image web-2-shelved and nothing of it stays on the host; unshelved, it boots from
    // that disk and the image goes.
    await os('server', 'shelve', 'web-2');
    await until(async () => (await json('server', 'show', 'web-2')).status === 'SHELVED_OFFLOADED', 'SHELVED_OFFLOADED');
    assert.deepEqual((await json('image', 'list', '--name', 'web-2-shelved')).map((i: any) => i.Status), ['active']);
    assert.ok(!(await domains()).includes(`instance-${created.id}`), 'no guest while shelved');
    assert.deepEqual(instanceDirs(), [], 'no files while shelved');
    await os('server', 'unshelve', 'web-2');
    await until(async () => (await json('server', 'show', 'web-2')).status === 'ACTIVE', 'ACTIVE after unshelve');
    await consoleUntil('web-2', 'STRATUS-TEST-IMAGE-READY');
    await until(async () => (await json('image', 'list', '--name', 'web-2-shelved')).length === 0, 'the shelved image deleted');
    // Rescued, it runs from a disk of its image with its own disk second; unrescued, from its own again.
    await os('server', 'rescue', 'web-2');
    await until(async () => (await json('server', 'show', 'web-2')).status === 'RESCUE', 'RESCUE');
    assert.match(await virsh('domblklist', created.id), /vda\s+\S+disk\.rescue\s+vdb\s+\S+\/disk\s/);
    await os('server', 'unrescue', 'web-2');
    await until(async () => (await json('server', 'show', 'web-2')).status === 'ACTIVE', 'ACTIVE after unrescue');
    assert.match(await virsh('domblklist', created.id), /vda\s+\S+\/disk\s/);

    await os('server', 'delete', '--wait', 'web-2');
    assert.deepEqual(await json('server', 'list'), []);
    assert.ok(!(await domains()).includes(`instance-${created.id}`));
    assert.deepEqual(instanceDirs(), []);
  });

  it("shelves a server with a port and volumes: offloaded, it holds no NIC or disk; volumes come and go while it is; deleted, its port and volumes are given back", async () => {
    await os('flavor', 'create', '--vcpus', '1', '--ram', '256', '--disk', '1', 'm1.shelf');
    await os('network', 'create', 'shelf-net');
    await os('subnet', 'create', '--network', 'shelf-net', '--subnet-range', '10.9.0.0/24', 'shelf-subnet');
    const port = await json('port', 'create', '--network', 'shelf-net', 'shelf-port');
    const scratch = await json('volume', 'create', '--size', '1', 'shelf-scratch');
    await json('volume', 'create', '--size', '1', 'shelf-data');
    const volumeStatus = async (name: string) => (await json('volume', 'show', name)).status;
    await until(async () => (await volumeStatus('shelf-scratch')) === 'available' && (await volumeStatus('shelf-data')) === 'available', 'both volumes available');
    const server = await json('server', 'create', '--flavor', 'm1.shelf', '--image', 'stratus-test', '--port', 'shelf-port', '--block-device', `source_type=volume,uuid=${scratch.id},destination_type=volume,delete_on_termination=true`, '--wait', 'shelf');
    await until(async () => (await volumeStatus('shelf-scratch')) === 'in-use', 'the delete-on-termination volume in use');
    const bridgePorts = async () => (await sh('ovs-vsctl', [`--db=unix:${join(cloud.dir, 'ovn/ovs.sock')}`, 'list-ports', 'br-int'])).stdout.split('\n').filter(Boolean);
    const tap = `tap${port.id.slice(0, 11)}`;
    assert.ok((await bridgePorts()).includes(tap), 'the NIC is plugged into the switch');

    await os('server', 'shelve', 'shelf');
    await until(async () => (await json('server', 'show', 'shelf')).status === 'SHELVED_OFFLOADED', 'SHELVED_OFFLOADED');
    assert.ok(!(await bridgePorts()).includes(tap), "no NIC left in the switch: the port's tap is unplugged");
    await until(async () => (await json('port', 'show', 'shelf-port')).status === 'DOWN', 'the port DOWN');
    const offloadedPort = await json('port', 'show', 'shelf-port');
    assert.deepEqual([offloadedPort.device_id, offloadedPort.binding_host_id || ''], [server.id, ''], 'still the server’s port, bound to no host');
    assert.equal(await volumeStatus('shelf-scratch'), 'in-use', 'still attached to the offloaded server');

    // Since 2.20 volumes are attached to and detached from an offloaded server: its records alone change.
    const v220 = (...args: string[]) => os('--os-compute-api-version', '2.20', ...args);
    await v220('server', 'add', 'volume', 'shelf', 'shelf-data');
    await until(async () => (await volumeStatus('shelf-data')) === 'in-use', 'the volume in use by the offloaded server, as Nova completes such an attach');
    await v220('server', 'remove', 'volume', 'shelf', 'shelf-data');
    await until(async () => (await volumeStatus('shelf-data')) === 'available', 'the volume detached from the offloaded server');
    await v220('server', 'add', 'volume', 'shelf', 'shelf-data');

    await os('server', 'delete', '--wait', 'shelf');
    const released = await json('port', 'show', 'shelf-port');
    assert.deepEqual([released.device_id, released.device_owner], ['', ''], "the user's port is unbound, and stays");
    await until(async () => (await volumeStatus('shelf-data')) === 'available', 'the attached volume available again');
    await until(async () => !(await json('volume', 'list')).some((v: { Name: string }) => v.Name === 'shelf-scratch'), 'the delete-on-termination volume deleted');
    await os('volume', 'delete', 'shelf-data');
    await os('port', 'delete', 'shelf-port');
    await os('subnet', 'delete', 'shelf-subnet');
    await os('network', 'delete', 'shelf-net');
  });

  it('refuses what cannot boot with the reason, and leaves nothing behind', async () => {
    const fails = async (args: string[], message: RegExp) => {
      const r = await run(cloud, ['server', 'create', ...args]);
      assert.notEqual(r.code, 0, `server create ${args.join(' ')} should fail`);
      assert.match(r.stderr, message);
    };
    await fails(['--flavor', 'm9.none', '--image', 'stratus-test', 'x'], /No flavor with a name or ID of 'm9\.none' exists/);
    await fails(['--flavor', 'm1.small', '--image', 'no-such-image', 'x'], /No Image found for no-such-image/);
    await os('image', 'create', '--file', image, '--disk-format', 'raw', '--min-disk', '2', 'needs-2g');
    await fails(['--flavor', 'm1.small', '--image', 'needs-2g', 'x'], /smaller than the image's min_disk of 2 GiB.*HTTP 400/);
    // A blank volume is not bootable (Cinder's flag), so Nova will not boot from it; the volume is left as it was.
    await json('volume', 'create', '--size', '1', 'blank-disk');
    await until(async () => (await json('volume', 'show', 'blank-disk')).status === 'available', 'the blank volume available');
    await fails(['--flavor', 'm1.small', '--volume', 'blank-disk', 'x'], /Block Device [0-9a-f-]{36} is not bootable.*HTTP 400/);
    const blank = await json('volume', 'show', 'blank-disk');
    assert.deepEqual([blank.status, blank.attachments], ['available', []], 'the refused create attached nothing');
    await os('volume', 'delete', 'blank-disk');
    // Quota: the admin tenant may run one instance.
    await kubectlOk(['patch', 'tenant/admin', '--type=merge', '-p', '{"spec":{"quota":{"instances":1}}}']);
    await os('server', 'create', '--flavor', 'm1.small', '--image', 'stratus-test', '--wait', 'only-one');
    await fails(['--flavor', 'm1.small', '--image', 'stratus-test', 'one-too-many'], /Quota exceeded for instances: Requested 1, but already used 1 of 1 instances.*HTTP 403/);
    await os('server', 'delete', '--wait', 'only-one');
    await kubectlOk(['patch', 'tenant/admin', '--type=json', '-p', '[{"op":"remove","path":"/spec/quota"}]']);
    // A guest the hypervisor cannot start: ERROR with Nova's fault, and no domain or file left.
    await os('image', 'create', '--file', image, '--disk-format', 'raw', '--property', 'hw_machine_type=no-such-machine', 'odd-machine');
    const broken = await run(cloud, ['server', 'create', '--flavor', 'm1.small', '--image', 'odd-machine', '--wait', 'broken']);
    // OSC 6 reports it, though with exit status 0 (it raises a bare SystemExit).
    assert.match(broken.stdout + broken.stderr, /Error creating server/);
    const shown = await json('server', 'show', 'broken');
    assert.equal(shown.status, 'ERROR');
    assert.match(shown.fault.message, /^Build of instance .* failed: /);
    assert.ok(!(await domains()).includes(`instance-${shown.id}`));
    assert.deepEqual(instanceDirs(), []);
    await os('server', 'delete', '--wait', 'broken');
    assert.deepEqual(await json('server', 'list'), []);
  });

  async function until(check: () => Promise<boolean>, what: string, timeoutMs = 90_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      assert.ok(Date.now() < deadline, `never reached: ${what}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  itAskedNothingTheChartRefuses(() => cloud);
});
