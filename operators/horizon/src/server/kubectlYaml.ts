/**
 * An object as `kubectl get -o yaml` prints it: managedFields left out (kubectl shows them only when asked),
 * every map's keys in order (kubectl goes through JSON into Go maps), lists not indented under their key, and
 * strings YAML 1.1 would read as something else (timestamps, yes/no, numbers) quoted, as go-yaml writes them.
 */
import { Document } from 'yaml';

export function kubectlYaml(obj: { metadata?: Record<string, unknown> }): string {
  const { managedFields: _managed, ...metadata } = obj.metadata ?? {};
  const doc = new Document({ ...obj, metadata }, { sortMapEntries: true, schema: 'yaml-1.1' });
  return doc.toString({ indentSeq: false, lineWidth: 0, defaultStringType: 'PLAIN', defaultKeyType: 'PLAIN', nullStr: 'null' });
}
