/**
 * nova-novncproxy: the browser's way to a server's VNC display. It serves the noVNC page and, on a WebSocket at
 * `…/websockify?token=`, redeems the console token (single-use, short-lived; anything else is a 401 before any
 * upgrade) and bridges the socket to that server's VNC display, the one its node agent reported, and no other.
 * A proxy service rather than the node agent: as in Nova, one public address serves every node's consoles, and
 * the guests' displays stay on the nodes' own addresses (loopback on a single machine).
 */
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type * as https from 'node:https';
import { WebSocket as WebSocketClient, WebSocketServer, type WebSocket } from 'ws';
import { listen, type KubeClient, type Listening, type Logger } from '@stratus/runtime';
import type { Instance } from '../resources.js';
import { redeemConsoleToken } from './tokens.js';
import { vmiVncPath } from '../kubevirt/refs.js';

const INSTANCES = { group: 'compute.stratus.io', version: 'v1alpha1', plural: 'instances', namespaced: true };
const PAGES: Record<string, string> = { 'vnc_lite.html': 'text/html; charset=utf-8', 'vnc.html': 'text/html; charset=utf-8', 'console.js': 'text/javascript; charset=utf-8' };

/** `vnc://host:port` as the agent reports a running guest's display (pure). */
export function vncTarget(consoleUrl: string | undefined): { host: string; port: number } | undefined {
  const m = consoleUrl ? /^vnc:\/\/\[?([^\]]+?)\]?:(\d+)$/.exec(consoleUrl) : null;
  return m ? { host: m[1], port: Number(m[2]) } : undefined;
}

/**
 * `kubevirt://namespace/name` as the kubevirt driver reports a running VMI's display (pure): reached through
 * the API server at virt-api's VNC subresource, not on a node's address.
 */
export function kubevirtTarget(consoleUrl: string | undefined): { namespace: string; name: string } | undefined {
  const m = consoleUrl ? /^kubevirt:\/\/([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(consoleUrl) : null;
  return m ? { namespace: m[1]!, name: m[2]! } : undefined;
}

export async function startConsoleProxy(opts: { host: string; port: number; client: KubeClient; log: Logger; webDir: string; now?: () => number }): Promise<Listening> {
  const { client, log } = opts;
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has('binary') ? 'binary' : false) });

  const server = http.createServer((req, res) => {
    const file = new URL(req.url ?? '/', 'http://proxy').pathname.split('/').pop() || 'vnc_lite.html';
    const type = PAGES[file];
    if (req.method !== 'GET' || !type) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found');
      return;
    }
    readFile(join(opts.webDir, file === 'vnc.html' ? 'vnc_lite.html' : file)).then(
      (body) => res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'no-cache', 'X-Frame-Options': 'SAMEORIGIN' }).end(body),
      (e: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`The console page is missing: ${e.message}`),
    );
  });

  // A refusal has no body: WebSocket clients (Tempest's among them) read whatever follows the headers as frames,
  // and nothing may look like a console's first bytes. The reason goes in a header.
  const refuse = (socket: Duplex, status: number, message: string) => {
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nX-Console-Refusal: ${message.replace(/[^\x20-\x7e]/g, '')}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  };

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://proxy');
    const token = url.searchParams.get('token') ?? '';
    (async () => {
      const r = await redeemConsoleToken(client, token, opts.now?.());
      if ('refused' in r) return refuse(socket, 401, r.refused);
      const { grant } = r;
      const inst = await client.get<Instance>(INSTANCES, grant.namespace, grant.name);
      if (!inst || inst.metadata.uid !== grant.uid) return refuse(socket, 404, 'The server of this console is gone.');
      const kubevirt = kubevirtTarget(inst.status?.consoleUrl ?? undefined);
      const target = vncTarget(inst.status?.consoleUrl ?? undefined);
      if ((!target && !kubevirt) || (inst.status?.phase !== 'ACTIVE' && inst.status?.phase !== 'PAUSED')) return refuse(socket, 409, 'The server is not running: its console is available while it runs.');
      if (kubevirt) {
        const display = await openKubevirtVnc(client, kubevirt).catch((e: Error) => e);
        if (display instanceof Error) return refuse(socket, 502, `The server's display is not answering: ${display.message}`);
        wss.handleUpgrade(req, socket, head, (ws) => bridgeSockets(ws, display));
        log.info('console opened', { namespace: grant.namespace, name: grant.name, via: 'kubevirt' });
        return;
      }
      if (!target) return;
      const vnc = net.connect(target);
      vnc.once('error', (e) => refuse(socket, 502, `The server's display is not answering: ${e.message}`));
      vnc.once('connect', () => {
        vnc.removeAllListeners('error');
        wss.handleUpgrade(req, socket, head, (ws) => bridge(ws, vnc));
        log.info('console opened', { namespace: grant.namespace, name: grant.name });
      });
    })().catch((e: Error) => {
      log.warn('console refused', { error: e.message });
      refuse(socket, 503, `The console could not be opened: ${e.message}`);
    });
  });
  return listen(server, opts.host, opts.port);
}

/** A VMI's display: a WebSocket to virt-api's VNC subresource, through the API server, as the proxy's own identity. */
async function openKubevirtVnc(client: KubeClient, t: { namespace: string; name: string }): Promise<WebSocket> {
  const server = client.kc.getCurrentCluster()?.server;
  if (!server) throw new Error('no Kubernetes API server is configured');
  const opts: https.RequestOptions = {};
  await client.kc.applyToHTTPSOptions(opts);
  const url = `${server.replace(/^http/, 'ws')}${vmiVncPath(t.namespace, t.name)}`;
  const ws = new WebSocketClient(url, ['plain.kubevirt.io'], { ca: opts.ca, cert: opts.cert, key: opts.key, headers: opts.headers as Record<string, string>, rejectUnauthorized: opts.rejectUnauthorized, handshakeTimeout: 10_000 });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => reject(new Error(`${res.statusCode}: ${(() => { try { return (JSON.parse(body) as { message?: string }).message ?? body; } catch { return body; } })()}`)));
    });
    ws.once('error', reject);
  });
}

/** Messages both ways between two WebSockets until either closes. */
function bridgeSockets(a: WebSocket, b: WebSocket): void {
  a.binaryType = 'nodebuffer';
  b.binaryType = 'nodebuffer';
  a.on('message', (d: Buffer) => b.send(d));
  b.on('message', (d: Buffer) => a.send(d));
  const close = () => {
    a.terminate();
    b.terminate();
  };
  for (const s of [a, b]) s.on('close', close).on('error', close);
}

/** Bytes both ways until either side closes. */
function bridge(ws: WebSocket, vnc: net.Socket): void {
  ws.binaryType = 'nodebuffer';
  ws.on('message', (data: Buffer) => vnc.write(data));
  vnc.on('data', (chunk) => ws.send(chunk));
  const close = () => {
    vnc.destroy();
    ws.terminate();
  };
  ws.on('close', close);
  ws.on('error', close);
  vnc.on('close', close);
  vnc.on('error', close);
}
