/**
 * What an admin sees of the block storage service itself, as Cinder shows it: its services (os-services), its
 * hosts and their usage (os-hosts), its backends' pools (scheduler-stats/get_pools) and capabilities
 * (capabilities/{host}). This process is
 * Cinder's scheduler, volume and backup services in one; each backend is a cinder-volume host
 * (`stratus@<backend>`), up while it answers for its capacity.
 */
import { isDeleting } from '@stratus/runtime';
import type { PoolCapacity, VolumeBackend } from '../backend/types.js';
import { on, str, type VolApi, type VolAuth, type VolRouter } from './context.js';
import { badRequest, forbidden, invalidInput, notFound } from './errors.js';
import { minorOf } from './microversion.js';
import { stamp } from './views.js';
import { capabilitiesOf } from '../scheduler.js';
import { ENABLED, SERVICE_HOST, readServiceStates, serviceKey, writeServiceState, type ServiceState } from '../serviceState.js';

export { SERVICE_HOST };
/** How long a backend has to say its capacity before it counts as down. */
const ANSWER_MS = 5000;

export interface BackendState {
  backend: VolumeBackend;
  capacity?: PoolCapacity;
  at: string;
}

/** Cinder's host filter: the host itself, or a backend or pool on it (`host@backend`, `host@backend#pool`). */
export const onHost = (name: string, host: string) => name === host || name.startsWith(`${host}@`) || name.startsWith(`${host}#`);

const when = () => stamp(new Date())!;

async function stateOf(backend: VolumeBackend): Promise<BackendState> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ANSWER_MS)));
  const capacity = await Promise.race([backend.capacity().catch(() => undefined), late]).finally(() => clearTimeout(timer));
  return { backend, capacity, at: when() };
}

/**
 * Cinder's service records: the scheduler and backup services (this process, so up), and a volume service per
 * backend, each enabled or disabled as an admin set it (a volume service also frozen or not).
 */
export function serviceRecords(states: BackendState[], minor: number, set: Map<string, ServiceState> = new Map()): Array<Record<string, unknown>> {
  const at = when();
  const record = (binary: string, host: string, up: boolean, updated: string, backendState?: boolean) => {
    const s = set.get(serviceKey(binary, host)) ?? ENABLED;
    return {
      binary,
      host,
      zone: 'nova',
      status: s.disabled ? 'disabled' : 'enabled',
      state: up ? 'up' : 'down',
      updated_at: updated,
      disabled_reason: s.reason,
      ...(binary === 'cinder-volume' ? { replication_status: 'disabled', active_backend_id: null, frozen: s.frozen } : {}),
      ...(minor >= 7 ? { cluster: null } : {}),
      ...(minor >= 49 && backendState !== undefined ? { backend_state: backendState ? 'up' : 'down' } : {}),
    };
  };
  return [
    record('cinder-scheduler', SERVICE_HOST, true, at),
    ...states.map((s) => record('cinder-volume', `${SERVICE_HOST}@${s.backend.name}`, !!s.capacity, s.at, !!s.capacity)),
    record('cinder-backup', SERVICE_HOST, true, at),
  ];
}

/** A reason Cinder takes for disabling a service: some text that is not only blanks, at most 255 characters. Pure. */
export const isValidReason = (reason: unknown): reason is string => typeof reason === 'string' && reason.trim().length > 0 && reason.length <= 255;

/**
 * What an admin's PUT /os-services/{action} changes, as Cinder's services controller decides it: the service
 * states to write and the answer; or Cinder's 400 or 404. Pure.
 */
export function serviceChange(action: string, body: Record<string, unknown>, records: Array<Record<string, unknown>>, set: Map<string, ServiceState>): { writes: Array<[string, ServiceState]>; answer?: object } {
  const host = str(body.host, 'host');
  const stateOf = (key: string) => set.get(key) ?? ENABLED;
  if (action === 'freeze' || action === 'thaw') {
    if (!host) throw invalidInput("'host' is a required property");
    const volumes = records.filter((r) => r.binary === 'cinder-volume' && onHost(String(r.host), host));
    if (!volumes.length) throw invalidInput(`No service found with host=${host}`);
    const frozen = action === 'freeze';
    const already = volumes.find((r) => r.frozen === frozen);
    if (already) throw invalidInput(`frozen in cinder-volume ${already.host} must be ${frozen ? 'False' : 'True'}.`);
    return { writes: volumes.map((r) => serviceKey('cinder-volume', String(r.host))).map((key) => [key, { ...stateOf(key), frozen }]) };
  }
  if (!['enable', 'disable', 'disable-log-reason'].includes(action)) throw invalidInput('Unknown action');
  if (!host) throw badRequest("Missing required element 'host' in request body.");
  // `service` is the older name of `binary`; the answer echoes both as given.
  const service = str(body.service, 'service') ?? '';
  const binary = str(body.binary, 'binary') ?? '';
  const named = binary || service;
  if (!named) throw badRequest("Missing required element 'binary' in request body.");
  const disabled = action !== 'enable';
  // Enabling clears the reason; a plain disable keeps the one there was.
  const reason = action === 'disable-log-reason' ? body.disabled_reason : action === 'enable' ? null : undefined;
  if (action === 'disable-log-reason' && !isValidReason(reason)) throw badRequest('Disabled reason contains invalid characters or is too long');
  if (!records.some((r) => r.host === host && r.binary === named)) throw notFound(`Service ${named} could not be found on host ${host}.`);
  const key = serviceKey(named, host);
  const was = stateOf(key);
  return {
    writes: [[key, { ...was, disabled, reason: reason === undefined ? was.reason : (reason as string | null) }]],
    answer: { disabled, status: disabled ? 'disabled' : 'enabled', host, service, binary, ...(reason !== undefined ? { disabled_reason: reason } : {}) },
  };
}

/** A pool's capabilities as get_pools shows them: its capacity 'unknown' while its backend does not answer. */
function poolCapabilities(s: BackendState): Record<string, string | number | boolean> {
  const caps = capabilitiesOf({ backend: s.backend.name, pool: s.backend.pool, protocol: s.backend.protocol, capacity: s.capacity ?? { totalGiB: 0, freeGiB: 0, provisionedGiB: 0 } });
  const unknown: Record<string, string> = s.capacity ? {} : { total_capacity_gb: 'unknown', free_capacity_gb: 'unknown', provisioned_capacity_gb: 'unknown' };
  return { ...caps, ...unknown, timestamp: s.at };
}

/** A backend's record in Cinder's get_capabilities: the stats it reports, and the capabilities a type may ask for. */
export function capabilitiesRecord(s: BackendState) {
  const caps = poolCapabilities(s);
  return {
    namespace: `OS::Storage::Capabilities::${SERVICE_HOST}@${s.backend.name}`,
    volume_backend_name: s.backend.name,
    pool_name: null,
    vendor_name: caps.vendor_name,
    driver_version: caps.driver_version,
    storage_protocol: caps.storage_protocol,
    display_name: null,
    description: null,
    visibility: null,
    replication_targets: [],
    properties: {
      thin_provisioning: { title: 'Thin Provisioning', description: 'Sets thin provisioning.', type: 'boolean' },
      multiattach: { title: 'Multi-attach', description: 'Whether a volume may be attached to several servers.', type: 'boolean' },
    },
  };
}

export function serviceRoutes(router: VolRouter, api: VolApi, backends: VolumeBackend[]): void {
  const admin = (auth: VolAuth) => {
    if (!auth.admin) throw forbidden();
  };
  const states = () => Promise.all(backends.map(stateOf));

  on(router, 'GET', '/os-services', async (req) => {
    admin(req.auth);
    const host = req.query.get('host');
    const binary = req.query.get('binary');
    const services = serviceRecords(await states(), minorOf(req), await readServiceStates(api.client)).filter((s) => (!host || onHost(String(s.host), host)) && (!binary || s.binary === binary));
    return { status: 200, body: { services } };
  });

  // Enabling and disabling a service (a disabled volume service takes no new volume, a disabled backup
  // service no new backup), and freezing and thawing a volume host (a frozen one takes no new volume either).
  on(router, 'PUT', '/os-services/:action', async (req) => {
    admin(req.auth);
    const set = await readServiceStates(api.client);
    // Which services there are is all the change needs: no backend is asked for its capacity.
    const named = backends.map((backend) => ({ backend, at: when() }));
    const change = serviceChange(req.params.action, (req.body ?? {}) as Record<string, unknown>, serviceRecords(named, 0, set), set);
    for (const [key, state] of change.writes) await writeServiceState(api.client, key, state);
    return { status: 200, ...(change.answer ? { body: change.answer } : {}) };
  });

  on(router, 'GET', '/os-hosts', async (req) => {
    admin(req.auth);
    const hosts = serviceRecords(await states(), 0, await readServiceStates(api.client)).map((s) => ({ service: s.binary, host_name: s.host, zone: s.zone, 'service-status': s.state === 'up' ? 'available' : 'unavailable', 'service-state': s.status, 'last-update': s.updated_at }));
    return { status: 200, body: { hosts } };
  });

  // A volume host's usage: its total, then each project's (volumes and their snapshots on that backend).
  on(router, 'GET', '/os-hosts/:host', (req) => {
    admin(req.auth);
    const host = req.params.host;
    const backend = backends.find((b) => `${SERVICE_HOST}@${b.name}` === host);
    if (!backend) throw notFound(`Host ${host} could not be found.`);
    const volumes = api.dir.volumes.list().filter((v) => v.status?.backend === backend.name && !isDeleting(v));
    const snapshots = api.dir.snapshots.list().filter((s) => s.status?.backend === backend.name && !isDeleting(s));
    const usage = (project: string, ns?: string) => {
      const vs = volumes.filter((v) => !ns || v.metadata.namespace === ns);
      const ss = snapshots.filter((s) => !ns || s.metadata.namespace === ns);
      const gib = (xs: Array<{ status?: { sizeGiB?: number } }>) => xs.reduce((n, x) => n + (x.status?.sizeGiB ?? 0), 0);
      return { resource: { host, project, volume_count: String(vs.length), total_volume_gb: String(gib(vs)), snapshot_count: String(ss.length), total_snapshot_gb: String(gib(ss)) } };
    };
    const namespaces = [...new Set([...volumes, ...snapshots].map((o) => o.metadata.namespace!))].sort();
    return { status: 200, body: { host: [usage('(total)'), ...namespaces.map((ns) => usage(api.dir.projectIdOf(ns) ?? ns, ns))] } };
  });

  on(router, 'GET', '/scheduler-stats/get_pools', async (req) => {
    admin(req.auth);
    const detail = ['1', 'true', 'True'].includes(req.query.get('detail') ?? '');
    const pools = (await states()).map((s) => ({ name: `${SERVICE_HOST}@${s.backend.pool}`, ...(detail ? { capabilities: poolCapabilities(s) } : {}) }));
    return { status: 200, body: { pools } };
  });

  // A backend's capabilities (Cinder's get_capabilities), by its host (`stratus@<backend>`, or one of its pools).
  on(router, 'GET', '/capabilities/:host', async (req) => {
    admin(req.auth);
    const host = req.params.host.split('#')[0];
    const backend = backends.find((b) => `${SERVICE_HOST}@${b.name}` === host);
    if (!backend) throw notFound(`Host ${req.params.host} could not be found.`);
    return { status: 200, body: capabilitiesRecord(await stateOf(backend)) };
  });
}
