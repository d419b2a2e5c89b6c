#!/usr/bin/env node
/**
 * The Nova process: the Compute API v2.1 (every replica serves it) and the scheduling and catalog controllers
 * (one leader at a time), until SIGTERM.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { admissionListenerFromEnv, releaseNamespace, createLogger, stopWithParent } from '@stratus/runtime';
import { startComputeApi } from './api/server.js';
import { novaManager } from './operator.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const logger = createLogger('nova');
const manager = novaManager({ kubeConfig, logger, metricsPort: Number(process.env.METRICS_PORT ?? 0), leaderElection: { namespace: releaseNamespace() } });
const api = await startComputeApi({
  kubeConfig,
  logger,
  identityUrl: process.env.KEYSTONE_URL ?? 'http://127.0.0.1:5000/v3',
  host: process.env.NOVA_API_HOST ?? '127.0.0.1',
  port: Number(process.env.NOVA_API_PORT ?? 8774),
  enableInstancePassword: process.env.NOVA_ENABLE_INSTANCE_PASSWORD !== 'false',
  console: { ...(process.env.NOVNCPROXY_BASE_URL ? { baseUrl: process.env.NOVNCPROXY_BASE_URL } : {}), ...(process.env.CONSOLE_TOKEN_TTL_SECONDS ? { tokenTtlSeconds: Number(process.env.CONSOLE_TOKEN_TTL_SECONDS) } : {}) },
  // How long a validated token is trusted before Keystone is asked again (keystonemiddleware's token_cache_time): the bound on revocation.
  ...(process.env.TOKEN_CACHE_SECONDS ? { tokenCacheSeconds: Number(process.env.TOKEN_CACHE_SECONDS) } : {}),
  // The webhook's own port (stratus up's, or the chart's with its certificate, whose CA is the caBundle).
  admission: admissionListenerFromEnv(process.env.NOVA_API_HOST ?? '127.0.0.1'),
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void api.close());
manager.stopOnSignals();
stopWithParent();
await manager.start();
