/**
 * Nova's instance actions (`openstack server event list`), kept as Kubernetes Events on the Instance: each
 * create and each action a user asks for is an Event (reason ServerAction) that `kubectl describe` shows too,
 * labelled with the instance's UID and annotated with who asked and the request's ID. An action has finished
 * once the node agent has reported on the spec it wrote (observedGeneration) and no task is left.
 * (A real cluster keeps Events for its --event-ttl, one hour by default; so does this history there.)
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { GENERATION, INSTANCE_LABEL, PROJECT, REQUEST, USER, actionEventBody, actionEventName } from '../actionEvents.js';
import { EVENTS, type Instance } from '../resources.js';
import { API_FIELD_MANAGER, canSeeServer, tenantOf, type ComputeApiContext, type ComputeRequest, type ComputeRouter } from './context.js';
import { NovaError, noServer } from './errors.js';
import { novaTime, presentState } from './views.js';

export { ACTION_REASON, INSTANCE_LABEL, PROJECT, USER } from '../actionEvents.js';

/** Nova's action names for the server action keys that change a server (read-only ones are not recorded). */
export const RECORDED_ACTIONS: Record<string, string> = {
  'os-start': 'start',
  'os-stop': 'stop',
  reboot: 'reboot',
  pause: 'pause',
  unpause: 'unpause',
  suspend: 'suspend',
  resume: 'resume',
  rebuild: 'rebuild',
  resize: 'resize',
  confirmResize: 'confirmResize',
  revertResize: 'revertResize',
  createImage: 'createImage',
  createBackup: 'createBackup',
  forceDelete: 'delete',
  lock: 'lock',
  unlock: 'unlock',
  shelve: 'shelve',
  shelveOffload: 'shelveOffload',
  unshelve: 'unshelve',
  rescue: 'rescue',
  unrescue: 'unrescue',
};

export interface ActionEvent extends KubernetesObject {
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  action?: string;
  eventTime?: string;
  firstTimestamp?: string;
}

/** Records that `action` was asked of the instance (as written: its generation is what the agent must reach). */
export async function recordAction(api: ComputeApiContext, inst: Instance, action: string, req: ComputeRequest): Promise<void> {
  const body = actionEventBody(inst, action, { requestId: req.requestId, userId: req.auth.userId, userName: req.auth.userName, projectId: req.auth.projectId ?? '' }, API_FIELD_MANAGER);
  // The history is part of the API's answer, but a lost Event must not undo the action already written.
  await api.client.create(EVENTS, body, API_FIELD_MANAGER).catch((e: Error) => api.log.warn('instance action not recorded', { namespace: inst.metadata.namespace, name: inst.metadata.name, action, error: e.message }));
}

export function instanceActionRoutes(router: ComputeRouter, api: ComputeApiContext) {
  const newestFirst = (items: ActionEvent[]) => items.filter((e) => e.action).sort((a, b) => String(b.firstTimestamp).localeCompare(String(a.firstTimestamp)));
  /**
   * The server's actions: the Events labelled with its ID. From 2.21 a deleted server's history is shown too
   * (its Events outlive it), to its tenant and to admins.
   */
  const historyOf = async (req: ComputeRequest): Promise<{ id: string; inst?: Instance; events: ActionEvent[] }> => {
    const id = req.params.id;
    const inst = api.dir.instances.byId(id);
    if (inst && canSeeServer(inst, req.auth)) return { id, inst, events: newestFirst((await api.client.list<ActionEvent>(EVENTS, inst.metadata.namespace, `${INSTANCE_LABEL}=${id}`)).items) };
    if (inst || !req.auth.version.atLeast('2.21') || !/^[0-9a-f-]{36}$/.test(id)) throw noServer(id);
    const events = newestFirst((await api.client.list<ActionEvent>(EVENTS, req.auth.admin ? undefined : tenantOf(req.auth), `${INSTANCE_LABEL}=${id}`)).items);
    if (!events.length) throw noServer(id);
    return { id, events };
  };
  const view = (id: string, e: ActionEvent) => ({
    action: e.action!,
    instance_uuid: id,
    request_id: e.metadata.annotations?.[REQUEST] ?? '',
    user_id: e.metadata.annotations?.[USER] ?? '',
    project_id: e.metadata.annotations?.[PROJECT] ?? '',
    start_time: novaTime(e.firstTimestamp),
    message: null,
  });
  /** Nova's one event per action: finished once the agent has acted on the spec this action wrote (all have, once the server is gone). */
  const eventsOf = (inst: Instance | undefined, e: ActionEvent) => {
    const wrote = Number(e.metadata.annotations?.[GENERATION] ?? 0);
    const done = !inst || ((inst.status?.observedGeneration ?? 0) >= wrote && !presentState(inst).taskState && inst.status?.phase !== 'BUILD');
    const ready = inst?.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
    const finish = done ? novaTime([ready, e.firstTimestamp].filter(Boolean).sort().at(-1)) : null;
    const result = done ? (inst?.status?.phase === 'ERROR' ? 'Error' : 'Success') : null;
    return [{ event: actionEventName(e.action!), start_time: novaTime(e.firstTimestamp), finish_time: finish, result }];
  };

  router.on('GET', '/servers/:id/os-instance-actions', async (req) => {
    const { id, events } = await historyOf(req);
    return { status: 200, body: { instanceActions: events.map((e) => view(id, e)) } };
  });
  router.on('GET', '/servers/:id/os-instance-actions/:request', async (req) => {
    const { id, inst, events } = await historyOf(req);
    const e = events.find((x) => x.metadata.annotations?.[REQUEST] === req.params.request);
    if (!e) throw new NovaError(404, `Action for request_id ${req.params.request} on instance ${req.params.id} not found`);
    return { status: 200, body: { instanceAction: { ...view(id, e), events: eventsOf(inst, e) } } };
  });
}

