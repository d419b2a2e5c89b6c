/**
 * The volume scheduler (cinder-scheduler), pure: a type filter (the type's backend), a capabilities filter (the
 * type's extra specs against what each pool reports), a capacity filter (room for the size) and a weigher (the
 * most free room wins) pick the pool a new volume goes to.
 */
import type { PoolCapacity } from './backend/types.js';
import type { VolumeType } from './resources.js';

export interface PoolState {
  backend: string;
  pool: string;
  /** How hypervisors reach its volumes (its storage_protocol): file, ceph. */
  protocol?: string;
  capacity: PoolCapacity;
  /** Why its volume service takes no new volume (an admin disabled or froze it), or undefined. */
  unschedulable?: string;
}

/** What Cinder's reference drivers (LVM, RBD) report as their vendor. */
const VENDOR = 'Open Source';
const DRIVER_VERSION = '1.0';

/**
 * What a pool reports of itself (Cinder's volume stats): the capabilities the scheduler matches a type's extra
 * specs against, and get_pools and get_capabilities show. Both backends hold volumes thin, and attach one to
 * several servers; neither applies back-end QoS.
 */
export function capabilitiesOf(p: PoolState): Record<string, string | number | boolean> {
  return {
    pool_name: p.pool.split('#')[1] ?? p.pool,
    volume_backend_name: p.backend,
    vendor_name: VENDOR,
    driver_version: DRIVER_VERSION,
    storage_protocol: p.protocol ?? 'file',
    total_capacity_gb: p.capacity.totalGiB,
    free_capacity_gb: p.capacity.freeGiB,
    provisioned_capacity_gb: p.capacity.provisionedGiB,
    reserved_percentage: 0,
    thin_provisioning_support: true,
    thick_provisioning_support: false,
    multiattach: true,
    QoS_support: false,
  };
}

const truthy = (s: string) => ['1', 't', 'true', 'on', 'y', 'yes'].includes(s.trim().toLowerCase());
const NUMERIC: Record<string, (x: number, y: number) => boolean> = { '=': (x, y) => x >= y, '==': (x, y) => x === y, '!=': (x, y) => x !== y, '>=': (x, y) => x >= y, '<=': (x, y) => x <= y };
const TEXT: Record<string, (x: string, y: string) => boolean> = { 's==': (x, y) => x === y, 's!=': (x, y) => x !== y, 's<': (x, y) => x < y, 's<=': (x, y) => x <= y, 's>': (x, y) => x > y, 's>=': (x, y) => x >= y };

/**
 * Whether a capability's value satisfies an extra spec's requirement, in Cinder's extra-spec operators: `<is>
 * True`, `<in> sub`, `<or> a <or> b`, numeric `=` (at least), `==`, `!=`, `>=`, `<=`, string `s==` and the like;
 * anything else is a plain string equality.
 */
export function satisfies(value: unknown, req: string): boolean {
  const words = req.trim().split(/\s+/);
  const op = words[0] ?? '';
  const known = op === '<or>' || op === '<is>' || op === '<in>' || op in NUMERIC || op in TEXT;
  // Values compare as Cinder's Python has them in words: True, False.
  const v = typeof value === 'boolean' ? (value ? 'True' : 'False') : String(value);
  if (!known) return v === req;
  if (value === undefined || value === null) return false;
  if (op === '<or>') return words.filter((_, i) => i % 2 === 1).includes(v);
  const arg = words.slice(1).join(' ');
  if (!arg) return false;
  if (op === '<is>') return truthy(v) === truthy(arg);
  if (op === '<in>') return v.includes(arg);
  if (op in TEXT) return TEXT[op](v, arg);
  const [x, y] = [Number(v), Number(arg)];
  return !Number.isNaN(x) && !Number.isNaN(y) && NUMERIC[op](x, y);
}

/**
 * Cinder's CapabilitiesFilter: every extra spec that is unscoped or in the `capabilities:` scope must be a
 * capability the pool reports, satisfied; other scopes (vendor keys, `RESKEY:`) are not the scheduler's.
 * Returns the specs the pool fails (none: it passes).
 */
export function unmetSpecs(t: VolumeType | undefined, p: PoolState): string[] {
  const caps = capabilitiesOf(p);
  return Object.entries(t?.spec.extraSpecs ?? {}).flatMap(([key, req]) => {
    const scope = key.split(':');
    if (scope.length > 1 && scope[0] !== 'capabilities') return [];
    const name = scope.length > 1 ? scope.slice(1).join(':') : key;
    return Object.hasOwn(caps, name) && satisfies(caps[name], req) ? [] : [`${key}=${req}`];
  });
}

/** The backend a type asks for: spec.backend, else its volume_backend_name extra spec; undefined: any. */
export const backendOfType = (t: VolumeType | undefined) => t?.spec.backend ?? t?.spec.extraSpecs?.volume_backend_name;

/**
 * Why a retype to `t` would have to move a volume on `onBackend` (its pool `onPool`, when known) elsewhere, or
 * undefined when it stays: as Cinder's retype, the volume stays where its pool passes the new type's filters
 * (the backend it names, the capabilities its extra specs ask for). Volumes are not migrated here, so such a
 * retype is refused.
 */
export function retypeMigration(t: VolumeType, onBackend: string | undefined, onPool?: PoolState): string | undefined {
  const wants = backendOfType(t);
  if (wants && onBackend && wants !== onBackend) return `volume type ${t.metadata.name} places volumes on backend ${wants}; this volume is on ${onBackend}`;
  const unmet = onPool ? unmetSpecs(t, onPool) : [];
  return unmet.length ? `the pool this volume is on does not report what volume type ${t.metadata.name} asks for: ${unmet.join(', ')}` : undefined;
}

export const typeFilter = (t: VolumeType | undefined) => (p: PoolState) => !backendOfType(t) || backendOfType(t) === p.backend;
export const capacityFilter = (sizeGiB: number) => (p: PoolState) => p.capacity.freeGiB >= sizeGiB;

/** The pool for a volume of `sizeGiB` and type `t`, or why there is none (Cinder's NoValidBackend). */
export function pickPool(all: readonly PoolState[], t: VolumeType | undefined, sizeGiB: number): { pool: PoolState } | { refused: string } {
  // Cinder's scheduler sees only the enabled, unfrozen volume services.
  const pools = all.filter((p) => !p.unschedulable);
  if (!pools.length) return { refused: `No valid backend was found. No volume service takes new volumes: ${all.map((p) => `${p.backend} is ${p.unschedulable}`).join(', ')}` };
  const named = pools.filter(typeFilter(t));
  if (!named.length) return { refused: `No valid backend was found. No backend is named ${backendOfType(t)} (volume type ${t?.metadata.name})` };
  const typed = named.filter((p) => !unmetSpecs(t, p).length);
  if (!typed.length) return { refused: `No valid backend was found. No backend reports what volume type ${t?.metadata.name} asks for: ${[...new Set(named.flatMap((p) => unmetSpecs(t, p)))].join(', ')}` };
  const roomy = typed.filter(capacityFilter(sizeGiB));
  if (!roomy.length) return { refused: `No valid backend was found. Insufficient free space for volume creation on ${typed.map((p) => `${p.pool} (${p.capacity.freeGiB} GiB free)`).join(', ')} (requested / avail): ${sizeGiB}/${Math.max(...typed.map((p) => p.capacity.freeGiB))}` };
  return { pool: roomy.reduce((best, p) => (p.capacity.freeGiB > best.capacity.freeGiB ? p : best)) };
}
