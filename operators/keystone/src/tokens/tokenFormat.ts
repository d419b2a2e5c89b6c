/**
 * What a token says, and its encrypted form. Validation needs no stored state: the token names its user,
 * scope, methods, expiry and audit IDs; the key ring proves it was made here.
 */
import { randomBytes } from 'node:crypto';
import { fernetDecrypt, fernetEncrypt } from './fernet.js';
import { primaryKey, validationKeys, type KeyRing } from './keyRing.js';

export type Scope = { project: string } | { domain: string } | { system: 'all' } | Record<string, never>;

export interface TokenPayload {
  userId: string;
  methods: string[];
  scope: Scope;
  expiresAtSeconds: number;
  /** This token's audit ID first, then the one of the token it was made from, if any. */
  auditIds: string[];
  /** The application credential it was made with, which limits its roles and ends with it. */
  appCredId?: string;
}

export interface Token extends TokenPayload {
  issuedAtSeconds: number;
}

const FORMAT_VERSION = 1;

/** 16 random bytes, URL-safe: how Keystone makes audit IDs. */
export const newAuditId = () => randomBytes(16).toString('base64url');

export function sealToken(ring: KeyRing, p: TokenPayload, issuedAtSeconds?: number): string {
  const scope = 'project' in p.scope ? ['p', p.scope.project] : 'domain' in p.scope ? ['d', p.scope.domain] : 'system' in p.scope ? ['s', 'all'] : [];
  const body = [FORMAT_VERSION, p.userId, p.methods, scope, p.expiresAtSeconds, p.auditIds, ...(p.appCredId ? [p.appCredId] : [])];
  return fernetEncrypt(primaryKey(ring), Buffer.from(JSON.stringify(body)), issuedAtSeconds);
}

/** The token's contents, or undefined when no key in the ring opens it or it is malformed. Expiry is the caller's to judge. */
export function openToken(ring: KeyRing, token: string): Token | undefined {
  if (!/^[A-Za-z0-9_-]{40,1024}$/.test(token)) return undefined;
  for (const key of validationKeys(ring)) {
    const opened = fernetDecrypt(key, token);
    if (!opened) continue;
    try {
      const [version, userId, methods, scope, expiresAtSeconds, auditIds, appCredId] = JSON.parse(opened.plaintext.toString('utf8'));
      if (version !== FORMAT_VERSION) return undefined;
      const s: Scope = scope[0] === 'p' ? { project: scope[1] } : scope[0] === 'd' ? { domain: scope[1] } : scope[0] === 's' ? { system: 'all' } : {};
      return { userId, methods, scope: s, expiresAtSeconds, auditIds, issuedAtSeconds: opened.issuedAtSeconds, ...(appCredId ? { appCredId } : {}) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}
