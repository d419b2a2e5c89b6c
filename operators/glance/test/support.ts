/**
 * A whole Glance for one test suite: the control plane with every CRD, the Keystone operator and Identity
 * API (bootstrapped), an embedded S3 server, the Glance operator and the Image API.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createLogger, type Manager } from '@stratus/runtime';
import { startIdentityEnv, call, passwordAuth, type IdentityEnv } from '@stratus/keystone/testing';
import { DEFAULT_IMPORT_FILTER, ImageStore, glanceManager, startEmbeddedS3, startImageApi, type EmbeddedS3, type Endpoint, type ImageApi, type ImportFilter } from '../src/index.js';

export { call, passwordAuth };

export interface GlanceEnv {
  identity: IdentityEnv;
  s3: EmbeddedS3;
  store: ImageStore;
  manager: Manager;
  api: ImageApi;
  /** The Image API base, `http://127.0.0.1:port/v2`. */
  v2: string;
  /** A project-scoped admin token. */
  adminToken: string;
  /** Keys of every object in the image bucket. */
  objects(): Promise<string[]>;
  /** Bytes in files on the S3 server's disk (objects and multipart parts), outside its own metadata. */
  bytesOnDisk(): number;
  stop(): Promise<void>;
}

export const BUCKET = 'test-images';

/** `importAllowed`: web servers of the test that imports may reach (loopback is refused otherwise). */
export async function startGlanceEnv(opts: { sizeCap?: number; importAllowed?: Endpoint[]; uploadIdleSeconds?: number } = {}): Promise<GlanceEnv> {
  const identity = await startIdentityEnv();
  const dir = mkdtempSync(join(tmpdir(), 'glance-env-'));
  const s3 = await startEmbeddedS3({ directory: dir });
  const store = new ImageStore({ endpoint: s3.endpoint, bucket: BUCKET, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, partSize: 5 * 1024 * 1024 });
  await store.ensureBucket();
  const logger = createLogger('glance-test', 'error');
  // As `stratus up` sets it: the test's web servers allowed, the S3 server (this cloud's own) denied.
  const importFilter: ImportFilter = { ...DEFAULT_IMPORT_FILTER, allowed: opts.importAllowed ?? [], denied: [{ host: new URL(s3.endpoint).hostname, port: Number(new URL(s3.endpoint).port) }] };
  const manager = glanceManager({ store, sizeCap: opts.sizeCap, importFilter }, { kubeConfig: identity.kubeConfig, logger });
  await manager.start();
  const api = await startImageApi({ kubeConfig: identity.kubeConfig, logger, store, identityUrl: identity.v3, port: 0, sizeCap: opts.sizeCap, importFilter, uploadIdleSeconds: opts.uploadIdleSeconds });
  const signIn = await call(identity.v3, 'POST', '/auth/tokens', { body: passwordAuth('admin', identity.adminPassword, 'admin') });
  const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : [join(d, e.name)]));
  return {
    identity,
    s3,
    store,
    manager,
    api,
    v2: `${api.url}/v2`,
    adminToken: signIn.headers.get('x-subject-token')!,
    objects: async () => ((await store.s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((o) => o.Key!).sort(),
    bytesOnDisk: () => files(dir).filter((f) => !f.endsWith('.json')).reduce((n, f) => n + statSync(f).size, 0),
    async stop() {
      await api.close();
      await manager.stop();
      store.destroy();
      await s3.close();
      await identity.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
