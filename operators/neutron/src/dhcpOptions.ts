/**
 * A port's extra DHCP options (Neutron's extra_dhcp_opt extension: a boot file and TFTP server for PXE, an NTP
 * server, a domain name), the decisions, pure: the API's checks and its merging update, and the options OVN's
 * DHCP server answers the port with, named and written as Neutron's OVN driver writes them.
 */
import { isIPv4 } from 'node:net';

export interface ExtraDhcpOption {
  name: string;
  /** Unset only in an update, where it removes the option. */
  value?: string;
  ipVersion?: 4 | 6;
}

/** Neutron's option names (and DHCPv4 codes) for the options OVN's DHCPv4 server has, by OVN's name. */
const OVN_V4: Record<string, string[]> = {
  netmask: ['netmask', '1'],
  router: ['router', '3'],
  dns_server: ['dns-server', '6'],
  log_server: ['log-server', '7'],
  lpr_server: ['lpr-server', '9'],
  domain_name: ['domain-name', '15'],
  swap_server: ['swap-server', '16'],
  ip_forward_enable: ['ip-forward-enable', '19'],
  policy_filter: ['policy-filter', '21'],
  default_ttl: ['default-ttl', '23'],
  mtu: ['mtu', '26'],
  router_discovery: ['router-discovery', '31'],
  router_solicitation: ['router-solicitation', '32'],
  arp_cache_timeout: ['arp-timeout', '35'],
  ethernet_encap: ['ethernet-encap', '36'],
  tcp_ttl: ['tcp-ttl', '37'],
  tcp_keepalive_interval: ['tcp-keepalive', '38'],
  nis_server: ['nis-server', '41'],
  ntp_server: ['ntp-server', '42'],
  lease_time: ['lease-time', '51'],
  server_id: ['server-id', '54'],
  T1: ['T1', '58'],
  T2: ['T2', '59'],
  tftp_server: ['tftp-server', '66'],
  bootfile_name: ['bootfile-name', '67'],
  domain_search_list: ['domain-search', '119'],
  classless_static_route: ['classless-static-route', '121'],
  tftp_server_address: ['tftp-server-address', 'server-ip-address', '150'],
  path_prefix: ['path-prefix', '210'],
  ms_classless_static_route: ['ms-classless-static-route', '249'],
  wpad: ['wpad', '252'],
  next_server: ['255'],
};
const OVN_NAME_OF = new Map(Object.entries(OVN_V4).flatMap(([ovn, names]) => names.map((n) => [n, ovn] as const)));
/** OVN's types for its options: strings are quoted, addresses and numbers checked before OVN sees them. */
const STRINGS = new Set(['domain_name', 'domain_search_list', 'bootfile_name', 'path_prefix', 'wpad', 'tftp_server']);
const ADDRESSES = new Set(['netmask', 'router', 'dns_server', 'log_server', 'lpr_server', 'swap_server', 'router_solicitation', 'nis_server', 'ntp_server', 'server_id', 'tftp_server_address', 'next_server']);
const NUMBERS = new Set(['default_ttl', 'mtu', 'arp_cache_timeout', 'tcp_ttl', 'tcp_keepalive_interval', 'lease_time', 'T1', 'T2']);
const FLAGS = new Set(['ip_forward_enable', 'router_discovery', 'ethernet_encap']);
/** Options Neutron lets be blank (a client without a route). */
const MAY_BE_BLANK = new Set(['router', '3', 'classless-static-route', '121']);
/** The option that turns OVN's DHCP off for the port. */
export const DHCP_DISABLED = 'dhcp_disabled';

const addressList = (v: string) => v.replace(/[{}]/g, '').split(/[\s,]+/).filter(Boolean);

/** OVN's value for an option it has, or why this value cannot be one; undefined: an option OVN does not have (kept, not sent, as Neutron). */
function ovnValue(ovn: string, value: string): { value: string } | { invalid: string } {
  if (STRINGS.has(ovn)) return { value: `"${value.replace(/"/g, '')}"` };
  if (ADDRESSES.has(ovn)) {
    const list = addressList(value);
    if (!list.length || !list.every((a) => isIPv4(a))) return { invalid: `'${value}' is not an IPv4 address or a list of them` };
    return { value: list.length === 1 ? list[0] : `{${list.join(', ')}}` };
  }
  if (NUMBERS.has(ovn)) return /^\d{1,10}$/.test(value) && Number(value) <= 0xffffffff ? { value } : { invalid: `'${value}' is not a whole number` };
  if (FLAGS.has(ovn)) return value === '0' || value === '1' ? { value } : { invalid: `'${value}' is not 0 or 1` };
  return { value };
}

const invalid = (reason: string) => ({ ok: false as const, message: `Invalid input for extra_dhcp_opts. Reason: ${reason}.` });

/**
 * The API's extra_dhcp_opts, checked as Neutron's validator checks them (a list of {opt_name, opt_value,
 * ip_version}); an IPv4 option OVN has is also checked for its type, as OVN would otherwise drop the port's
 * every DHCP answer. `update`: a null value (removing that option) is allowed.
 */
export function parseDhcpOptions(value: unknown, update = false): { ok: true; options: ExtraDhcpOption[] } | { ok: false; message: string } {
  if (value === null) return { ok: true, options: [] };
  if (!Array.isArray(value)) return invalid(`'${JSON.stringify(value)}' is not a list`);
  const options: ExtraDhcpOption[] = [];
  const seen = new Set<string>();
  for (const item of value) {
    if (!item || typeof item !== 'object' || Array.isArray(item)) return invalid(`'${JSON.stringify(item)}' is not a dictionary`);
    const o = item as Record<string, unknown>;
    const unknown = Object.keys(o).filter((k) => !['opt_name', 'opt_value', 'ip_version'].includes(k));
    if (unknown.length) return invalid(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
    if (typeof o.opt_name !== 'string' || !o.opt_name.trim() || o.opt_name.length > 64) return invalid(`'${String(o.opt_name)}' is not a valid option name (a string of 1 to 64 characters)`);
    if (!('opt_value' in o)) return invalid(`Failed to parse request. Required attribute 'opt_value' not specified`);
    const v = o.opt_value;
    const blankOk = MAY_BE_BLANK.has(o.opt_name) || (update && v === null);
    if (!(v === null && blankOk) && (typeof v !== 'string' || v.length > 255 || (!v.trim() && !MAY_BE_BLANK.has(o.opt_name)))) return invalid(`'${String(v)}' is not a valid value for ${o.opt_name}`);
    const ipVersion = o.ip_version === undefined ? 4 : Number(o.ip_version);
    if (ipVersion !== 4 && ipVersion !== 6) return invalid(`${JSON.stringify(o.ip_version)} is not in [4, 6]`);
    const key = `${o.opt_name} ${ipVersion}`;
    if (seen.has(key)) return invalid(`Duplicate option ${o.opt_name} for IP version ${ipVersion}`);
    seen.add(key);
    const ovn = ipVersion === 4 ? OVN_NAME_OF.get(o.opt_name) : undefined;
    const typed = ovn && typeof v === 'string' && v !== '' ? ovnValue(ovn, v) : undefined;
    if (typed && 'invalid' in typed) return invalid(`${typed.invalid} (option ${o.opt_name})`);
    options.push({ name: o.opt_name, ...(typeof v === 'string' ? { value: v } : {}), ipVersion });
  }
  return { ok: true, options };
}

/** A port's options after an update, as Neutron merges it: a named option is replaced, one without a value removed, the rest kept. Pure. */
export function mergeDhcpOptions(current: ExtraDhcpOption[] | undefined, changes: ExtraDhcpOption[]): ExtraDhcpOption[] {
  const key = (o: ExtraDhcpOption) => `${o.name} ${o.ipVersion ?? 4}`;
  const out = new Map((current ?? []).map((o) => [key(o), o]));
  for (const c of changes) {
    if (c.value === undefined) out.delete(key(c));
    else out.set(key(c), c);
  }
  return [...out.values()];
}

/** The options as the API shows them. */
export const dhcpOptionsView = (options: ExtraDhcpOption[] | undefined) => (options ?? []).map((o) => ({ opt_name: o.name, opt_value: o.value ?? null, ip_version: o.ipVersion ?? 4 }));

/**
 * What OVN's DHCPv4 server answers the port with beside its subnet's options: OVN's names and values to set,
 * and those to leave out (a blank router or classless-static-route: a client without that route); or
 * 'disabled' (dhcp_disabled true: no DHCP for it). Options OVN does not have, IPv6 ones and values that are not
 * of the option's type (only kubectl could write one) are left out. Pure.
 */
export function ovnDhcpOptionsOf(options: ExtraDhcpOption[] | undefined): { set: Record<string, string>; unset: string[] } | 'disabled' {
  const set: Record<string, string> = {};
  const unset: string[] = [];
  for (const o of options ?? []) {
    if ((o.ipVersion ?? 4) !== 4 || o.value === undefined) continue;
    if (o.name === DHCP_DISABLED) {
      if (o.value.toLowerCase() === 'true') return 'disabled';
      continue;
    }
    const ovn = OVN_NAME_OF.get(o.name);
    if (!ovn) continue;
    if (!o.value.trim()) {
      if (MAY_BE_BLANK.has(o.name)) unset.push(ovn);
      continue;
    }
    const typed = ovnValue(ovn, o.value);
    if ('value' in typed) set[ovn] = typed.value;
  }
  return { set, unset };
}

/** A port's DHCP options row: its subnet's options with its own on top, or undefined when it has none of its own. Pure. */
export function portDhcpOptions(subnetOptions: Record<string, string>, own: { set: Record<string, string>; unset: string[] }): Record<string, string> | undefined {
  if (!Object.keys(own.set).length && !own.unset.length) return undefined;
  const options = { ...subnetOptions, ...own.set };
  for (const k of own.unset) delete options[k];
  return options;
}
