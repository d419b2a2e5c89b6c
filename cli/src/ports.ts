/**
 * Free ports for a cloud's services when several clouds share the machine. A port the kernel hands out for
 * `listen(0)` comes from the ephemeral range, the same range every outgoing connection takes its local port
 * from: between the probe and the child's own listen, a connection can take the port (seen: a restarted
 * Glance failing with EADDRINUSE until start-up gave up). Ports below that range are taken by listeners only.
 */
import { readFileSync } from 'node:fs';
import * as net from 'node:net';

/** The ports to choose from: from 10000 up to just below the kernel's ephemeral range (32768–60999 by default). */
export function listenerPortRange(ipLocalPortRange: string | undefined): [number, number] {
  const low = Number(/^\s*(\d+)/.exec(ipLocalPortRange ?? '')?.[1] ?? 32768);
  return low > 11_000 ? [10_000, low - 1] : [low, low]; // a range moved down to 10000 leaves no room: probe the kernel's
}

const canListen = (host: string, port: number) =>
  new Promise<number | undefined>((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(undefined));
    probe.listen(port, host, () => {
      const got = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(got));
    });
  });

/**
 * Ports already handed out by this process. A cloud picks all its ports before any child listens, so the probe
 * alone would find a port given a moment ago still free and hand it out twice (seen: nova-compute failing with
 * EADDRINUSE on a port Glance had taken).
 */
const handedOut = new Set<number>();

/** A port nobody is listening on now, outside the ephemeral range where one can be had, for a child process to take. */
export async function freePort(host: string, random = Math.random): Promise<number> {
  let range: string | undefined;
  try {
    range = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
  } catch {
    range = undefined; // not Linux: the default range
  }
  const [low, high] = listenerPortRange(range);
  if (high > low)
    for (let attempt = 0; attempt < 100; attempt++) {
      const candidate = low + Math.floor(random() * (high - low + 1));
      if (handedOut.has(candidate)) continue;
      const port = await canListen(host, candidate);
      if (port) return handOut(port);
    }
  for (;;) {
    const port = (await canListen(host, 0))!;
    if (!handedOut.has(port)) return handOut(port);
  }
}

function handOut(port: number): number {
  handedOut.add(port);
  return port;
}
