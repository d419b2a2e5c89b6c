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
import { WebSocketServer, type WebSocket } from 'ws';
import { listen, type KubeClient, type Listening, type Logger } from '@stratus/runtime';
import type { Instance } from '../resources.js';
import { redeemConsoleToken } from './tokens.js';

const INSTANCES = { group: 'compute.stratus.io', version: 'v1alpha1', plural: 'instances', namespaced: true };
const PAGES: Record<string, string> = { 'vnc_lite.html': 'text/html; charset=utf-8', 'vnc.html': 'text/html; charset=utf-8', 'console.js': 'text/javascript; charset=utf-8' };

/** `vnc://host:port` as the agent reports a running guest's display (pure). */
export function vncTarget(consoleUrl: string | undefined): { host: string; port: number } | undefined {
  const m = consoleUrl ? /^vnc:\/\/\[?([^\]]+?)\]?:(\d+)$/.exec(consoleUrl) : null;
  return m ? { host: m[1], port: Number(m[2]) } : undefined;
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
      const target = vncTarget(inst.status?.consoleUrl ?? undefined);
      if (!target || (inst.status?.phase !== 'ACTIVE' && inst.status?.phase !== 'PAUSED')) return refuse(socket, 409, 'The server is not running: its console is available while it runs.');
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
