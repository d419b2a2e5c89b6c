/**
 * Console tokens and nova-novncproxy: a token opens one server's display once, within its lifetime; a reused,
 * expired, unknown or malformed token is refused with 401 before any WebSocket is made, and nothing of an
 * expired token is left behind.
 */
import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startKeystoneEnv, type KeystoneEnv } from '@stratus/keystone/testing';
import { SYSTEM_NAMESPACE, createLogger, type Listening } from '@stratus/runtime';
import { CONSOLE_TOKEN_LABEL, issueConsoleToken, redeemConsoleToken, tokenSecretName } from '../src/console/tokens.js';
import { startConsoleProxy, vncTarget } from '../src/console/proxy.js';
import { INSTANCES } from '../src/resources.js';

const SECRETS = { group: '', version: 'v1', plural: 'secrets', namespaced: true };
const NAMESPACES = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };
const RFB_BANNER = 'RFB 003.008\n';

describe('console tokens and the console proxy', function () {
  this.timeout(60_000);
  let env: KeystoneEnv;
  let vnc: net.Server;
  let proxy: Listening;
  let webDir: string | undefined;
  let clock = Date.now();
  const server = { namespace: 'console-test', name: 'web-1', uid: '' };

  before(async () => {
    env = await startKeystoneEnv();
    // A stand-in display: what a VNC server says first.
    vnc = net.createServer((s) => s.end(RFB_BANNER));
    await new Promise<void>((r) => vnc.listen(0, '127.0.0.1', r));
    const vncPort = (vnc.address() as net.AddressInfo).port;
    await env.client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: server.namespace } }, 'test');
    const inst = await env.client.create<any>(INSTANCES, { apiVersion: 'compute.stratus.io/v1alpha1', kind: 'Instance', metadata: { name: server.name, namespace: server.namespace }, spec: { flavor: 'm1.tiny', image: { name: 'cirros' } } }, 'test');
    server.uid = inst.metadata.uid;
    await env.client.patch(INSTANCES, server.namespace, server.name, { status: { phase: 'ACTIVE', consoleUrl: `vnc://127.0.0.1:${vncPort}` } }, 'test', undefined, 'status');
    webDir = mkdtempSync(join(tmpdir(), 'console-web-'));
    writeFileSync(join(webDir, 'vnc_lite.html'), readFileSync(new URL('../../web/vnc_lite.html', import.meta.url)));
    proxy = await startConsoleProxy({ host: '127.0.0.1', port: 0, client: env.client, log: createLogger('novncproxy-test', 'error'), webDir, now: () => clock });
  });
  after(async () => {
    await proxy?.close();
    vnc?.close();
    await env?.stop();
    if (webDir) rmSync(webDir, { recursive: true, force: true });
  });

  const issue = (ttlSeconds = 600) => issueConsoleToken(env.client, server, { ttlSeconds, now: clock, fieldManager: 'test' });

  /** Opens the proxy's WebSocket with this token: the first bytes of the display, or the HTTP status it was refused with. */
  const open = (token: string) =>
    new Promise<{ banner?: string; status?: number }>((resolve) => {
      const ws = new WebSocket(`${proxy.url.replace('http', 'ws')}/console/websockify?token=${encodeURIComponent(token)}`, ['binary']);
      ws.on('message', (data: Buffer) => (resolve({ banner: data.toString() }), ws.close()));
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        // Nothing after the headers: a client reading frames there must see the connection close.
        res.on('end', () => (assert.equal(body, ''), assert.ok(res.headers['x-console-refusal']), resolve({ status: res.statusCode })));
      });
      ws.on('error', () => resolve({ status: 0 }));
    });

  it('reads a display address as the agent reports it', () => {
    assert.deepEqual(vncTarget('vnc://127.0.0.1:5901'), { host: '127.0.0.1', port: 5901 });
    assert.deepEqual(vncTarget('vnc://[::1]:5900'), { host: '::1', port: 5900 });
    assert.equal(vncTarget('http://127.0.0.1:5900'), undefined);
    assert.equal(vncTarget(undefined), undefined);
  });

  it('keeps no usable token in the control plane: the Secret is named by its digest', async () => {
    const { token } = await issue();
    const secret = await env.client.get<any>(SECRETS, SYSTEM_NAMESPACE, tokenSecretName(token));
    assert.ok(secret, 'the token is kept');
    assert.equal(secret.metadata.labels[CONSOLE_TOKEN_LABEL], 'true');
    assert.ok(!JSON.stringify(secret).includes(token), 'the token itself is nowhere in the Secret');
  });

  it("opens the server's display once per token; a second use is refused with 401", async () => {
    const { token } = await issue();
    assert.deepEqual(await open(token), { banner: RFB_BANNER }, 'the display answers through the proxy');
    assert.deepEqual(await open(token), { status: 401 }, 'a used token is refused');
  });

  it('lets exactly one of many racing connections use a token', async () => {
    const { token } = await issue();
    const results = await Promise.all(Array.from({ length: 6 }, () => redeemConsoleToken(env.client, token, clock)));
    assert.equal(results.filter((r) => 'grant' in r).length, 1, JSON.stringify(results));
  });

  it('refuses an expired token with 401 and removes it', async () => {
    const { token } = await issue(5);
    clock += 6_000;
    assert.deepEqual(await open(token), { status: 401 });
    assert.equal(await env.client.get(SECRETS, SYSTEM_NAMESPACE, tokenSecretName(token)), undefined, 'the expired token is gone');
  });

  it('sweeps expired tokens nobody used when the next one is issued', async () => {
    const { token: stale } = await issue(5);
    clock += 6_000;
    await issue();
    assert.equal(await env.client.get(SECRETS, SYSTEM_NAMESPACE, tokenSecretName(stale)), undefined);
  });

  it('refuses tokens it never issued, and malformed ones, with 401', async () => {
    assert.deepEqual(await open('A'.repeat(32)), { status: 401 });
    assert.deepEqual(await open('not a token!'), { status: 401 });
    assert.deepEqual(await open(''), { status: 401 });
  });

  it('refuses with 409 while the server is not running, and uses the token up', async () => {
    await env.client.patch(INSTANCES, server.namespace, server.name, { status: { phase: 'SHUTOFF' } }, 'test', undefined, 'status');
    const { token } = await issue();
    assert.deepEqual(await open(token), { status: 409 });
    await env.client.patch(INSTANCES, server.namespace, server.name, { status: { phase: 'ACTIVE' } }, 'test', undefined, 'status');
    assert.deepEqual(await open(token), { status: 401 });
  });

  it('serves the console page', async () => {
    const res = await fetch(`${proxy.url}/console/vnc_lite.html?path=%3Ftoken%3Dx`);
    assert.equal(res.status, 200);
    const html = await res.text();
    // What Tempest's test_novnc looks for in nova-novncproxy's page.
    assert.match(html, /<html.*>/);
    assert.ok(html.includes('noVNC') && html.includes('<script') && html.includes('</html>'));
    assert.equal((await fetch(`${proxy.url}/console/secrets.txt`)).status, 404);
  });
});
