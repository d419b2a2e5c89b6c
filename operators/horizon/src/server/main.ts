#!/usr/bin/env node
/**
 * The dashboard process (Horizon): the single page and its server on HORIZON_HOST:HORIZON_PORT, under
 * /dashboard, signing users in with Keystone at KEYSTONE_URL, until SIGTERM.
 */
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, createLogger, stopWithParent } from '@stratus/runtime';
import { startDashboard } from './app.js';
import { sessionKey } from './sessionKey.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const log = createLogger('horizon');
const dashboard = await startDashboard({
  kubeConfig,
  log,
  identityUrl: process.env.KEYSTONE_URL ?? 'http://127.0.0.1:5000/v3',
  host: process.env.HORIZON_HOST ?? '127.0.0.1',
  port: Number(process.env.HORIZON_PORT ?? 8080),
  webDir: fileURLToPath(new URL('../../web/', import.meta.url)),
  sessionKey: await sessionKey(new KubeClient(kubeConfig), 'stratus-horizon'),
  secureCookie: process.env.HORIZON_SECURE_COOKIE === 'true',
  ...(process.env.HORIZON_ENDPOINT_INTERFACE ? { endpointInterface: process.env.HORIZON_ENDPOINT_INTERFACE } : {}),
});
log.info('dashboard listening', { url: `${dashboard.url}/dashboard/` });
const stop = () => void dashboard.close().then(() => process.exit(0));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stop);
stopWithParent();
