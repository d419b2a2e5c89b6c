/**
 * A small method+path router for the OpenStack APIs, generic over what a valid token says (`A`): each
 * service plugs in its own authentication and keeps its own error bodies.
 */
import type { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ApiRequest<A> {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; undefined on routes that stream their body (`raw`). */
  body: any;
  /** The API's own base URL as the client reached it, for links: `http://host:port/identity/v3`. */
  base: string;
  /** Present on every route but the public ones. */
  auth?: A;
  /** The request itself, for routes that read their body as a stream. */
  incoming: IncomingMessage;
  /** The request's ID (req-…), as its answer's x-openstack-request-id says it. */
  requestId: string;
}

export interface ApiResponse {
  status: number;
  /** JSON, a stream of bytes (a Readable) sent as it is, or a HandedResponse another process writes. */
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler<A> = (req: ApiRequest<A> & { auth: A }) => Promise<ApiResponse> | ApiResponse;
export type PublicHandler<A> = (req: ApiRequest<A>) => Promise<ApiResponse> | ApiResponse;

export interface RouteOptions {
  /** The handler reads the body itself (say, an upload streamed to storage); it is not parsed as JSON. */
  raw?: boolean;
}

export interface Route<A> {
  method: string;
  /** As written: `/servers/:id/action`. */
  path: string;
  pattern: RegExp;
  names: string[];
  handler: Handler<A> | PublicHandler<A>;
  public: boolean;
  raw: boolean;
}

/** A route as its table lists it. */
export interface RouteListing {
  method: string;
  path: string;
  public: boolean;
}

export class Router<A> {
  private routes: Array<Route<A>> = [];

  /** Routes that need a valid X-Auth-Token. `pattern` is a path like `/projects/:id`. */
  on(method: string, pattern: string, handler: Handler<A>, opts: RouteOptions = {}): this {
    return this.add(method, pattern, handler as PublicHandler<A>, false, opts);
  }

  /** Routes anyone may call (version discovery, signing in, schemas). */
  public(method: string, pattern: string, handler: PublicHandler<A>, opts: RouteOptions = {}): this {
    return this.add(method, pattern, handler, true, opts);
  }

  private add(method: string, pattern: string, handler: PublicHandler<A>, isPublic: boolean, opts: RouteOptions): this {
    const names: string[] = [];
    const source = pattern.replace(/:([a-z_]+)/g, (_, n) => (names.push(n), '([^/]+)'));
    this.routes.push({ method, path: pattern, pattern: new RegExp(`^${source}/?$`), names, handler, public: isPublic, raw: !!opts.raw });
    return this;
  }

  /** Every route, as written (tests generated from the route table: isolation, say). */
  list(): RouteListing[] {
    return this.routes.map((r) => ({ method: r.method, path: r.path, public: r.public }));
  }

  /** The route for a request; HEAD falls back to GET. `allowed` lists the methods the path takes when none matches. */
  match(method: string, path: string): { route?: Route<A>; params: Record<string, string>; allowed: string[] } {
    const allowed: string[] = [];
    for (const m of method === 'HEAD' ? ['HEAD', 'GET'] : [method])
      for (const r of this.routes) {
        const found = r.pattern.exec(path);
        if (!found) continue;
        if (r.method !== m) {
          allowed.push(r.method);
          continue;
        }
        return { route: r, params: Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(found[i + 1])])), allowed };
      }
    return { params: {}, allowed };
  }
}

/** Reads a JSON body of at most `maxBytes`; `tooLarge` and `malformed` make the service's own errors. */
/** Whether a request carries a body: a length above 0, or a chunked one. */
export const hasBody = (req: IncomingMessage) => Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;

export async function readJsonBody(req: IncomingMessage, maxBytes: number, errors: { tooLarge: () => Error; malformed: () => Error }): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > maxBytes) throw errors.tooLarge();
    chunks.push(c as Buffer);
  }
  if (!size) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw errors.malformed();
  }
}

/** A server listening on host:port (0: any free port), with its URL and a close that drops open connections. */
export interface Listening {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function listen(server: Server, host: string, port: number): Promise<Listening> {
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** An OpenStack API being served: where, its read side, its route table, and a close that stops both. */
export interface RunningApi<D> extends Listening {
  directory: D;
  /** Every route it serves (for tests generated from the table, such as the isolation suites). */
  routes(): RouteListing[];
}

/** Listens with an API's server and says so; closing stops taking calls, then the API's caches. */
export async function serveApi<D extends { stop(): Promise<unknown> }, A>(
  server: Server,
  o: { name: string; host: string; port: number; directory: D; router: Router<A>; log: { info(message: string, meta: object): unknown } },
): Promise<RunningApi<D>> {
  const listening = await listen(server, o.host, o.port);
  o.log.info(`${o.name} API listening`, { url: listening.url });
  return {
    ...listening,
    directory: o.directory,
    routes: () => o.router.list(),
    async close() {
      await listening.close();
      await o.directory.stop();
    },
  };
}
