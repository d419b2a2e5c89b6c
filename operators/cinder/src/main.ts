#!/usr/bin/env node
/**
 * The block storage operator process (Cinder's api, scheduler, volume and backup services in one): the
 * Block Storage API v3 (every replica serves it) and the reconcilers (one leader at a time), until SIGTERM.
 * Its backends: a file pool in CINDER_POOL_DIR (CINDER_POOL_GIB big; unset: its filesystem's size), and/or a
 * Ceph RBD pool (CINDER_RBD_POOL, with CINDER_RBD_CONF, CINDER_RBD_USER, CINDER_RBD_KEYRING and the nodes'
 * libvirt secret CINDER_RBD_SECRET_UUID; its volume type CINDER_RBD_VOLUME_TYPE, default `ceph`). Image data
 * and backups are in the S3 store the S3_* variables name (backups in BACKUP_BUCKET).
 */
import { KubeConfig } from '@kubernetes/client-node';
import { ImageStore, storeConfigFromEnv } from '@stratus/glance';
import { KubeClient, releaseNamespace, admissionListenerFromEnv, createLogger, stopWithParent } from '@stratus/runtime';
import { BackupChunkStore } from './backupChunks.js';
import { FilePoolBackend } from './backend/filePool.js';
import { RbdPoolBackend } from './backend/rbdPool.js';
import type { VolumeBackend } from './backend/types.js';
import { cinderManager } from './operator.js';
import { ensureBackendVolumeType, ensureDefaultVolumeType } from './volumeTypes.js';
import { DEFAULT_BACKUP_BUCKET } from './resources.js';
import { startBlockStorageApi } from './api/server.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const logger = createLogger('cinder');
const poolDir = process.env.CINDER_POOL_DIR;
const rbdPool = process.env.CINDER_RBD_POOL;
const workDir = process.env.CINDER_WORK_DIR ?? (poolDir ? `${poolDir}/.work` : undefined);
if ((!poolDir && !rbdPool) || !workDir) {
  logger.error('CINDER_POOL_DIR (a file pool) or CINDER_RBD_POOL (a Ceph RBD pool, with CINDER_WORK_DIR) must name a volume backend');
  process.exit(2);
}
const storeConfig = storeConfigFromEnv(process.env);
const imageStore = new ImageStore(storeConfig);
const backups = new BackupChunkStore(new ImageStore({ ...storeConfig, bucket: process.env.BACKUP_BUCKET ?? DEFAULT_BACKUP_BUCKET }));
const backends: VolumeBackend[] = [];
if (poolDir) backends.push(new FilePoolBackend({ dir: poolDir, ...(process.env.CINDER_POOL_GIB ? { capacityGiB: Number(process.env.CINDER_POOL_GIB) } : {}) }));
const rbd = rbdPool ? rbdBackendFromEnv(rbdPool) : undefined;
if (rbd) backends.push(rbd);
const manager = cinderManager(
  { backends, images: imageStore, imageStore, backups, workDir },
  { kubeConfig, logger, metricsPort: Number(process.env.METRICS_PORT ?? 0), leaderElection: { namespace: releaseNamespace() } },
);
const typesClient = new KubeClient(kubeConfig);
await ensureDefaultVolumeType(typesClient).catch((e: Error) => logger.warn('default volume type not made', { error: e.message }));
if (rbd) await ensureBackendVolumeType(typesClient, process.env.CINDER_RBD_VOLUME_TYPE ?? rbd.name, rbd.name, `Volumes as RBD images in Ceph pool ${rbdPool}`).catch((e: Error) => logger.warn('volume type not made', { backend: rbd.name, error: e.message }));
const api = await startBlockStorageApi({
  kubeConfig,
  logger,
  identityUrl: process.env.KEYSTONE_URL ?? 'http://127.0.0.1:5000/v3',
  host: process.env.CINDER_API_HOST ?? '127.0.0.1',
  port: Number(process.env.CINDER_API_PORT ?? 8776),
  ...(process.env.TOKEN_CACHE_SECONDS ? { tokenCacheSeconds: Number(process.env.TOKEN_CACHE_SECONDS) } : {}),
  // The webhook's own port (stratus up's, or the chart's with its certificate, whose CA is the caBundle).
  admission: admissionListenerFromEnv(process.env.CINDER_API_HOST ?? '127.0.0.1'),
  backends,
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void api.close());
manager.stopOnSignals();
stopWithParent();
await manager.start();

function rbdBackendFromEnv(pool: string): RbdPoolBackend {
  const need = (k: string) => {
    const v = process.env[k];
    if (!v) {
      logger.error(`${k} must be set with CINDER_RBD_POOL`);
      process.exit(2);
    }
    return v;
  };
  return new RbdPoolBackend({
    pool,
    conf: need('CINDER_RBD_CONF'),
    user: process.env.CINDER_RBD_USER ?? 'cinder',
    keyring: need('CINDER_RBD_KEYRING'),
    secretUuid: need('CINDER_RBD_SECRET_UUID'),
    ...(process.env.CINDER_RBD_BACKEND ? { name: process.env.CINDER_RBD_BACKEND } : {}),
    ...(process.env.CINDER_RBD_GIB ? { capacityGiB: Number(process.env.CINDER_RBD_GIB) } : {}),
  });
}
