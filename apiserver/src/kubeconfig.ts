/** Writes the kubeconfig that points kubectl and client libraries at the embedded control plane. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

/** The admin token kept in `dataDir`, generated on first use so kubeconfigs stay valid across restarts. */
export function adminToken(dataDir: string): string {
  const file = join(dataDir, 'admin-token');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, randomBytes(24).toString('hex'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}
