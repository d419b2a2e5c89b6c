/**
 * POST /os-server-external-events: what other services tell Nova about a server (Neutron: its ports
 * changed). Admins only. Each event is recorded on its Instance as a Kubernetes Event, which is what there is
 * to do with it until the networking and volume services that act on them land; an unknown server is a 404
 * of that event, and the answer is 207 when some failed, as in Nova.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { now } from '@stratus/runtime';
import { EVENTS } from '../resources.js';
import { API_FIELD_MANAGER, requireAdmin, type ComputeApiContext, type ComputeRouter } from './context.js';
import { badRequest, notFound } from './errors.js';

/** The event names each microversion accepts. */
const NAMES: Array<[string, string]> = [
  ['network-changed', '2.1'],
  ['network-vif-plugged', '2.1'],
  ['network-vif-unplugged', '2.1'],
  ['network-vif-deleted', '2.1'],
  ['volume-extended', '2.51'],
  ['power-update', '2.76'],
  ['accelerator-request-bound', '2.82'],
  ['volume-reimaged', '2.93'],
];

export function externalEventRoutes(router: ComputeRouter, api: ComputeApiContext) {
  router.on('POST', '/os-server-external-events', async (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-server-external-events:create');
    const events = req.body?.events;
    if (!Array.isArray(events) || !events.length) throw badRequest("Invalid input for field/attribute events. 'events' must be a non-empty list.");
    const allowed = new Set(NAMES.filter(([, since]) => req.auth.version.atLeast(since)).map(([n]) => n));
    for (const e of events) {
      if (!e || typeof e !== 'object' || typeof e.server_uuid !== 'string') throw badRequest("Invalid input for field/attribute server_uuid. 'server_uuid' is a required property");
      if (!allowed.has(e.name)) throw badRequest(`Invalid input for field/attribute name. Value: ${JSON.stringify(e.name)}. It must be one of ${[...allowed].join(', ')}.`);
      if (e.tag !== undefined && (typeof e.tag !== 'string' || e.tag.length > 255)) throw badRequest('Invalid input for field/attribute tag.');
    }
    const results = [];
    for (const e of events) {
      const inst = api.dir.instances.byId(e.server_uuid);
      if (!inst) {
        results.push({ server_uuid: e.server_uuid, name: e.name, ...(e.tag !== undefined ? { tag: e.tag } : {}), status: 'failed', code: 404 });
        continue;
      }
      const at = now();
      const body = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${inst.metadata.name}.`, namespace: inst.metadata.namespace },
        involvedObject: { apiVersion: inst.apiVersion, kind: 'Instance', name: inst.metadata.name, namespace: inst.metadata.namespace, uid: inst.metadata.uid },
        type: 'Normal',
        reason: 'ExternalEvent',
        message: `${e.name}${e.tag !== undefined ? ` (${e.tag})` : ''}${e.status ? `: ${e.status}` : ''}`,
        source: { component: API_FIELD_MANAGER },
        firstTimestamp: at,
        lastTimestamp: at,
        count: 1,
      };
      await api.client.create(EVENTS, body as KubernetesObject, API_FIELD_MANAGER).catch((err: Error) => api.log.warn('external event not recorded', { namespace: inst.metadata.namespace, name: inst.metadata.name, event: e.name, error: err.message }));
      results.push({ server_uuid: e.server_uuid, name: e.name, ...(e.tag !== undefined ? { tag: e.tag } : {}), status: 'completed', code: 200 });
    }
    if (results.every((r) => r.code === 404)) throw notFound('No instances found for any event');
    return { status: results.some((r) => r.code !== 200) ? 207 : 200, body: { events: results } };
  });
}
