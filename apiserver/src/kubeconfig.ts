/** Writes the kubeconfig that points kubectl and client libraries at the embedded control plane. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export function kubeconfigYaml(server: string, token: string, caCert?: string, namespace = 'default'): string {
  const cluster = caCert ? { server, 'certificate-authority-data': Buffer.from(caCert).toString('base64') } : { server };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'stratus', cluster }],
    users: [{ name: 'stratus-admin', user: { token } }],
    contexts: [{ name: 'stratus', context: { cluster: 'stratus', user: 'stratus-admin', namespace } }],
    'current-context': 'stratus',
    preferences: {},
  });
}

export function writeKubeconfig(file: string, server: string, token: string, caCert?: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, kubeconfigYaml(server, token, caCert), { mode: 0o600 });
}
