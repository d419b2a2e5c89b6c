import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { freePort, listenerPortRange } from '../src/ports.js';

describe('free ports for a cloud’s services', () => {
  it('chooses below the kernel’s ephemeral range, where outgoing connections cannot take the port first', () => {
    assert.deepEqual(listenerPortRange('32768\t60999\n'), [10_000, 32767]);
    assert.deepEqual(listenerPortRange('20000 65000'), [10_000, 19999]);
    assert.deepEqual(listenerPortRange(undefined), [10_000, 32767], 'the default range where /proc does not say');
  });

  it('gives a port one can listen on, and another when the chosen one is taken', async () => {
    const port = await freePort('127.0.0.1');
    const [low, high] = listenerPortRange(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'));
    assert.ok(port >= low && port <= high, `port ${port} in ${low}–${high}`);
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(port, '127.0.0.1', r));
    try {
      let calls = 0;
      // The first pick lands on the held port; the next one must be chosen instead.
      const other = await freePort('127.0.0.1', () => (calls++ === 0 ? (port - low) / (high - low + 1) : 0.5));
      assert.notEqual(other, port);
    } finally {
      holder.close();
    }
  });

  it('never hands out the same port twice, though nothing listens on it yet', async () => {
    const sameEveryTime = () => 0.25; // a random source stuck on one port: only the bookkeeping can tell them apart
    const first = await freePort('127.0.0.1', sameEveryTime);
    const second = await freePort('127.0.0.1', sameEveryTime);
    assert.notEqual(second, first);
  });
});
