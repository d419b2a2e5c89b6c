/**
 * IPAM decisions, pure: a subnet's gateway and pools, whether an address may be given, and the next free one.
 * The claim itself (ports.ts) writes the choice into the Subnet's status under its resourceVersion, so two
 * ports racing for an address cannot both get it.
 */
import ipaddr from 'ipaddr.js';
import type { AllocationPool, Subnet } from './resources.js';

export class IpamError extends Error {
  constructor(
    readonly reason: 'InvalidCidr' | 'InvalidAddress' | 'AddressOutsideSubnet' | 'AddressInUse' | 'SubnetFull' | 'InvalidPool',
    message: string,
  ) {
    super(message);
  }
}

interface Range {
  version: 4 | 6;
  network: bigint;
  prefix: number;
  bits: number;
}

const toBig = (a: ipaddr.IPv4 | ipaddr.IPv6) => a.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);
function fromBig(n: bigint, version: 4 | 6): string {
  const bytes: number[] = [];
  for (let i = 0; i < (version === 4 ? 4 : 16); i++, n >>= 8n) bytes.unshift(Number(n & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

/** Parses a CIDR; its address must be the network's own (10.0.0.0/24, not 10.0.0.5/24), as Neutron requires. */
export function parseCidr(cidr: string): Range {
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(cidr);
  } catch {
    throw new IpamError('InvalidCidr', `'${cidr}' is not a valid CIDR`);
  }
  const [addr, prefix] = parsed;
  const version = addr.kind() === 'ipv4' ? 4 : 6;
  const bits = version === 4 ? 32 : 128;
  const network = toBig(addr);
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  if ((network & hostMask) !== 0n) throw new IpamError('InvalidCidr', `'${cidr}' is not a network address: its host bits are set`);
  if (version === 4 && prefix > 30) throw new IpamError('InvalidCidr', `'${cidr}' is too small: an IPv4 subnet needs a prefix of /30 or less`);
  return { version, network, prefix, bits };
}

function parseAddress(ip: string, version: 4 | 6): bigint {
  if (!ipaddr.isValid(ip)) throw new IpamError('InvalidAddress', `'${ip}' is not a valid IP address`);
  const a = ipaddr.parse(ip);
  if ((a.kind() === 'ipv4' ? 4 : 6) !== version) throw new IpamError('InvalidAddress', `'${ip}' is not an IPv${version} address`);
  return toBig(a);
}

const size = (r: Range) => 1n << BigInt(r.bits - r.prefix);
const contains = (r: Range, n: bigint) => n >= r.network && n < r.network + size(r);
/** The addresses ports may never get: IPv4's network and broadcast addresses, IPv6's subnet-router anycast. */
const firstUsable = (r: Range) => r.network + 1n;
const lastUsable = (r: Range) => r.network + size(r) - (r.version === 4 ? 2n : 1n);

/** Whether two CIDRs share any address. */
export function overlaps(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return x.version === y.version && (contains(x, y.network) || contains(y, x.network));
}

/** The gateway in effect: spec's, 'none' for none, else the range's first usable address. */
export function gatewayOf(s: Subnet['spec']): string | undefined {
  const r = parseCidr(s.cidr);
  if (s.gatewayIP === 'none' || s.gatewayIP === '') return undefined;
  if (s.gatewayIP) {
    const g = parseAddress(s.gatewayIP, r.version);
    if (!contains(r, g)) throw new IpamError('AddressOutsideSubnet', `gateway_ip ${s.gatewayIP} is not in subnet ${s.cidr}`);
    return fromBig(g, r.version);
  }
  return fromBig(firstUsable(r), r.version);
}

/** The pools in effect: spec's (checked to lie in the range), else the whole usable range but the gateway. */
export function poolsOf(s: Subnet['spec']): Array<{ start: bigint; end: bigint }> {
  const r = parseCidr(s.cidr);
  if (s.allocationPools?.length)
    return s.allocationPools.map((p: AllocationPool) => {
      const start = parseAddress(p.start, r.version);
      const end = parseAddress(p.end, r.version);
      if (start > end || !contains(r, start) || !contains(r, end) || start < firstUsable(r) || end > lastUsable(r))
        throw new IpamError('InvalidPool', `allocation pool ${p.start}-${p.end} is not a range of usable addresses of ${s.cidr}`);
      return { start, end };
    });
  const gw = gatewayOf(s);
  const g = gw ? parseAddress(gw, r.version) : undefined;
  const [first, last] = [firstUsable(r), lastUsable(r)];
  if (g === first) return [{ start: first + 1n, end: last }];
  if (g === last) return [{ start: first, end: last - 1n }];
  if (g !== undefined && g > first && g < last) return [{ start: first, end: g - 1n }, { start: g + 1n, end: last }];
  return [{ start: first, end: last }];
}

/** Checks a wanted address: valid, in the subnet, usable and not the gateway nor held by another. Returns its canonical form. */
export function checkWantedAddress(s: Subnet['spec'], ip: string, taken: Record<string, string>, holder: string, mayTakeGateway = false): string {
  const r = parseCidr(s.cidr);
  const n = parseAddress(ip, r.version);
  const canonical = fromBig(n, r.version);
  if (!contains(r, n) || n < firstUsable(r) || n > lastUsable(r)) throw new IpamError('AddressOutsideSubnet', `IP address ${ip} is not a valid IP for the specified subnet ${s.cidr}`);
  if (canonical === gatewayOf(s) && !mayTakeGateway) throw new IpamError('AddressInUse', `IP address ${ip} is the gateway of subnet ${s.cidr}`);
  const owner = taken[canonical];
  if (owner && owner !== holder) throw new IpamError('AddressInUse', `IP address ${canonical} already allocated in subnet ${s.cidr}`);
  return canonical;
}

/** The lowest free address of the pools (Neutron hands them out in order), or SubnetFull. */
export function nextFreeAddress(s: Subnet['spec'], taken: Record<string, string>): string {
  const r = parseCidr(s.cidr);
  const gw = gatewayOf(s);
  for (const pool of poolsOf(s))
    for (let n = pool.start; n <= pool.end; n++) {
      const ip = fromBig(n, r.version);
      if (!taken[ip] && ip !== gw) return ip;
    }
  throw new IpamError('SubnetFull', `no more IP addresses available on subnet ${s.cidr}`);
}

/** Whether the address lies in the CIDR (false for anything unparsable or of the other IP version). */
export function cidrContains(cidr: string, ip: string): boolean {
  try {
    const r = parseCidr(cidr);
    return contains(r, parseAddress(ip, r.version));
  } catch {
    return false;
  }
}

/** The IP version of a prefix whose host bits may be set (a security group's remote prefix); InvalidCidr if it is none. */
export function prefixVersion(cidr: string): 4 | 6 {
  try {
    return ipaddr.parseCIDR(cidr)[0].kind() === 'ipv4' ? 4 : 6;
  } catch {
    throw new IpamError('InvalidCidr', `'${cidr}' is not a valid CIDR`);
  }
}

/** A prefix with its host bits cleared (10.0.0.5/24 → 10.0.0.0/24), as OVN's match expressions want it. */
export function networkOfPrefix(cidr: string): string {
  const [addr, len] = ipaddr.parseCIDR(cidr);
  const network = addr.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr);
  return `${network.toString()}/${len}`;
}

/** The pools in effect, as text (the Networking API's allocation_pools). */
export function allocationPoolsOf(s: Subnet['spec']): AllocationPool[] {
  const version = parseCidr(s.cidr).version;
  return poolsOf(s).map((p) => ({ start: fromBig(p.start, version), end: fromBig(p.end, version) }));
}

/** Why host routes are invalid (Neutron's words), or undefined. */
export function hostRoutesProblem(routes: Array<{ destination?: unknown; nexthop?: unknown }>): string | undefined {
  for (const r of routes) {
    try {
      prefixVersion(String(r.destination));
    } catch {
      return `Invalid data format for hostroute: '${JSON.stringify(r)}'`;
    }
    if (!ipaddr.isValid(String(r.nexthop))) return `Invalid data format for hostroute: '${JSON.stringify(r)}'`;
  }
  return undefined;
}

/** The first block of `prefixLength` bits in the pool's prefixes that overlaps none of `taken` (CIDRs), or undefined. Pure. */
export function firstFreeBlock(prefixes: string[], prefixLength: number, taken: string[]): string | undefined {
  for (const prefix of prefixes) {
    const r = parseCidrLoose(prefix);
    if (prefixLength < r.prefix || prefixLength > r.bits) continue;
    const step = 1n << BigInt(r.bits - prefixLength);
    for (let n = r.network; n < r.network + size(r); n += step) {
      const cidr = `${fromBig(n, r.version)}/${prefixLength}`;
      if (!taken.some((t) => overlaps(t, cidr))) return cidr;
    }
  }
  return undefined;
}

/** A pool prefix: parsed as a range, its host bits cleared. */
function parseCidrLoose(cidr: string): Range {
  const [addr, len] = ipaddr.parseCIDR(cidr);
  const version = addr.kind() === 'ipv4' ? 4 : 6;
  const bits = version === 4 ? 32 : 128;
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - len)) - 1n);
  return { version, network: toBig(addr) & mask, prefix: len, bits };
}
