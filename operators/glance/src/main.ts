#!/usr/bin/env node
/**
 * The Glance process: the Image API v2 (every replica serves it) and the Image reconciler (one leader at a
 * time), until SIGTERM. The S3 store and Keystone are named in the environment.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { admissionListenerFromEnv, releaseNamespace, createLogger, stopWithParent } from '@stratus/runtime';
import { startImageApi } from './api/server.js';
import { glanceManager } from './operator.js';
import { storeConfigFromEnv } from './config.js';
import { importFilterFromEnv } from './importFilter.js';
import { ImageStore } from './store/imageStore.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const logger = createLogger('glance');
const store = new ImageStore(storeConfigFromEnv(process.env));
await store.ensureBucket();
const sizeCap = process.env.GLANCE_IMAGE_SIZE_CAP ? Number(process.env.GLANCE_IMAGE_SIZE_CAP) : undefined;
const importFilter = importFilterFromEnv(process.env);
const manager = glanceManager(
  { store, sizeCap, importFilter },
  { kubeConfig, logger, metricsPort: Number(process.env.METRICS_PORT ?? 0), leaderElection: { namespace: releaseNamespace() } },
);
const api = await startImageApi({
  kubeConfig,
  logger,
  store,
  sizeCap,
  importFilter,
  // How long a validated token is trusted before Keystone is asked again (keystonemiddleware's token_cache_time): the bound on revocation.
  ...(process.env.TOKEN_CACHE_SECONDS ? { tokenCacheSeconds: Number(process.env.TOKEN_CACHE_SECONDS) } : {}),
  ...(process.env.GLANCE_UPLOAD_IDLE_SECONDS ? { uploadIdleSeconds: Number(process.env.GLANCE_UPLOAD_IDLE_SECONDS) } : {}),
  identityUrl: process.env.KEYSTONE_URL ?? 'http://127.0.0.1:5000/v3',
  host: process.env.GLANCE_API_HOST ?? '127.0.0.1',
  port: Number(process.env.GLANCE_API_PORT ?? 9292),
  // The webhook's own port (stratus up's, or the chart's with its certificate, whose CA is the caBundle).
  admission: admissionListenerFromEnv(process.env.GLANCE_API_HOST ?? '127.0.0.1'),
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void api.close());
manager.stopOnSignals();
stopWithParent();
await manager.start();
