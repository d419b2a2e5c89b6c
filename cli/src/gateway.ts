/**
 * One port for every OpenStack API, as the design asks: requests are passed through unchanged (path, Host
 * header and body) to the service that serves the path's prefix, so links the services write point back here.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { hasBody } from '@stratus/runtime';

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
 * is retried once on a new connection when the request has no body to send again.
 */
const IDLE_SOCKET_MS = 4000;

export async function startGateway(opts: { host: string; port: number; routes: GatewayRoute[] }): Promise<Gateway> {
  const agent = new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const route = opts.routes.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`) || path.startsWith(`${r.prefix}?`));
    if (!route) return json(res, 404, { error: { code: 404, title: 'Not Found', message: `No service here. Services: ${opts.routes.map((r) => r.prefix).join(', ')}` } });
    const target = new URL(route.target);
    const bodiless = !hasBody(req);
    const forward = (retried: boolean) => {
      const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path, headers: req.headers, agent }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        if (!retried && bodiless && upstream.reusedSocket && !res.headersSent && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) return forward(true);
        if (!res.headersSent) json(res, 502, { error: { code: 502, title: 'Bad Gateway', message: `The service at ${route.prefix} is not answering: ${err.message}` } });
        else res.destroy(err);
      });
      if (bodiless) upstream.end();
      else req.pipe(upstream);
    };
    forward(false);
  });
  await new Promise<void>((resolve) => server.listen(opts.port, opts.host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      agent.destroy();
    },
  };
}

