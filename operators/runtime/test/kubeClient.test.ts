/** KubeClient's connection handling, against a bare HTTP server that plays the server's side of the race. */
import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, MAX_CONNECTIONS } from '../src/index.js';

const OK = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: keep-alive\r\n\r\n{"ok":true}';

/**
 * A server that answers the first request of each connection and resets a connection on any later request
 * before reading it, as a server closing an idle kept-alive connection does when a request crosses the close.
 * `resetFirst` resets new connections' first requests too.
 */
async function racingServer(resetFirst = false) {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    let requests = 0;
    socket.on('data', (d) => {
      // A chunk that starts a request (a POST's body may follow in a chunk of its own).
      if (!/^[A-Z]+ \/\S* HTTP\/1\.1\r\n/.test(d.toString('latin1'))) return;
      if (requests++ > 0 || resetFirst) socket.resetAndDestroy();
      else socket.write(OK);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { client: new KubeClient(kc), connections: () => connections, close: () => new Promise((r) => (server.close(r), sockets.forEach((k) => k.destroy()))) };
}

describe('KubeClient connections', () => {
  it('sends a request again on a new connection when its kept-alive one was reset under it', async () => {
    const s = await racingServer();
    try {
      assert.deepEqual(await s.client.request('GET', '/first'), { ok: true });
      assert.deepEqual(await s.client.request('POST', '/second', { a: 1 }), { ok: true }, 'the second request, reset on the reused connection, is answered on a new one');
      assert.equal(s.connections(), 2);
    } finally {
      await s.close();
    }
  });

  it('does not send again what a fresh connection lost: the error reaches the caller', async () => {
    const s = await racingServer(true);
    try {
      await assert.rejects(s.client.request('POST', '/only', { a: 1 }), (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET');
      assert.equal(s.connections(), 1);
    } finally {
      await s.close();
    }
  });
  it(`opens at most ${MAX_CONNECTIONS} connections for a burst of requests, the rest waiting for one (no flood of the server's accept queue)`, async () => {
    // A server that holds every answer until all connections the client will open are open.
    let open = 0;
    let most = 0;
    const held: net.Socket[] = [];
    const all = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      all.add(socket);
      open++;
      most = Math.max(most, open);
      socket.on('close', () => open--);
      socket.on('error', () => {});
      socket.on('data', (d) => {
        if (/^[A-Z]+ \/\S* HTTP\/1\.1\r\n/.test(d.toString('latin1'))) held.push(socket);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    const client = new KubeClient(kc);
    try {
      const burst = Array.from({ length: MAX_CONNECTIONS * 3 }, (_, i) => client.request('GET', `/r${i}`));
      // Every request is answered once it arrives; the ones waiting for a connection go out as connections free up.
      const answer = setInterval(() => held.splice(0).forEach((k) => k.write(OK)), 20);
      try {
        assert.equal((await Promise.all(burst)).length, MAX_CONNECTIONS * 3);
      } finally {
        clearInterval(answer);
      }
      assert.ok(most <= MAX_CONNECTIONS, `${most} connections were open at once`);
    } finally {
      await new Promise((r) => (server.close(r), all.forEach((k) => k.destroy())));
    }
  });
});
