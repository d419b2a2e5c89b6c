/**
 * The front door: each new connection goes, socket and all, to the process of the API its first request asks
 * for (over the supervisor's IPC channel), the rest to the fallback, and no byte is lost on the way.
 */
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createLogger, responseHead } from '@stratus/runtime';
import { processFor, requestPath, startFrontDoor, type FrontDoor } from '../src/frontDoor.js';
import { Supervisor } from '../src/supervisor.js';

const child = fileURLToPath(new URL('./fixtures/handoffChild.js', import.meta.url));

describe('stratus up front door', function () {
  this.timeout(60_000);

  it('reads the path of a request line, and picks the process with the longest matching prefix', () => {
    assert.equal(requestPath(Buffer.from('GET /identity/v3/auth/tokens?nocatalog HTTP/1.1\r\nHost: x\r\n')), '/identity/v3/auth/tokens?nocatalog');
    assert.equal(requestPath(Buffer.from('GET /identity/v3')), undefined, 'no line end yet');
    assert.equal(requestPath(Buffer.from('\x16\x03\x01 TLS hello\r\n')), undefined);
    const routes = [
      { prefix: '/image', process: 'glance' },
      { prefix: '/image/v2/special', process: 'other' },
    ];
    assert.equal(processFor('/image/v2/images?limit=1', routes, 'gateway'), 'glance');
    assert.equal(processFor('/image/v2/special/x', routes, 'gateway'), 'other');
    assert.equal(processFor('/images', routes, 'gateway'), 'gateway', 'a prefix is a whole path segment');
    assert.equal(processFor(undefined, routes, 'gateway'), 'gateway');
  });

  it('writes the head of an answer another process sends on, and refuses a header that would split it', () => {
    assert.equal(responseHead(206, { 'Content-Length': 10, 'X-A': 'b' }), 'HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\nX-A: b\r\n\r\n');
    assert.throws(() => responseHead(200, { 'X-A': 'b\r\nSet-Cookie: x' }), /X-A holds a line break/);
  });

  describe('with real processes', () => {
    const log = createLogger('front-door-test', 'error');
    const supervisor = new Supervisor(log);
    let door: FrontDoor;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const call = (path: string, body?: Buffer, fresh = false) =>
      new Promise<{ process: string; pid: number; port: number; path: string; bytes: number; sha256: string }>((resolve, reject) => {
        const r = request(`${door.url}${path}`, { method: body ? 'POST' : 'GET', agent: fresh ? false : agent, headers: body ? { 'Content-Length': body.length } : {} }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${res.statusCode} ${text}`))));
        });
        r.on('error', reject);
        r.end(body);
      });

    before(async () => {
      for (const name of ['keystone', 'glance', 'gateway']) supervisor.run({ name, args: [child], env: { ...process.env, CHILD_NAME: name, STRATUS_HANDOFF: '1', STRATUS_RESPONSE_TAKERS: 'writer' } });
      // The process answers are handed to (as `stratus up` registers the embedded S3 server): this one writes the head it is given and what it was asked.
      supervisor.takeResponses('writer', (message, socket) => socket.end(`${message.head}${JSON.stringify({ what: message.what, writer: process.pid })}`));
      supervisor.run({ name: 'slow', args: [child], env: { ...process.env, CHILD_NAME: 'slow', STRATUS_HANDOFF: '1', START_DELAY_MS: '4000' } });
      door = await startFrontDoor({
        host: '127.0.0.1',
        port: 0,
        routes: [
          { prefix: '/identity', process: 'keystone' },
          { prefix: '/image', process: 'glance' },
          { prefix: '/slow', process: 'slow' },
        ],
        fallback: 'gateway',
        handOff: (name, message, socket, done) => supervisor.send(name, message, socket, done),
        log,
      });
      // The children take a moment to start: until each takes connections, the front door gives them to the gateway.
      const deadline = Date.now() + 30_000;
      for (const [path, name] of [['/identity/ready', 'keystone'], ['/image/ready', 'glance'], ['/dashboard/ready', 'gateway']])
        for (;;) {
          const answered = await call(path, undefined, true).catch(() => undefined);
          if (answered?.process === name) break;
          if (Date.now() > deadline) throw new Error(`the ${name} child never took a connection`);
          await new Promise((r) => setTimeout(r, 100));
        }
    });
    after(async () => {
      agent.destroy();
      await door?.close();
      await supervisor.stopAll();
    });

    it('gives a connection to the process its first request asks for, which serves it from then on', async () => {
      const first = await call('/identity/v3/auth/tokens');
      assert.deepEqual([first.process, first.path], ['keystone', '/identity/v3/auth/tokens']);
      const second = await call('/image/v2/images');
      assert.deepEqual([second.process, second.pid], ['keystone', first.pid], 'the kept-alive connection stays with its process');
      const fresh = await call('/image/v2/images', undefined, true);
      assert.equal(fresh.process, 'glance');
      assert.equal((await call('/dashboard/', undefined, true)).process, 'gateway', 'what no API takes goes to the gateway');
    });

    it('loses no byte of a large upload that arrives with the request line', async () => {
      const body = randomBytes(8 << 20);
      const answer = await call('/image/v2/images/x/file', body, true);
      assert.equal(answer.process, 'glance');
      assert.equal(answer.bytes, body.length);
      assert.equal(answer.sha256, createHash('sha256').update(body).digest('hex'));
    });

    it('lets another process write an answer on the client’s own connection, which closes after it', async () => {
      const get = (url: string) =>
        new Promise<{ status?: number; headers: Record<string, unknown>; body: any }>((resolve, reject) =>
          request(url, { agent: false }, (res) => {
            let text = '';
            res.on('data', (c) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: JSON.parse(text) }));
          })
            .on('error', reject)
            .end(),
        );
      const glance = await call('/image/ready', undefined, true);
      // Through the front door (a connection handed to the child), and on the child's own port (one it accepted).
      for (const url of [`${door.url}/image/v2/images/x/handed`, `http://127.0.0.1:${glance.port}/image/v2/images/x/handed`]) {
        const answer = await get(url);
        assert.equal(answer.status, 200, url);
        assert.equal(answer.headers['x-process'], 'glance', 'the head is the one the child made');
        assert.equal(answer.headers.connection, 'close');
        assert.deepEqual(answer.body, { what: { path: '/image/v2/images/x/handed', pid: glance.pid }, writer: process.pid }, 'the body is the writer’s');
      }
      assert.equal((await call('/image/ready', undefined, true)).pid, glance.pid, 'the child lives on and serves the next connection');
    });

    it('sends nothing to a process before it says it takes connections: until then the gateway answers', async () => {
      const early = await call('/slow/x', undefined, true);
      assert.equal(early.process, 'gateway', 'a socket sent before the process listens for it would be lost, the client left hanging');
      const deadline = Date.now() + 30_000;
      while ((await call('/slow/x', undefined, true)).process !== 'slow') {
        assert.ok(Date.now() < deadline, 'the slow process never took a connection once ready');
        await new Promise((r) => setTimeout(r, 200));
      }
    });
  });
});
