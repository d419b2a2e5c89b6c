/**
 * The default quota class, as Nova and Cinder keep theirs (each a ConfigMap of its own): the limits of every
 * tenant that sets none of its own. Pure.
 */

/** The default quota class as its ConfigMap holds it: whole numbers only (anything else is ignored). */
export function defaultQuotasOf(data: Record<string, string> | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(data ?? {}).filter(([, v]) => /^\d+$/.test(v)).map(([k, v]) => [k, Number(v)]));
}

/** A tenant's limits: its own where it sets one, the default class's elsewhere (undefined: unlimited). */
export function effectiveQuota(own: Record<string, number> | undefined, defaults: Record<string, number>): Record<string, number> | undefined {
  const merged = { ...defaults };
  for (const [k, v] of Object.entries(own ?? {})) if (v !== undefined && v !== null) merged[k] = v;
  return Object.keys(merged).length ? merged : undefined;
}

/**
 * A change to the default class (null: unset) as its ConfigMap's data: the merge patch that makes it, and the
 * data of the ConfigMap made by it when there is none yet.
 */
export function defaultQuotasWrite(change: Record<string, number | null>): { patch: { data: Record<string, string | null> }; data: Record<string, string> } {
  const data = Object.fromEntries(Object.entries(change).map(([k, n]) => [k, n === null ? null : String(n)]));
  return { patch: { data }, data: Object.fromEntries(Object.entries(data).filter((e): e is [string, string] => e[1] !== null)) };
}
