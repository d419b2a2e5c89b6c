/**
 * GET /servers/{id}/diagnostics: a running guest's usage counters, asked of its node agent (as Nova asks
 * its compute node's driver). Admins only. Before 2.48 the libvirt driver's own keys; from 2.48 Nova's
 * common format.
 */
import type { GuestStats } from '../driver/types.js';
import type { Instance } from '../resources.js';
import { askAgent, requireAdmin, serverFor, type ComputeApiContext, type ComputeRouter } from './context.js';
import { conflict } from './errors.js';
import { serverIdOf } from './views.js';

/** The libvirt driver's pre-2.48 answer: cpuN_time, memory, and per disk and NIC counters. */
function libvirtKeys(s: GuestStats): Record<string, number> {
  const out: Record<string, number | undefined> = {};
  for (const c of s.cpus) out[`cpu${c.id}_time`] = c.timeNs;
  out.memory = s.memoryKiB.maximum;
  out['memory-actual'] = s.memoryKiB.current;
  out['memory-rss'] = s.memoryKiB.rss;
  for (const d of s.disks) Object.assign(out, { [`${d.name}_read`]: d.readBytes, [`${d.name}_read_req`]: d.readRequests, [`${d.name}_write`]: d.writeBytes, [`${d.name}_write_req`]: d.writeRequests, [`${d.name}_errors`]: -1 });
  for (const n of s.nics) Object.assign(out, { [`${n.name}_rx`]: n.rxBytes, [`${n.name}_rx_packets`]: n.rxPackets, [`${n.name}_rx_errors`]: n.rxErrors, [`${n.name}_rx_drop`]: n.rxDrop, [`${n.name}_tx`]: n.txBytes, [`${n.name}_tx_packets`]: n.txPackets, [`${n.name}_tx_errors`]: n.txErrors, [`${n.name}_tx_drop`]: n.txDrop });
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as Record<string, number>;
}

/** Nova's 2.48 format. */
function commonFormat(inst: Instance, hypervisorType: string | undefined, s: GuestStats) {
  const kib = (n: number | undefined) => (n === undefined ? null : Math.round(n / 1024));
  const launched = inst.status?.launchedAt ? Date.parse(inst.status.launchedAt) : undefined;
  return {
    state: s.state,
    driver: 'libvirt',
    hypervisor: hypervisorType?.toLowerCase() ?? null,
    hypervisor_os: 'linux',
    uptime: launched ? Math.max(0, Math.floor((Date.now() - launched) / 1000)) : null,
    config_drive: true,
    num_cpus: s.cpus.length,
    num_nics: s.nics.length,
    num_disks: s.disks.length,
    memory_details: { maximum: kib(s.memoryKiB.maximum), used: kib(s.memoryKiB.current) },
    cpu_details: s.cpus.map((c) => ({ id: c.id, time: c.timeNs ?? null, utilisation: null })),
    nic_details: s.nics.map((n) => ({ mac_address: null, rx_octets: n.rxBytes ?? null, rx_errors: n.rxErrors ?? null, rx_drop: n.rxDrop ?? null, rx_packets: n.rxPackets ?? null, rx_rate: null, tx_octets: n.txBytes ?? null, tx_errors: n.txErrors ?? null, tx_drop: n.txDrop ?? null, tx_packets: n.txPackets ?? null, tx_rate: null })),
    disk_details: s.disks.map((d) => ({ read_bytes: d.readBytes ?? null, read_requests: d.readRequests ?? null, write_bytes: d.writeBytes ?? null, write_requests: d.writeRequests ?? null, errors_count: null })),
  };
}

export function diagnosticsRoutes(router: ComputeRouter, api: ComputeApiContext) {
  router.on('GET', '/servers/:id/diagnostics', async (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-server-diagnostics');
    const inst = serverFor(api, req.params.id, req.auth);
    const hv = inst.status?.host ? api.dir.hypervisors.get(inst.status.host) : undefined;
    if (!hv) throw conflict(`Instance ${serverIdOf(inst)} is on no host: it has no diagnostics.`);
    const res = await askAgent(api, hv, `/v1/instances/${serverIdOf(inst)}/stats`, (why) => conflict(`Instance ${serverIdOf(inst)}: ${why}`));
    if (res.status === 404) throw conflict(`Instance ${serverIdOf(inst)} has no guest on ${hv.metadata.name} yet.`);
    if (!res.ok) throw conflict(`The compute node ${hv.metadata.name} could not read the guest's counters (${res.status}).`);
    const stats = (await res.json()) as GuestStats;
    return { status: 200, body: req.auth.version.atLeast('2.48') ? commonFormat(inst, hv.status?.hypervisorType, stats) : libvirtKeys(stats) };
  });
}
