/**
 * Security group rules, pure: their IDs, their checks, the default group Neutron gives every tenant, and the
 * OVN ACL each becomes (ML2/OVN's shape: every port with port security is in one drop-all port group; each
 * rule is an allow-related ACL on its group's port group at a higher priority, so replies pass statefully).
 */
import { createHash } from 'node:crypto';
import { networkOfPrefix, prefixVersion } from './ipam.js';
import { SG_RULE_PROTOCOLS } from './kinds.js';
import type { SecurityGroup, SecurityGroupRule } from './resources.js';

export const DROP_PORT_GROUP = 'neutron_pg_drop';
export const DROP_PRIORITY = 1001;
export const ALLOW_PRIORITY = 1002;

/** Neutron's port group name for a security group: pg_ and its ID with underscores. */
export const portGroupNameOf = (sgId: string) => `pg_${sgId.replace(/-/g, '_')}`;

/** The rule's ID: spec's, else a UUID made from the group's ID and the rule itself (the same on every reconcile). */
export function ruleIdOf(sgId: string, rule: SecurityGroupRule): string {
  if (rule.id) return rule.id;
  const { id: _, ...content } = rule;
  const h = createHash('sha256').update(sgId).update(JSON.stringify(Object.entries(content).sort())).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The rules of a tenant's default group, as Neutron makes them: all egress, and ingress from the group's own members. */
export function defaultRules(): SecurityGroupRule[] {
  return (['IPv4', 'IPv6'] as const).flatMap((ethertype) => [
    { direction: 'egress', ethertype },
    { direction: 'ingress', ethertype, remoteGroup: 'default' },
  ]) as SecurityGroupRule[];
}

/** Why a rule is invalid (Neutron's words), or undefined. */
export function ruleProblem(rule: SecurityGroupRule, groupsInNamespace: string[]): string | undefined {
  const proto = normalizedProtocol(rule.protocol);
  if (proto === undefined) return `Security group rule protocol ${rule.protocol} not supported. Only protocol values ${SG_RULE_PROTOCOLS.join(', ')} and integer representations [0 to 255] are supported.`;
  if (rule.remoteIPPrefix && rule.remoteGroup) return 'Only remote_ip_prefix or remote_group_id may be provided.';
  if (rule.remoteIPPrefix) {
    let version: 4 | 6;
    try {
      version = prefixVersion(rule.remoteIPPrefix);
    } catch {
      return `'${rule.remoteIPPrefix}' is not a valid IP prefix`;
    }
    if (version !== ((rule.ethertype ?? 'IPv4') === 'IPv6' ? 6 : 4)) return `Conflicting value ethertype ${rule.ethertype ?? 'IPv4'} for CIDR ${rule.remoteIPPrefix}`;
  }
  if (rule.remoteGroup && !groupsInNamespace.includes(rule.remoteGroup)) return `Security group ${rule.remoteGroup} does not exist`;
  const ported = ['tcp', 'udp', 'sctp'].includes(proto);
  if (rule.portRangeMin !== undefined || rule.portRangeMax !== undefined) {
    if (ported) {
      if (rule.portRangeMin === undefined || rule.portRangeMax === undefined) return 'For TCP/UDP protocols, port_range_min must be <= port_range_max';
      if (rule.portRangeMin > rule.portRangeMax) return 'For TCP/UDP protocols, port_range_min must be <= port_range_max';
      if (rule.portRangeMin === 0) return 'Invalid value for port 0';
    } else if (proto === 'icmp' || proto === 'icmpv6') {
      if ((rule.portRangeMin ?? 0) > 255) return `Invalid value for ICMP type (port-range-min): ${rule.portRangeMin}. It must be 0 to 255.`;
      if ((rule.portRangeMax ?? 0) > 255) return `Invalid value for ICMP code (port-range-max): ${rule.portRangeMax}. It must be 0 to 255.`;
      if (rule.portRangeMin === undefined && rule.portRangeMax !== undefined) return `ICMP code (port-range-max) ${rule.portRangeMax} is provided but ICMP type (port-range-min) is missing.`;
    } else return `Invalid protocol ${rule.protocol} for port range: only TCP, UDP, SCTP and ICMP rules take one`;
  }
  return undefined;
}

/** '' for any; a name (tcp, udp, icmp, icmpv6, sctp) or a number string; undefined when unknown. */
export function normalizedProtocol(p: string | undefined): string | undefined {
  if (p === undefined || p === '' || p === 'any' || p === 'null') return '';
  const lower = p.toLowerCase();
  const byNumber: Record<string, string> = { '1': 'icmp', '6': 'tcp', '17': 'udp', '58': 'icmpv6', '132': 'sctp', 'ipv6-icmp': 'icmpv6' };
  if (byNumber[lower]) return byNumber[lower];
  if (SG_RULE_PROTOCOLS.includes(lower)) return lower;
  if (/^\d+$/.test(lower) && Number(lower) <= 255) return lower;
  return undefined;
}

/** The OVN ACL match of a rule of the group whose port group is `pg`; remote groups by their port groups' address sets. */
export function aclMatch(pg: string, rule: SecurityGroupRule, remotePortGroup?: string): string {
  const v6 = rule.ethertype === 'IPv6';
  const ip = v6 ? 'ip6' : 'ip4';
  const ingress = rule.direction === 'ingress';
  const parts = [`${ingress ? 'outport' : 'inport'} == @${pg}`, ip];
  const side = ingress ? 'src' : 'dst';
  if (rule.remoteIPPrefix) parts.push(`${ip}.${side} == ${networkOfPrefix(rule.remoteIPPrefix)}`);
  else if (remotePortGroup) parts.push(`${ip}.${side} == $${remotePortGroup}_${ip}`);
  const proto = normalizedProtocol(rule.protocol) ?? '';
  if (['tcp', 'udp', 'sctp'].includes(proto)) {
    parts.push(proto);
    const { portRangeMin: lo, portRangeMax: hi } = rule;
    if (lo !== undefined && hi !== undefined) parts.push(lo === hi ? `${proto}.dst == ${lo}` : `${proto}.dst >= ${lo} && ${proto}.dst <= ${hi}`);
  } else if (proto === 'icmp' || proto === 'icmpv6') {
    const icmp = v6 ? 'icmp6' : 'icmp4';
    parts.push(icmp);
    if (rule.portRangeMin !== undefined) parts.push(`${icmp}.type == ${rule.portRangeMin}`);
    if (rule.portRangeMax !== undefined) parts.push(`${icmp}.code == ${rule.portRangeMax}`);
  } else if (proto) parts.push(`${ip}.proto == ${proto}`);
  return parts.join(' && ');
}

/** The first invalid rule of a group and why, or undefined. */
export function groupProblem(sg: SecurityGroup, groupsInNamespace: string[]): string | undefined {
  for (const [i, rule] of (sg.spec.rules ?? []).entries()) {
    const p = ruleProblem(rule, groupsInNamespace);
    if (p) return `rule ${i}: ${p}`;
  }
  return undefined;
}
