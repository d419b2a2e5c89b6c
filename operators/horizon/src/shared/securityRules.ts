/** A security group rule as Neutron shows it, in the few words a list has room for. */
export interface SecurityRule {
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol?: string | null;
  port_range_min?: number | null;
  port_range_max?: number | null;
  remote_ip_prefix?: string | null;
  remote_group_id?: string | null;
}

/** "ingress tcp 22 from 0.0.0.0/0", "egress any to any IPv6", "ingress any from group default IPv4": ports for TCP and UDP, ICMP's type and code. */
export function ruleText(r: SecurityRule, groupName: (id: string) => string = (id) => id): string {
  const protocol = r.protocol ?? 'any';
  const [min, max] = [r.port_range_min ?? undefined, r.port_range_max ?? undefined];
  let ports = '';
  if (min !== undefined && /^(icmp|ipv6-icmp|icmpv6|1|58)$/.test(protocol)) ports = ` type ${min}${max !== undefined ? ` code ${max}` : ''}`;
  else if (min !== undefined) ports = ` ${max === undefined || max === min ? min : `${min}-${max}`}`;
  const remote = r.remote_group_id ? `group ${groupName(r.remote_group_id)} ${r.ethertype}` : (r.remote_ip_prefix ?? `any ${r.ethertype}`);
  return `${r.direction} ${protocol}${ports} ${r.direction === 'ingress' ? 'from' : 'to'} ${remote}`;
}
