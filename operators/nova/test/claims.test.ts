/**
 * Claims in the hypervisors' ledgers: decided at once against the book (claims not yet written count), written
 * in batches per host with a compare-and-swap, and failed together when the host changed under them.
 */
import { strict as assert } from 'node:assert';
import { MERGE_PATCH, now, type KubeClient } from '@stratus/runtime';
import { HYPERVISORS, HypervisorBook, type Hypervisor } from '../src/index.js';
import { ClaimWriter } from '../src/scheduler/claims.js';
import { decidePlacement } from '../src/scheduling.js';
import type { RequestSpec } from '../src/scheduler/types.js';
import { startComputeEnv, type ComputeEnv } from './support.js';

const small = { vcpus: 1, ramMiB: 512, diskGiB: 1 };
const api = 'compute.stratus.io/v1alpha1';

function hostCopy(name: string, allocations: Record<string, typeof small> = {}): Hypervisor {
  return {
    apiVersion: api,
    kind: 'Hypervisor',
    metadata: { name, resourceVersion: '1' },
    spec: { driver: 'fake', capacity: { vcpus: 8, ramMiB: 4096, diskGiB: 100 }, ramAllocationRatio: 1 },
    status: { state: 'up', lastHeartbeat: now(), allocations },
  } as Hypervisor;
}
const request = (instance: string, resources = small): RequestSpec => ({ instance, resources, imageProperties: {} });

describe('scheduling decisions against the book', () => {
  it('counts a claim assumed but not yet written, so the next decision sees it', () => {
    const book = new HypervisorBook(() => [hostCopy('only')]);
    for (let i = 0; i < 8; i++) {
      const d = decidePlacement(request(`demo/vm-${i}`), 'demo', { book });
      assert.deepEqual(d, { host: 'only', claimed: false });
      book.assume('only', `demo/vm-${i}`, small);
    }
    assert.ok('noValidHost' in decidePlacement(request('demo/vm-8'), 'demo', { book }), '8 vCPUs are booked, none written yet');
    book.settle('only', 'demo/vm-0');
    assert.deepEqual(decidePlacement(request('demo/vm-8'), 'demo', { book }), { host: 'only', claimed: false }, 'a claim given up frees its room');
  });

  it('honours its own claim left in a ledger, and gives back one of another size that a namesake left', () => {
    const book = new HypervisorBook(() => [hostCopy('a', { 'demo/web': small })]);
    assert.deepEqual(decidePlacement(request('demo/web'), 'demo', { book }), { host: 'a', claimed: true });
    assert.deepEqual(decidePlacement(request('demo/web', { vcpus: 2, ramMiB: 1024, diskGiB: 1 }), 'demo', { book }), { release: 'a' });
  });
});

describe('ledger claims written in batches', function () {
  this.timeout(60_000);
  let env: ComputeEnv;
  let client: KubeClient;
  let patches = 0;

  before(async () => {
    env = await startComputeEnv();
    client = env.client;
    const patch = client.patch.bind(client);
    client.patch = ((...args: Parameters<KubeClient['patch']>) => {
      if (args[0] === HYPERVISORS) patches++;
      return patch(...args);
    }) as KubeClient['patch'];
    await client.create(HYPERVISORS, { apiVersion: api, kind: 'Hypervisor', metadata: { name: 'hv' }, spec: { driver: 'fake', capacity: { vcpus: 64, ramMiB: 65536, diskGiB: 1000 } } }, 'test');
  });
  after(() => env?.stop());

  const stored = async () => (await client.get<Hypervisor>(HYPERVISORS, undefined, 'hv'))!;

  it('writes claims made while a write is in flight together, and the ledger holds every one', async () => {
    let copy = await stored();
    const book = new HypervisorBook(() => [copy]);
    const writer = new ClaimWriter(client, book, 'test');
    patches = 0;
    await Promise.all(Array.from({ length: 20 }, (_, i) => writer.claim('hv', `demo/vm-${i}`, small)));
    const hv = await stored();
    assert.equal(Object.keys(hv.status?.allocations ?? {}).length, 20);
    assert.deepEqual(hv.status?.allocated, { vcpus: 20, ramMiB: 20 * 512, diskGiB: 20 });
    assert.ok(patches < 20 && patches >= 2, `20 claims in ${patches} writes: the first alone, the rest together`);
    copy = hv;
    await Promise.all([writer.claim('hv', 'demo/vm-0', null), writer.claim('hv', 'demo/vm-1', null)]);
    assert.equal((await stored()).status?.instances, 18, 'releases are claims too');
  });

  it('fails a batch written on a stale copy, and the claims decided on top of it, leaving nothing assumed', async () => {
    const stale = await stored();
    await client.patch(HYPERVISORS, undefined, 'hv', { status: { state: 'up', lastHeartbeat: now() } }, 'test', MERGE_PATCH, 'status'); // the agent's heartbeat
    const book = new HypervisorBook(() => [stale]);
    const writer = new ClaimWriter(client, book, 'test');
    const outcomes = await Promise.allSettled([writer.claim('hv', 'demo/late-1', small), writer.claim('hv', 'demo/late-2', small)]);
    for (const o of outcomes) assert.equal(o.status === 'rejected' && (o.reason as { code?: number }).code, 409);
    assert.equal(book.all()[0]!.status?.allocations?.['demo/late-1'], undefined, 'no failed claim still counts');
    const hv = await stored();
    assert.equal(hv.status?.allocations?.['demo/late-1'], undefined);
    assert.equal(hv.status?.instances, 18);
  });
});
