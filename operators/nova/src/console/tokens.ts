/**
 * Console tokens, as Nova's consoleauth keeps them: short-lived and single-use. A token is kept as a Secret in
 * stratus-system named by its SHA-256 (so reading Secrets never shows a usable token), issued by the Compute
 * API and redeemed by the console proxy with one delete: the API server lets exactly one delete of an object
 * succeed, so two connections racing with one token cannot both get the console.
 */
import { createHash, randomBytes } from 'node:crypto';
import { KubeApiError, SYSTEM_NAMESPACE, type KubeClient } from '@stratus/runtime';

const SECRETS = { group: '', version: 'v1', plural: 'secrets', namespaced: true };
export const CONSOLE_TOKEN_LABEL = 'compute.stratus.io/console-token';
/** Nova's [consoleauth] token_ttl default. */
export const DEFAULT_CONSOLE_TOKEN_TTL_SECONDS = 600;

/** What a token lets its bearer reach: one server's console, until a moment. */
export interface ConsoleGrant {
  namespace: string;
  name: string;
  uid: string;
  expiresAt: number;
}

export type Redemption = { grant: ConsoleGrant } | { refused: string };

export const tokenSecretName = (token: string) => `console-token-${createHash('sha256').update(token).digest('hex').slice(0, 48)}`;

/** A token's grant as a Secret's data (base64 values). */
function secretFor(token: string, grant: ConsoleGrant) {
  const data = { namespace: grant.namespace, name: grant.name, uid: grant.uid, expiresAt: String(grant.expiresAt) };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: tokenSecretName(token), namespace: SYSTEM_NAMESPACE, labels: { [CONSOLE_TOKEN_LABEL]: 'true' } },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

/** Reads a grant back from a Secret's data; undefined if it is not one. */
export function grantOf(secret: { data?: Record<string, string> } | undefined): ConsoleGrant | undefined {
  const d = secret?.data;
  if (!d?.namespace || !d.name || !d.uid || !d.expiresAt) return undefined;
  const text = (k: string) => Buffer.from(d[k], 'base64').toString('utf8');
  const expiresAt = Number(text('expiresAt'));
  return Number.isFinite(expiresAt) ? { namespace: text('namespace'), name: text('name'), uid: text('uid'), expiresAt } : undefined;
}

/** Whether a grant still holds at `now` (pure). */
export const grantLive = (g: ConsoleGrant, now: number) => now < g.expiresAt;

/** Issues a token for one server's console; expired tokens of earlier calls are swept on the way. */
export async function issueConsoleToken(client: KubeClient, server: { namespace: string; name: string; uid: string }, o: { ttlSeconds: number; now?: number; fieldManager: string }): Promise<{ token: string; expiresAt: number }> {
  const now = o.now ?? Date.now();
  await sweepExpired(client, now).catch(() => undefined);
  const token = randomBytes(24).toString('base64url');
  const expiresAt = now + o.ttlSeconds * 1000;
  await client.create(SECRETS, secretFor(token, { ...server, expiresAt }) as never, o.fieldManager);
  return { token, expiresAt };
}

/** Redeems a token once: the first caller gets the grant (if it has not expired), every later one a refusal. */
export async function redeemConsoleToken(client: KubeClient, token: string, now = Date.now()): Promise<Redemption> {
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(token)) return { refused: 'The console token is malformed.' };
  const name = tokenSecretName(token);
  const secret = await client.get<{ apiVersion: string; kind: string; metadata: { uid?: string }; data?: Record<string, string> }>(SECRETS, SYSTEM_NAMESPACE, name);
  const grant = grantOf(secret);
  if (!secret || !grant) return { refused: 'The console token is unknown or was used already.' };
  try {
    await client.request('DELETE', `/api/v1/namespaces/${SYSTEM_NAMESPACE}/secrets/${name}`, { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: secret.metadata.uid } });
  } catch (e) {
    if (e instanceof KubeApiError && (e.code === 404 || e.code === 409)) return { refused: 'The console token was used already.' };
    throw e;
  }
  return grantLive(grant, now) ? { grant } : { refused: 'The console token has expired.' };
}

async function sweepExpired(client: KubeClient, now: number): Promise<void> {
  const { items } = await client.list<{ apiVersion: string; kind: string; metadata: { name: string }; data?: Record<string, string> }>(SECRETS, SYSTEM_NAMESPACE, CONSOLE_TOKEN_LABEL);
  for (const s of items) {
    const g = grantOf(s);
    if (!g || !grantLive(g, now)) await client.delete(SECRETS, SYSTEM_NAMESPACE, s.metadata.name);
  }
}
