/**
 * One port for every OpenStack API, as the design asks: requests are passed through unchanged (path, Host
 * header and body) to the service that serves the path's prefix, so links the services write point back here.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { acceptHandedConnections, forwardRequest } from '@stratus/runtime';

export interface GatewayRoute {
  /** A path prefix such as `/identity`. */
  prefix: string;
  /** The service's own base URL, e.g. `http://127.0.0.1:5000`. */
  target: string;
}

export interface Gateway {
  url: string;
  close(): Promise<void>;
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
};

/**
 * Kept-alive connections to the services are let go after 4 s idle, before a Node service's own 5 s
 * keep-alive timeout closes them under a request; one a service closed anyway (the race is never quite gone)
 * is retried once on a new connection when the request has no body to send again (forwardRequest).
 */
const IDLE_SOCKET_MS = 4000;

export async function startGateway(opts: { host: string; port: number; routes: GatewayRoute[] }): Promise<Gateway> {
  const agent = new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
  const routeOf = (path: string) => opts.routes.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`) || path.startsWith(`${r.prefix}?`));
  const home = opts.routes.find((r) => r.prefix === '/dashboard');
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    // The dashboard is the cloud's front page, as Horizon is OpenStack's.
    if (home && (path === '/' || path === '/dashboard')) {
      res.writeHead(302, { Location: '/dashboard/', 'Content-Length': 0 });
      return res.end();
    }
    const route = routeOf(path);
    if (!route) return json(res, 404, { error: { code: 404, title: 'Not Found', message: `No service here. Services: ${opts.routes.map((r) => r.prefix).join(', ')}` } });
    forwardRequest(req, res, new URL(route.target), agent, (err) => json(res, 502, { error: { code: 502, title: 'Bad Gateway', message: `The service at ${route.prefix} is not answering: ${err.message}` } }));
  });
  // WebSockets (the dashboard's live updates, the console proxy): the upgrade request goes through as it came,
  // then bytes flow both ways untouched until either side closes.
  const tunnels = new Set<Duplex>();
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    tunnels.add(socket);
    socket.on('close', () => tunnels.delete(socket));
    const route = routeOf(req.url ?? '/');
    if (!route) return void socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    const target = new URL(route.target);
    const upstream = net.connect({ host: target.hostname, port: Number(target.port) });
    upstream.on('error', () => (upstream.readyState === 'opening' ? socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n') : socket.destroy()));
    upstream.on('connect', () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
  });
  // Under `stratus up` the front door hands it the connections no API process takes (the dashboard, the console, unknown paths).
  acceptHandedConnections(server);
  // As the APIs' own servers (runtime apiServer.ts): idle client connections kept 65 s, not Node's 5.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve) => server.listen(opts.port, opts.host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}`,
    async close() {
      server.closeAllConnections();
      for (const t of tunnels) t.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      agent.destroy();
    },
  };
}

