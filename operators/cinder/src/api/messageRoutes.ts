/**
 * /v3/messages (3.3+): Cinder's user messages, which tell a project why an asynchronous request failed. Here
 * they are the Warning events the block storage reconcilers record on the project's volumes, snapshots and
 * backups (the same events `kubectl describe` shows); deleting a message deletes its event, and so does the
 * reaper once the message's time to live (message_ttl, 30 days) is over.
 */
import type { CoreV1Event } from '@kubernetes/client-node';
import { EVENTS, type ApiRequest } from '@stratus/runtime';
import { fromKubernetes, on, type VolApi, type VolAuth, type VolRouter } from './context.js';
import { notFound } from './errors.js';
import { requireMinor } from './microversion.js';
import { stamp } from './views.js';

/** How long Cinder keeps a message (its message_ttl): its guaranteed_until, after which the reaper deletes it. */
export const MESSAGE_TTL_MS = 30 * 24 * 3600 * 1000;
/** How often expired messages are deleted (Cinder's message_reap_interval is a day). */
const REAP_EVERY_MS = 3600 * 1000;

/** Cinder's message resources, actions and details (message_field): the code and the words of each. */
const RESOURCE: Record<string, string> = { Volume: 'VOLUME', VolumeSnapshot: 'VOLUME_SNAPSHOT', VolumeBackup: 'VOLUME_BACKUP' };
const ACTION: Record<string, [string, string]> = {
  Volume: ['001', 'schedule allocate volume'],
  VolumeSnapshot: ['009', 'create snapshot'],
  VolumeBackup: ['013', 'create backup'],
};
const QUOTA_REASONS = /Quota|LimitExceeded|ExceedsLimit/;

const createdOf = (e: CoreV1Event) => new Date((e.firstTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? new Date()) as string | Date);

/** The events that are user messages past their guaranteed_until at `now` (ms): Cinder's reaper deletes them. Pure. */
export const expiredMessages = (events: readonly CoreV1Event[], now: number): CoreV1Event[] =>
  events.filter((e) => messageOf(e, '') !== undefined && createdOf(e).getTime() + MESSAGE_TTL_MS < now);

/** Deletes the expired messages of every project; how many. */
export async function reapMessages(api: VolApi, now = Date.now()): Promise<number> {
  const expired = expiredMessages((await api.client.list<CoreV1Event>(EVENTS)).items, now);
  for (const e of expired) await api.client.delete(EVENTS, e.metadata.namespace, e.metadata.name!).catch(() => {}); // gone already: another replica's
  return expired.length;
}

/** Reaps expired messages every hour, as Cinder's scheduler does daily; every replica may, a delete twice is no harm. */
export function messageReaper(api: VolApi, log: { info(m: string, meta: object): unknown; warn(m: string, meta: object): unknown }): { stop(): void } {
  const timer = setInterval(() => {
    reapMessages(api).then(
      (n) => n && log.info('expired user messages deleted', { count: n }),
      (e: Error) => log.warn('user messages not reaped', { error: e.message }),
    );
  }, REAP_EVERY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/**
 * A Warning event on a block storage object as Cinder's user message: its action by the kind, its detail by the
 * reason (no backend, not enough quota), else the event's own words. Pure.
 */
export function messageOf(e: CoreV1Event, base: string): Record<string, unknown> | undefined {
  const kind = e.involvedObject?.kind ?? '';
  if (e.type !== 'Warning' || !RESOURCE[kind] || !e.involvedObject.apiVersion?.startsWith('blockstorage.stratus.io/')) return undefined;
  const [action, doing] = ACTION[kind];
  const reason = e.reason ?? '';
  const [detail, words] = reason === 'NoValidBackend' ? ['003', 'Could not find any available weighted backend.'] : QUOTA_REASONS.test(reason) ? ['006', 'Not enough quota resource for operation.'] : ['001', e.message ?? 'An unknown error occurred.'];
  const created = createdOf(e);
  const id = e.metadata.uid!;
  return {
    id,
    message_level: 'ERROR',
    event_id: `VOLUME_${RESOURCE[kind]}_${action}_${detail}`,
    user_message: `${doing}: ${words}`,
    resource_type: RESOURCE[kind],
    resource_uuid: e.involvedObject.uid,
    request_id: `req-${id}`,
    created_at: stamp(created),
    guaranteed_until: stamp(new Date(created.getTime() + MESSAGE_TTL_MS)),
    links: [{ rel: 'self', href: `${base}/messages/${id}` }],
  };
}

export function messageRoutes(router: VolRouter, api: VolApi): void {
  /** The caller's messages (an admin's: every project's, as Cinder lists them), with their events. */
  const messages = async (auth: VolAuth, base: string) => {
    const events = (await api.client.list<CoreV1Event>(EVENTS, auth.admin ? undefined : (auth.tenant ?? '-'))).items;
    return events.flatMap((e) => {
      const m = messageOf(e, base);
      return m ? [{ m, e }] : [];
    });
  };
  type Req = ApiRequest<VolAuth> & { auth: VolAuth };
  const one = async (req: Req) => {
    const found = (await messages(req.auth, `${req.base}/v3`)).find(({ m }) => m.id === req.params.id);
    if (!found) throw notFound(`Message ${req.params.id} could not be found.`);
    return found;
  };
  on(router, 'GET', '/messages', async (req) => {
    requireMinor(req, 3);
    const list = (await messages(req.auth, `${req.base}/v3`)).map(({ m }) => m).sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
    return { status: 200, body: { messages: list } };
  });
  on(router, 'GET', '/messages/:id', async (req) => {
    requireMinor(req, 3);
    return { status: 200, body: { message: (await one(req)).m } };
  });
  on(router, 'DELETE', '/messages/:id', async (req) => {
    requireMinor(req, 3);
    const { e } = await one(req);
    await api.client.delete(EVENTS, e.metadata.namespace, e.metadata.name!).catch((err) => fromKubernetes(err, `Message ${req.params.id}`));
    return { status: 204 };
  });
}
