/**
 * API aggregation: an APIService backed by an ExternalName Service sends its group's requests to the extension
 * server over TLS (its caBundle trusted), with the caller's identity, and the group shows in discovery.
 */
import { strict as assert } from 'node:assert';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { generateServingCert, startTestControlPlane, type TestControlPlane } from '../src/index.js';

describe('API server: aggregated APIs (APIService)', function () {
  this.timeout(30_000);
  let plane: TestControlPlane;
  let backend: Server;
  let port: number;
  const seen: Array<{ method?: string; url?: string; user?: string; groups?: string | string[]; body: string; proxyCert?: string }> = [];
  /** The fingerprint of the client certificate a connection to the extension server presented. */
  const peerOf = (socket: unknown) => (socket as TLSSocket).getPeerX509Certificate()?.fingerprint256;
  const call = async (method: string, path: string, body?: unknown) => {
    const type = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    const r = await fetch(plane.server.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { Authorization: `Bearer ${plane.token}`, 'Content-Type': type } });
    return { status: r.status, body: (await r.json().catch(() => undefined)) as any };
  };

  before(async () => {
    plane = await startTestControlPlane({ tls: false });
    const cert = await generateServingCert('127.0.0.1');
    backend = createServer({ cert: cert.cert, key: cert.key, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, user: req.headers['x-remote-user'] as string, groups: req.headers['x-remote-group'], body, proxyCert: peerOf(req.socket) });
        const answer = req.url === '/apis/things.example.io/v1' ? { kind: 'APIResourceList', groupVersion: 'things.example.io/v1', resources: [{ name: 'widgets/poke', namespaced: true, kind: 'Widget', verbs: ['update'] }] } : { poked: req.url };
        res.writeHead(req.method === 'PUT' ? 202 : 200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
    });
    // A WebSocket-like upgrade (virt-api's VNC): switches protocols, says who asked, then echoes bytes.
    backend.on('upgrade', (req, socket) => {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Seen-User: ${req.headers['x-remote-user']}\r\nX-Seen-Auth: ${req.headers.authorization ?? 'none'}\r\nX-Seen-Proxy: ${peerOf(socket)}\r\n\r\n`);
      socket.on('data', (d: Buffer) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
    port = (backend.address() as AddressInfo).port;
    assert.equal((await call('POST', '/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'things' }, spec: { type: 'ExternalName', externalName: '127.0.0.1' } })).status, 201);
    const made = await call('POST', '/apis/apiregistration.k8s.io/v1/apiservices', { apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: 'v1.things.example.io' }, spec: { group: 'things.example.io', version: 'v1', groupPriorityMinimum: 1000, versionPriority: 15, service: { namespace: 'default', name: 'things', port }, caBundle: Buffer.from(cert.cert).toString('base64') } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
  });
  after(async () => {
    backend?.closeAllConnections();
    backend?.close();
    await plane?.stop();
  });

  it('lists the aggregated group in discovery and passes its discovery document through', async () => {
    const groups = (await call('GET', '/apis')).body.groups as Array<{ name: string }>;
    assert.ok(groups.some((g) => g.name === 'things.example.io'));
    assert.equal((await call('GET', '/apis/things.example.io')).body.preferredVersion.groupVersion, 'things.example.io/v1');
    assert.equal((await call('GET', '/apis/things.example.io/v1')).body.resources[0].name, 'widgets/poke');
  });

  it('proxies a request with its body, query and the caller’s identity, and the answer back', async () => {
    const r = await call('PUT', '/apis/things.example.io/v1/namespaces/default/widgets/w1/poke?dryRun=All', { gently: true });
    assert.equal(r.status, 202);
    assert.deepEqual(r.body, { poked: '/apis/things.example.io/v1/namespaces/default/widgets/w1/poke?dryRun=All' });
    const last = seen[seen.length - 1]!;
    assert.equal(last.body, JSON.stringify({ gently: true }));
    assert.equal(last.user, 'system:admin');
    assert.ok(String(last.groups).includes('system:masters'), String(last.groups));
  });

  it("presents the front proxy's client certificate, whose CA and name kube-system/extension-apiserver-authentication publishes", async () => {
    const published = (await call('GET', '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication')).body;
    const ca = new X509Certificate(published.data['requestheader-client-ca-file']);
    assert.deepEqual(JSON.parse(published.data['requestheader-allowed-names']), ['front-proxy-client']);
    assert.deepEqual(JSON.parse(published.data['requestheader-username-headers']), ['X-Remote-User']);
    assert.deepEqual(JSON.parse(published.data['requestheader-group-headers']), ['X-Remote-Group']);
    assert.equal((await call('PUT', '/apis/things.example.io/v1/namespaces/default/widgets/w2/poke', {})).status, 202);
    const presented = seen[seen.length - 1]!.proxyCert;
    assert.ok(presented, 'a client certificate came with the request');
    assert.equal(presented, ca.fingerprint256, 'the published CA is the certificate presented (its own CA)');
    assert.match(ca.subject, /CN=front-proxy-client/);
  });

  it('passes an upgrade (a WebSocket) through to the extension server with the caller’s identity, not their credentials', async () => {
    const { hostname, port: planePort } = new URL(plane.server.url);
    const upgraded = await new Promise<{ headers: Record<string, unknown>; echo: string }>((resolve, reject) => {
      const req = httpRequest({ host: hostname, port: Number(planePort), path: '/apis/things.example.io/v1/namespaces/default/widgets/w1/vnc', headers: { Authorization: `Bearer ${plane.token}`, Connection: 'Upgrade', Upgrade: 'websocket' } });
      req.on('upgrade', (res, socket) => {
        socket.once('data', (d: Buffer) => {
          resolve({ headers: res.headers, echo: d.toString() });
          socket.destroy();
        });
        socket.write('RFB 003.008\n');
      });
      req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on('error', reject);
      req.end();
    });
    assert.equal(upgraded.headers['x-seen-user'], 'system:admin');
    assert.equal(upgraded.headers['x-seen-auth'], 'none', 'the bearer token stays with the API server');
    assert.equal(upgraded.echo, 'echo:RFB 003.008\n');
    assert.equal(upgraded.headers['x-seen-proxy'], seen[seen.length - 1]!.proxyCert, "the upgrade too came with the front proxy's certificate");
    const unknown = await new Promise<number>((resolve) => {
      const req = httpRequest({ host: hostname, port: Number(planePort), path: '/apis/nothing.example.io/v1/namespaces/default/x/y/vnc', headers: { Authorization: `Bearer ${plane.token}`, Connection: 'Upgrade', Upgrade: 'websocket' } });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('upgrade', () => resolve(101));
      req.end();
    });
    assert.equal(unknown, 404);
  });

  it('answers 503 ServiceUnavailable when the Service is not one it can reach, or the server is down', async () => {
    assert.equal((await call('PATCH', '/api/v1/namespaces/default/services/things', { spec: { type: 'ClusterIP', externalName: null } })).status, 200);
    const notExternal = await call('PUT', '/apis/things.example.io/v1/namespaces/default/widgets/w1/poke', {});
    assert.equal(notExternal.status, 503);
    assert.match(notExternal.body.message, /not of type ExternalName/);
    await call('PATCH', '/api/v1/namespaces/default/services/things', { spec: { type: 'ExternalName', externalName: '127.0.0.1' } });
    backend.closeAllConnections();
    await new Promise<void>((r) => backend.close(() => r()));
    const down = await call('PUT', '/apis/things.example.io/v1/namespaces/default/widgets/w1/poke', {});
    assert.equal(down.status, 503);
    assert.match(down.body.message, /error trying to reach service of APIService v1\.things\.example\.io/);
  });
});
