/**
 * An object as `kubectl get -o yaml` prints it, byte for byte: managedFields left out (kubectl shows them only
 * when asked), every map's keys in order (kubectl goes through JSON into Go maps), lists flush with their key,
 * long strings folded at 80 columns, multi-line ones as literal blocks, and quoting as go-yaml chooses it:
 * double quotes for a string a YAML 1.1 reader would take for something else ("0", "yes", a timestamp, ""),
 * single quotes for one that only cannot be written plain ('ACTIVE: running'). Compared with kubectl's own
 * output in e2e/dashboard.e2e.ts.
 */
import { Document, isScalar, parse, visit } from 'yaml';

/** Whether YAML 1.1 would read this string, written plain, as another type (go-yaml's resolve). */
function readsAsAnotherType(s: string): boolean {
  // A leading indicator is a matter of syntax, not type: go-yaml single-quotes those.
  if (/^[&*!%@`|>'"#?[\]{},]/.test(s)) return false;
  // Go's strconv, which go-yaml resolves integers with, also reads 0o octals.
  if (/^[-+]?0[oO][0-7_]+$/.test(s)) return true;
  try {
    const v = parse(s, { schema: 'yaml-1.1', logLevel: 'silent' });
    return v === null || typeof v === 'number' || typeof v === 'boolean' || v instanceof Date;
  } catch {
    return false;
  }
}

export function kubectlYaml(obj: { metadata?: Record<string, unknown> }): string {
  const { managedFields: _managed, ...metadata } = obj.metadata ?? {};
  const doc = new Document({ ...obj, metadata }, { sortMapEntries: true, schema: 'yaml-1.1' });
  visit(doc, {
    Scalar(_key, node) {
      if (isScalar(node) && typeof node.value === 'string' && !node.value.includes('\n') && readsAsAnotherType(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return doc.toString({ indentSeq: false, lineWidth: 80, minContentWidth: 0, singleQuote: true, nullStr: 'null' });
}
