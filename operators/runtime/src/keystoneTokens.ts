/**
 * Keystone tokens, checked the way keystonemiddleware checks them for every OpenStack service but Keystone:
 * a GET /v3/auth/tokens to Keystone (a token may validate itself), the answer kept for a short while so a
 * burst of calls costs one round trip.
 */
import { createHash } from 'node:crypto';

/** Who a valid token speaks for. */
export interface TokenAuth {
  userId: string;
  userName?: string;
  /** The project the token is scoped to: its tenant's namespace, and its ID. */
  tenant?: string;
  projectId?: string;
  roles: string[];
  admin: boolean;
  expiresAt: number;
}

export interface TokenValidatorOptions {
  /** Keystone's v3 base URL, e.g. http://127.0.0.1:5000/v3. */
  identityUrl: string;
  /** How long an answer is reused (keystonemiddleware's token_cache_time). */
  cacheSeconds?: number;
  /** The service's own 401 error. */
  unauthorized: () => Error;
  /** The namespace of the Tenant with this project ID (project names are free text and may change). */
  namespaceOfProject: (projectId: string) => string | undefined;
}

const MAX_CACHED = 10_000;

export class TokenValidator {
  private readonly cache = new Map<string, { auth: TokenAuth; until: number }>();
  private readonly cacheMs: number;

  constructor(private readonly opts: TokenValidatorOptions) {
    this.cacheMs = (opts.cacheSeconds ?? 30) * 1000;
  }

  async validate(token: string | string[] | undefined): Promise<TokenAuth> {
    if (typeof token !== 'string' || !token) throw this.opts.unauthorized();
    const key = createHash('sha256').update(token).digest('base64');
    const hit = this.cache.get(key);
    const now = Date.now();
    if (hit && hit.until > now) return hit.auth;
    const res = await fetch(`${this.opts.identityUrl}/auth/tokens?nocatalog`, { headers: { 'X-Auth-Token': token, 'X-Subject-Token': token } }).catch((e: Error) => {
      throw new Error(`Keystone at ${this.opts.identityUrl} is not answering: ${e.message}`);
    });
    if (res.status === 401 || res.status === 404) throw this.opts.unauthorized();
    if (!res.ok) throw new Error(`Keystone token validation answered ${res.status}`);
    const t = ((await res.json()) as { token: any }).token;
    const roles: string[] = (t.roles ?? []).map((r: { name: string }) => r.name);
    const auth: TokenAuth = { userId: t.user.id, userName: t.user.name, tenant: t.project ? this.opts.namespaceOfProject(t.project.id) : undefined, projectId: t.project?.id, roles, admin: roles.includes('admin'), expiresAt: Date.parse(t.expires_at) };
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(key, { auth, until: Math.min(now + this.cacheMs, auth.expiresAt) });
    return auth;
  }
}
