/**
 * OVSDB's value notation (RFC 7047 §5.1): atoms, ["uuid", …], ["named-uuid", …], ["set", […]] and
 * ["map", [[k, v], …]]. Rows are decoded into plain values (a set as an array, a map as a Record) and encoded back.
 */
export type Atom = string | number | boolean;
export type Uuid = { uuid: string };
export type Value = Atom | Uuid | Array<Atom | Uuid> | Record<string, string>;
export type Row = Record<string, unknown>;

/** A reference to a row by its UUID. */
export const uuid = (id: string): ['uuid', string] => ['uuid', id];
/** A reference to a row inserted earlier in the same transaction. */
export const namedUuid = (name: string): ['named-uuid', string] => ['named-uuid', name];
export const set = (items: unknown[]): ['set', unknown[]] => ['set', items];
export const map = (entries: Record<string, string | number | boolean>): ['map', Array<[string, unknown]>] => ['map', Object.entries(entries)];

/** A wire value as plain data: sets become arrays (a one-element set may come as its atom), maps Records, UUIDs strings. */
export function decode(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  const [tag, body] = v as [string, unknown];
  if (tag === 'uuid' || tag === 'named-uuid') return body as string;
  if (tag === 'set') return (body as unknown[]).map(decode);
  if (tag === 'map') return Object.fromEntries((body as Array<[unknown, unknown]>).map(([k, val]) => [String(decode(k)), decode(val)]));
  throw new Error(`OVSDB: unknown value notation ${JSON.stringify(v).slice(0, 80)}`);
}

/** A column's value as a list, whether it came as a set or as its single atom (an empty set is []). */
export function asList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** A column's value as a string map ({} when empty or absent). */
export function asMap(v: unknown): Record<string, string> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {};
}

/** A column's optional single value (a set of at most one): undefined when empty. */
export function asOptional(v: unknown): string | undefined {
  const l = asList(v);
  return l.length ? l[0] : undefined;
}

export function decodeRow(row: Record<string, unknown>): Row {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, decode(v)]));
}
