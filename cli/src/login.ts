#!/usr/bin/env node
/**
 * `stratus login`: a kubeconfig for a project member. Its cluster is the cloud's control plane (server and CA,
 * from `--from`, the admin's kubeconfig, which holds nothing else it copies); its user runs the credential
 * plugin (`credential.js --cloud`), which signs in to Keystone with the clouds.yaml entry and caches the token;
 * its context's namespace is the project's, as the control plane reports it for that token.
 *
 *   node cli/dist/src/login.js --cloud mycloud --from .stratus/kubeconfig --kubeconfig ~/.kube/stratus
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, request } from 'node:https';
import { parse, stringify } from 'yaml';
import { cloudAuth, projectToken } from './keystoneLogin.js';

const { values } = parseArgs({ options: { cloud: { type: 'string', default: process.env.OS_CLOUD }, from: { type: 'string', default: '.stratus/kubeconfig' }, kubeconfig: { type: 'string', default: 'kubeconfig' } } });
try {
  if (!values.cloud) throw new Error('--cloud (or OS_CLOUD) names the clouds.yaml entry to sign in with');
  const admin = parse(readFileSync(values.from!, 'utf8'));
  const cluster = admin.clusters?.[0]?.cluster;
  if (!cluster?.server) throw new Error(`${values.from} names no cluster`);
  const token = await projectToken(cloudAuth(values.cloud));
  // The project's namespace, as the control plane sees this token (kubectl auth whoami).
  const ca = cluster['certificate-authority-data'] ? Buffer.from(cluster['certificate-authority-data'], 'base64').toString() : undefined;
  const review = await new Promise<any>((ok, fail) => {
    const req = request(new URL('/apis/authentication.k8s.io/v1/selfsubjectreviews', cluster.server), { method: 'POST', agent: new Agent({ ca }), headers: { Authorization: `Bearer ${token.token}`, 'Content-Type': 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => (res.statusCode === 201 ? ok(JSON.parse(body)) : fail(new Error(`the control plane did not accept the token (${res.statusCode}): ${body}`))));
    });
    req.on('error', fail);
    req.end(JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }));
  });
  const namespace = review.status?.userInfo?.extra?.['alpha.kubernetes.io/identity/project/namespace']?.[0];
  const plugin = fileURLToPath(new URL('./credential.js', import.meta.url));
  const name = `${values.cloud}`;
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'stratus', cluster }],
    users: [{ name, user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: [plugin, '--cloud', values.cloud], env: process.env.OS_CLIENT_CONFIG_FILE ? [{ name: 'OS_CLIENT_CONFIG_FILE', value: resolve(process.env.OS_CLIENT_CONFIG_FILE) }] : null, interactiveMode: 'Never', provideClusterInfo: false } } }],
    contexts: [{ name, context: { cluster: 'stratus', user: name, ...(namespace ? { namespace } : {}) } }],
    'current-context': name,
  };
  writeFileSync(values.kubeconfig!, stringify(kubeconfig), { mode: 0o600 });
  process.stdout.write(`Wrote ${values.kubeconfig}: user ${review.status.userInfo.username}${namespace ? `, namespace ${namespace}` : ''}. export KUBECONFIG=${resolve(values.kubeconfig!)}\n`);
} catch (e) {
  process.stderr.write(`stratus login: ${(e as Error).message}\n`);
  process.exit(1);
}
