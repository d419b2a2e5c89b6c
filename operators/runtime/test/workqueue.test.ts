import { strict as assert } from 'node:assert';
import { WorkQueue } from '../src/workqueue.js';

describe('WorkQueue', () => {
  it('queues a key once however often it is added', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    assert.equal(q.length, 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
  });

  it('never hands a key to two workers; a change during processing re-queues it after done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const key = await q.get();
    q.add('a');
    assert.equal(q.length, 0, 'held back while in flight');
    q.done(key!);
    assert.equal(q.length, 1);
    assert.equal(await q.get(), 'a');
  });

  it('backs off exponentially per key and forgets on success', () => {
    const q = new WorkQueue({ baseMs: 10, maxMs: 50 });
    assert.deepEqual([1, 2, 3, 4].map(() => q.addRateLimited('k')), [10, 20, 40, 50]);
    assert.equal(q.failureCount('k'), 4);
    q.forget('k');
    assert.equal(q.addRateLimited('k'), 10);
    q.shutDown();
  });

  it('keeps the sooner of two delays for a waiting key, whichever came first (client-go’s delaying queue)', async () => {
    const q = new WorkQueue();
    // A bound far beyond the short delay and far below the long one: which one fired is not a matter of timing.
    const within = (p: Promise<string | undefined>) => Promise.race([p, new Promise<string>((r) => setTimeout(() => r('still waiting after 30 s'), 30_000).unref())]);
    q.addAfter('resynced', 600_000);
    q.addAfter('resynced', 1);
    assert.equal(await within(q.get()), 'resynced', 'a later, sooner request is not held up by the pending long one');
    q.done('resynced');
    q.addAfter('soon', 1);
    q.addAfter('soon', 600_000);
    assert.equal(await within(q.get()), 'soon', 'a longer request does not put off the pending short one');
    q.shutDown();
  });

  it('wakes waiting workers with undefined on shutdown', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.shutDown();
    assert.equal(await waiting, undefined);
  });
});
