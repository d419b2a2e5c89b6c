/**
 * `stratus up` as a child process on free ports and a temporary data directory, as a user would run it:
 * what the e2e tests and the benchmarks start a cloud with.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_IMAGE_BUCKET, type StoreConfig } from '@stratus/glance';
import { removeGuestsUnder } from '@stratus/nova';
import { ovnLayout, removeNetns } from '@stratus/neutron';
import { S3_CREDENTIALS_FILE } from './s3.js';
import { cloudCephOf, stopLocalCeph } from './ceph.js';

export { cloudCephOf, type CloudCeph } from './ceph.js';

const MAIN = new URL('./main.js', import.meta.url).pathname;

export interface RunningCloud {
  dir: string;
  /** Everything `stratus up` printed so far. */
  output(): string;
  /** What the control plane refused the cloud's own processes (their chart ServiceAccounts), one line each. */
  serviceAccountRefusals(): string[];
  kubeconfig: string;
  cloudsYaml: string;
  /** The embedded S3 server holding image data: its endpoint (as `stratus up` printed it), bucket and credentials. */
  s3(): StoreConfig;
  /** The admin's Identity URL and password, as clouds.yaml has them. */
  admin(): { authUrl: string; password: string };
  process: ChildProcess;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** Removes the guests its compute node made (they outlive their agent) and the data directory (after stop). */
  remove(): Promise<void>;
}

/**
 * Starts `stratus up` in a new temporary data directory, or in `existingDir` (a state folder to resume), and
 * waits until it says it is up: three minutes at most, as a busy shared machine can take that long.
 * `imageImportAllow`: web servers (host:port) image imports may reach although they are on loopback, as a test's are.
 * `env`: settings for this cloud's processes (STRATUS_RESTART_BACKOFF_MAX_SECONDS, say); `args`: more flags (--kubevirt).
 */
export async function startCloud(timeoutMs = 180_000, existingDir?: string, opts: { imageImportAllow?: string[]; env?: NodeJS.ProcessEnv; args?: string[] } = {}): Promise<RunningCloud> {
  const dir = existingDir ?? mkdtempSync(join(tmpdir(), 'stratus-up-'));
  chmodSync(dir, 0o711); // QEMU runs guests as its own user: it must pass through to their disks, not list the folder

  const allow = opts.imageImportAllow?.length ? ['--image-import-allow', opts.imageImportAllow.join(',')] : [];
  const up = spawn(process.execPath, [MAIN, '--data-dir', dir, '--port', '0', '--api-port', '0', '--s3-port', '0', '--service-ports', 'free', ...allow, ...(opts.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, STRATUS_LOG_LEVEL: 'warn', ...opts.env },
  });
  let out = '';
  let err = '';
  up.stdout!.on('data', (d) => (out += d));
  up.stderr!.on('data', (d) => (err += d));
  const deadline = Date.now() + timeoutMs;
  while (!out.includes('Stratus is up') && Date.now() < deadline && up.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  if (!out.includes('Stratus is up')) {
    up.kill('SIGKILL');
    if (up.exitCode === null && up.signalCode === null) await new Promise((r) => up.once('exit', r));
    // A folder made here for a cloud that never came up is no one's to keep, nor its guests, its Ceph (daemons of
    // its own would outlive the folder) or its network namespaces.
    if (!existingDir) await removeCloudState(dir);
    throw new Error(`stratus up did not come up (exit ${up.exitCode}):\n${out}\n${err.slice(-4000)}`);
  }
  return {
    dir,
    output: () => out,
    serviceAccountRefusals: () => `${out}\n${err}`.split('\n').filter((l) => l.includes('service account forbidden')),
    kubeconfig: join(dir, 'kubeconfig'),
    cloudsYaml: join(dir, 'clouds.yaml'),
    s3() {
      const m = /S3 \(image data\): (http:\/\/\S+),/.exec(out);
      if (!m) throw new Error(`stratus up printed no S3 endpoint:\n${out}`);
      // The RADOS Gateway's user on a cloud started with --ceph, else the embedded server's credentials.
      const credentials = cloudCephOf(dir)?.s3File ?? join(dir, S3_CREDENTIALS_FILE);
      const { accessKeyId, secretAccessKey } = JSON.parse(readFileSync(credentials, 'utf8'));
      return { endpoint: m[1], bucket: DEFAULT_IMAGE_BUCKET, accessKeyId, secretAccessKey };
    },
    admin() {
      const auth = parse(readFileSync(join(dir, 'clouds.yaml'), 'utf8')).clouds.stratus.auth;
      return { authUrl: auth.auth_url, password: auth.password };
    },
    process: up,
    stop: () =>
      new Promise((resolve) => {
        if (up.exitCode !== null || up.signalCode !== null) return resolve(up.exitCode);
        up.once('exit', (code) => resolve(code));
        up.kill('SIGTERM');
      }),
    remove: () => removeCloudState(dir),
  };
}

/**
 * Removes what a stopped (or killed) cloud of `dir` leaves on the machine: its guests, the Ceph it ran, its
 * network namespaces and the folder itself.
 */
export async function removeCloudState(dir: string): Promise<void> {
  await removeGuestsUnder(dir).catch(() => []);
  // A Ceph it ran (--ceph) is stopped even if stratus up could not stop it.
  await stopLocalCeph(dir, true).catch(() => {});
  // With its guests gone, the node's namespace has nothing left in it.
  await removeNetns(ovnLayout(dir).netns).catch(() => {});
  await removeNetns(ovnLayout(dir).externalNetns).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
