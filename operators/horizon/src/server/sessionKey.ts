/** The key sealing dashboard sessions, in a Secret every Horizon replica reads (made by the first to start). */
import { randomBytes } from 'node:crypto';
import { KubeApiError, SYSTEM_NAMESPACE, type KubeClient } from '@stratus/runtime';

const SECRETS = { group: '', version: 'v1', plural: 'secrets', namespaced: true };
export const SESSION_KEY_SECRET = 'horizon-session-key';

export async function sessionKey(client: KubeClient, fieldManager: string): Promise<Buffer> {
  const read = async () => {
    const s = await client.get<{ apiVersion: string; kind: string; metadata: { name: string }; data?: Record<string, string> }>(SECRETS, SYSTEM_NAMESPACE, SESSION_KEY_SECRET);
    const key = s?.data?.key ? Buffer.from(s.data.key, 'base64') : undefined;
    return key?.length === 32 ? key : undefined;
  };
  const found = await read();
  if (found) return found;
  const key = randomBytes(32);
  try {
    await client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: SESSION_KEY_SECRET, namespace: SYSTEM_NAMESPACE }, type: 'Opaque', data: { key: key.toString('base64') } } as never, fieldManager);
    return key;
  } catch (e) {
    if (e instanceof KubeApiError && e.code === 409) return (await read())!;
    throw e;
  }
}
