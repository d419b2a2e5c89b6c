#!/usr/bin/env node
/**
 * `stratus up`: the whole cloud on one machine. Starts the embedded control plane, applies the CRDs under
 * crds/, starts every operator as a child process with its own kubeconfig, prints where everything is, and
 * on SIGINT/SIGTERM stops the operators (letting reconciles finish) before the control plane.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { adminToken, createLogger, startServer, writeKubeconfig } from '@stratus/apiserver';
import { KubeClient, isConflict, APPLY_PATCH } from '@stratus/runtime';
import { SYSTEM_NAMESPACE } from '@stratus/keystone';
import { OPERATORS } from './operators.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: '.stratus' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '6443' },
  },
});

const log = createLogger('stratus-up');
const dataDir = resolve(values['data-dir']!);
mkdirSync(dataDir, { recursive: true });
const token = adminToken(dataDir);

const server = await startServer({ host: values.host, port: Number(values.port), dataDir: join(dataDir, 'apiserver'), token, logger: log });
const kubeconfig = join(dataDir, 'kubeconfig');
writeKubeconfig(kubeconfig, server.url, token, server.caCert);
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const client = new KubeClient(kc);

// CRDs are applied server-side, so a newer definition in crds/ replaces what an older run stored.
const crdDir = join(ROOT, 'crds');
for (const file of readdirSync(crdDir).filter((f) => f.endsWith('.yaml'))) {
  const crd = parse(readFileSync(join(crdDir, file), 'utf8'));
  await client.request('PATCH', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}?fieldManager=stratus-up&force=true`, crd, APPLY_PATCH);
}
await server.controllers.idle();
try {
  await client.create({ group: '', version: 'v1', plural: 'namespaces', namespaced: false }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NAMESPACE } }, 'stratus-up');
} catch (e) {
  if (!isConflict(e)) throw e;
}

const children = new Map<string, ChildProcess>();
let stopping = false;
for (const op of OPERATORS) {
  const child = spawn(process.execPath, [join(ROOT, op.main)], { env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'inherit', 'inherit'] });
  children.set(op.name, child);
  child.on('exit', (code, signal) => {
    if (!stopping) log.error('operator exited', { operator: op.name, code, signal });
  });
}

process.stdout.write(
  [
    '',
    `Stratus is up. Control plane: ${server.url}`,
    `  operators: ${OPERATORS.map((o) => o.name).join(', ')}`,
    `  export KUBECONFIG=${kubeconfig}`,
    '  kubectl get stratus                 # every Stratus resource',
    `State is kept in ${dataDir}; Ctrl-C stops, \`make up\` resumes where it stopped.`,
    '',
  ].join('\n') + '\n',
);

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    await Promise.all([...children.values()].map((c) => new Promise((r) => (c.exitCode !== null ? r(undefined) : (c.once('exit', r), c.kill('SIGTERM'))))));
    await server.close();
    process.exit(0);
  });
