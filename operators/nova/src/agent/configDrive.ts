/**
 * The cloud-init NoCloud config drive an instance boots with: a small FAT disk labelled `cidata` holding
 * meta-data (instance ID, hostname, SSH keys, metadata) and user-data. What it holds is decided by a pure
 * function; writing it uses mkfs.vfat and mcopy, so nothing is mounted.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';

const run = promisify(execFile);

export interface ConfigDriveInput {
  instanceId: string;
  hostname: string;
  /** OpenSSH public keys for the default user. */
  publicKeys: string[];
  /** The instance's key/value metadata (Nova's server metadata). */
  metadata: Record<string, string>;
  availabilityZone?: string;
  /** User data, decoded. */
  userData?: Buffer;
  /** The admin password Nova's API returned (its admin_pass), for the guest to set. */
  adminPass?: string;
}

export type ConfigDriveFiles = Record<'meta-data' | 'user-data', Buffer>;

/** The files of the drive, as cloud-init's NoCloud data source reads them. */
export function configDriveFiles(input: ConfigDriveInput): ConfigDriveFiles {
  const meta = {
    'instance-id': input.instanceId,
    'local-hostname': input.hostname,
    ...(input.publicKeys.length ? { 'public-keys': input.publicKeys } : {}),
    ...(input.availabilityZone ? { 'availability-zone': input.availabilityZone } : {}),
    ...(Object.keys(input.metadata).length ? { meta: input.metadata } : {}),
    ...(input.adminPass ? { admin_pass: input.adminPass } : {}),
  };
  return { 'meta-data': Buffer.from(stringify(meta)), 'user-data': input.userData ?? Buffer.alloc(0) };
}

/** A hostname from a display name, as Nova makes one: lower case, letters, digits and hyphens, at most 63. */
export function hostnameOf(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return cleaned || 'server';
}

/** Writes the drive to `path` (replacing it whole, never half-written). */
export async function writeConfigDrive(path: string, files: ConfigDriveFiles): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'config-drive-'));
  try {
    const names = Object.keys(files) as Array<keyof ConfigDriveFiles>;
    for (const name of names) await writeFile(join(work, name), files[name]);
    const bytes = names.reduce((n, k) => n + files[k].length, 0);
    const kib = Math.max(1024, Math.ceil((bytes * 2) / 1024) + 256);
    const image = join(work, 'drive.img');
    await run('mkfs.vfat', ['-C', '-n', 'CIDATA', image, String(kib)]);
    await run('mcopy', ['-i', image, ...names.map((n) => join(work, n)), '::']);
    // It holds the admin password and user data: the owner's only (libvirt lends it to QEMU's user).
    await chmod(image, 0o600);
    await rename(image, path).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EXDEV') throw e;
      // Another file system: copy beside the target, then rename into place.
      await run('cp', [image, `${path}.part`]);
      await chmod(`${path}.part`, 0o600);
      await rename(`${path}.part`, path);
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
