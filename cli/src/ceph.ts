/**
 * `stratus up --ceph`: image data and backups on a single-node Ceph's RADOS Gateway instead of the embedded S3
 * server, and volumes as RBD images instead of files. Either a cluster of the cloud's own in its folder
 * (DATA/ceph, made and started by hack/ceph-up.sh, resumed with the cloud, stopped with it), or, with
 * `--ceph-cluster DIR`, a share of a running cluster made by hack/ceph-up.sh (hack/ceph-share.sh: a pool, a
 * cephx user and an RGW tenant of the cloud's own, removed when the cloud is; the cluster is left running).
 * What the cloud uses is recorded in DATA/ceph.json, for the cloud's own later runs and for tests.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = new URL('../../../', import.meta.url).pathname;

/** A cloud's Ceph as DATA/ceph.json records it. */
export interface CloudCeph {
  /** The cluster's folder (hack/ceph-up.sh's DIR): ceph.conf, client.admin.keyring, run/*.pid. */
  cluster: string;
  /** A share of a cluster that is not the cloud's own. */
  shared: boolean;
  /** The share's name (pool volumes-NAME, client.cinder-NAME, RGW tenant NAME), when shared. */
  name?: string;
  /** Cinder's RBD pool and cephx user, its keyring, and the nodes' libvirt secret UUID. */
  pool: string;
  user: string;
  keyring: string;
  secretUuid: string;
  /** The S3 user's endpoint and keys (JSON). */
  s3File: string;
}

export interface LocalCeph {
  ceph: CloudCeph;
  /** The gateway's S3 endpoint and its user's keys. */
  s3: { endpoint: string; accessKeyId: string; secretAccessKey: string };
  /** Cinder's RBD backend and the nodes' key, as the operators' environment. */
  rbdEnv: Record<string, string>;
  stop(): Promise<void>;
}

const recordFile = (dataDir: string) => join(dataDir, 'ceph.json');

/** The Ceph a cloud uses, if it was started with --ceph. */
export function cloudCephOf(dataDir: string): CloudCeph | undefined {
  return existsSync(recordFile(dataDir)) ? (JSON.parse(readFileSync(recordFile(dataDir), 'utf8')) as CloudCeph) : undefined;
}

const failed = (what: string) => (e: Error & { stderr?: string }) => {
  throw new Error(`${what}: ${e.stderr?.trim().split('\n').slice(-5).join('\n') || e.message}`);
};

/**
 * Starts (or resumes) the cloud's Ceph: its own (`ports` are used only when the cluster is first made), or its
 * share of the running cluster in `sharedCluster`.
 */
export async function startLocalCeph(dataDir: string, ports: { mon: number; monV2: number; rgw: number }, sharedCluster?: string): Promise<LocalCeph> {
  const before = cloudCephOf(dataDir);
  const secretUuid = before?.secretUuid ?? randomUUID();
  // The name stays the cloud's across restarts.
  const name = before?.name ?? `stratus-${randomBytes(4).toString('hex')}`;
  const share = join(dataDir, 'ceph-share');
  const own = join(dataDir, 'ceph');
  const ceph: CloudCeph = sharedCluster
    ? { cluster: sharedCluster, shared: true, name, pool: `volumes-${name}`, user: `cinder-${name}`, keyring: join(share, 'client.cinder.keyring'), secretUuid, s3File: join(share, 's3.json') }
    : { cluster: own, shared: false, pool: 'volumes', user: 'cinder', keyring: join(own, 'client.cinder.keyring'), secretUuid, s3File: join(own, 's3.json') };
  // Recorded first: a Ceph or share half-made by a failed start is found and removed with the cloud.
  writeFileSync(recordFile(dataDir), JSON.stringify(ceph, null, 2) + '\n');
  if (sharedCluster) {
    mkdirSync(share, { recursive: true });
    // hack/ceph-up.sh is idempotent: it starts what is not running of an existing cluster, on its own ports.
    await run(join(ROOT, 'hack/ceph-up.sh'), [sharedCluster], { maxBuffer: 1 << 20 }).catch(failed(`Ceph in ${sharedCluster} is not running`));
    await run(join(ROOT, 'hack/ceph-share.sh'), [sharedCluster, share, name], { maxBuffer: 1 << 20 }).catch(failed(`no share of Ceph in ${sharedCluster}`));
  } else {
    const env = { ...process.env, CEPH_MON_PORT: String(ports.mon), CEPH_MON_V2_PORT: String(ports.monV2), CEPH_RGW_PORT: String(ports.rgw) };
    await run(join(ROOT, 'hack/ceph-up.sh'), [own], { env, maxBuffer: 1 << 20 }).catch(failed(`Ceph did not come up in ${own}`));
  }
  return {
    ceph,
    s3: JSON.parse(readFileSync(ceph.s3File, 'utf8')),
    rbdEnv: {
      CINDER_RBD_POOL: ceph.pool,
      CINDER_RBD_CONF: join(ceph.cluster, 'ceph.conf'),
      CINDER_RBD_USER: ceph.user,
      CINDER_RBD_KEYRING: ceph.keyring,
      CINDER_RBD_SECRET_UUID: ceph.secretUuid,
      NOVA_CEPH_KEYRING: ceph.keyring,
    },
    stop: () => stopLocalCeph(dataDir),
  };
}

/**
 * Stops the cloud's Ceph, if it has one of its own (`purge`: its data too). A share is left in its running
 * cluster, and with `purge` removed from it.
 */
export async function stopLocalCeph(dataDir: string, purge = false): Promise<void> {
  const ceph = cloudCephOf(dataDir);
  if (!ceph) return;
  // The nodes' secret goes with the keys (it is defined again from the keyring when needed).
  if (purge) await run('virsh', ['-q', '-c', 'qemu:///system', 'secret-undefine', ceph.secretUuid]).catch(() => {});
  if (ceph.shared) {
    if (purge) await run(join(ROOT, 'hack/ceph-share.sh'), [ceph.cluster, join(dataDir, 'ceph-share'), ceph.name!, '--remove']);
    return;
  }
  if (!existsSync(join(ceph.cluster, 'ceph.conf'))) return;
  await run(join(ROOT, 'hack/ceph-down.sh'), [ceph.cluster, ...(purge ? ['--purge'] : [])]);
}

/**
 * With --kubevirt too: what a cluster's ceph-csi would be configured with for Cinder's Ceph, so the kubevirt
 * driver hot-plugs RBD volumes as static ceph-csi PersistentVolumes. The clusterID is the Ceph cluster's fsid
 * (as ceph-csi's config map usually keys it); the node-stage Secret holds Cinder's cephx user and key.
 */
export const CEPH_CSI_SECRET = { namespace: 'ceph-csi', name: 'csi-rbd-secret' };

export function cephCsiOf(ceph: CloudCeph): { clusterID: string; secret: { userID: string; userKey: string } } {
  const fsid = /^\s*fsid\s*=\s*(\S+)/m.exec(readFileSync(join(ceph.cluster, 'ceph.conf'), 'utf8'))?.[1];
  const key = /^\s*key\s*=\s*(\S+)/m.exec(readFileSync(ceph.keyring, 'utf8'))?.[1];
  if (!fsid || !key) throw new Error(`${ceph.cluster}: no fsid in ceph.conf or no key in ${ceph.keyring}`);
  return { clusterID: fsid, secret: { userID: ceph.user, userKey: key } };
}
