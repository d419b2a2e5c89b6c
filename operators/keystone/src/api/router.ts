/** A small method+path router for the Identity API, with the authentication each route needs. */
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthContext } from './auth.js';

export interface ApiRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: any;
  /** The API's own base URL as the client reached it, for links: `http://host:port/identity/v3`. */
  base: string;
  /** Present on every route but the public ones. */
  auth?: AuthContext;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (req: ApiRequest & { auth: AuthContext }) => Promise<ApiResponse> | ApiResponse;
export type PublicHandler = (req: ApiRequest) => Promise<ApiResponse> | ApiResponse;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Handler | PublicHandler;
  public: boolean;
}

export class Router {
  private routes: Route[] = [];

  /** Routes that need a valid X-Auth-Token. `pattern` is a path like `/projects/:id`. */
  on(method: string, pattern: string, handler: Handler): this {
    return this.add(method, pattern, handler as PublicHandler, false);
  }

  /** Routes anyone may call (version discovery, signing in). */
  public(method: string, pattern: string, handler: PublicHandler): this {
    return this.add(method, pattern, handler, true);
  }

  private add(method: string, pattern: string, handler: PublicHandler, isPublic: boolean): this {
    const names: string[] = [];
    const source = pattern.replace(/:([a-z_]+)/g, (_, n) => (names.push(n), '([^/]+)'));
    this.routes.push({ method, pattern: new RegExp(`^${source}/?$`), names, handler, public: isPublic });
    return this;
  }

  /** The route for a request; HEAD falls back to GET. `allowed` lists the methods the path takes when none matches. */
  match(method: string, path: string): { route?: Route; params: Record<string, string>; allowed: string[] } {
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
