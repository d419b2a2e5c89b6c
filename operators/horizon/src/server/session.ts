/**
 * The signed-in session, kept in the browser as an HttpOnly, SameSite=Strict cookie the page's scripts cannot
 * read: the project-scoped Keystone token sealed with AES-256-GCM under a key every Horizon replica shares, so
 * no session store is needed and a restart signs nobody out. Writes also need the CSRF token, an HMAC of the
 * Keystone token under the same key, which the page learns from the session's JSON (same-origin only).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const COOKIE = 'stratus_session';
export const CSRF_HEADER = 'x-csrf-token';

export class SessionSealer {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the session key must be 32 bytes');
  }

  seal(token: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The token a cookie holds, or undefined if it was not sealed here (or was changed). */
  open(sealed: string | undefined): string | undefined {
    if (!sealed) return undefined;
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length < 29) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  csrfFor(token: string): string {
    return createHmac('sha256', this.key).update(`csrf:${token}`).digest('base64url');
  }

  csrfValid(token: string, given: string | string[] | undefined): boolean {
    if (typeof given !== 'string') return false;
    const want = Buffer.from(this.csrfFor(token));
    const got = Buffer.from(given);
    return got.length === want.length && timingSafeEqual(got, want);
  }
}

/** A cookie header's value of one cookie (pure). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie of a session (or of its end, with an empty value), for the dashboard's path only. */
export function sessionCookie(value: string, o: { path: string; secure: boolean; maxAgeSeconds?: number }): string {
  const parts = [`${COOKIE}=${value}`, `Path=${o.path}`, 'HttpOnly', 'SameSite=Strict'];
  if (o.secure) parts.push('Secure');
  parts.push(`Max-Age=${value ? Math.max(0, Math.floor(o.maxAgeSeconds ?? 3600)) : 0}`);
  return parts.join('; ');
}
