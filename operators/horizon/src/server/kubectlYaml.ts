/**
 * An object as `kubectl get -o yaml` prints it: managedFields left out (kubectl shows them only when asked),
 * every map's keys in order (kubectl goes through JSON into Go maps), lists not indented under their key, and
 * strings YAML 1.1 would read as something else (timestamps, yes/no, numbers) quoted and long ones folded at 80
 * columns, as go-yaml writes them (compared byte for byte with kubectl's output in e2e/dashboard.e2e.ts).
 */
import { Document } from 'yaml';

export function kubectlYaml(obj: { metadata?: Record<string, unknown> }): string {
  const { managedFields: _managed, ...metadata } = obj.metadata ?? {};
  const doc = new Document({ ...obj, metadata }, { sortMapEntries: true, schema: 'yaml-1.1' });
  return doc.toString({ indentSeq: false, lineWidth: 80, minContentWidth: 0, defaultStringType: 'PLAIN', defaultKeyType: 'PLAIN', nullStr: 'null' });
}
