/** Label selectors (=, ==, !=, in, notin, exists, !exists) and field selectors (=, ==, != on dotted paths). */
import { badRequest } from './errors.js';
import type { KObject } from './types.js';

export type Matcher = (obj: KObject) => boolean;

type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

/** Splits on commas that are not inside a `(…)` value set. */
function splitTop(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

export function parseLabelSelector(selector: string | null | undefined): Matcher {
  if (!selector) return () => true;
  const reqs: Requirement[] = splitTop(selector).map((term) => {
    let m: RegExpMatchArray | null;
    if ((m = term.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/)))
      return { key: m[1], op: m[2] as 'in' | 'notin', values: m[3].split(',').map((v) => v.trim()).filter(Boolean) };
    if ((m = term.match(/^!\s*([\w./-]+)$/))) return { key: m[1], op: 'notexists' };
    if ((m = term.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/)))
      return { key: m[1], op: m[2] === '!=' ? 'neq' : 'eq', value: m[3] };
    if ((m = term.match(/^([\w./-]+)$/))) return { key: m[1], op: 'exists' };
    throw badRequest(`unable to parse requirement: found '${term}', expected: key, !key, key=value, key!=value, key in (...), key notin (...)`);
  });
  return (obj) => {
    const labels = obj.metadata.labels ?? {};
    return reqs.every((r) => {
      const has = Object.prototype.hasOwnProperty.call(labels, r.key);
      switch (r.op) {
        case 'eq':
          return has && labels[r.key] === r.value;
        case 'neq':
          return !has || labels[r.key] !== r.value;
        case 'in':
          return has && r.values.includes(labels[r.key]);
        case 'notin':
          return !has || !r.values.includes(labels[r.key]);
        case 'exists':
          return has;
        case 'notexists':
          return !has;
      }
    });
  };
}

/** Reads a dotted field path such as `metadata.name` or `involvedObject.uid`; non-scalars read as absent. */
export function fieldValue(obj: unknown, path: string): string | undefined {
  let cur: any = obj;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[seg];
  }
  if (cur === undefined || cur === null) return undefined;
  return typeof cur === 'object' ? undefined : String(cur);
}

export function parseFieldSelector(selector: string | null | undefined): Matcher {
  if (!selector) return () => true;
  const reqs = splitTop(selector).map((term) => {
    const m = term.match(/^([\w.-]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    return { path: m[1], neq: m[2] === '!=', value: m[3].trim() };
  });
  return (obj) =>
    reqs.every((r) => {
      // An absent field compares as the empty string, as in Kubernetes (e.g. `spec.nodeName=`).
      const v = fieldValue(obj, r.path) ?? '';
      return r.neq ? v !== r.value : v === r.value;
    });
}
