/**
 * `stratus up --ceph`: image data on a local single-node Ceph's RADOS Gateway instead of the embedded S3 server,
 * and volumes as RBD images in its pool `volumes` instead of files (Cinder's user client.cinder; the nodes'
 * libvirt secret holding its key has a UUID of the cluster's own, undefined when the cluster is purged).
 * The cluster lives in the cloud's own folder (DATA/ceph), started by hack/ceph-up.sh (idempotent: a resumed
 * cloud finds it where it was, on the ports it was made with) and stopped by hack/ceph-down.sh.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = new URL('../../../', import.meta.url).pathname;

export interface LocalCeph {
  dir: string;
  /** The gateway's S3 endpoint and its user's keys. */
  s3: { endpoint: string; accessKeyId: string; secretAccessKey: string };
  /** Cinder's RBD backend and the nodes' key, as the operators' environment. */
  rbdEnv: Record<string, string>;
  stop(): Promise<void>;
}

/** The UUID of the libvirt secret holding client.cinder's key: one per cluster, kept in its folder. */
function secretUuidOf(dir: string): string {
  const file = join(dir, 'libvirt-secret-uuid');
  if (!existsSync(file)) writeFileSync(file, randomUUID() + '\n');
  return readFileSync(file, 'utf8').trim();
}

/** Where a cloud's Ceph keeps the S3 user it made: its credentials, read by a test as the embedded server's are. */
export const cephS3File = (dataDir: string) => join(dataDir, 'ceph', 's3.json');

/** Starts (or resumes) the cloud's Ceph: `ports` are used only when the cluster is first made. */
export async function startLocalCeph(dataDir: string, ports: { mon: number; monV2: number; rgw: number }): Promise<LocalCeph> {
  const dir = join(dataDir, 'ceph');
  const env = { ...process.env, CEPH_MON_PORT: String(ports.mon), CEPH_MON_V2_PORT: String(ports.monV2), CEPH_RGW_PORT: String(ports.rgw) };
  await run(join(ROOT, 'hack/ceph-up.sh'), [dir], { env, maxBuffer: 1 << 20 }).catch((e: Error & { stderr?: string }) => {
    throw new Error(`Ceph did not come up in ${dir}: ${e.stderr?.trim().split('\n').slice(-5).join('\n') ?? e.message}`);
  });
  const keyring = join(dir, 'client.cinder.keyring');
  return {
    dir,
    s3: JSON.parse(readFileSync(cephS3File(dataDir), 'utf8')),
    rbdEnv: {
      CINDER_RBD_POOL: 'volumes',
      CINDER_RBD_CONF: join(dir, 'ceph.conf'),
      CINDER_RBD_USER: 'cinder',
      CINDER_RBD_KEYRING: keyring,
      CINDER_RBD_SECRET_UUID: secretUuidOf(dir),
      NOVA_CEPH_KEYRING: keyring,
    },
    stop: () => stopLocalCeph(dataDir),
  };
}

/** Stops the cloud's Ceph, if it has one (`purge`: its data too). */
export async function stopLocalCeph(dataDir: string, purge = false): Promise<void> {
  const dir = join(dataDir, 'ceph');
  if (!existsSync(join(dir, 'ceph.conf'))) return;
  // The nodes' secret goes with the cluster's keys (it is defined again from the keyring when needed).
  if (purge && existsSync(join(dir, 'libvirt-secret-uuid'))) await run('virsh', ['-q', '-c', 'qemu:///system', 'secret-undefine', secretUuidOf(dir)]).catch(() => {});
  await run(join(ROOT, 'hack/ceph-down.sh'), [dir, ...(purge ? ['--purge'] : [])]);
}
