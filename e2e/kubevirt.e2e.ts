/**
 * `stratus up --kubevirt` with the real `openstack` client and kubectl: a server created in availability zone
 * "kubevirt" lands on the kubevirt hypervisor, is a VirtualMachine with a DataVolume imported from the image
 * store, and stops, starts, pauses, reboots and goes away as Nova's API says. KubeVirt itself cannot run here
 * (no container runtime): kubevirt-simulator stands in for its controllers, so no guest boots in this test;
 * the API, the scheduler, the driver, KubeVirt's and CDI's schemas and the import from S3 are real.
 */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { eventually } from '@stratus/apiserver';
import { startCloud, type RunningCloud } from '@stratus/cli';
import { runKubectl } from './lib/cluster.js';
import { kubeconfigWithToken, kubectlOk, memberToken, openstack, openstackJson, openstackOk, itAskedNothingTheChartRefuses } from './lib/up.js';

describe('a KubeVirt compute back end with the openstack CLI and kubectl (KubeVirt played by kubevirt-simulator, a stand-in: no guest boots)', function () {
  this.timeout(600_000);
  let cloud: RunningCloud;
  let ns: string;
  const os = (...args: string[]) => openstackOk(cloud, args);
  const json = (...args: string[]) => openstackJson(cloud, args);
  const kubectl = (...args: string[]) => kubectlOk(cloud, args);
  /** Polls `server show` until the status is `status` (and no task runs): 3 minutes at most. */
  async function untilStatus(server: string, status: string): Promise<any> {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const s = await json('server', 'show', server);
      if (s.status === status && !s['OS-EXT-STS:task_state']) return s;
      assert.ok(Date.now() < deadline, `server ${server} never became ${status}: ${s.status}/${s['OS-EXT-STS:task_state']} ${s.fault ? JSON.stringify(s.fault) : ''}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  before(async () => {
    cloud = await startCloud(undefined, undefined, { args: ['--kubevirt'] });
    // A small raw disk: CDI's importer (the stand-in's, really reading S3) takes it from the image store.
    writeFileSync(join(cloud.dir, 'disk.raw'), Buffer.alloc(4 * 1024 * 1024, 1));
    await os('image', 'create', '--file', join(cloud.dir, 'disk.raw'), '--disk-format', 'raw', '--container-format', 'bare', 'tiny-disk');
    await os('flavor', 'create', '--vcpus', '2', '--ram', '512', '--disk', '1', 'm1.small');
  });
  after(async () => {
    await cloud?.stop();
    await cloud?.remove();
  });

  it('lists the KubeVirt cluster as a hypervisor of its own zone beside the libvirt node', async () => {
    const hv = await json('hypervisor', 'show', 'kubevirt');
    assert.equal(hv.hypervisor_type, 'KubeVirt');
    assert.equal(hv.state, 'up');
    const zones = (await json('availability', 'zone', 'list', '--compute')).map((z: any) => z['Zone Name']);
    assert.ok(zones.includes('kubevirt'), JSON.stringify(zones));
  });

  it('creates a server on the kubevirt hypervisor: ACTIVE, with KubeVirt’s pod address, and KubeVirt’s objects beside the Instance', async () => {
    const created = await json('server', 'create', '--flavor', 'm1.small', '--image', 'tiny-disk', '--availability-zone', 'kubevirt', '--wait', 'kv-1');
    assert.equal(created.status, 'ACTIVE');
    const shown = await json('server', 'show', 'kv-1');
    assert.equal(shown['OS-EXT-SRV-ATTR:host'], 'kubevirt');
    assert.equal(shown['OS-EXT-AZ:availability_zone'], 'kubevirt');
    assert.match(JSON.stringify(shown.addresses), /pod.*10\.244\.\d+\.\d+/);
    const list = await json('server', 'list');
    assert.deepEqual(list.map((s: any) => [s.Name, s.Status]), [['kv-1', 'ACTIVE']]);
    ns = (await kubectl('get', 'instances', '-A', '-o', 'jsonpath={.items[0].metadata.namespace}')).trim();
    const objects = await kubectl('get', 'vm,vmi,dv', '-n', ns);
    assert.match(objects, /virtualmachine\.kubevirt\.io\/kv-1\s+\S+\s+Running\s+True/);
    assert.match(objects, /virtualmachineinstance\.kubevirt\.io\/kv-1\s+\S+\s+Running\s+10\.244\.\d+\.\d+\s+kubevirt-simulator-node-0/);
    assert.match(objects, /datavolume\.cdi\.kubevirt\.io\/kv-1-root\s+Succeeded\s+100\.0%/);
    const owner = await kubectl('get', 'vm', 'kv-1', '-n', ns, '-o', 'jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}');
    assert.equal(owner, 'Instance/kv-1');
  });

  it("shows a project's reader, with kubectl and a Keystone token, KubeVirt's objects for the project's servers, and lets only Nova change them", async () => {
    const project = (await json('server', 'show', 'kv-1')).project_id as string;
    await os('user', 'create', '--password', 'viewer-pw-1', '--project', project, 'viewer');
    await os('role', 'add', '--project', project, '--user', 'viewer', 'reader');
    const projectName = (await json('project', 'show', project)).name as string;
    const kc = kubeconfigWithToken(cloud, 'viewer', await memberToken(cloud, 'viewer', projectName));
    const asViewer = (...args: string[]) => runKubectl(kc, cloud.dir, args);
    await eventually('the reader sees the server\'s VirtualMachine (once the role assignment is a RoleBinding)', async () => (await asViewer('get', 'vm', 'kv-1', '-n', ns, '-o', 'name')).stdout.trim() === 'virtualmachine.kubevirt.io/kv-1', 60_000, 500);
    const seen = await asViewer('get', 'vmi,dv,pvc', '-n', ns, '-o', 'name');
    assert.equal(seen.code, 0, seen.stderr);
    assert.match(seen.stdout, /virtualmachineinstance\.kubevirt\.io\/kv-1/);
    assert.match(seen.stdout, /datavolume\.cdi\.kubevirt\.io\/kv-1-root/);
    const removed = await asViewer('delete', 'vm', 'kv-1', '-n', ns);
    assert.match(removed.stderr, /forbidden: User "viewer" cannot delete resource "virtualmachines" in API group "kubevirt\.io"/);
    const stopped = await asViewer('patch', 'vm', 'kv-1', '-n', ns, '--type', 'merge', '-p', '{"spec":{"runStrategy":"Halted"}}');
    assert.match(stopped.stderr, /forbidden/, 'a VM is stopped through Nova, not by editing it');
    assert.equal(await kubectl('get', 'vm', 'kv-1', '-n', ns, '-o', 'jsonpath={.spec.runStrategy}'), 'Always', 'the VM is as Nova left it');
  });

  it('opens its console: noVNC’s WebSocket through the console proxy and the API server to virt-api’s VNC, speaking RFB', async () => {
    const url = (await json('console', 'url', 'show', '--novnc', 'kv-1')).url as string;
    const u = new URL(url);
    const ws = new WebSocket(`ws://${u.host}/${u.searchParams.get('path')!}`, ['binary']);
    let buf = Buffer.alloc(0);
    let waiting: (() => void) | undefined;
    ws.on('message', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      waiting?.();
    });
    const failed = new Promise<never>((_, reject) => {
      ws.on('unexpected-response', (_q, res) => reject(new Error(`console refused: ${res.statusCode} ${res.headers['x-console-refusal']}`)));
      ws.on('error', reject);
    });
    /** The next n bytes the display sends (two minutes at most). */
    const read = async (n: number): Promise<Buffer> => {
      const deadline = Date.now() + 120_000;
      while (buf.length < n) {
        assert.ok(Date.now() < deadline, `the display sent ${buf.length} of ${n} bytes`);
        await Promise.race([new Promise<void>((r) => ((waiting = r), setTimeout(r, 1000))), failed]);
      }
      const out = buf.subarray(0, n);
      buf = buf.subarray(n);
      return out;
    };
    assert.equal((await read(12)).toString(), 'RFB 003.008\n');
    ws.send(Buffer.from('RFB 003.008\n'));
    assert.deepEqual([...(await read(2))], [1, 1], 'one security type: None');
    ws.send(Buffer.from([1]));
    assert.equal((await read(4)).readUInt32BE(0), 0, 'security handshake passed');
    ws.send(Buffer.from([1]));
    const init = await read(24);
    const [width, height] = [init.readUInt16BE(0), init.readUInt16BE(2)];
    const name = (await read(init.readUInt32BE(20))).toString();
    assert.ok(width > 0 && height > 0);
    assert.match(name, new RegExp(`${ns}/kv-1`));
    const request = Buffer.alloc(10);
    request.writeUInt8(3, 0);
    request.writeUInt16BE(width, 6);
    request.writeUInt16BE(height, 8);
    ws.send(request);
    const update = await read(16);
    assert.deepEqual([update[0], update.readUInt16BE(2), update.readUInt16BE(8), update.readUInt16BE(10)], [0, 1, width, height], 'a framebuffer update of the whole screen');
    assert.equal((await read(width * height * 4)).length, width * height * 4);
    ws.close();
  });

  it('snapshots it with the CLI: a VirtualMachineSnapshot exported into an active raw image of the disk', async () => {
    await os('server', 'image', 'create', '--name', 'kv-snap', '--wait', 'kv-1');
    const snap = await json('image', 'show', 'kv-snap');
    assert.equal(snap.status, 'active');
    assert.equal(snap.disk_format, 'raw');
    // No guest ever wrote to the disk (the stand-in runs none): its snapshot is the image it came from.
    assert.equal(snap.size, (await json('image', 'show', 'tiny-disk')).size);
    const snapshots = await kubectl('get', 'virtualmachinesnapshots', '-n', ns, '-o', 'jsonpath={.items[*].status.readyToUse} {.items[*].metadata.ownerReferences[0].kind}');
    assert.equal(snapshots, 'true Image');
    assert.equal((await kubectl('get', 'vmexport', '-n', ns, '-o', 'name')).trim(), '', 'the export is let go once read');
  });

  it('stops, starts, pauses, unpauses and hard-reboots it with the CLI', async () => {
    // What KubeVirt cannot do is refused at once, and the server runs on.
    const suspend = await openstack(cloud, ['server', 'suspend', 'kv-1']);
    assert.notEqual(suspend.code, 0);
    assert.match(suspend.stderr, /409.*Cannot 'suspend' instance .*: its hypervisor kubevirt \(KubeVirt\) does not support it\./s);
    assert.equal((await json('server', 'show', 'kv-1')).status, 'ACTIVE');
    await os('server', 'stop', 'kv-1');
    await untilStatus('kv-1', 'SHUTOFF');
    assert.equal(await kubectl('get', 'vm', 'kv-1', '-n', ns, '-o', 'jsonpath={.spec.runStrategy}/{.status.printableStatus}'), 'Halted/Stopped');
    await os('server', 'start', 'kv-1');
    await untilStatus('kv-1', 'ACTIVE');
    await os('server', 'pause', 'kv-1');
    await untilStatus('kv-1', 'PAUSED');
    assert.equal(await kubectl('get', 'vmi', 'kv-1', '-n', ns, '-o', "jsonpath={.status.conditions[?(@.type=='Paused')].reason}"), 'PausedByUser');
    await os('server', 'unpause', 'kv-1');
    await untilStatus('kv-1', 'ACTIVE');
    const before = await kubectl('get', 'vmi', 'kv-1', '-n', ns, '-o', 'jsonpath={.metadata.uid}');
    await os('server', 'reboot', '--hard', 'kv-1');
    const deadline = Date.now() + 180_000;
    for (;;) {
      const r = await runKubectl(cloud.kubeconfig, cloud.dir, ['get', 'vmi', 'kv-1', '-n', ns, '-o', 'jsonpath={.metadata.uid} {.status.phase}']);
      if (r.code === 0 && !r.stdout.startsWith(before) && r.stdout.endsWith('Running')) break;
      assert.ok(Date.now() < deadline, `no new running VMI after the hard reboot: ${r.stdout} ${r.stderr}`);
      await new Promise((res) => setTimeout(res, 500));
    }
    await untilStatus('kv-1', 'ACTIVE');
  });

  it('turns away a file-pool volume attached with the CLI, as Nova does an attach its driver cannot plug: the volume is available again and the server’s events say why', async () => {
    await os('volume', 'create', '--size', '1', 'kv-pooled');
    for (const deadline = Date.now() + 180_000; (await json('volume', 'show', 'kv-pooled')).status !== 'available'; await new Promise((r) => setTimeout(r, 500))) assert.ok(Date.now() < deadline, 'the volume never became available');
    await openstack(cloud, ['server', 'add', 'volume', 'kv-1', 'kv-pooled']);
    const deadline = Date.now() + 180_000;
    for (;;) {
      const events = await kubectl('get', 'events', '-n', ns, '--field-selector', 'reason=VolumeAttachFailed', '-o', 'jsonpath={.items[*].message}');
      const vol = await json('volume', 'show', 'kv-pooled');
      if (events.includes('kv-pooled') && vol.status === 'available' && !vol.attachments.length) {
        assert.match(events, /it is a file in a node pool, which the KubeVirt hypervisor kubevirt cannot reach/);
        break;
      }
      assert.ok(Date.now() < deadline, `the attach was never turned away: ${vol.status} ${JSON.stringify(vol.attachments)} ${events}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal((await json('server', 'show', 'kv-1')).status, 'ACTIVE', 'the server ran on');
    assert.equal((await kubectl('get', 'pvc', '-n', ns, '-o', 'name')).trim(), '', 'no claim was made');
    await os('volume', 'delete', 'kv-pooled');
  });

  it('deletes it with the CLI: the Instance and KubeVirt’s objects are gone', async () => {
    await os('server', 'delete', '--wait', 'kv-1');
    assert.deepEqual(await json('server', 'list'), []);
    const left = await runKubectl(cloud.kubeconfig, cloud.dir, ['get', 'vm,vmi,dv,instances', '-n', ns, '-o', 'name']);
    assert.equal(left.stdout.trim(), '', `left behind: ${left.stdout}`);
    const secrets = await kubectl('get', 'secrets', '-n', ns, '-l', 'compute.stratus.io/instance=kv-1', '-o', 'name');
    assert.equal(secrets.trim(), '');
  });

  itAskedNothingTheChartRefuses(() => cloud);
});
