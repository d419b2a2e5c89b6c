/**
 * Who a request is: the cluster's own admin token (system:admin, in system:masters), or whoever a webhook
 * token authenticator says (authentication.k8s.io/v1 TokenReview, as kube-apiserver's
 * --authentication-token-webhook-config-file calls one: Keystone serves it here). Answers are kept for a short
 * while, keyed by the token's digest, as kube-apiserver's webhook cache does.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface TokenAuthenticator {
  authenticate(token: string): Promise<UserInfo | undefined>;
}

export const MASTERS = 'system:masters';
export const AUTHENTICATED = 'system:authenticated';
export const ADMIN_USER: UserInfo = { username: 'system:admin', groups: [MASTERS, AUTHENTICATED] };

/** The admin token's user, if this is the admin token. */
export function adminTokenMatches(expected: Buffer, given: string): boolean {
  const g = Buffer.from(given);
  return g.length === expected.length && timingSafeEqual(g, expected);
}

/** A TokenReview webhook at `url`; `cacheSeconds` for answers either way (kube-apiserver's default is 2 minutes for yes, here shorter). */
export function webhookAuthenticator(url: string, o: { cacheSeconds?: number; timeoutMs?: number } = {}): TokenAuthenticator {
  const cache = new Map<string, { user?: UserInfo; until: number }>();
  const ttl = (o.cacheSeconds ?? 10) * 1000;
  return {
    async authenticate(token) {
      const key = createHash('sha256').update(token).digest('base64');
      const hit = cache.get(key);
      if (hit && hit.until > Date.now()) return hit.user;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } }),
        signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
      });
      // The webhook failing is not the token failing: not cached, and the request is refused this once.
      if (!res.ok) throw new Error(`the token webhook answered ${res.status}`);
      const review = (await res.json()) as { status?: { authenticated?: boolean; user?: UserInfo } };
      const user = review.status?.authenticated && review.status.user?.username ? { ...review.status.user, groups: [...new Set([...(review.status.user.groups ?? []), AUTHENTICATED])] } : undefined;
      if (cache.size > 10_000) cache.clear();
      cache.set(key, { user, until: Date.now() + ttl });
      return user;
    },
  };
}
