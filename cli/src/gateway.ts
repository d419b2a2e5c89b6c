/**
 * One port for every OpenStack API, as the design asks: requests are passed through unchanged (path, Host
 * header and body) to the service that serves the path's prefix, so links the services write point back here.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

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

export async function startGateway(opts: { host: string; port: number; routes: GatewayRoute[] }): Promise<Gateway> {
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const route = opts.routes.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`) || path.startsWith(`${r.prefix}?`));
    if (!route) return json(res, 404, { error: { code: 404, title: 'Not Found', message: `No service here. Services: ${opts.routes.map((r) => r.prefix).join(', ')}` } });
    const target = new URL(route.target);
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path, headers: req.headers, agent }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) json(res, 502, { error: { code: 502, title: 'Bad Gateway', message: `The service at ${route.prefix} is not answering: ${err.message}` } });
      else res.destroy(err);
    });
    req.pipe(upstream);
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

/** A port nobody is listening on now, for a child process to take. */
export async function freePort(host: string): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, host, resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}
