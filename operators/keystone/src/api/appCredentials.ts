/**
 * Application credentials: a secret a user makes for automation, bound to one project and a subset of the
 * user's roles there, that signs in without the user's password (Keystone's application_credential method).
 * Each is a Secret in stratus-system owned by its User (it goes with the user), holding the secret's scrypt
 * hash, never the secret; its object name is a digest of (user, name), so a name is unique per user.
 */
import { createHash } from 'node:crypto';
import { SYSTEM_NAMESPACE, type Secret, type User } from '../resources.js';
import type { StoredAccessRule } from './accessRules.js';
import type { IdentityDirectory } from './directory.js';

/** On an application credential's Secret: the object name of its User. */
export const APP_CREDENTIAL_LABEL = 'identity.stratus.io/application-credential-of';

export interface AppCredential {
  id: string;
  name: string;
  description: string;
  /** The user's object name, and OpenStack ID. */
  user: string;
  userId: string;
  projectId: string;
  /** Object names of the roles it carries. */
  roles: string[];
  expiresAt?: string;
  unrestricted: boolean;
  hash: string;
  /** The only calls its tokens may make; none: any call its roles allow. */
  accessRules: StoredAccessRule[];
}

export const appCredentialSecretName = (user: User, name: string) => `appcred-${createHash('sha256').update(`${user.metadata.uid}\0${name}`).digest('hex').slice(0, 40)}`;

const text = (s: Secret, k: string) => (s.data?.[k] === undefined ? undefined : Buffer.from(s.data[k], 'base64').toString('utf8'));

export function appCredentialOf(s: Secret): AppCredential {
  return {
    id: text(s, 'id')!,
    name: text(s, 'name')!,
    description: text(s, 'description') ?? '',
    user: s.metadata.labels?.[APP_CREDENTIAL_LABEL] ?? '',
    userId: text(s, 'userId')!,
    projectId: text(s, 'projectId')!,
    roles: JSON.parse(text(s, 'roles') ?? '[]'),
    expiresAt: text(s, 'expiresAt') || undefined,
    unrestricted: text(s, 'unrestricted') === 'true',
    hash: text(s, 'hash')!,
    accessRules: JSON.parse(text(s, 'accessRules') || '[]'),
  };
}

export function appCredentialData(c: AppCredential): Record<string, string> {
  const enc = (v: string) => Buffer.from(v).toString('base64');
  return { id: enc(c.id), name: enc(c.name), description: enc(c.description), userId: enc(c.userId), projectId: enc(c.projectId), roles: enc(JSON.stringify(c.roles)), expiresAt: enc(c.expiresAt ?? ''), unrestricted: enc(String(c.unrestricted)), hash: enc(c.hash), ...(c.accessRules.length ? { accessRules: enc(JSON.stringify(c.accessRules)) } : {}) };
}

/** Every application credential (of one user, when given), from the stratus-system Secrets cache. */
export function appCredentials(dir: IdentityDirectory, user?: User): AppCredential[] {
  return dir.secrets
    .all()
    .filter((s) => s.metadata.namespace === SYSTEM_NAMESPACE && s.metadata.labels?.[APP_CREDENTIAL_LABEL] && !s.metadata.deletionTimestamp && (!user || s.metadata.labels[APP_CREDENTIAL_LABEL] === user.metadata.name))
    .map(appCredentialOf);
}

export const isExpired = (c: AppCredential, at = Date.now()) => !!c.expiresAt && Date.parse(c.expiresAt) <= at;
