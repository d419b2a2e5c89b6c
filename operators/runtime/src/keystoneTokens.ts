/**
 * Keystone tokens, checked the way keystonemiddleware checks them for every OpenStack service but Keystone:
 * a GET /v3/auth/tokens to Keystone (a token may validate itself), the answer kept for a short while so a
 * burst of calls costs one round trip.
 */
import { createHash } from 'node:crypto';
import { ACCESS_RULES_HEADER, ACCESS_RULES_VERSION, accessRuleAllows, type AccessRule } from './accessRules.js';

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
  /** Made with an application credential that has access rules: the only calls it may make. */
  accessRules?: AccessRule[];
}

/** The call a token is presented for, checked against its access rules. */
export interface ServiceCall {
  method: string;
  /** The path as the service's API documents it (`/v2.1/servers`), without the gateway's mount (`/compute`). */
  path: string;
}

export interface TokenValidatorOptions {
  /** Keystone's v3 base URL, e.g. http://127.0.0.1:5000/v3. */
  identityUrl: string;
  /** How long an answer is reused (keystonemiddleware's token_cache_time). */
  cacheSeconds?: number;
  /** The service type access rules name (compute, image, …). */
  serviceType: string;
  /** The service's own 401 error. */
  unauthorized: () => Error;
  /** The service's own 503 error, for when Keystone cannot say (keystonemiddleware answers 503 then, not 500). */
  unavailable: (why: string) => Error;
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

  /** Who the token speaks for, if it may make this call (keystonemiddleware's access rule check). */
  async validate(token: string | string[] | undefined, call: ServiceCall): Promise<TokenAuth> {
    const auth = await this.lookUp(token);
    if (auth.accessRules && !accessRuleAllows(auth.accessRules, this.opts.serviceType, call.method, call.path)) throw this.opts.unauthorized();
    return auth;
  }

  private async lookUp(token: string | string[] | undefined): Promise<TokenAuth> {
    if (typeof token !== 'string' || !token) throw this.opts.unauthorized();
    const key = createHash('sha256').update(token).digest('base64');
    const hit = this.cache.get(key);
    const now = Date.now();
    if (hit && hit.until > now) return hit.auth;
    // Saying that access rules are enforced here: Keystone refuses to vouch for such tokens to services that do not.
    const res = await fetch(`${this.opts.identityUrl}/auth/tokens?nocatalog`, { headers: { 'X-Auth-Token': token, 'X-Subject-Token': token, [ACCESS_RULES_HEADER]: ACCESS_RULES_VERSION } }).catch((e: Error) => {
      throw this.opts.unavailable(`The Keystone service is temporarily unavailable (${this.opts.identityUrl}: ${e.message}).`);
    });
    if (res.status === 401 || res.status === 404) throw this.opts.unauthorized();
    if (!res.ok) throw this.opts.unavailable(`The Keystone service is temporarily unavailable: token validation answered ${res.status}.`);
    const t = ((await res.json()) as { token: any }).token;
    const roles: string[] = (t.roles ?? []).map((r: { name: string }) => r.name);
    const auth: TokenAuth = { userId: t.user.id, userName: t.user.name, tenant: t.project ? this.opts.namespaceOfProject(t.project.id) : undefined, projectId: t.project?.id, roles, admin: roles.includes('admin'), expiresAt: Date.parse(t.expires_at), ...(t.application_credential?.access_rules?.length ? { accessRules: t.application_credential.access_rules } : {}) };
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(key, { auth, until: Math.min(now + this.cacheMs, auth.expiresAt) });
    return auth;
  }
}

/** The call a request makes, as access rules name it: its method, and its path without the gateway's mount. */
export function serviceCallOf(req: { method?: string; url?: string }, mount: string): ServiceCall {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  return { method: req.method ?? 'GET', path: path === mount || path.startsWith(`${mount}/`) ? path.slice(mount.length) || '/' : path };
}
