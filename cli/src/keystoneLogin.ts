/**
 * Signing in to Keystone as the `openstack` CLI would, from a clouds.yaml entry (a password, or an application
 * credential), for kubectl: the token is
 * kept in the user's cache (0600) until shortly before it expires, and handed to kubectl as a
 * client.authentication.k8s.io/v1 ExecCredential.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';

export interface CloudAuth {
  auth_url: string;
  /** `password` (the default) or `v3applicationcredential`, as clouds.yaml's auth_type says. */
  auth_type?: string;
  username?: string;
  password?: string;
  application_credential_id?: string;
  application_credential_name?: string;
  application_credential_secret?: string;
  project_name?: string;
  project_id?: string;
  user_domain_name?: string;
  project_domain_name?: string;
}

/** Where openstacksdk looks for clouds.yaml, in its order. */
export function cloudsYamlPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  return [env.OS_CLIENT_CONFIG_FILE, join(process.cwd(), 'clouds.yaml'), join(env.HOME ?? homedir(), '.config/openstack/clouds.yaml'), '/etc/openstack/clouds.yaml'].filter((p): p is string => !!p);
}

export function cloudAuth(cloud: string, env: NodeJS.ProcessEnv = process.env): CloudAuth {
  const file = cloudsYamlPaths(env).find((p) => existsSync(p));
  if (!file) throw new Error(`no clouds.yaml found (looked in ${cloudsYamlPaths(env).join(', ')})`);
  const entry = parse(readFileSync(file, 'utf8'))?.clouds?.[cloud] as { auth_type?: string; auth?: CloudAuth } | undefined;
  const auth = entry?.auth ? { ...entry.auth, auth_type: entry.auth_type ?? 'password' } : undefined;
  if (auth?.auth_type === 'v3applicationcredential') {
    if (!auth.auth_url || !auth.application_credential_secret || !(auth.application_credential_id || (auth.application_credential_name && auth.username)))
      throw new Error(`clouds.yaml (${file}): cloud "${cloud}" needs auth_url, application_credential_secret and application_credential_id (or its name with username)`);
    return auth;
  }
  if (!auth?.auth_url || !auth.username || !auth.password) throw new Error(`clouds.yaml (${file}) has no cloud "${cloud}" with auth_url, username and password`);
  return auth;
}

/** Keystone's auth body for a clouds.yaml entry: a password scoped to its project, or an application credential (scoped by itself). */
function authBody(auth: CloudAuth): Record<string, unknown> {
  if (auth.auth_type === 'v3applicationcredential') {
    const credential = auth.application_credential_id
      ? { id: auth.application_credential_id, secret: auth.application_credential_secret }
      : { name: auth.application_credential_name, secret: auth.application_credential_secret, user: { name: auth.username, domain: { name: auth.user_domain_name ?? 'Default' } } };
    return { identity: { methods: ['application_credential'], application_credential: credential } };
  }
  const project = auth.project_id ? { id: auth.project_id } : { name: auth.project_name, domain: { name: auth.project_domain_name ?? 'Default' } };
  return { identity: { methods: ['password'], password: { user: { name: auth.username, domain: { name: auth.user_domain_name ?? 'Default' }, password: auth.password } } }, scope: { project } };
}

export interface CachedToken {
  token: string;
  expiresAt: string;
}

const cacheFile = (auth: CloudAuth, env: NodeJS.ProcessEnv) => {
  const key = createHash('sha256').update(JSON.stringify([auth.auth_url, auth.username, auth.user_domain_name, auth.project_name, auth.project_id, auth.project_domain_name, auth.application_credential_id, auth.application_credential_name])).digest('hex').slice(0, 32);
  return join(env.XDG_CACHE_HOME ?? join(env.HOME ?? homedir(), '.cache'), 'stratus', 'tokens', `${key}.json`);
};

/** A project-scoped token: the cached one while it has a minute left, else a new one. */
export async function projectToken(auth: CloudAuth, env: NodeJS.ProcessEnv = process.env, now = Date.now()): Promise<CachedToken & { cached: boolean }> {
  const file = cacheFile(auth, env);
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as CachedToken;
    if (Date.parse(cached.expiresAt) - now > 60_000) return { ...cached, cached: true };
  } catch {
    // none yet, or unreadable: sign in
  }
  const base = auth.auth_url.replace(/\/+$/, '').replace(/\/v3$/, '');
  const res = await fetch(`${base}/v3/auth/tokens?nocatalog`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ auth: authBody(auth) }) });
  if (!res.ok) throw new Error(`Keystone refused the sign-in (${res.status}): ${((await res.json().catch(() => ({}))) as { error?: { message?: string } }).error?.message ?? res.statusText}`);
  const body = (await res.json()) as { token: { expires_at: string } };
  const got = { token: res.headers.get('x-subject-token') ?? '', expiresAt: body.token.expires_at };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(got), { mode: 0o600 });
  return { ...got, cached: false };
}

/** The ExecCredential kubectl reads from a credential plugin. */
export const execCredential = (t: CachedToken) => ({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: t.token, expirationTimestamp: t.expiresAt } });
