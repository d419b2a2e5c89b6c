/** /limits, /os-hypervisors and /os-availability-zone: what the tenant may use, and (for admins) the hosts. */
import { limitsOf } from '../quota.js';
import { isUp } from '../scheduler/hostStates.js';
import type { Hypervisor } from '../resources.js';
import { askAgent, requireAdmin, tenantOf, tenantUsage, viewContext, type ComputeApiContext, type ComputeRequest, type ComputeRouter } from './context.js';
import { NovaError, badRequest, notFound } from './errors.js';
import { hypervisorSummary, hypervisorView, serverIdOf } from './views.js';

export function infoRoutes(router: ComputeRouter, api: ComputeApiContext) {
  const { dir } = api;

  router.on('GET', '/limits', (req) => {
    const ask = req.query.get('tenant_id');
    if (ask) requireAdmin(req.auth, "reading another project's limits");
    const ns = ask ? dir.tenants.byId(ask)?.metadata.name : tenantOf(req.auth);
    if (!ns) throw badRequest(`Project ${ask} could not be found.`);
    const quota = dir.quotaOf(ns);
    const limits = limitsOf(quota);
    // The usage the quota checks count, so what is shown as used is what a new server is refused by.
    const used = tenantUsage(api, ns);
    const v = req.auth.version;
    // -1 is Nova's "unlimited".
    const absolute: Record<string, number> = {
      maxTotalInstances: limits.instances ?? -1,
      maxTotalCores: limits.cores ?? -1,
      maxTotalRAMSize: limits.ramMiB ?? -1,
      maxServerMeta: 128,
      maxImageMeta: 128,
      maxTotalKeypairs: quota?.keypairs ?? -1,
      maxServerGroups: quota?.serverGroups ?? -1,
      maxServerGroupMembers: quota?.serverGroupMembers ?? -1,
      totalInstancesUsed: used.instances,
      totalCoresUsed: used.cores,
      totalRAMUsed: used.ramMiB,
      totalServerGroupsUsed: dir.groups.list(ns).length,
      ...(v.atLeast('2.57') ? {} : { maxPersonality: 5, maxPersonalitySize: 10240 }),
      ...(v.atLeast('2.36') ? {} : { maxSecurityGroups: -1, maxSecurityGroupRules: -1, maxTotalFloatingIps: -1, totalFloatingIpsUsed: 0, totalSecurityGroupsUsed: 0 }),
    };
    return { status: 200, body: { limits: { rate: [], absolute } } };
  });

  const hypervisorFor = (id: string): Hypervisor => {
    const hv = dir.hypervisors.byId(id) ?? dir.hypervisors.get(id);
    if (!hv) throw notFound(`Hypervisor with ID ${id} could not be found.`);
    return hv;
  };
  /** Nova's hypervisor_hostname_pattern: the host name holds the pattern. */
  const matches = (hv: Hypervisor, pattern: string) => (hv.spec.hostname ?? hv.metadata.name).includes(pattern);
  const serversOn = (hv: Hypervisor) => dir.instances.list().filter((i) => i.status?.host === hv.metadata.name).map((i) => ({ uuid: serverIdOf(i), name: i.status?.instanceName ?? '' }));
  const hypervisors = (req: ComputeRequest, detail: boolean) => {
    requireAdmin(req.auth, 'reading hypervisors');
    const match = req.query.get('hypervisor_hostname_pattern');
    const withServers = ['1', 'true', 'True'].includes(req.query.get('with_servers') ?? '');
    const ctx = viewContext(api, req);
    const list = dir.hypervisors
      .list()
      .filter((hv) => !match || matches(hv, match))
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
      .map((hv) => ({ ...(detail ? hypervisorView(hv, isUp(hv), ctx) : hypervisorSummary(hv, isUp(hv))), ...(withServers && req.auth.version.atLeast('2.53') ? { servers: serversOn(hv) } : {}) }));
    return { status: 200, body: { hypervisors: list } };
  };
  router.on('GET', '/os-hypervisors', (req) => hypervisors(req, false));
  router.on('GET', '/os-hypervisors/detail', (req) => hypervisors(req, true));
  router.on('GET', '/os-hypervisors/statistics', (req) => {
    requireAdmin(req.auth, 'reading hypervisors');
    const ctx = viewContext(api, req);
    const views = dir.hypervisors.list().map((hv) => hypervisorView(hv, isUp(hv), ctx));
    const sum = (k: keyof (typeof views)[number]) => views.reduce((n, hv) => n + Number(hv[k]), 0);
    const keys = ['vcpus', 'memory_mb', 'local_gb', 'vcpus_used', 'memory_mb_used', 'local_gb_used', 'free_ram_mb', 'free_disk_gb', 'current_workload', 'running_vms', 'disk_available_least'] as const;
    return { status: 200, body: { hypervisor_statistics: { count: views.length, ...Object.fromEntries(keys.map((k) => [k, sum(k)])) } } };
  });
  router.on('GET', '/os-hypervisors/:id', (req) => {
    requireAdmin(req.auth, 'reading hypervisors');
    const hv = hypervisorFor(req.params.id);
    const withServers = ['1', 'true', 'True'].includes(req.query.get('with_servers') ?? '');
    return { status: 200, body: { hypervisor: { ...hypervisorView(hv, isUp(hv), viewContext(api, req)), ...(withServers ? { servers: serversOn(hv) } : {}) } } };
  });
  // Before 2.53: hypervisors whose host name holds a pattern.
  router.on('GET', '/os-hypervisors/:pattern/search', (req) => {
    if (req.auth.version.atLeast('2.53')) throw notFound('The resource could not be found.');
    requireAdmin(req.auth, 'reading hypervisors');
    const found = dir.hypervisors.list().filter((hv) => matches(hv, req.params.pattern));
    if (!found.length) throw notFound(`No hypervisor matching '${req.params.pattern}' could be found.`);
    return { status: 200, body: { hypervisors: found.map((hv) => hypervisorSummary(hv, isUp(hv))) } };
  });
  // The host's uptime(1), from its node agent (as Nova's libvirt driver runs uptime on the host); gone in 2.88.
  router.on('GET', '/os-hypervisors/:id/uptime', async (req) => {
    if (req.auth.version.atLeast('2.88')) throw notFound('The resource could not be found.');
    requireAdmin(req.auth, 'reading hypervisors');
    const hv = hypervisorFor(req.params.id);
    // A KubeVirt cluster is no host with an uptime: Nova's answer for a driver without one (Ironic's), which clients skip.
    if (hv.spec.driver === 'kubevirt') throw new NovaError(501, 'Virt driver does not implement host uptime.');
    const res = await askAgent(api, hv, '/v1/host/uptime', (why) => badRequest(`Compute service of ${hv.metadata.name} is unavailable at this time: ${why}.`));
    if (!res.ok) throw badRequest(`Compute service of ${hv.metadata.name} could not tell its uptime (${res.status}).`);
    return { status: 200, body: { hypervisor: { ...hypervisorSummary(hv, isUp(hv)), uptime: (await res.text()).trimEnd() } } };
  });
  router.on('GET', '/os-hypervisors/:id/servers', (req) => {
    requireAdmin(req.auth, 'reading hypervisors');
    const hv = hypervisorFor(req.params.id);
    return { status: 200, body: { hypervisors: [{ ...hypervisorSummary(hv, isUp(hv)), servers: serversOn(hv) }] } };
  });

  /** Zones are the hypervisors' zones; one is available while any host in it is up and enabled. */
  const zones = () => {
    const byZone = new Map<string, Hypervisor[]>();
    for (const hv of dir.hypervisors.list()) {
      const z = dir.zoneOf(hv);
      byZone.set(z, [...(byZone.get(z) ?? []), hv]);
    }
    return [...byZone].sort(([a], [b]) => a.localeCompare(b));
  };
  router.on('GET', '/os-availability-zone', () => ({
    status: 200,
    body: { availabilityZoneInfo: zones().map(([zoneName, hosts]) => ({ zoneName, zoneState: { available: hosts.some((h) => isUp(h) && !h.spec.disabled) }, hosts: null })) },
  }));
  router.on('GET', '/os-availability-zone/detail', (req) => {
    requireAdmin(req.auth, 'reading availability zone hosts');
    const service = (hv: Hypervisor) => ({ 'nova-compute': { available: isUp(hv) && !hv.spec.disabled, active: !hv.spec.disabled, updated_at: hv.status?.lastHeartbeat ?? null } });
    return {
      status: 200,
      body: { availabilityZoneInfo: zones().map(([zoneName, hosts]) => ({ zoneName, zoneState: { available: hosts.some((h) => isUp(h) && !h.spec.disabled) }, hosts: Object.fromEntries(hosts.map((h) => [h.metadata.name, service(h)])) })) },
    };
  });
}
