/**
 * The node agent against real parts: the embedded control plane, an S3 server holding the test disk image,
 * and the system libvirt running QEMU. Instances really boot (their console logs say so), change power
 * state, reboot, resize, rebuild and go away leaving nothing; the agent survives its own restart.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Watch } from '@kubernetes/client-node';
import { eventually } from '@stratus/apiserver';
import { MERGE_PATCH, type KubeClient } from '@stratus/runtime';
import { IMAGES, type Image } from '@stratus/glance';
import { FLAVORS, HYPERVISORS, INSTANCES, KEYPAIRS, domainNameOf, type Hypervisor, type Instance } from '../src/index.js';
import { agentToken } from '../src/agent/agentApi.js';
import { startAgentEnv, type AgentEnv } from './agentSupport.js';

const run = promisify(execFile);
const virsh = (...args: string[]) => run('virsh', ['-q', '-c', 'qemu:///system', ...args]).then((r) => r.stdout.trim());
const api = 'compute.stratus.io/v1alpha1';
const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHzK4sQ1cG3fOrTmvWl3ipIhg6MRLa7zfF3vd0qHbZvI test@stratus';

describe('Nova node agent on libvirt', function () {
  this.timeout(240_000);
  let env: AgentEnv;
  let client: KubeClient;
  let token: string;

  const get = (name: string) => client.get<Instance>(INSTANCES, 'demo', name);
  async function until(name: string, what: string, ok: (i: Instance) => boolean, timeoutMs = 90_000): Promise<Instance> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = await get(name);
      if (i && ok(i)) return i;
      if (Date.now() > deadline) throw new Error(`instance ${name} never became ${what}: ${JSON.stringify(i?.status)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const phase = (name: string, p: string) => until(name, p, (i) => i.status?.phase === p && !i.status.taskState);
  const patchSpec = (name: string, spec: object) => client.patch(INSTANCES, 'demo', name, { spec }, 'test', MERGE_PATCH);
  /** The instance's console log, through the agent's own API as the Compute API reads it. */
  async function consoleLog(uid: string, length?: number): Promise<string> {
    const res = await fetch(`${env.agent.api.url}/v1/instances/${uid}/console${length === undefined ? '' : `?length=${length}`}`, { headers: { Authorization: `Bearer ${token}` } });
    return res.status === 200 ? res.text() : '';
  }
  async function untilConsole(uid: string, marker: RegExp | string, count = 1, timeoutMs = 90_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = await consoleLog(uid);
      if ((text.match(new RegExp(marker, 'g')) ?? []).length >= count) return text;
      if (Date.now() > deadline) throw new Error(`no ${count}× ${marker} in the console log:\n${text.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const guests = async () => (await virsh('list', '--all', '--name')).split('\n').filter(Boolean);
  const instanceDir = (uid: string) => env.agent.files.paths(uid).dir;

  before(async () => {
    env = await startAgentEnv();
    client = env.client;
    token = await agentToken(client, 'test');
    await client.create(FLAVORS, { apiVersion: api, kind: 'Flavor', metadata: { name: 'm1.tiny' }, spec: { vcpus: 1, ramMiB: 256, diskGiB: 1 } }, 'test');
    await client.create(FLAVORS, { apiVersion: api, kind: 'Flavor', metadata: { name: 'm1.small' }, spec: { vcpus: 2, ramMiB: 320, diskGiB: 2 } }, 'test');
    await client.create(KEYPAIRS, { apiVersion: api, kind: 'Keypair', metadata: { name: 'me', namespace: 'demo' }, spec: { publicKey: SSH_KEY } }, 'test');
    await env.addImage('stratus-test');
    await env.addImage('stratus-test-2');
  });
  after(() => env?.stop());

  it('registers its hypervisor with what the host has, and heartbeats', async () => {
    const hv = (await client.get<Hypervisor>(HYPERVISORS, undefined, env.config.host))!;
    assert.equal(hv.spec.driver, 'libvirt');
    assert.ok(hv.spec.capacity.vcpus! >= 1 && hv.spec.capacity.ramMiB! > 1024, JSON.stringify(hv.spec.capacity));
    assert.match(hv.status?.hypervisorType ?? '', /^(QEMU|KVM)$/);
    assert.equal(hv.spec.properties?.hypervisor_type, hv.status!.hypervisorType!.toLowerCase());
    assert.equal(hv.status?.agentUrl, env.agent.api.url);
    const first = hv.status!.lastHeartbeat!;
    // However loaded the machine, a live agent renews its heartbeat: waited for (60 s bound), never timed.
    await eventually('a newer heartbeat', async () => (await client.get<Hypervisor>(HYPERVISORS, undefined, env.config.host))!.status!.lastHeartbeat !== first, 60_000);
  });

  it('boots an instance: BUILD, then ACTIVE once the guest runs, with its config drive read by the guest', async () => {
    const userData = Buffer.from('#cloud-config\nhello from user data\n').toString('base64');
    await client.create(INSTANCES, { apiVersion: api, kind: 'Instance', metadata: { name: 'web-1', namespace: 'demo' }, spec: { flavor: 'm1.tiny', image: { name: 'stratus-test' }, keypair: 'me', userData, metadata: { role: 'web' } } }, 'test');
    const built = await until('web-1', 'BUILD', (i) => i.status?.phase === 'BUILD' || i.status?.phase === 'ACTIVE');
    assert.equal(built.status?.host, env.config.host);
    const active = await phase('web-1', 'ACTIVE');
    const uid = active.metadata.uid!;
    assert.equal(active.status?.powerState, 'Running');
    assert.equal(active.status?.instanceName, domainNameOf(uid));
    assert.match(active.status?.consoleUrl ?? '', /^vnc:\/\/127\.0\.0\.1:59\d\d$/);
    assert.ok(active.status?.launchedAt);
    assert.deepEqual(active.status?.flavor, { name: 'm1.tiny', vcpus: 1, ramMiB: 256, diskGiB: 1, ephemeralGiB: 0, swapMiB: 0 });
    assert.equal(active.status?.image?.name, 'stratus-test');
    assert.equal(active.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.ok(active.metadata.finalizers?.includes('compute.stratus.io/guest'));
    assert.equal(await virsh('domstate', uid), 'running');
    // Its folder lets QEMU's user through without listing it; its files are no one else's (libvirt lends the disks).
    const paths = env.agent.files.paths(uid);
    assert.equal(statSync(paths.dir).mode & 0o777, 0o711);
    for (const f of [paths.configDrive, paths.guestSpec]) assert.equal(statSync(f).mode & 0o077, 0, `${f} is open to others`);
    assert.equal(statSync(paths.root).mode & 0o007, 0, 'the root disk is open to no other user');

    const log = await untilConsole(uid, 'STRATUS-TEST-IMAGE-READY');
    assert.match(log, new RegExp(`STRATUS-CONFIG-DRIVE instance-id=${uid} hostname=web-1`));
    assert.match(log, /STRATUS-USER-DATA hello from user data/);
    assert.match(log, /STRATUS-SSH-KEY present/);
    assert.equal((await consoleLog(uid, 3)).split('\n').length, 3, 'length= gives the last pieces between newlines, as Nova cuts them (and Tempest counts them)');
    const anonymous = await fetch(`${env.agent.api.url}/v1/instances/${uid}/console`);
    assert.equal(anonymous.status, 401, 'the console log needs the agent token');
    const stats = (await (await fetch(`${env.agent.api.url}/v1/instances/${uid}/stats`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { state: string; cpus: unknown[]; disks: Array<{ name: string; readBytes: number }> };
    assert.equal(stats.state, 'running', "the guest's counters, from libvirt");
    assert.ok(stats.cpus.length >= 1 && stats.disks.some((d: { name: string; readBytes: number }) => d.name === 'vda' && d.readBytes > 0), 'the booted guest has read its root disk');
    const uptime = await fetch(`${env.agent.api.url}/v1/host/uptime`, { headers: { Authorization: `Bearer ${token}` } });
    assert.match(await uptime.text(), / up .*load average/, "the host's uptime(1) line, which os-hypervisors uptime shows");
  });

  it('stops gracefully, starts, pauses, suspends and resumes as spec.powerState says', async () => {
    const uid = (await get('web-1'))!.metadata.uid!;
    await patchSpec('web-1', { powerState: 'Stopped' });
    assert.equal((await phase('web-1', 'SHUTOFF')).status?.powerState, 'Shutdown');
    assert.match(await consoleLog(uid), /STRATUS-TEST-IMAGE-POWEROFF/, 'asked to power off, the guest did (ACPI)');
    await patchSpec('web-1', { powerState: 'Running' });
    await phase('web-1', 'ACTIVE');
    await untilConsole(uid, 'STRATUS-TEST-IMAGE-READY', 2);
    await patchSpec('web-1', { powerState: 'Paused' });
    assert.equal((await phase('web-1', 'PAUSED')).status?.powerState, 'Paused');
    assert.equal(await virsh('domstate', '--reason', uid), 'paused (user)');
    await patchSpec('web-1', { powerState: 'Suspended' });
    assert.equal((await phase('web-1', 'SUSPENDED')).status?.powerState, 'Suspended');
    assert.equal(await virsh('domstate', '--reason', uid), 'shut off (saved)');
    await patchSpec('web-1', { powerState: 'Running' });
    await phase('web-1', 'ACTIVE');
    assert.equal(await virsh('domstate', uid), 'running');
    assert.equal((await consoleLog(uid)).match(/STRATUS-TEST-IMAGE-READY/g)?.length, 2, 'resumed where it was, not booted again');
  });

  it('reboots softly (the guest reboots itself) and hard (the guest is defined and started afresh)', async () => {
    const uid = (await get('web-1'))!.metadata.uid!;
    await untilConsole(uid, 'STRATUS-TEST-IMAGE-READY', 2);
    await patchSpec('web-1', { reboot: { count: 1, type: 'SOFT' } });
    await until('web-1', 'rebooted once', (i) => i.status?.rebootsDone === 1 && i.status.phase === 'ACTIVE');
    await untilConsole(uid, 'STRATUS-TEST-IMAGE-READY', 3);
    await patchSpec('web-1', { reboot: { count: 2, type: 'HARD' } });
    await until('web-1', 'rebooted twice', (i) => i.status?.rebootsDone === 2 && i.status.phase === 'ACTIVE');
    await untilConsole(uid, 'STRATUS-TEST-IMAGE-READY', 4);
  });

  it('records a guest that powered itself off as stopped, as Nova does', async () => {
    const uid = (await get('web-1'))!.metadata.uid!;
    await virsh('shutdown', uid); // the ACPI button from outside the agent: to the agent, the guest's own doing
    const off = await phase('web-1', 'SHUTOFF');
    assert.equal(off.spec.powerState, 'Stopped');
    const boots = ((await consoleLog(uid)).match(/STRATUS-TEST-IMAGE-READY/g) ?? []).length;
    await patchSpec('web-1', { powerState: 'Running' });
    await phase('web-1', 'ACTIVE');
    await untilConsole(uid, 'STRATUS-TEST-IMAGE-READY', boots + 1);
  });

  it("resizes: VERIFY_RESIZE with the old disk kept, a revert, then a confirmed resize; the ledger follows", async () => {
    const uid = (await get('web-1'))!.metadata.uid!;
    const ledger = async () => (await client.get<Hypervisor>(HYPERVISORS, undefined, env.config.host))!.status!.allocations!['demo/web-1'];
    // A resize powers the guest off first: once it is up it hears the power button (while booting it would
    // not, and the stop would wait out the whole shutdown timeout, as Nova's does).
    let boots = ((await consoleLog(uid)).match(/STRATUS-TEST-IMAGE-READY/g) ?? []).length;
    const upAgain = async () => void (await untilConsole(uid, 'STRATUS-TEST-IMAGE-READY', ++boots));
    await patchSpec('web-1', { flavor: 'm1.small', confirmResize: false });
    const verifying = await phase('web-1', 'VERIFY_RESIZE');
    assert.equal(verifying.status?.flavor?.name, 'm1.small');
    assert.equal(verifying.status?.resize?.fromFlavor.name, 'm1.tiny');
    assert.deepEqual(verifying.status?.resize?.fromAllocation, { vcpus: 1, ramMiB: 256, diskGiB: 1 }, 'what a revert gives back');
    assert.deepEqual(await ledger(), { vcpus: 2, ramMiB: 320, diskGiB: 2 });
    assert.match(await virsh('dominfo', uid), /CPU\(s\):\s+2/);
    assert.ok(existsSync(env.agent.files.paths(uid).resizeBackup));
    await upAgain();
    const { stdout } = await run('qemu-img', ['info', '-U', '--output=json', env.agent.files.paths(uid).root]);
    assert.equal(JSON.parse(stdout)['virtual-size'], 2 * 1024 ** 3, 'the root disk grew to the new flavor');

    await patchSpec('web-1', { flavor: 'm1.tiny' }); // the old flavor back: a revert
    const reverted = await phase('web-1', 'ACTIVE');
    assert.equal(reverted.status?.flavor?.name, 'm1.tiny');
    assert.equal(reverted.status?.resize, undefined);
    assert.deepEqual(await ledger(), { vcpus: 1, ramMiB: 256, diskGiB: 1 });
    assert.match(await virsh('dominfo', uid), /CPU\(s\):\s+1/);
    assert.ok(!existsSync(env.agent.files.paths(uid).resizeBackup));
    await upAgain();

    await patchSpec('web-1', { flavor: 'm1.small', confirmResize: true });
    const resized = await until('web-1', 'resized', (i) => i.status?.flavor?.name === 'm1.small' && i.status.phase === 'ACTIVE' && !i.status.taskState);
    assert.equal(resized.status?.resize, undefined, 'confirmed at once');
    assert.ok(!existsSync(env.agent.files.paths(uid).resizeBackup));
    await upAgain();
  });

  it('rebuilds from another image, keeping the instance and its flavor', async () => {
    const uid = (await get('web-1'))!.metadata.uid!;
    const boots = ((await consoleLog(uid)).match(/STRATUS-TEST-IMAGE-READY/g) ?? []).length;
    await patchSpec('web-1', { image: { name: 'stratus-test-2' } });
    const rebuilt = await until('web-1', 'rebuilt', (i) => i.status?.image?.name === 'stratus-test-2' && i.status.phase === 'ACTIVE' && !i.status.taskState);
    assert.equal(rebuilt.metadata.uid, uid);
    assert.equal(rebuilt.status?.flavor?.name, 'm1.small');
    await untilConsole(uid, 'STRATUS-TEST-IMAGE-READY', boots + 1);
  });

  it('snapshots a running instance into a new qcow2 image in S3, which then boots', async () => {
    const uid = (await get('web-1'))!.metadata.uid!;
    await client.create(IMAGES, { apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name: 'web-snap', namespace: 'demo' }, spec: { diskFormat: 'qcow2', source: { instance: { name: 'web-1' } } } } as Image, 'test');
    const deadline = Date.now() + 60_000;
    let snap: Image | undefined;
    while ((snap = await client.get<Image>(IMAGES, 'demo', 'web-snap'))?.status?.phase !== 'active') {
      assert.notEqual(snap?.status?.phase, 'killed', JSON.stringify(snap?.status));
      assert.ok(Date.now() < deadline, `the snapshot never became active: ${JSON.stringify(snap?.status)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal((await virsh('domstate', uid)), 'running', 'taken live: the guest kept running');
    const key = snap!.status!.location!.replace(/^s3:\/\/[^/]+\//, '');
    const { body, size } = await env.store.get(key);
    const head = await new Promise<Buffer>((resolve, reject) => body.once('data', resolve).once('error', reject));
    body.destroy();
    assert.equal(head.subarray(0, 4).toString('latin1'), 'QFI\xfb', 'the data is a qcow2 image');
    assert.equal(size, snap!.status!.size);
    assert.equal(snap!.status!.virtualSize, 2 * 1024 ** 3, "the instance's whole root disk");
    assert.ok(!existsSync(`${env.agent.files.paths(uid).dir}/snapshot-${snap!.metadata.uid}.qcow2`), 'no copy left on the host');

    // A backup (Nova's createBackup) rotates the server's older backups of its type out once it is stored.
    const backupSpec = (props: Record<string, string>) => ({ diskFormat: 'qcow2' as const, properties: { image_type: 'backup', backup_type: 'daily', instance_uuid: uid, ...props } });
    for (const name of ['backup-old-1', 'backup-old-2']) {
      await client.create(IMAGES, { apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name, namespace: 'demo' }, spec: backupSpec({}) } as Image, 'test');
      await new Promise((r) => setTimeout(r, 1100)); // creation times are whole seconds: let the order be clear
    }
    await client.create(IMAGES, { apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name: 'backup-weekly', namespace: 'demo' }, spec: backupSpec({ backup_type: 'weekly' }) } as Image, 'test');
    await client.create(IMAGES, { apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name: 'backup-new', namespace: 'demo', annotations: { 'compute.stratus.io/backup-rotation': '2' } }, spec: { ...backupSpec({}), source: { instance: { name: 'web-1' } } } } as Image, 'test');
    const rotated = Date.now() + 60_000;
    const alive = async (name: string) => {
      const i = await client.get<Image>(IMAGES, 'demo', name);
      return !!i && !i.metadata.deletionTimestamp;
    };
    while ((await client.get<Image>(IMAGES, 'demo', 'backup-new'))?.status?.phase !== 'active' || (await alive('backup-old-1'))) {
      assert.ok(Date.now() < rotated, 'the new backup was never stored, or the oldest never rotated out');
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual([await alive('backup-old-2'), await alive('backup-weekly')], [true, true], 'two daily backups kept (the new one counted); other types untouched');
    for (const name of ['backup-old-2', 'backup-weekly', 'backup-new']) await client.delete(IMAGES, 'demo', name);

    await client.create(INSTANCES, { apiVersion: api, kind: 'Instance', metadata: { name: 'from-snap', namespace: 'demo' }, spec: { flavor: 'm1.small', image: { name: 'web-snap' } } }, 'test');
    const booted = await phase('from-snap', 'ACTIVE');
    const log = await untilConsole(booted.metadata.uid!, 'STRATUS-TEST-IMAGE-READY');
    assert.match(log, /STRATUS-CONFIG-DRIVE instance-id=\S+ hostname=from-snap/);
    await client.delete(INSTANCES, 'demo', 'from-snap');
  });

  it("shelves: the root disk stored as '<name>-shelved', the guest, its files and its room let go; unshelved, it boots from that disk, which then goes", async () => {
    const before = (await get('web-1'))!;
    const uid = before.metadata.uid!;
    const key = 'demo/web-1';
    const ledger = async () => (await client.get<Hypervisor>(HYPERVISORS, undefined, env.config.host))!.status?.allocations?.[key];
    assert.ok(await ledger(), 'it holds room on its host');
    // Every version of it while it shelves, as a watch delivers them.
    const versions: Instance[] = [];
    const watching = await new Watch(env.kubeConfig).watch('/apis/compute.stratus.io/v1alpha1/namespaces/demo/instances', { fieldSelector: 'metadata.name=web-1', resourceVersion: before.metadata.resourceVersion }, (_type, o: Instance) => void versions.push(o), () => undefined);
    await patchSpec('web-1', { shelved: true });
    const offloaded = await until('web-1', 'SHELVED_OFFLOADED and unbound', (i) => i.status?.phase === 'SHELVED_OFFLOADED' && !i.status.taskState && !i.status.host);
    watching.abort();
    // Once it says offloaded the scheduler frees the host and the agent no longer sees it: it must not still hold the guest finalizer then.
    assert.deepEqual(versions.filter((v) => v.status?.phase === 'SHELVED_OFFLOADED' && v.metadata.finalizers?.includes('compute.stratus.io/guest')).map((v) => v.metadata.resourceVersion), [], 'no version says offloaded while holding the guest finalizer');
    assert.ok(versions.some((v) => v.status?.phase === 'SHELVED_OFFLOADED'), 'the watch saw it offloaded');
    assert.equal(offloaded.status?.powerState, 'NoState');
    assert.ok(!offloaded.metadata.finalizers?.includes('compute.stratus.io/guest'), 'no guest left to guard');
    assert.ok(offloaded.metadata.finalizers?.includes('compute.stratus.io/ports-and-volumes'), 'handed over to the controller, which gives its ports and volumes back if it is deleted now');
    assert.deepEqual(versions.filter((v) => !v.metadata.finalizers?.includes('compute.stratus.io/guest') && !v.metadata.finalizers?.includes('compute.stratus.io/ports-and-volumes')).map((v) => v.metadata.resourceVersion), [], 'never held by neither');
    assert.equal(offloaded.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'Shelved');
    const stored = (await client.get<Image>(IMAGES, 'demo', offloaded.status!.shelvedImage!))!;
    assert.equal(stored.spec.displayName, 'web-1-shelved');
    assert.equal(stored.status?.phase, 'active');
    assert.deepEqual([stored.spec.properties?.image_type, stored.spec.properties?.instance_uuid], ['snapshot', uid]);
    assert.equal(stored.metadata.ownerReferences?.[0]?.uid, uid, 'it goes with the server');
    assert.ok(!(await guests()).includes(domainNameOf(uid)), 'no guest on the host');
    assert.ok(!existsSync(instanceDir(uid)), 'no files on the host');
    for (let i = 0; (await ledger()) && i < 100; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await ledger(), undefined, 'its room on the host is free');

    await patchSpec('web-1', { shelved: false });
    const back = await until('web-1', 'ACTIVE again', (i) => i.status?.phase === 'ACTIVE' && !i.status.taskState);
    assert.equal(back.status?.host, env.config.host);
    assert.ok(await ledger(), 'room booked again');
    assert.equal(back.status?.image?.name, 'stratus-test-2', "the server's image is still the one it was booted from");
    assert.equal(back.status?.image?.uid, stored.metadata.uid, 'its disk stands on the stored copy');
    assert.equal(back.status?.shelvedImage, undefined);
    const log = await untilConsole(uid, 'STRATUS-TEST-IMAGE-READY'); // a new log: the old one went with the host's files
    assert.match(log, new RegExp(`STRATUS-CONFIG-DRIVE instance-id=${uid} hostname=web-1`));
    for (let i = 0; (await client.get<Image>(IMAGES, 'demo', stored.metadata.name)) && i < 300; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await client.get<Image>(IMAGES, 'demo', stored.metadata.name), undefined, 'the shelved image is deleted once unshelved');
  });

  it('rescues: the guest boots a fresh disk of the rescue image with its own root disk second, then its own disk again', async () => {
    const uid = (await get('web-1'))!.metadata.uid!;
    const paths = env.agent.files.paths(uid);
    const disks = async () => (await virsh('domblklist', uid)).split('\n').map((l) => l.trim().split(/\s+/)).filter((c) => c.length === 2);
    const boots = ((await consoleLog(uid)).match(/STRATUS-TEST-IMAGE-READY/g) ?? []).length;
    await patchSpec('web-1', { rescue: { image: { name: 'stratus-test' } } });
    const rescued = await phase('web-1', 'RESCUE');
    assert.equal(rescued.status?.rescued, true);
    const during = await disks();
    assert.deepEqual(during.slice(0, 2), [['vda', paths.rescue], ['vdb', paths.root]], 'the rescue disk first, its own root disk second');
    assert.ok(during.some(([, p]) => p === paths.rescueConfigDrive), "the rescue's own config drive");
    await untilConsole(uid, 'STRATUS-TEST-IMAGE-READY', boots + 1);

    await patchSpec('web-1', { rescue: null });
    const back = await phase('web-1', 'ACTIVE');
    assert.equal(back.status?.rescued, undefined);
    assert.deepEqual((await disks())[0], ['vda', paths.root]);
    assert.ok(!existsSync(paths.rescue) && !existsSync(paths.rescueConfigDrive), 'the rescue disks are gone');
    await untilConsole(uid, 'STRATUS-TEST-IMAGE-READY', boots + 2);
  });

  it('survives its own restart: the running guest is found, neither lost nor made twice', async () => {
    const uid = (await get('web-1'))!.metadata.uid!;
    const domainId = await virsh('domid', uid);
    await env.restartAgent();
    await patchSpec('web-1', { metadata: { after: 'restart' } }); // something for the new agent to reconcile
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(await virsh('domid', uid), domainId, 'the same QEMU process: not restarted');
    assert.equal((await guests()).filter((g) => g === domainNameOf(uid)).length, 1);
    assert.equal((await get('web-1'))!.status?.phase, 'ACTIVE');
  });

  it('plugs a disk once however often it is asked (an agent that died mid-plug asks again), and unplugs it', async () => {
    const uid = (await get('web-1'))!.metadata.uid!;
    const file = join(instanceDir(uid), 'plug-once.raw');
    await run('qemu-img', ['create', '-f', 'raw', file, '64M']);
    const disk = { path: file, format: 'raw', device: 'disk', bus: 'virtio', target: 'vdx', serial: 'plug-once' } as const;
    const atTarget = async () => (await virsh('domblklist', uid)).split('\n').filter((l) => l.trim().split(/\s+/)[0] === 'vdx').length;
    const added = /STRATUS-DISK-ADDED \S+ \d+ serial=plug-once/g;
    try {
      // Two plugs at once (a dead agent's virsh still plugging, the new agent's), then one more.
      await Promise.all([env.agent.driver.attachDisk(uid, disk), env.agent.driver.attachDisk(uid, disk)]);
      await env.agent.driver.attachDisk(uid, disk);
      assert.equal(await atTarget(), 1, 'plugged once');
      await untilConsole(uid, added.source);
      await env.agent.driver.detachDisk(uid, disk);
      assert.equal(await atTarget(), 0, 'unplugged');
      assert.equal(((await consoleLog(uid)).match(added) ?? []).length, 1, 'the guest saw one disk arrive');
    } finally {
      if (await atTarget()) await env.agent.driver.detachDisk(uid, disk).catch(() => {});
      rmSync(file, { force: true });
    }
  });

  it("removes guests and folders whose instance is gone, and leaves other agents' guests alone", async () => {
    const ghost = '00000000-0000-4000-8000-00000000beef';
    const foreign = '00000000-0000-4000-8000-00000000f00d';
    const base = { vcpus: 1, memoryMiB: 64, disks: [], consoleLog: '/dev/null' };
    await env.agent.driver.define({ ...base, uuid: ghost, name: domainNameOf(ghost), title: 'demo/ghost', metadata: { namespace: 'demo', name: 'ghost', agentHome: env.config.stateDir } });
    await env.agent.driver.define({ ...base, uuid: foreign, name: domainNameOf(foreign), title: 'demo/other', metadata: { namespace: 'demo', name: 'other', agentHome: '/some/other/cloud' } });
    await env.agent.files.prepare('00000000-0000-4000-8000-0000000000aa');
    try {
      const reaped = await env.agent.reapOrphans();
      assert.deepEqual(reaped.sort(), ['00000000-0000-4000-8000-0000000000aa', domainNameOf(ghost)]);
      assert.ok(!(await guests()).includes(domainNameOf(ghost)));
      assert.ok((await guests()).includes(domainNameOf(foreign)), "another cloud's guest on the same libvirt stays");
      assert.ok((await guests()).includes(domainNameOf((await get('web-1'))!.metadata.uid!)));
    } finally {
      await env.agent.driver.undefine(foreign);
    }
  });

  it('puts an instance whose guest cannot start in ERROR with the fault, leaving no guest and no files', async () => {
    await env.addImage('odd-machine', 'demo', { properties: { hw_machine_type: 'no-such-machine' } });
    await client.create(INSTANCES, { apiVersion: api, kind: 'Instance', metadata: { name: 'broken', namespace: 'demo' }, spec: { flavor: 'm1.tiny', image: { name: 'odd-machine' } } }, 'test');
    const failed = await until('broken', 'ERROR', (i) => i.status?.phase === 'ERROR');
    assert.equal(failed.status?.fault?.code, 500);
    assert.match(failed.status!.fault!.message, new RegExp(`^Build of instance ${failed.metadata.uid} failed: virsh define .*: Failed to define domain`));
    assert.equal(failed.status?.conditions?.find((c) => c.type === 'Stalled')?.reason, 'SpawnFailed');
    assert.ok(!(await guests()).includes(domainNameOf(failed.metadata.uid!)));
    assert.ok(!existsSync(instanceDir(failed.metadata.uid!)));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await get('broken'))!.status?.phase, 'ERROR', 'stays failed: no retry loop');
  });

  it('deletes instances: the guest, its files and its claim go', async () => {
    const uids = await Promise.all(['web-1', 'broken'].map(async (n) => (await get(n))!.metadata.uid!));
    for (const n of ['web-1', 'broken']) await client.delete(INSTANCES, 'demo', n);
    const deadline = Date.now() + 60_000;
    while ((await get('web-1')) || (await get('broken'))) {
      assert.ok(Date.now() < deadline, 'the instances were not released');
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const uid of uids) {
      assert.ok(!(await guests()).includes(domainNameOf(uid)), 'no guest left');
      assert.ok(!existsSync(instanceDir(uid)), 'no files left');
    }
    const hv = (await client.get<Hypervisor>(HYPERVISORS, undefined, env.config.host))!;
    assert.deepEqual(hv.status?.allocations ?? {}, {});
  });
});
