/** Nova's descriptive kinds against the embedded control plane: flavors, keypairs, server groups, hypervisor liveness. */
import { strict as assert } from 'node:assert';
import { MERGE_PATCH, isTrue, now, type Condition, type KubeClient, type ResourceRef } from '@stratus/runtime';
import { FLAVORS, HYPERVISORS, INSTANCES, KEYPAIRS, SERVER_GROUPS, sshFingerprint } from '../src/index.js';
import { startComputeEnv, type ComputeEnv } from './support.js';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@stratus';

describe('Nova flavors, keypairs, server groups and hypervisors', function () {
  this.timeout(60_000);
  let env: ComputeEnv;
  let client: KubeClient;
  const api = 'compute.stratus.io/v1alpha1';
  type Obj = { status?: Record<string, any> & { conditions?: Condition[] } };
  async function until(ref: ResourceRef, ns: string | undefined, name: string, check: (o: Obj) => boolean): Promise<Obj> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const o = await client.get<Obj & { metadata: object }>(ref, ns, name);
      if (o && check(o)) return o;
      if (Date.now() > deadline) throw new Error(`${ref.plural}/${name}: ${JSON.stringify(o?.status)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  before(async () => {
    env = await startComputeEnv();
    client = env.client;
    await env.startNova();
  });
  after(() => env?.stop());

  it("computes Nova's SSH key fingerprint, and refuses what is not a key", () => {
    // What `ssh-keygen -l -E md5` prints for the same key.
    assert.equal(sshFingerprint(KEY), '65:96:2d:fc:e8:d5:a9:11:64:0c:0f:ea:00:6e:5b:bd');
    assert.equal(sshFingerprint('ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'), undefined, 'the blob says ed25519, not rsa');
    assert.equal(sshFingerprint('not a key'), undefined);
  });

  it('makes flavors and keypairs Ready, and a bad key Stalled with the reason', async () => {
    await client.create(FLAVORS, { apiVersion: api, kind: 'Flavor', metadata: { name: 'm1.small' }, spec: { vcpus: 1, ramMiB: 512 } }, 'test');
    const flavor = await until(FLAVORS, undefined, 'm1.small', (f) => isTrue(f.status?.conditions, 'Ready'));
    assert.equal(flavor.status?.flavorId, 'm1.small');
    await client.create(KEYPAIRS, { apiVersion: api, kind: 'Keypair', metadata: { name: 'mine', namespace: 'demo' }, spec: { publicKey: KEY } }, 'test');
    const kp = await until(KEYPAIRS, 'demo', 'mine', (k) => isTrue(k.status?.conditions, 'Ready'));
    assert.equal(kp.status?.fingerprint, sshFingerprint(KEY));
    await client.create(KEYPAIRS, { apiVersion: api, kind: 'Keypair', metadata: { name: 'bad', namespace: 'demo' }, spec: { publicKey: 'hello world' } }, 'test');
    const bad = await until(KEYPAIRS, 'demo', 'bad', (k) => k.status?.phase === 'Error');
    assert.equal(bad.status?.conditions?.find((c) => c.type === 'Stalled')?.reason, 'InvalidPublicKey');
  });

  it('lists the instances in a server group as its members', async () => {
    await client.create(SERVER_GROUPS, { apiVersion: api, kind: 'ServerGroup', metadata: { name: 'web', namespace: 'demo' }, spec: { policy: 'soft-anti-affinity' } }, 'test');
    for (const n of ['web-1', 'web-2', 'db-1'])
      await client.create(INSTANCES, { apiVersion: api, kind: 'Instance', metadata: { name: n, namespace: 'demo' }, spec: { flavor: 'm1.small', image: { name: 'none' }, ...(n.startsWith('web') ? { serverGroup: 'web' } : {}) } }, 'test');
    const group = await until(SERVER_GROUPS, 'demo', 'web', (g) => g.status?.members?.length === 2);
    assert.deepEqual(group.status?.members, ['web-1', 'web-2']);
  });

  it('counts a hypervisor up while its agent heartbeats, and down when it stops', async () => {
    await client.create(HYPERVISORS, { apiVersion: api, kind: 'Hypervisor', metadata: { name: 'node-1' }, spec: { capacity: { vcpus: 4, ramMiB: 4096, diskGiB: 50 } } }, 'test');
    const silent = await until(HYPERVISORS, undefined, 'node-1', (h) => h.status?.state === 'down');
    assert.equal(silent.status?.conditions?.find((c) => c.type === 'Stalled')?.reason, 'AgentDown');
    // A claim of an instance that exists (made above), so that the scheduler has no reason to give it back.
    await client.patch(HYPERVISORS, undefined, 'node-1', { status: { lastHeartbeat: now(), allocations: { 'demo/db-1': { vcpus: 1, ramMiB: 1, diskGiB: 1 } } } }, 'test', MERGE_PATCH, 'status');
    const up = await until(HYPERVISORS, undefined, 'node-1', (h) => h.status?.state === 'up' && isTrue(h.status?.conditions, 'Ready'));
    assert.deepEqual(Object.keys(up.status?.allocations ?? {}), ['demo/db-1'], 'the ledger is left alone');
    const stale = new Date(Date.now() - 120_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await client.patch(HYPERVISORS, undefined, 'node-1', { status: { lastHeartbeat: stale } }, 'test', MERGE_PATCH, 'status');
    await until(HYPERVISORS, undefined, 'node-1', (h) => h.status?.state === 'down');
  });
});
