/**
 * CEL validation rules (`x-kubernetes-validations`) on custom resources, as kube-apiserver applies them: each
 * rule is evaluated with `self` bound to the value at its schema node (only where that value is present),
 * transition rules (those naming `oldSelf`) only on updates that had an old value there (map list items are
 * matched by key), and a rule that is false or fails refuses the write with 422 naming the field. The CEL itself
 * is @bufbuild/cel (it passes cel-spec's conformance suite, and matches with RE2 as Kubernetes does) with the
 * strings extension; rules are compiled once per schema, and a CRD whose rule does not compile is refused.
 */
import { celEnv, isCelError, parse, plan, type CelResult } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import type { StatusCause } from './errors.js';
import { applyListMerge, indexByKeys } from './listTypes.js';

type Schema = Record<string, any>;

interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

interface CompiledRule {
  spec: ValidationRule;
  eval: (bindings: Record<string, unknown>) => CelResult;
  message?: (bindings: Record<string, unknown>) => CelResult;
  transition: boolean;
}

/** The schema tree cut down to the nodes that have rules or lead to some. */
interface RuleNode {
  schema: Schema;
  rules: CompiledRule[];
  properties: Map<string, RuleNode>;
  additional?: RuleNode;
  items?: RuleNode;
}

/** A rule that does not compile: where it is in the schema, and why. */
export class RuleCompileError extends Error {
  constructor(readonly problems: { path: string; message: string }[]) {
    super(problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  }
}

const env = celEnv({ funcs: strings });

function compile(expr: string): (bindings: Record<string, unknown>) => CelResult {
  return plan(env, parse(expr)) as (bindings: Record<string, unknown>) => CelResult;
}

const mentionsOldSelf = (expr: string) => /\boldSelf\b/.test(expr);

function compileNode(s: Schema | undefined, path: string, problems: { path: string; message: string }[]): RuleNode | undefined {
  if (!s || typeof s !== 'object') return undefined;
  const rules: CompiledRule[] = [];
  ((s['x-kubernetes-validations'] ?? []) as ValidationRule[]).forEach((r, i) => {
    const at = `${path}.x-kubernetes-validations[${i}]`;
    try {
      rules.push({ spec: r, eval: compile(r.rule), message: r.messageExpression ? compile(r.messageExpression) : undefined, transition: mentionsOldSelf(r.rule) });
    } catch (e) {
      problems.push({ path: `${at}.rule`, message: `Invalid value: ${JSON.stringify(r.rule)}: compilation failed: ${(e as Error).message}` });
    }
  });
  const properties = new Map<string, RuleNode>();
  for (const [k, ps] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) {
    const child = compileNode(ps, `${path}.properties[${k}]`, problems);
    if (child) properties.set(k, child);
  }
  const additional = typeof s.additionalProperties === 'object' ? compileNode(s.additionalProperties, `${path}.additionalProperties`, problems) : undefined;
  const items = typeof s.items === 'object' ? compileNode(s.items, `${path}.items`, problems) : undefined;
  if (!rules.length && !properties.size && !additional && !items) return undefined;
  return { schema: s, rules, properties, additional, items };
}

export interface CelRules {
  /** Evaluates every rule against `obj` (and `old`, for transition rules); the causes of each that fails. */
  validate(obj: unknown, old?: unknown): StatusCause[];
}

/** Compiles a schema's rules; undefined when it has none. Throws RuleCompileError naming each bad rule. */
export function compileRules(openapi: Schema, path = 'openAPIV3Schema'): CelRules | undefined {
  const problems: { path: string; message: string }[] = [];
  const root = compileNode(openapi, path, problems);
  if (problems.length) throw new RuleCompileError(problems);
  if (!root) return undefined;
  return {
    validate(obj, old) {
      const causes: StatusCause[] = [];
      walk(root, obj, old, '', causes);
      return causes;
    },
  };
}

/** A JSON value as CEL sees it under its schema: integers as int, objects as maps. */
function toCel(v: unknown, s: Schema | undefined): unknown {
  if (typeof v === 'number') {
    const integer = s?.type === 'integer' || (s?.type === undefined && Number.isInteger(v));
    return integer && Number.isInteger(v) ? BigInt(v) : v;
  }
  if (Array.isArray(v)) return v.map((x) => toCel(x, typeof s?.items === 'object' ? s.items : undefined));
  if (v !== null && typeof v === 'object')
    return new Map(Object.entries(v).map(([k, x]) => [k, toCel(x, s?.properties?.[k] ?? (typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined))]));
  return v;
}

/** Kubernetes names a value in a message by its schema type: `Invalid value: "object": …`. */
const typeName = (s: Schema) => (s.type as string | undefined) ?? (s['x-kubernetes-int-or-string'] ? 'integer-or-string' : 'object');

function causeFor(r: ValidationRule, s: Schema, path: string, message: string): StatusCause {
  const field = (path + (r.fieldPath ?? '')).replace(/^\./, '') || '<nil>';
  switch (r.reason) {
    case 'FieldValueForbidden':
      return { reason: 'FieldValueForbidden', message: `Forbidden: ${message}`, field };
    case 'FieldValueRequired':
      return { reason: 'FieldValueRequired', message: `Required value: ${message}`, field };
    case 'FieldValueDuplicate':
      return { reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(typeName(s))}`, field };
    default:
      return { reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(typeName(s))}: ${message}`, field };
  }
}

function walk(node: RuleNode, value: unknown, old: unknown, path: string, causes: StatusCause[]): void {
  if (value === undefined) return;
  for (const r of node.rules) {
    if (r.transition && old === undefined && !r.spec.optionalOldSelf) continue;
    const bindings: Record<string, unknown> = { self: toCel(value, node.schema) };
    if (r.transition) bindings.oldSelf = old === undefined ? undefined : toCel(old, node.schema);
    const result = r.eval(bindings);
    if (result === true) continue;
    if (isCelError(result)) {
      causes.push(causeFor(r.spec, node.schema, path, `${result.message} evaluating rule: ${r.spec.rule}`));
      continue;
    }
    const custom = r.message?.(bindings);
    const message = typeof custom === 'string' && custom ? custom : (r.spec.message ?? `failed rule: ${r.spec.rule}`);
    causes.push(causeFor(r.spec, node.schema, path, message));
  }
  if (Array.isArray(value)) {
    if (!node.items) return;
    const list = applyListMerge(node.schema);
    const olds = Array.isArray(old) ? old : [];
    value.forEach((item, i) => {
      // Only a map list's items have an old self: the item with the same keys.
      const j = list.kind === 'map' && item && typeof item === 'object' ? indexByKeys(olds, item as Record<string, unknown>, list.keys) : -1;
      walk(node.items!, item, j >= 0 ? olds[j] : undefined, `${path}[${i}]`, causes);
    });
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const o = value as Record<string, unknown>;
  const oo = old !== null && typeof old === 'object' && !Array.isArray(old) ? (old as Record<string, unknown>) : {};
  for (const [k, child] of node.properties) walk(child, o[k], oo[k], `${path}.${k}`, causes);
  if (node.additional)
    for (const k of Object.keys(o)) if (!node.schema.properties || !(k in node.schema.properties)) walk(node.additional, o[k], oo[k], `${path}[${k}]`, causes);
}
