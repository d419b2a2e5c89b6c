/** `virsh domstats --raw` output as the driver's GuestStats: pure, so it is tested on recorded output. */
import type { GuestStats } from '../types.js';

/** libvirt's virDomainState numbers. */
const STATES: Record<string, GuestStats['state']> = { '0': 'pending', '1': 'running', '2': 'running', '3': 'paused', '4': 'shutdown', '5': 'shutdown', '6': 'crashed', '7': 'suspended' };

export function parseDomStats(text: string): GuestStats {
  const v = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([\w.-]+)=(.*)$/.exec(line);
    if (m) v.set(m[1], m[2]);
  }
  const num = (k: string) => (v.has(k) ? Number(v.get(k)) : undefined);
  const count = (k: string) => num(k) ?? 0;
  const cpus = Array.from({ length: count('vcpu.current') }, (_, i) => ({ id: i, timeNs: num(`vcpu.${i}.time`) }));
  const disks = Array.from({ length: count('block.count') }, (_, i) => ({
    name: v.get(`block.${i}.name`) ?? `disk${i}`,
    readBytes: num(`block.${i}.rd.bytes`),
    readRequests: num(`block.${i}.rd.reqs`),
    writeBytes: num(`block.${i}.wr.bytes`),
    writeRequests: num(`block.${i}.wr.reqs`),
  }));
  const nics = Array.from({ length: count('net.count') }, (_, i) => ({
    name: v.get(`net.${i}.name`) ?? `net${i}`,
    rxBytes: num(`net.${i}.rx.bytes`),
    rxPackets: num(`net.${i}.rx.pkts`),
    rxErrors: num(`net.${i}.rx.errs`),
    rxDrop: num(`net.${i}.rx.drop`),
    txBytes: num(`net.${i}.tx.bytes`),
    txPackets: num(`net.${i}.tx.pkts`),
    txErrors: num(`net.${i}.tx.errs`),
    txDrop: num(`net.${i}.tx.drop`),
  }));
  return {
    state: STATES[v.get('state.state') ?? ''] ?? 'pending',
    cpuTimeNs: num('cpu.time'),
    cpus,
    memoryKiB: { maximum: num('balloon.maximum'), current: num('balloon.current'), rss: num('balloon.rss') },
    disks,
    nics,
  };
}
