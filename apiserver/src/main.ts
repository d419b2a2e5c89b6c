#!/usr/bin/env node
/** `stratus-apiserver`: runs the embedded control plane until SIGINT/SIGTERM. */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from './logger.js';
import { startServer } from './server.js';
import { adminToken, writeKubeconfig } from './kubeconfig.js';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: '.stratus' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '6443' },
    kubeconfig: { type: 'string' },
  },
});

const dataDir = resolve(values['data-dir']!);
mkdirSync(dataDir, { recursive: true });
const token = adminToken(dataDir);

const log = createLogger('apiserver');
const server = await startServer({ host: values.host, port: Number(values.port), dataDir, token, logger: log });
const kubeconfig = resolve(values.kubeconfig ?? join(dataDir, 'kubeconfig'));
writeKubeconfig(kubeconfig, server.url, token, server.caCert);
log.info('kubeconfig written', { kubeconfig });
process.stdout.write(
  [
    '',
    `Stratus control plane is up at ${server.url}`,
    `  export KUBECONFIG=${kubeconfig}`,
    '  kubectl get namespaces',
    '  kubectl get stratus          # every Stratus resource',
    `State is kept in ${dataDir}; Ctrl-C stops, \`make up\` resumes where it stopped.`,
    '',
  ].join('\n') + '\n',
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    await server.close();
    process.exit(0);
  });
