#!/usr/bin/env node
/**
 * The block storage operator process (Cinder's api, scheduler, volume and backup services in one): the
 * Block Storage API v3 (every replica serves it) and the reconcilers (one leader at a time), until SIGTERM.
 * Its file pool is CINDER_POOL_DIR (CINDER_POOL_GIB big; unset: its filesystem's size); image data and
 * backups are in the S3 store the S3_* variables name (backups in BACKUP_BUCKET).
 */
import { KubeConfig } from '@kubernetes/client-node';
import { ImageStore, storeConfigFromEnv } from '@stratus/glance';
import { KubeClient, SYSTEM_NAMESPACE, admissionListenerFromEnv, createLogger, stopWithParent } from '@stratus/runtime';
import { BackupChunkStore } from './backupChunks.js';
import { FilePoolBackend } from './backend/filePool.js';
import { cinderManager } from './operator.js';
import { ensureDefaultVolumeType } from './volumeTypes.js';
import { DEFAULT_BACKUP_BUCKET } from './resources.js';
import { startBlockStorageApi } from './api/server.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const logger = createLogger('cinder');
const poolDir = process.env.CINDER_POOL_DIR;
if (!poolDir) {
  logger.error('CINDER_POOL_DIR must name the folder of the volume pool');
  process.exit(2);
}
const storeConfig = storeConfigFromEnv(process.env);
const imageStore = new ImageStore(storeConfig);
const backups = new BackupChunkStore(new ImageStore({ ...storeConfig, bucket: process.env.BACKUP_BUCKET ?? DEFAULT_BACKUP_BUCKET }));
const backend = new FilePoolBackend({ dir: poolDir, ...(process.env.CINDER_POOL_GIB ? { capacityGiB: Number(process.env.CINDER_POOL_GIB) } : {}) });
const manager = cinderManager(
  { backends: [backend], images: imageStore, imageStore, backups, workDir: process.env.CINDER_WORK_DIR ?? `${poolDir}/.work` },
  { kubeConfig, logger, metricsPort: Number(process.env.METRICS_PORT ?? 0), leaderElection: { namespace: process.env.STRATUS_NAMESPACE ?? SYSTEM_NAMESPACE } },
);
await ensureDefaultVolumeType(new KubeClient(kubeConfig)).catch((e: Error) => logger.warn('default volume type not made', { error: e.message }));
const api = await startBlockStorageApi({
  kubeConfig,
  logger,
  identityUrl: process.env.KEYSTONE_URL ?? 'http://127.0.0.1:5000/v3',
  host: process.env.CINDER_API_HOST ?? '127.0.0.1',
  port: Number(process.env.CINDER_API_PORT ?? 8776),
  ...(process.env.TOKEN_CACHE_SECONDS ? { tokenCacheSeconds: Number(process.env.TOKEN_CACHE_SECONDS) } : {}),
  // The webhook's own port (stratus up's, or the chart's with its certificate, whose CA is the caBundle).
  admission: admissionListenerFromEnv(process.env.CINDER_API_HOST ?? '127.0.0.1'),
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void api.close());
manager.stopOnSignals();
stopWithParent();
await manager.start();
