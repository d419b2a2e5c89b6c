/**
 * /os-simple-tenant-usage: what each tenant's servers used in a period, as Nova reports it: hours running
 * (from launch, or the period's start, to the period's end or now) times the flavor's vCPUs, RAM and disk.
 * Servers are counted while their Instance exists: a deleted server's usage is gone with it (Nova keeps it).
 */
import type { Instance } from '../resources.js';
import { requireAdmin, runningFlavor, tenantOf, type ComputeApiContext, type ComputeRequest, type ComputeRouter } from './context.js';
import { badRequest, forbidden, notFound } from './errors.js';
import { novaTime, serverIdOf, serverNameOf, vmStateOf } from './views.js';

const HOUR_MS = 3_600_000;
/** A Nova time as milliseconds: one without a zone is UTC. NaN when it is no time. */
const utcMs = (text: string) => Date.parse(/[Zz]|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text}Z`);

export function usageRoutes(router: ComputeRouter, api: ComputeApiContext) {
  const { dir } = api;
  /** The period asked for: start and end (ISO 8601; end defaults to now, start to the epoch). */
  const periodOf = (req: ComputeRequest) => {
    const at = (k: string, fallback: number) => {
      const v = req.query.get(k);
      if (v === null) return fallback;
      const t = utcMs(v);
      if (Number.isNaN(t)) throw badRequest(`Invalid ${k}: ${v} is not a date-time.`);
      return t;
    };
    const end = at('end', Date.now());
    const start = at('start', 0);
    if (start > end) throw badRequest('Invalid time period: start is after end.');
    return { start, end };
  };

  const serverUsage = (inst: Instance, start: number, end: number, projectId: string) => {
    const flavor = runningFlavor(api, inst);
    const launched = inst.status?.launchedAt ? Date.parse(inst.status.launchedAt) : undefined;
    const from = launched === undefined ? end : Math.max(start, launched);
    const to = Math.min(end, Date.now());
    const hours = Math.max(0, to - from) / HOUR_MS;
    return {
      instance_id: serverIdOf(inst),
      name: serverNameOf(inst),
      hours,
      vcpus: flavor?.vcpus ?? 0,
      memory_mb: flavor?.ramMiB ?? 0,
      local_gb: flavor?.diskGiB ?? 0,
      flavor: flavor?.name ?? inst.spec.flavor,
      tenant_id: projectId,
      started_at: launched === undefined ? null : novaTime(launched),
      ended_at: null,
      state: vmStateOf(inst),
      uptime: Math.floor(Math.max(0, Date.now() - (launched ?? Date.now())) / 1000),
    };
  };

  const usageOf = (namespace: string, start: number, end: number, detailed: boolean) => {
    const projectId = dir.projectIdOf(namespace);
    const servers = dir.instances
      .list(namespace)
      .filter((i) => !i.metadata.deletionTimestamp && i.status?.launchedAt && Date.parse(i.status.launchedAt) < end)
      .map((i) => serverUsage(i, start, end, projectId));
    const total = (f: (s: (typeof servers)[number]) => number) => servers.reduce((n, s) => n + f(s), 0);
    return {
      tenant_id: projectId,
      start: novaTime(start),
      stop: novaTime(end),
      total_hours: total((s) => s.hours),
      total_vcpus_usage: total((s) => s.hours * s.vcpus),
      total_memory_mb_usage: total((s) => s.hours * s.memory_mb),
      total_local_gb_usage: total((s) => s.hours * s.local_gb),
      ...(detailed ? { server_usages: servers } : {}),
    };
  };

  // A trailing slash names an empty project ID, which is no project (Nova: 404), not the list.
  router.on('GET', '/os-simple-tenant-usage/', () => {
    throw notFound('The resource could not be found.');
  });
  router.on('GET', '/os-simple-tenant-usage', (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-simple-tenant-usage:list');
    const { start, end } = periodOf(req);
    const detailed = ['1', 'true', 'True'].includes(req.query.get('detailed') ?? '');
    const usages = dir.tenants
      .list()
      .map((t) => usageOf(t.metadata.name, start, end, detailed))
      .filter((u) => u.total_hours > 0 || (u.server_usages?.length ?? 0) > 0);
    return { status: 200, body: { tenant_usages: usages } };
  });
  router.on('GET', '/os-simple-tenant-usage/:tenant', (req) => {
    const t = dir.tenants.byId(req.params.tenant);
    if (!req.auth.admin && (!t || t.metadata.name !== tenantOf(req.auth))) throw forbidden("Policy doesn't allow os_compute_api:os-simple-tenant-usage:show to be performed.");
    const { start, end } = periodOf(req);
    // Nova answers an empty usage for a project with none (or none known here).
    const usage = t ? usageOf(t.metadata.name, start, end, true) : {};
    return { status: 200, body: { tenant_usage: usage } };
  });
}

/**
 * Nova's audit period (monthly, its default instance_usage_audit_period) that ends at or before `before`:
 * the month before the one `before` falls in.
 */
export function auditPeriodBefore(before: Date): { beginning: Date; ending: Date } {
  const ending = new Date(Date.UTC(before.getUTCFullYear(), before.getUTCMonth(), 1));
  const beginning = new Date(Date.UTC(ending.getUTCFullYear(), ending.getUTCMonth() - 1, 1));
  return { beginning, ending };
}

const auditTime = (d: Date) => d.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '');

/**
 * /os-instance_usage_audit_log: how far the compute hosts got with Nova's periodic usage audit (the
 * exists-notifications billing reads). Stratus runs no such audit, so every host is reported as not run, as
 * Nova reports a host whose audit has not run. Admins only.
 */
export function auditLogRoutes(router: ComputeRouter, api: ComputeApiContext) {
  const report = (before: Date) => {
    const { beginning, ending } = auditPeriodBefore(before);
    const hosts = api.dir.hypervisors.list().map((h) => h.metadata.name).sort();
    return {
      hosts_not_run: hosts,
      log: {},
      num_hosts: hosts.length,
      num_hosts_done: 0,
      num_hosts_not_run: hosts.length,
      num_hosts_running: 0,
      overall_status: `0 of ${hosts.length} hosts done. 0 errors.`,
      period_beginning: auditTime(beginning),
      period_ending: auditTime(ending),
      total_errors: 0,
      total_instances: 0,
    };
  };
  router.on('GET', '/os-instance_usage_audit_log', (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-instance-usage-audit-log:list');
    return { status: 200, body: { instance_usage_audit_logs: report(new Date()) } };
  });
  router.on('GET', '/os-instance_usage_audit_log/:before', (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-instance-usage-audit-log:show');
    const text = req.params.before.replace(' ', 'T');
    const before = new Date(/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(text) ? utcMs(text) : NaN);
    if (Number.isNaN(before.getTime())) throw badRequest(`Invalid timestamp for date ${req.params.before}`);
    return { status: 200, body: { instance_usage_audit_log: report(before) } };
  });
}
