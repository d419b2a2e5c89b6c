/**
 * Which URLs an image may be imported from (web-download, `spec.source.url`), as Glance's import filtering
 * options decide it (allowed schemes and ports, allowed and disallowed hosts), and more: an import fetches
 * from inside the cloud, so by default no address that is not public (loopback, private, link-local, …) is
 * reached, nor any address and port Stratus itself listens on, whatever a name resolves to. The checks are
 * pure; the fetcher applies them to the URL, to each address a name resolves to, and after each redirect.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export interface Endpoint {
  /** A host name or an IP address; `*` for any. */
  host: string;
  /** Any port when unset. */
  port?: number;
}

export interface ImportFilter {
  schemes: string[];
  /** Ports URLs may name (Glance's allowed_ports); unset: any. */
  ports?: number[];
  /** Exempt from the address and port rules (a web server on this machine or a private network, say). */
  allowed: Endpoint[];
  /** Never reached, allowed or not: Stratus's own listeners. */
  denied: Endpoint[];
}

/** Glance's defaults: http and https on their usual ports; nothing allowed beyond public addresses. */
export const DEFAULT_IMPORT_FILTER: ImportFilter = { schemes: ['http', 'https'], ports: [80, 443], allowed: [], denied: [] };

const defaultPort = (u: URL) => (u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80);
const bare = (host: string) => host.replace(/^\[|\]$/g, '').toLowerCase();

function sameHost(a: string, b: string): boolean {
  if (a === '*') return true;
  const x = bare(a);
  const y = bare(b);
  if (x === y) return true;
  // 127.0.0.1 and ::ffff:127.0.0.1 are one address.
  if (isIP(x) && isIP(y)) return normalized(x) === normalized(y);
  return false;
}

/** The address, an IPv4 one where it is IPv4-mapped IPv6 (::ffff:127.0.0.1 is 127.0.0.1). */
function unmapped(ip: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const parsed = ipaddr.parse(ip);
  return parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address() : parsed;
}

const normalized = (ip: string) => unmapped(ip).toNormalizedString();

/** Whether a URL's hostname names this machine's loopback (localhost, 127.0.0.0/8, ::1, ::ffff:127.x). */
export function isLoopbackHost(hostname: string): boolean {
  const host = bare(hostname);
  return host === 'localhost' || (isIP(host) !== 0 && unmapped(host).range() === 'loopback');
}

const listed = (list: Endpoint[], host: string, port: number) => list.some((e) => sameHost(e.host, host) && (e.port === undefined || e.port === port));

/** Why the URL itself may not be fetched (scheme, port, a listed host), or undefined when it may be tried. */
export function urlRefusal(f: ImportFilter, url: URL): string | undefined {
  const scheme = url.protocol.replace(/:$/, '');
  if (!f.schemes.includes(scheme)) return `the scheme ${scheme} is not allowed (allowed: ${f.schemes.join(', ')})`;
  const port = defaultPort(url);
  if (listed(f.denied, url.hostname, port)) return `${url.host} is one of this cloud's own services`;
  if (listed(f.allowed, url.hostname, port)) return undefined;
  if (f.ports && !f.ports.includes(port)) return `port ${port} is not allowed (allowed: ${f.ports.join(', ')})`;
  if (isIP(bare(url.hostname))) return addressRefusal(f, url, bare(url.hostname));
  return undefined;
}

/** Why the address a URL's host resolved to may not be connected to, or undefined when it may. */
export function addressRefusal(f: ImportFilter, url: URL, address: string): string | undefined {
  const port = defaultPort(url);
  if (listed(f.denied, address, port)) return `${address}:${port} is one of this cloud's own services`;
  if (listed(f.allowed, url.hostname, port) || listed(f.allowed, address, port)) return undefined;
  let range: string;
  try {
    range = unmapped(address).range();
  } catch {
    return `${address} is not an IP address`;
  }
  return range === 'unicast' ? undefined : `${url.hostname} is ${address === bare(url.hostname) ? '' : `${address}, `}a ${range} address, which imports do not reach unless allowed`;
}

/** `host`, `host:port`, `[v6]:port` or `*:port`, comma-separated, as the GLANCE_IMPORT_* settings write them. */
export function endpointsOf(text: string | undefined): Endpoint[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^(\[[^\]]+\]|[^:]+|[0-9a-fA-F:]+(?=$))(?::(\d+))?$/.exec(s);
      if (!m) throw new Error(`not an endpoint (host, host:port or [v6]:port): ${s}`);
      return { host: bare(m[1]), ...(m[2] ? { port: Number(m[2]) } : {}) };
    });
}

/** The filter the environment configures: GLANCE_IMPORT_ALLOWED, GLANCE_IMPORT_DENIED, GLANCE_IMPORT_PORTS (`any` for any). */
export function importFilterFromEnv(env: NodeJS.ProcessEnv): ImportFilter {
  const ports = env.GLANCE_IMPORT_PORTS;
  return {
    ...DEFAULT_IMPORT_FILTER,
    ...(ports ? { ports: ports === 'any' ? undefined : ports.split(',').map((p) => Number(p.trim())) } : {}),
    allowed: endpointsOf(env.GLANCE_IMPORT_ALLOWED),
    denied: endpointsOf(env.GLANCE_IMPORT_DENIED),
  };
}

export function importFilterToEnv(f: Pick<ImportFilter, 'allowed' | 'denied'>): Record<string, string> {
  const text = (list: Endpoint[]) => list.map((e) => `${isIP(e.host) === 6 ? `[${e.host}]` : e.host}${e.port === undefined ? '' : `:${e.port}`}`).join(',');
  return { GLANCE_IMPORT_ALLOWED: text(f.allowed), GLANCE_IMPORT_DENIED: text(f.denied) };
}
