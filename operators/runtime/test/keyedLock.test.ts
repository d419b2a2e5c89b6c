/** KeyedLock: one holder per key at a time, in arrival order; other keys do not wait. */
import { strict as assert } from 'node:assert';
import { KeyedLock } from '../src/index.js';

describe('KeyedLock', () => {
  it('lets one holder per key in at a time, in arrival order, and other keys past', async () => {
    const lock = new KeyedLock();
    const order: string[] = [];
    const hold = async (key: string, name: string, steps: number) => {
      const release = await lock.acquire(key);
      order.push(`${name} in`);
      for (let i = 0; i < steps; i++) await Promise.resolve();
      order.push(`${name} out`);
      release();
    };
    await Promise.all([hold('a', 'a1', 5), hold('a', 'a2', 1), hold('b', 'b1', 1)]);
    assert.deepEqual(order.filter((o) => o.startsWith('a')), ['a1 in', 'a1 out', 'a2 in', 'a2 out']);
    assert.ok(order.indexOf('b1 out') < order.indexOf('a1 out'), 'b did not wait for a');
  });
});
