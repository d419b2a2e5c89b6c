/** A port as a floating IP's target, as Horizon names it: the server it belongs to (else the port's name or ID), then its address. */
export interface PortTarget {
  id: string;
  name?: string | null;
  device_id?: string;
  fixed_ips: Array<{ ip_address: string }>;
}

/** "web-1: 10.0.0.5" for a server's port, "lb-vip: 10.0.0.9" for a port of its own; `serverName` finds a server by ID. */
export function portLabel(p: PortTarget, serverName: (id: string) => string | null | undefined): string {
  const owner = (p.device_id && serverName(p.device_id)) || p.name || p.id;
  return `${owner}: ${p.fixed_ips[0]?.ip_address ?? 'no address'}`;
}
