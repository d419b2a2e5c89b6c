/** An admin's quota edits, pure: which limits changed, checked, per service, as each service's quota API takes them. */

/** A limit the page edits: the service that keeps it, its key there, and what the page calls it. */
export interface QuotaField {
  service: 'compute' | 'block-storage' | 'network';
  key: string;
  label: string;
}

/** The limits the Quotas page shows, in Nova's, Cinder's and Neutron's own keys. */
export const QUOTA_FIELDS: readonly QuotaField[] = [
  { service: 'compute', key: 'instances', label: 'Instances' },
  { service: 'compute', key: 'cores', label: 'vCPUs' },
  { service: 'compute', key: 'ram', label: 'RAM (MiB)' },
  { service: 'compute', key: 'key_pairs', label: 'Key pairs' },
  { service: 'block-storage', key: 'volumes', label: 'Volumes' },
  { service: 'block-storage', key: 'gigabytes', label: 'Volume storage (GiB)' },
  { service: 'block-storage', key: 'snapshots', label: 'Volume snapshots' },
  { service: 'block-storage', key: 'backups', label: 'Volume backups' },
  { service: 'network', key: 'network', label: 'Networks' },
  { service: 'network', key: 'subnet', label: 'Subnets' },
  { service: 'network', key: 'port', label: 'Ports' },
  { service: 'network', key: 'router', label: 'Routers' },
  { service: 'network', key: 'floatingip', label: 'Floating IPs' },
  { service: 'network', key: 'security_group', label: 'Security groups' },
];

export const fieldId = (f: QuotaField) => `${f.service}.${f.key}`;

/**
 * The limits to write, by service: each edited value that differs from the current limit, a whole number of
 * -1 (unlimited) or more; an error naming the first field that is not one.
 */
export function changedLimits(current: Readonly<Record<string, number>>, edits: Readonly<Record<string, string>>): Partial<Record<QuotaField['service'], Record<string, number>>> {
  const out: Partial<Record<QuotaField['service'], Record<string, number>>> = {};
  for (const f of QUOTA_FIELDS) {
    const text = edits[fieldId(f)];
    if (text === undefined) continue;
    if (!/^\s*-?\d+\s*$/.test(text) || Number(text) < -1) throw new Error(`${f.label}: "${text}" is not a limit: a whole number, or -1 for unlimited.`);
    const value = Number(text);
    if (value !== current[fieldId(f)]) (out[f.service] ??= {})[f.key] = value;
  }
  return out;
}
