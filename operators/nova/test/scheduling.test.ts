/**
 * The scheduling controller against the embedded control plane: instances bound through a resourceVersion-
 * checked claim in the hypervisor's ledger, refused with Nova's faults, never double-booked under concurrency.
 */
import { strict as assert } from 'node:assert';
import { eventually } from '@stratus/apiserver';
import { PLUGGED_FINALIZER, VOLUMES, VOLUME_ATTACHMENTS } from '@stratus/cinder';
import { PORTS, type Port } from '@stratus/neutron';
import { MERGE_PATCH, now, type KubeClient } from '@stratus/runtime';
import { PORTS_AND_VOLUMES_FINALIZER } from '../src/instanceRelease.js';
import { FLAVORS, GUEST_FINALIZER, HYPERVISORS, IMAGES, INSTANCES, SERVER_GROUPS, free, hostStateOf, type Hypervisor, type Instance } from '../src/index.js';
import { startComputeEnv, type ComputeEnv } from './support.js';
const MiB = 1024 * 1024;

describe('Nova scheduling controller', function () {
  this.timeout(60_000);
  let env: ComputeEnv;
  let client: KubeClient;
  const api = 'compute.stratus.io/v1alpha1';

  async function hypervisor(name: string, ramMiB: number, opts: Partial<Hypervisor['spec']> = {}) {
    await client.create(HYPERVISORS, { apiVersion: api, kind: 'Hypervisor', metadata: { name }, spec: { capacity: { vcpus: 8, ramMiB, diskGiB: 100 }, ramAllocationRatio: 1, driver: 'fake', ...opts } }, 'test');
    await client.patch(HYPERVISORS, undefined, name, { status: { state: 'up', lastHeartbeat: now() } }, 'test', MERGE_PATCH, 'status');
  }
  const instance = (name: string, spec: Partial<Instance['spec']> = {}) =>
    client.create(INSTANCES, { apiVersion: api, kind: 'Instance', metadata: { name, namespace: 'demo' }, spec: { flavor: 'm1.small', image: { name: 'cirros' }, ...spec } }, 'test');
  async function settled(name: string): Promise<Instance> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const i = await client.get<Instance>(INSTANCES, 'demo', name);
      if (i?.status?.host || i?.status?.phase === 'ERROR') return i;
      if (Date.now() > deadline) throw new Error(`instance ${name} was neither bound nor refused: ${JSON.stringify(i?.status)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const ledgers = async () => (await client.list<Hypervisor>(HYPERVISORS)).items;
  async function claimGone(host: string, key: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while ((await client.get<Hypervisor>(HYPERVISORS, undefined, host))?.status?.allocations?.[key]) {
      assert.ok(Date.now() < deadline, `the claim ${key} on ${host} was not given back`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  before(async () => {
    env = await startComputeEnv();
    client = env.client;
    await client.create(FLAVORS, { apiVersion: api, kind: 'Flavor', metadata: { name: 'm1.small' }, spec: { vcpus: 1, ramMiB: 512, diskGiB: 1 } }, 'test');
    await client.create(FLAVORS, { apiVersion: api, kind: 'Flavor', metadata: { name: 'm1.huge' }, spec: { vcpus: 2, ramMiB: 65536, diskGiB: 10 } }, 'test');
    await client.create(FLAVORS, { apiVersion: api, kind: 'Flavor', metadata: { name: 'm1.tiny-disk' }, spec: { vcpus: 1, ramMiB: 256, diskGiB: 1 } }, 'test');
    for (const [name, virtualSize] of [['cirros', 64 * MiB], ['big-disk', 3 * 1024 * MiB]] as const) {
      await client.create(IMAGES, { apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name, namespace: 'demo' }, spec: { diskFormat: 'qcow2' } }, 'test');
      await client.patch(IMAGES, 'demo', name, { status: { phase: 'active', size: virtualSize / 4, virtualSize } }, 'test', MERGE_PATCH, 'status');
    }
    await env.startNova({ workers: 4 });
  });
  after(() => env?.stop());

  it('binds an instance to a host that fits, recording the claim in its ledger', async () => {
    await hypervisor('small-node', 256);
    await hypervisor('node-a', 4096);
    await instance('web-1');
    const bound = await settled('web-1');
    assert.equal(bound.status?.phase, 'BUILD');
    assert.equal(bound.status?.host, 'node-a', 'small-node has too little RAM');
    assert.deepEqual(bound.status?.allocation, { vcpus: 1, ramMiB: 512, diskGiB: 1 });
    const hv = (await client.get<Hypervisor>(HYPERVISORS, undefined, 'node-a'))!;
    assert.deepEqual(hv.status?.allocations?.['demo/web-1'], { vcpus: 1, ramMiB: 512, diskGiB: 1 });
    assert.deepEqual(hv.status?.allocated, { vcpus: 1, ramMiB: 512, diskGiB: 1 });
  });

  it("refuses unknown flavors and images, a disk smaller than the image, and what fits nowhere, with Nova's faults", async () => {
    await instance('no-flavor', { flavor: 'm9.missing' });
    await instance('no-image', { image: { name: 'missing' } });
    await instance('small-disk', { flavor: 'm1.tiny-disk', image: { name: 'big-disk' } });
    await instance('too-big', { flavor: 'm1.huge' });
    const faults = await Promise.all(['no-flavor', 'no-image', 'small-disk', 'too-big'].map(settled));
    assert.deepEqual(faults.map((i) => i.status?.phase), ['ERROR', 'ERROR', 'ERROR', 'ERROR']);
    assert.equal(faults[0].status?.fault?.message, 'Flavor m9.missing could not be found.');
    assert.equal(faults[1].status?.fault?.message, 'Image demo/missing could not be found.');
    assert.match(faults[2].status!.fault!.message, /Flavor's disk is too small for requested image\. Flavor disk is 1 GiB, image is 3 GiB/);
    assert.match(faults[3].status!.fault!.message, /^No valid host was found\. RamFilter rejected 2 \(/);
    assert.equal(faults[3].status?.fault?.code, 500);
    assert.equal(faults[3].status?.conditions?.find((c) => c.type === 'Stalled')?.reason, 'NoValidHost');
    const booked = (await ledgers()).flatMap((h) => Object.keys(h.status?.allocations ?? {}));
    assert.deepEqual(booked, ['demo/web-1'], 'refused instances hold nothing');
  });

  it('never books a host past its capacity when many instances arrive at once', async () => {
    await client.patch(HYPERVISORS, undefined, 'node-a', { spec: { disabled: true } }, 'test');
    for (const n of ['node-b', 'node-c', 'node-d']) await hypervisor(n, 4096);
    // 3 hosts × 8 rooms of 512 MiB; 26 instances race for 24 rooms with 4 scheduling workers.
    const names = Array.from({ length: 26 }, (_, i) => `burst-${i}`);
    await Promise.all(names.map((n) => instance(n)));
    const results = await Promise.all(names.map(settled));
    const bound = results.filter((i) => i.status?.host);
    assert.equal(bound.length, 24);
    assert.equal(results.filter((i) => i.status?.fault?.message.startsWith('No valid host')).length, 2);
    for (const hv of (await ledgers()).filter((h) => ['node-b', 'node-c', 'node-d'].includes(h.metadata.name))) {
      assert.ok(free(hostStateOf(hv)).ramMiB >= 0, `${hv.metadata.name} over capacity`);
      assert.equal(Object.keys(hv.status!.allocations!).length, 8);
      assert.deepEqual(Object.keys(hv.status!.allocations!).sort(), bound.filter((i) => i.status?.host === hv.metadata.name).map((i) => `demo/${i.metadata.name}`).sort(), 'the ledger and the bindings agree');
    }
  });

  it('gives a deleted instance’s room back, which the next instance takes', async () => {
    const victim = (await settled('burst-0')).status!.host!;
    await client.delete(INSTANCES, 'demo', 'burst-0');
    const deadline = Date.now() + 20_000;
    while (await client.get(INSTANCES, 'demo', 'burst-0')) {
      assert.ok(Date.now() < deadline, 'the instance was not released');
      await new Promise((r) => setTimeout(r, 50));
    }
    // No finalizer holds the instance for the scheduler (as none holds a pod for kube-scheduler): its claim is
    // given back once its deletion is seen.
    await claimGone(victim, 'demo/burst-0');
    await instance('late');
    assert.equal((await settled('late')).status?.host, victim);
  });

  it('keeps anti-affinity group members on different hosts, and says so when it cannot', async () => {
    for (const n of ['node-b', 'node-c', 'node-d']) await client.patch(HYPERVISORS, undefined, n, { spec: { disabled: true } }, 'test');
    for (const n of ['aa-1', 'aa-2', 'aa-3']) await hypervisor(n, 4096);
    await client.create(SERVER_GROUPS, { apiVersion: api, kind: 'ServerGroup', metadata: { name: 'spread', namespace: 'demo' }, spec: { policy: 'anti-affinity' } }, 'test');
    const hosts: string[] = [];
    for (let i = 0; i < 3; i++) {
      await instance(`member-${i}`, { serverGroup: 'spread' });
      hosts.push((await settled(`member-${i}`)).status!.host!);
    }
    assert.deepEqual([...hosts].sort(), ['aa-1', 'aa-2', 'aa-3']);
    await instance('member-3', { serverGroup: 'spread' });
    const refused = await settled('member-3');
    assert.equal(refused.status?.phase, 'ERROR');
    assert.match(refused.status!.fault!.message, /ServerGroupAntiAffinityFilter rejected 3/);
  });

  it("lets an instance on a removed node be deleted: no agent is left to release its guest", async () => {
    for (const n of ['aa-1', 'aa-2', 'aa-3']) await client.patch(HYPERVISORS, undefined, n, { spec: { disabled: true } }, 'test');
    await hypervisor('doomed', 4096);
    await instance('stranded');
    const bound = await settled('stranded');
    assert.equal(bound.status?.host, 'doomed');
    // What the node agent would have done on its first look at the instance.
    await client.patch(INSTANCES, 'demo', 'stranded', { metadata: { finalizers: [...(bound.metadata.finalizers ?? []), GUEST_FINALIZER] } }, 'test');
    await client.delete(HYPERVISORS, undefined, 'doomed');
    await client.delete(INSTANCES, 'demo', 'stranded');
    const deadline = Date.now() + 20_000;
    while (await client.get(INSTANCES, 'demo', 'stranded')) {
      assert.ok(Date.now() < deadline, 'the instance stayed, waiting for an agent that is gone');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('gives back the ports and volumes of an instance no agent holds once it is deleted (never placed, its node removed)', async () => {
    const portOf = (name: string) => client.get<Port>(PORTS, 'demo', name);
    /** An instance with a port of its user's, one made for it and two volumes attached, held by `finalizers`. */
    async function holding(name: string, finalizers: string[]): Promise<Instance> {
      const inst = await client.create<Instance>(INSTANCES, { apiVersion: api, kind: 'Instance', metadata: { name, namespace: 'demo', finalizers }, spec: { flavor: 'm1.small', image: { name: 'cirros' }, networks: [{ port: `${name}-own` }, { network: 'net' }] } }, 'test');
      const owner = { apiVersion: api, kind: 'Instance', name, uid: inst.metadata.uid!, controller: true };
      const bound = { network: 'net', deviceId: inst.metadata.uid!, deviceOwner: 'compute:nova', bindingHost: 'gone-node' };
      await client.create(PORTS, { apiVersion: 'network.stratus.io/v1alpha1', kind: 'Port', metadata: { name: `${name}-own`, namespace: 'demo' }, spec: bound }, 'test');
      await client.create(PORTS, { apiVersion: 'network.stratus.io/v1alpha1', kind: 'Port', metadata: { name: `${name}-nic1`, namespace: 'demo', ownerReferences: [owner] }, spec: bound }, 'test');
      for (const [vol, deleteOnTermination] of [[`${name}-data`, false], [`${name}-scratch`, true]] as const) {
        await client.create(VOLUMES, { apiVersion: 'blockstorage.stratus.io/v1alpha1', kind: 'Volume', metadata: { name: vol, namespace: 'demo' }, spec: { sizeGiB: 1 } }, 'test');
        // Held as a node holds a plugged disk: an offload that let go of it is not counted on.
        await client.create(VOLUME_ATTACHMENTS, { apiVersion: 'blockstorage.stratus.io/v1alpha1', kind: 'VolumeAttachment', metadata: { name: vol, namespace: 'demo', finalizers: [PLUGGED_FINALIZER], ownerReferences: [owner] }, spec: { volume: vol, instance: name, deleteOnTermination } }, 'test');
      }
      return inst;
    }
    async function gone(name: string): Promise<void> {
      await eventually(`instance ${name} deleted`, async () => !(await client.get(INSTANCES, 'demo', name)), 20_000);
      const own = (await portOf(`${name}-own`))!;
      assert.deepEqual([own.spec.deviceId, own.spec.deviceOwner, own.spec.bindingHost], [undefined, undefined, undefined], "the user's own port is unbound, and stays");
      assert.equal(await portOf(`${name}-nic1`), undefined, 'the port made for it is deleted');
      assert.equal(await client.get(VOLUME_ATTACHMENTS, 'demo', `${name}-data`), undefined, 'its attachments are deleted');
      assert.equal(await client.get(VOLUME_ATTACHMENTS, 'demo', `${name}-scratch`), undefined);
      assert.equal(await client.get(VOLUMES, 'demo', `${name}-scratch`), undefined, 'the delete-on-termination volume is deleted');
      assert.ok(await client.get(VOLUMES, 'demo', `${name}-data`), 'the other volume stays');
    }

    // Never placed (no host takes it), as the Compute API makes it: with the controller's finalizer.
    for (const n of (await ledgers()).map((h) => h.metadata.name)) await client.patch(HYPERVISORS, undefined, n, { spec: { disabled: true } }, 'test');
    await holding('unplaced', [PORTS_AND_VOLUMES_FINALIZER]);
    assert.equal((await settled('unplaced')).status?.phase, 'ERROR');
    await client.delete(INSTANCES, 'demo', 'unplaced');
    await gone('unplaced');

    // On a node that is then removed, held as its agent holds it: no agent is left to give them back.
    await hypervisor('removed', 4096);
    await holding('hosted', [GUEST_FINALIZER]);
    assert.equal((await settled('hosted')).status?.host, 'removed');
    await client.delete(HYPERVISORS, undefined, 'removed');
    await client.delete(INSTANCES, 'demo', 'hosted');
    await gone('hosted');
  });

  it('gives back a claim whose instance was deleted while no scheduler watched', async () => {
    await hypervisor('sweep', 4096);
    const stale = { vcpus: 2, ramMiB: 2048, diskGiB: 5 };
    // What a scheduler that stopped between a deletion and seeing it leaves behind.
    await client.patch(HYPERVISORS, undefined, 'sweep', { status: { allocations: { 'demo/ghost': stale }, allocated: stale, instances: 1 } }, 'test', MERGE_PATCH, 'status');
    await claimGone('sweep', 'demo/ghost');
    const sweep = (await client.get<Hypervisor>(HYPERVISORS, undefined, 'sweep'))!.status!;
    assert.deepEqual([sweep.instances, sweep.allocated], [0, { vcpus: 0, ramMiB: 0, diskGiB: 0 }], 'the totals follow the ledger');
  });
});
