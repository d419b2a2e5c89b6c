/** meta.k8s.io/v1 Table output: the printer columns `kubectl get` shows. */
import { JSONPath } from 'jsonpath-plus';
import type { KObject, PrinterColumn, ResourceType } from './types.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Whether the Accept header asks for a Table (kubectl get does, with JSON as its fall-back). */
export const wantsTable = (accept: string | undefined) => !!accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);

/** Kubernetes' duration.HumanDuration, which `kubectl get` shows in AGE columns. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  if (y < 8) return d % 365 === 0 ? `${y}y` : `${y}y${d % 365}d`;
  return `${y}y`;
}

function cell(obj: KObject, col: PrinterColumn, now: number): unknown {
  let results: unknown[];
  try {
    results = JSONPath({ path: `$${col.jsonPath.startsWith('.') ? '' : '.'}${col.jsonPath}`, json: obj, wrap: true }) as unknown[];
  } catch {
    return null;
  }
  if (results.length === 0 || results[0] === undefined || results[0] === null) return null;
  const v = results.length === 1 ? results[0] : results;
  if (col.type === 'date' && typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? v : humanDuration(now - t);
  }
  if (typeof v === 'object') return Array.isArray(v) ? v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(',') : JSON.stringify(v);
  return v;
}

export function columnDefinitions(type: ResourceType) {
  return type.printerColumns.map((c) => ({
    name: c.name,
    type: c.type,
    format: c.format ?? '',
    description: c.description ?? '',
    priority: c.priority ?? 0,
  }));
}

export function tableRow(type: ResourceType, obj: KObject, include: IncludeObject, now = Date.now()) {
  const row: Record<string, unknown> = { cells: type.printerColumns.map((c) => cell(obj, c, now)) };
  if (include === 'Object') row.object = obj;
  else if (include === 'Metadata')
    row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
  return row;
}

export function table(type: ResourceType, objs: KObject[], include: IncludeObject, listMeta: Record<string, unknown>, withHeaders = true) {
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: withHeaders ? columnDefinitions(type) : [],
    rows: objs.map((o) => tableRow(type, o, include, now)),
  };
}
