/**
 * /os-hosts: Nova's deprecated host API (gone from microversion 2.43, where /os-services and
 * /os-hypervisors replace it), kept for the clients that still call it. Hosts are the services' hosts: this
 * process (the scheduler, zone internal) and every Hypervisor (compute). Enabling or disabling a host is its
 * Hypervisor's spec.disabled; maintenance mode and power actions are not something the libvirt driver does
 * (501, as Nova's libvirt driver answers).
 */
import { requireAdmin, type ComputeApiContext, type ComputeRequest, type ComputeRouter } from './context.js';
import { NovaError, badRequest, notFound } from './errors.js';
import { SCHEDULER_HOST, computeHost, setComputeEnabled } from './serviceRoutes.js';
const ON_OFF = ['enable', 'disable'];

export function hostRoutes(router: ComputeRouter, api: ComputeApiContext) {
  const { dir } = api;
  const available = (req: ComputeRequest, what: string) => {
    if (req.auth.version.atLeast('2.43')) throw notFound('The resource could not be found.');
    requireAdmin(req.auth, `os_compute_api:os-hosts:${what}`);
  };

  router.on('GET', '/os-hosts', (req) => {
    available(req, 'list');
    const zone = req.query.get('zone');
    const hosts = [{ host_name: SCHEDULER_HOST, service: 'scheduler', zone: 'internal' }, ...dir.hypervisors.list().map((hv) => ({ host_name: hv.metadata.name, service: 'compute', zone: dir.zoneOf(hv) }))];
    return { status: 200, body: { hosts: hosts.filter((h) => !zone || h.zone === zone) } };
  });

  /** What the host has, uses now and at most, then per project: Nova's host resource list. */
  router.on('GET', '/os-hosts/:host', (req) => {
    available(req, 'show');
    const hv = computeHost(api, req.params.host);
    const host = hv.metadata.name;
    const row = (project: string, r: { vcpus?: number; ramMiB?: number; diskGiB?: number } | undefined) => ({ resource: { host, project, cpu: r?.vcpus ?? 0, memory_mb: r?.ramMiB ?? 0, disk_gb: r?.diskGiB ?? 0 } });
    const used = hv.status?.allocated;
    const byProject = new Map<string, { vcpus: number; ramMiB: number; diskGiB: number }>();
    for (const [key, a] of Object.entries(hv.status?.allocations ?? {})) {
      const project = dir.projectIdOf(key.split('/')[0]) || key.split('/')[0];
      const sum = byProject.get(project) ?? { vcpus: 0, ramMiB: 0, diskGiB: 0 };
      byProject.set(project, { vcpus: sum.vcpus + (a.vcpus ?? 0), ramMiB: sum.ramMiB + (a.ramMiB ?? 0), diskGiB: sum.diskGiB + (a.diskGiB ?? 0) });
    }
    return { status: 200, body: { host: [row('(total)', hv.spec.capacity), row('(used_now)', used), row('(used_max)', used), ...[...byProject].map(([p, r]) => row(p, r))] } };
  });

  router.on('PUT', '/os-hosts/:host', async (req) => {
    available(req, 'update');
    const body = req.body ?? {};
    const extra = Object.keys(body).filter((k) => k !== 'status' && k !== 'maintenance_mode');
    if (extra.length) throw badRequest(`Invalid input: additional properties are not allowed (${extra.join(', ')}).`);
    if (body.status === undefined && body.maintenance_mode === undefined) throw badRequest("Invalid input: 'status' or 'maintenance_mode' is required.");
    if (body.status !== undefined && !ON_OFF.includes(body.status)) throw badRequest(`Invalid input for field/attribute status. Value: ${JSON.stringify(body.status)}. It must be 'enable' or 'disable'.`);
    if (body.maintenance_mode !== undefined && !ON_OFF.includes(body.maintenance_mode)) throw badRequest(`Invalid input for field/attribute maintenance_mode. Value: ${JSON.stringify(body.maintenance_mode)}. It must be 'enable' or 'disable'.`);
    const hv = computeHost(api, req.params.host);
    if (body.maintenance_mode !== undefined) throw new NovaError(501, 'Maintenance mode is not supported by the libvirt driver: disable the host (status) or its service instead.');
    const written = await setComputeEnabled(api, hv, body.status === 'enable');
    return { status: 200, body: { host: written.metadata.name, status: written.spec.disabled ? 'disabled' : 'enabled' } };
  });

  for (const action of ['startup', 'shutdown', 'reboot'])
    router.on('GET', `/os-hosts/:host/${action}`, (req) => {
      available(req, action);
      computeHost(api, req.params.host);
      throw new NovaError(501, `Host power actions (${action}) are not supported by the libvirt driver.`);
    });
}
