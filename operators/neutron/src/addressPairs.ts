/**
 * Allowed address pairs (Neutron's allowed-address-pairs extension): addresses besides its own that a port with
 * port security may send from (a VIP that keepalived moves between servers, a container's addresses behind a
 * guest). The decisions, pure: the API's checks in Neutron's words, and the port's entries in OVN's
 * Logical_Switch_Port port_security and addresses columns, as Neutron's OVN driver writes them.
 */
import { isIP } from 'node:net';

export interface AddressPair {
  /** An address or a CIDR. */
  ipAddress: string;
  /** Unset: the port's own MAC. */
  macAddress?: string;
}

/** Neutron's max_allowed_address_pair default. */
export const MAX_ADDRESS_PAIRS = 10;
const MAC = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/;

/** Whether `s` is an IP address, or a network of either family with its prefix length (host bits allowed, as Neutron). */
export function isAddressOrCidr(s: string): boolean {
  const [ip, length, ...rest] = s.split('/');
  const family = isIP(ip);
  if (!family || rest.length) return false;
  return length === undefined || (/^\d{1,3}$/.test(length) && Number(length) <= (family === 4 ? 32 : 128));
}

/** Why a pair list is refused (Neutron's exception type and its whole message), or the pairs to keep. */
export type ParsedPairs = { ok: true; pairs: AddressPair[] } | { ok: false; type: string; message: string };

/** The API's allowed_address_pairs, checked in the order and words of Neutron's validator; null clears them. */
export function parseAddressPairs(value: unknown): ParsedPairs {
  const refuse = (type: string, message: string): ParsedPairs => ({ ok: false, type, message });
  if (value === null) return { ok: true, pairs: [] };
  if (!Array.isArray(value)) return refuse('HTTPBadRequest', 'Allowed address pairs must be a list.');
  if (value.length > MAX_ADDRESS_PAIRS) return refuse('AllowedAddressPairExhausted', `The number of allowed address pair exceeds the maximum ${MAX_ADDRESS_PAIRS}.`);
  const seen = new Set<string>();
  const pairs: AddressPair[] = [];
  for (const item of value) {
    if (!item || typeof item !== 'object' || Array.isArray(item)) return refuse('HTTPBadRequest', `Invalid input for allowed_address_pairs. Reason: '${JSON.stringify(item)}' is not a dictionary.`);
    const pair = item as Record<string, unknown>;
    const mac = pair.mac_address;
    if (mac !== undefined && (typeof mac !== 'string' || !MAC.test(mac))) return refuse('HTTPBadRequest', `'${String(mac)}' is not a valid MAC address`);
    if (!('ip_address' in pair)) return refuse('AllowedAddressPairsMissingIP', 'AllowedAddressPair must contain ip_address');
    const ip = pair.ip_address;
    const key = `${mac === undefined ? 'None' : String(mac).toLowerCase()} ${String(ip)}`;
    if (seen.has(key)) return refuse('DuplicateAddressPairInRequest', `Request contains duplicate address pair: mac_address ${mac === undefined ? 'None' : String(mac)} ip_address ${String(ip)}.`);
    seen.add(key);
    const unknown = Object.keys(pair).filter((k) => k !== 'mac_address' && k !== 'ip_address');
    if (unknown.length) return refuse('HTTPBadRequest', `Unrecognized attribute(s) '${unknown.join(', ')}'`);
    if (typeof ip !== 'string' || !isAddressOrCidr(ip)) return refuse('HTTPBadRequest', String(ip).includes('/') ? `'${String(ip)}' is not a valid IP subnet` : `'${String(ip)}' is not a valid IP address`);
    pairs.push({ ipAddress: ip, ...(mac !== undefined ? { macAddress: String(mac).toLowerCase() } : {}) });
  }
  return { ok: true, pairs };
}

/** The pairs as the API shows them: each with a MAC, the port's where it names none. */
export const addressPairsView = (pairs: AddressPair[] | undefined, portMac: string) => (pairs ?? []).map((p) => ({ ip_address: p.ipAddress, mac_address: p.macAddress ?? portMac }));

/**
 * A port's OVN port_security entries and the MACs its addresses column gains: its own MAC with its addresses and
 * every pair on that MAC in one entry, one entry per other MAC with its pairs, whose frames the switch then
 * delivers to this port too. A pair that is not an address or CIDR (only kubectl could write one past the
 * CRD's pattern) is left out rather than handed to OVN. Pure.
 */
export function portSecurityOf(portMac: string, ips: string[], pairs: AddressPair[] | undefined): { portSecurity: string[]; extraMacs: string[] } {
  const mac = portMac.toLowerCase();
  const byMac = new Map<string, string[]>([[mac, [...ips]]]);
  for (const p of pairs ?? []) {
    if (!isAddressOrCidr(p.ipAddress)) continue;
    const m = (p.macAddress ?? mac).toLowerCase();
    const list = byMac.get(m) ?? (byMac.set(m, []), byMac.get(m)!);
    if (!list.includes(p.ipAddress)) list.push(p.ipAddress);
  }
  return { portSecurity: [...byMac].map(([m, addresses]) => [m, ...addresses].join(' ')), extraMacs: [...byMac.keys()].filter((m) => m !== mac) };
}
