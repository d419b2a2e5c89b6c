/**
 * /os-services: the compute services as Nova lists them. Each node agent is a nova-compute service (its
 * Hypervisor: up while it heartbeats; disabling it is the Hypervisor's spec.disabled, which the scheduler
 * honours), and this process is nova-scheduler. Admins only, as in Nova.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { HYPERVISORS, integerIdOf, type Hypervisor } from '../resources.js';
import { novaTime } from './views.js';
import { isUp } from '../scheduler/hostStates.js';
import { requireAdmin, updateObject, type ComputeApiContext, type ComputeRequest, type ComputeRouter } from './context.js';
import { NovaError, badRequest, conflict } from './errors.js';

/** A stable UUID-shaped ID for a service with no object of its own (the scheduler). */
const uuidOf = (s: string) => createHash('sha1').update(s).digest('hex').slice(0, 32).replace(/(.{8})(.{4})(.{4})(.{4})(.{12})/, '$1-$2-$3-$4-$5');
/** This process's host: where nova-scheduler runs (os-services and os-hosts show it). */
export const SCHEDULER_HOST = hostname();

/** The compute host (Hypervisor) of this name, else Nova's 404. */
export function computeHost(api: ComputeApiContext, host: unknown): Hypervisor {
  const hv = typeof host === 'string' ? api.dir.hypervisors.get(host) : undefined;
  if (!hv) throw new NovaError(404, `Compute host ${String(host)} could not be found.`);
  return hv;
}

/** Enables or disables a compute service: its Hypervisor's spec.disabled (the scheduler then skips it). */
export function setComputeEnabled(api: ComputeApiContext, hv: Hypervisor, enabled: boolean, reason?: unknown): Promise<Hypervisor> {
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > 255)) throw badRequest('Invalid input for field/attribute disabled_reason.');
  return updateObject(api, api.dir.hypervisors, HYPERVISORS, hv, () => ({ spec: { disabled: !enabled, disabledReason: enabled ? null : (reason ?? null) } }), `Service ${hv.metadata.name}`);
}

export function serviceRoutes(router: ComputeRouter, api: ComputeApiContext) {
  const { dir } = api;
  const computeView = (req: ComputeRequest, hv: Hypervisor) => ({
    id: req.auth.version.atLeast('2.53') ? hv.metadata.uid! : integerIdOf(hv.metadata.uid!),
    binary: 'nova-compute',
    host: hv.metadata.name,
    zone: dir.zoneOf(hv),
    status: hv.spec.disabled ? 'disabled' : 'enabled',
    state: isUp(hv) ? 'up' : 'down',
    updated_at: novaTime(hv.status?.lastHeartbeat),
    disabled_reason: hv.spec.disabled ? (hv.spec.disabledReason ?? null) : null,
    ...(req.auth.version.atLeast('2.11') ? { forced_down: false } : {}),
  });
  // The scheduler runs in this process: it answers, so it is up.
  const schedulerView = (req: ComputeRequest) => ({
    id: req.auth.version.atLeast('2.53') ? uuidOf(`nova-scheduler/${SCHEDULER_HOST}`) : 1,
    binary: 'nova-scheduler',
    host: SCHEDULER_HOST,
    zone: 'internal',
    status: 'enabled',
    state: 'up',
    updated_at: novaTime(Date.now()),
    disabled_reason: null,
    ...(req.auth.version.atLeast('2.11') ? { forced_down: false } : {}),
  });
  const all = (req: ComputeRequest) => [schedulerView(req), ...dir.hypervisors.list().map((hv) => computeView(req, hv))];

  router.on('GET', '/os-services', (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-services:list');
    const host = req.query.get('host');
    const binary = req.query.get('binary');
    return { status: 200, body: { services: all(req).filter((s) => (!host || s.host === host) && (!binary || s.binary === binary)) } };
  });


  // 2.53 on: by the service's UUID.
  router.on('PUT', '/os-services/:id', async (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-services:update');
    const body = req.body ?? {};
    if (!req.auth.version.atLeast('2.53')) {
      // Before 2.53 the path says what to do, for a host and binary in the body.
      const action = req.params.id;
      if (!['enable', 'disable', 'disable-log-reason'].includes(action)) throw new NovaError(404, 'The resource could not be found.');
      if (body.binary !== 'nova-compute') throw badRequest('Only nova-compute services can be enabled or disabled here.');
      const hv = await setComputeEnabled(api, computeHost(api, body.host), action === 'enable', action === 'disable-log-reason' ? body.disabled_reason : undefined);
      return { status: 200, body: { service: { host: hv.metadata.name, binary: 'nova-compute', status: hv.spec.disabled ? 'disabled' : 'enabled', ...(hv.spec.disabledReason ? { disabled_reason: hv.spec.disabledReason } : {}) } } };
    }
    const hv = dir.hypervisors.list().find((h) => h.metadata.uid === req.params.id);
    if (!hv) throw new NovaError(404, `Service ${req.params.id} could not be found.`);
    if (body.status !== undefined && body.status !== 'enabled' && body.status !== 'disabled') throw badRequest("Invalid input for field/attribute status. Value: must be 'enabled' or 'disabled'.");
    if (body.forced_down) throw badRequest('forced_down is not supported: a node is down when its agent stops heartbeating.');
    const written = body.status === undefined ? hv : await setComputeEnabled(api, hv, body.status === 'enabled', body.disabled_reason);
    return { status: 200, body: { service: computeView(req, written) } };
  });

  // Deleting a compute service forgets a node: only one without instances (its agent registers it again if it lives).
  router.on('DELETE', '/os-services/:id', async (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-services:delete');
    const hv = dir.hypervisors.list().find((h) => h.metadata.uid === req.params.id || computeView(req, h).id === Number(req.params.id));
    if (!hv) throw new NovaError(404, `Service ${req.params.id} could not be found.`);
    if (dir.instances.list().some((i) => i.status?.host === hv.metadata.name)) throw conflict(`Unable to delete compute service that is hosting instances. Migrate or delete the instances first.`);
    await api.client.delete(HYPERVISORS, undefined, hv.metadata.name);
    await dir.hypervisors.until(hv, (c) => !c);
    return { status: 204 };
  });
}
