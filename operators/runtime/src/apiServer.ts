/**
 * The HTTP side every OpenStack API here shares: a request ID on every answer, version discovery, path
 * prefixes, routing with 404/405, the service's own error bodies, JSON or streamed answers, and a refused
 * request body drained (small) or the connection closed (large). Each service brings its router, its
 * discovery documents, its errors, and how it authenticates and reads a body (`prepare`).
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HandedResponse, acceptHandedConnections, cameThroughFrontDoor, forwardRequest, handOverResponse, routeFor } from './handoff.js';
import type { Logger } from './logger.js';
import type { ApiRequest, ApiResponse, Route, Router } from './router.js';

export interface ApiServerOptions<A> {
  /** What the API is called in log lines: identity, image, … */
  name: string;
  log: Logger;
  router: Router<A>;
  /** The path prefixes routes live under, e.g. `/image/v2` and `/v2`. */
  prefixes: string[];
  /** Version discovery: the answer for `path` (no trailing slash), given the prefix it is (if any), or undefined. */
  discovery(path: string, origin: string, prefix: string | undefined): ApiResponse | undefined;
  /** Who is asking and the parsed body, in the order the service needs them (undefined auth on public routes). */
  prepare(route: Route<A>, req: http.IncomingMessage): Promise<{ auth?: A; body?: unknown }>;
  /** An error the service threw on purpose, as its answer; undefined for an unexpected one (then 500). */
  answerFor(err: unknown): ApiResponse | undefined;
  notFound(): Error;
  methodNotAllowed(method: string): unknown;
  internalError(): unknown;
  /** Content-Type of JSON answers. */
  jsonType?: string;
  /** A format suffix every path may end with, routed as if it did not (Neutron's `.json`: Tempest's quota details ask for it). */
  formatSuffix?: string;
  /** Headers on every answer. */
  headers?: Record<string, string>;
  /** Headers on every answer to this request, errors included (say, the microversion it was served at). */
  headersFor?(req: http.IncomingMessage): Record<string, string>;
  /** The headers that carry the request ID (OpenStack's x-openstack-request-id; Nova adds x-compute-request-id). */
  requestIdHeaders?: string[];
}

/** A request body left unread past this is not drained: the connection closes after the answer instead. */
const DRAIN_LIMIT = 16 << 20;

export function apiServer<A>(o: ApiServerOptions<A>): http.Server {
  const { log } = o;

  async function handle(req: http.IncomingMessage, requestId: string): Promise<ApiResponse> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const trimmed = url.pathname.replace(/\/+$/, '');
    const path = o.formatSuffix && trimmed.endsWith(o.formatSuffix) ? trimmed.slice(0, -o.formatSuffix.length) : trimmed;
    const origin = `http://${req.headers.host ?? 'localhost'}`;
    const prefix = o.prefixes.find((p) => path === p || path.startsWith(`${p}/`));
    const rest = prefix === undefined ? undefined : path.slice(prefix.length);
    if (rest === undefined || rest === '') {
      const doc = o.discovery(path, origin, rest === '' ? prefix : undefined);
      if (doc) return doc;
      throw o.notFound();
    }
    const method = req.method ?? 'GET';
    // Routes see a trailing slash (one), so an API may tell `/images/` (an empty ID) from `/images`.
    const { route, params, allowed } = o.router.match(method, url.pathname.endsWith('/') ? `${rest}/` : rest);
    if (!route) {
      if (allowed.length) return { status: 405, headers: { Allow: [...new Set(allowed)].join(', ') }, body: o.methodNotAllowed(method) };
      throw o.notFound();
    }
    const { auth, body } = await o.prepare(route, req);
    const apiReq: ApiRequest<A> = { method, path: rest, params, query: url.searchParams, headers: req.headers, body, base: `${origin}${prefix}`, auth, incoming: req, requestId };
    return route.handler(apiReq as never);
  }

  // Under `stratus up`, connections come handed over from its front door (see handoff.ts); a request on one of
  // them outside this API's place there (STRATUS_FRONT_DOOR_PREFIX, say /identity) is another API's. It is
  // passed straight to that API's own port (STRATUS_GATEWAY_ROUTES: one hop, as through the gateway), and
  // anything else to the gateway (STRATUS_GATEWAY_URL: the dashboard, the console, its 404s).
  const fallback = process.env.STRATUS_GATEWAY_URL ? new URL(process.env.STRATUS_GATEWAY_URL) : undefined;
  const routes = JSON.parse(process.env.STRATUS_GATEWAY_ROUTES ?? '[]') as Array<{ prefix: string; target: string }>;
  const targetOf = (url: string | undefined) => {
    const route = routeFor(url, routes);
    return route ? new URL(route.target) : fallback!;
  };
  const place = process.env.STRATUS_FRONT_DOOR_PREFIX;
  const agent = new http.Agent({ keepAlive: true, timeout: 4000 });
  const ours = (url: string | undefined) => routeFor(url, [{ prefix: place! }]) !== undefined;

  const server = http.createServer((req, res) => {
    if (fallback && place && cameThroughFrontDoor(req) && !ours(req.url))
      return forwardRequest(req, res, targetOf(req.url), agent, (err) => {
        log.warn(`${o.name}: no answer for another API's request`, { path: req.url, error: err.message });
        res.writeHead(502, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { code: 502, title: 'Bad Gateway', message: `No answer for ${req.url}: ${err.message}` } }));
      });
    const requestId = `req-${randomUUID()}`;
    handle(req, requestId)
      .catch((err): ApiResponse => {
        const answer = o.answerFor(err);
        if (answer) return answer;
        log.error(`${o.name} request failed`, { method: req.method, path: req.url, requestId, error: err instanceof Error ? err.message : String(err) });
        return { status: 500, body: o.internalError() };
      })
      .then(async (out) => {
        // A request refused before its body was read: a small rest is drained so the connection can be
        // reused; for a large one (an upload) the connection closes after this answer rather than take the bytes.
        const unread = !req.complete && !req.destroyed;
        const drain = unread && Number(req.headers['content-length'] ?? Infinity) <= DRAIN_LIMIT;
        if (drain) req.resume();
        const ids = Object.fromEntries((o.requestIdHeaders ?? ['x-openstack-request-id']).map((h) => [h, requestId]));
        const headers: Record<string, string> = { ...ids, ...o.headers, ...o.headersFor?.(req), ...out.headers, ...(unread && !drain ? { Connection: 'close' } : {}) };
        if (out.body instanceof HandedResponse) {
          const { to } = out.body;
          if (req.method === 'HEAD') return void res.writeHead(out.status, headers).end();
          return handOverResponse(res, out.status, headers, out.body, (e) => log.error(`${o.name} answer not handed over`, { path: req.url, requestId, to, error: e.message }));
        }
        if (out.body instanceof Readable) {
          res.writeHead(out.status, headers);
          if (req.method === 'HEAD') return void (out.body.destroy(), res.end());
          await pipeline(out.body, res).catch((e: Error) => log.warn(`${o.name} answer cut short`, { path: req.url, requestId, error: e.message }));
          return;
        }
        const payload = out.body === undefined || req.method === 'HEAD' || out.status === 204 ? undefined : JSON.stringify(out.body);
        res.writeHead(out.status, {
          ...(payload !== undefined ? { 'Content-Type': o.jsonType ?? 'application/json', 'Content-Length': Buffer.byteLength(payload) } : out.headers?.['Content-Length'] ? {} : { 'Content-Length': 0 }),
          ...headers,
        });
        res.end(payload);
        log.debug(`${o.name} request`, { method: req.method, path: req.url, status: out.status, requestId });
      });
  });
  acceptHandedConnections(server);
  server.on('close', () => agent.destroy());
  // Idle client connections are kept 65 s, not Node's 5: a client (Node's fetch among them, measured) may send
  // its next request on a connection idle a few seconds past 5 just as the server closes it, and get
  // ECONNRESET for a request the server never read. 65 s also outlasts common load balancers' 60 s idle timeout.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}
