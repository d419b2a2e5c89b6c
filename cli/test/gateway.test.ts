/** The gateway in front of the services: it passes requests through, and rides out a kept-alive connection the service closed. */
import { strict as assert } from 'node:assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, type Gateway } from '../src/gateway.js';

describe('stratus up gateway', () => {
  let service: http.Server;
  let gateway: Gateway;
  const served = new WeakMap<object, number>();
  let posts = 0;
  before(async () => {
    // A service that drops a kept-alive connection when its second request arrives, as a service whose
    // keep-alive timeout ends just as the gateway reuses the connection does.
    service = http.createServer((req, res) => {
      if (req.method === 'POST') posts++;
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      if (n === 2) return req.socket.destroy();
      res.end(JSON.stringify({ path: req.url, method: req.method }));
    });
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
    gateway = await startGateway({ host: '127.0.0.1', port: 0, routes: [{ prefix: '/image', target: `http://127.0.0.1:${(service.address() as AddressInfo).port}` }] });
  });
  after(async () => {
    await gateway?.close();
    service?.close();
  });

  it('passes requests through, and answers unknown prefixes itself', async () => {
    const r = await fetch(`${gateway.url}/image/v2/images?limit=1`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { path: '/image/v2/images?limit=1', method: 'GET' });
    assert.equal((await fetch(`${gateway.url}/nowhere`)).status, 404);
  });

  it('retries a bodiless request once on a new connection when the service closed the kept-alive one, instead of a 502', async () => {
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${gateway.url}/image/v2/images/${i}`);
      assert.equal(r.status, 200, `request ${i}: ${await r.text()}`);
      await r.arrayBuffer().catch(() => undefined);
    }
    // A request with a body is not sent again: one that met a closed connection is the client's to retry.
    for (let i = 0; i < 3; i++) await (await fetch(`${gateway.url}/image/v2/images`, { method: 'POST', body: 'x' })).arrayBuffer();
    assert.ok(posts <= 3, `${posts} POSTs reached the service for 3 sent`);
  });
});

describe('stratus up gateway: WebSockets and the front page', () => {
  let service: http.Server;
  let gateway: Gateway;
  before(async () => {
    // A WebSocket echo service (the console proxy's and the dashboard's place behind the gateway).
    const { WebSocketServer } = await import('ws');
    service = http.createServer((_req, res) => res.end('page'));
    const wss = new WebSocketServer({ server: service });
    wss.on('connection', (ws, req) => ws.on('message', (m: Buffer) => ws.send(`${req.url} ${m.toString()}`)));
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
    const target = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
    gateway = await startGateway({ host: '127.0.0.1', port: 0, routes: [{ prefix: '/console', target }, { prefix: '/dashboard', target }] });
  });
  after(async () => {
    await gateway?.close();
    service?.close();
  });

  it('passes a WebSocket through, path and query as sent, bytes both ways', async () => {
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(`${gateway.url.replace('http', 'ws')}/console/websockify?token=abc`);
    const answer = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('hello'));
      ws.on('message', (m: Buffer) => resolve(m.toString()));
      ws.on('error', reject);
    });
    ws.close();
    assert.equal(answer, '/console/websockify?token=abc hello');
    const nowhere = new WebSocket(`${gateway.url.replace('http', 'ws')}/nowhere`);
    const status = await new Promise<number>((resolve) => nowhere.on('unexpected-response', (_q, res) => resolve(res.statusCode!)).on('error', () => resolve(0)));
    assert.equal(status, 404);
  });

  it('sends the front page to the dashboard', async () => {
    const r = await fetch(`${gateway.url}/`, { redirect: 'manual' });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), '/dashboard/');
  });
});
