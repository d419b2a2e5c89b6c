/**
 * A whole block storage service for one test suite: the control plane with every CRD, Keystone (operator and
 * Identity API, bootstrapped), an embedded S3 server (images and backups), a file pool in a fresh folder, the
 * Cinder operator and the Block Storage API.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ImageStore, startEmbeddedS3, type EmbeddedS3 } from '@stratus/glance';
import { createLogger, type Manager } from '@stratus/runtime';
import { startIdentityEnv, call, passwordAuth, type IdentityEnv } from '@stratus/keystone/testing';
import { BackupChunkStore, FilePoolBackend, cinderManager, ensureDefaultVolumeType, startBlockStorageApi, type BlockStorageApi } from '../src/index.js';

export { call, passwordAuth };

export const IMAGE_BUCKET = 'test-images';
export const BACKUP_BUCKET = 'test-backups';

export interface BlockStorageEnv {
  identity: IdentityEnv;
  s3: EmbeddedS3;
  images: ImageStore;
  backups: BackupChunkStore;
  backend: FilePoolBackend;
  poolDir: string;
  manager: Manager;
  api: BlockStorageApi;
  /** The Block Storage API base, `http://127.0.0.1:port/v3`. */
  v3: string;
  /** A project-scoped admin token. */
  adminToken: string;
  /** Files in the pool folder (volumes and snapshots), work files left out. */
  poolFiles(): string[];
  /** Keys of every object in the backup bucket. */
  /** The objects in the backup bucket, or in another container. */
  backupObjects(bucket?: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startBlockStorageEnv(opts: { poolGiB?: number } = {}): Promise<BlockStorageEnv> {
  const identity = await startIdentityEnv();
  const dir = mkdtempSync(join(tmpdir(), 'cinder-env-'));
  const s3 = await startEmbeddedS3({ directory: join(dir, 's3') });
  const storeConfig = { endpoint: s3.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
  const images = new ImageStore({ ...storeConfig, bucket: IMAGE_BUCKET });
  await images.ensureBucket();
  const backupStore = new ImageStore({ ...storeConfig, bucket: BACKUP_BUCKET });
  const backups = new BackupChunkStore(backupStore);
  const poolDir = join(dir, 'pool');
  const backend = new FilePoolBackend({ dir: poolDir, capacityGiB: opts.poolGiB ?? 100 });
  const logger = createLogger('cinder-test', process.env.TEST_LOG_LEVEL ?? 'error');
  await ensureDefaultVolumeType(identity.client);
  const manager = cinderManager({ backends: [backend], images, imageStore: images, backups, workDir: join(dir, 'work') }, { kubeConfig: identity.kubeConfig, logger });
  await manager.start();
  const api = await startBlockStorageApi({ kubeConfig: identity.kubeConfig, logger, identityUrl: identity.v3, port: 0, backends: [backend] });
  const signIn = await call(identity.v3, 'POST', '/auth/tokens', { body: passwordAuth('admin', identity.adminPassword, 'admin') });
  return {
    identity,
    s3,
    images,
    backups,
    backend,
    poolDir,
    manager,
    api,
    v3: `${api.url}/v3`,
    adminToken: signIn.headers.get('x-subject-token')!,
    poolFiles: () => readdirSync(poolDir).filter((f) => !f.startsWith('.')).sort(),
    backupObjects: async (bucket = BACKUP_BUCKET) => {
      try {
        return ((await backupStore.s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!).sort();
      } catch {
        return [];
      }
    },
    async stop() {
      await api.close();
      await manager.stop();
      images.destroy();
      backupStore.destroy();
      await s3.close();
      await identity.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
