/**
 * An instance's files on its host, all in one directory named by its UID: the root disk (a qcow2 overlay on
 * the cached image), ephemeral and swap disks, the config drive, the console log, and during a resize that
 * awaits confirmation, the root disk as it was. Removing the instance removes the directory.
 */
import { execFile } from 'node:child_process';
import { access, chmod, copyFile, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { GuestSpec } from '../driver/types.js';
import type { CachedImage } from './imageCache.js';

const run = promisify(execFile);
const GiB = 1024 ** 3;

export interface InstancePaths {
  dir: string;
  root: string;
  ephemeral: string;
  swap: string;
  configDrive: string;
  consoleLog: string;
  /** The root disk before a resize, kept until it is confirmed or reverted. */
  resizeBackup: string;
  /** The guest's definition as the agent last made it (JSON): what a hard reboot or resize defines again. */
  guestSpec: string;
  /** While rescued: the disk of the rescue image the guest boots from, and its config drive (the new admin password). */
  rescue: string;
  rescueConfigDrive: string;
}

export const exists = (path: string) => access(path).then(
  () => true,
  () => false,
);

export class InstanceFiles {
  constructor(readonly root: string) {}

  paths(uid: string): InstancePaths {
    const dir = join(this.root, uid);
    return {
      dir,
      root: join(dir, 'disk'),
      ephemeral: join(dir, 'disk.eph0'),
      swap: join(dir, 'disk.swap'),
      configDrive: join(dir, 'disk.config'),
      consoleLog: join(dir, 'console.log'),
      resizeBackup: join(dir, 'disk.resize-backup'),
      guestSpec: join(dir, 'guest.json'),
      rescue: join(dir, 'disk.rescue'),
      rescueConfigDrive: join(dir, 'disk.config.rescue'),
    };
  }

  /**
   * The instance's directory: passable by QEMU's user (which runs the guest), listable by no one else; its
   * files are the owner's only, and libvirt lends the disks to QEMU's user while the guest runs.
   */
  async prepare(uid: string): Promise<InstancePaths> {
    const p = this.paths(uid);
    await mkdir(p.dir, { recursive: true, mode: 0o711 });
    await chmod(p.dir, 0o711);
    return p;
  }

  /**
   * The root disk: a qcow2 overlay of `sizeGiB` on the cached image (a blank disk when the image boots as a
   * CD-ROM). Made once; an existing disk (say, after the agent restarted) is kept as it is.
   */
  async ensureRootDisk(uid: string, image: CachedImage, sizeGiB: number): Promise<void> {
    const { root } = this.paths(uid);
    if (await exists(root)) return;
    const size = Math.max(sizeGiB * GiB, image.cdrom ? GiB : image.virtualSize);
    const backing = image.cdrom ? [] : ['-b', image.path, '-F', image.format];
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', ...backing, `${root}.part`, String(size)]);
    await chmod(`${root}.part`, 0o600);
    await rename(`${root}.part`, root);
  }

  /** A fresh disk of the rescue image (a qcow2 overlay on its cached copy), replacing any earlier one. */
  async makeRescueDisk(uid: string, image: CachedImage): Promise<string> {
    const { rescue } = this.paths(uid);
    if (image.cdrom) throw new Error('a rescue image must be a disk image, not an ISO');
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image.path, '-F', image.format, `${rescue}.part`, String(image.virtualSize)]);
    await chmod(`${rescue}.part`, 0o600);
    await rename(`${rescue}.part`, rescue);
    return rescue;
  }

  async dropRescueDisk(uid: string): Promise<void> {
    const p = this.paths(uid);
    await rm(p.rescue, { force: true });
    await rm(p.rescueConfigDrive, { force: true });
  }

  /** A blank qcow2 disk of `sizeBytes` at `path`, unless there is one. */
  async ensureBlankDisk(path: string, sizeBytes: number): Promise<void> {
    if (await exists(path)) return;
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', `${path}.part`, String(sizeBytes)]);
    await chmod(`${path}.part`, 0o600);
    await rename(`${path}.part`, path);
  }

  /** Throws the root disk away (a rebuild makes a new one). */
  async dropRootDisk(uid: string): Promise<void> {
    await rm(this.paths(uid).root, { force: true });
  }

  /** Grows the root disk to `sizeGiB` (disks never shrink). */
  async growRootDisk(uid: string, sizeGiB: number): Promise<void> {
    const { root } = this.paths(uid);
    const info = JSON.parse((await run('qemu-img', ['info', '--output=json', '-U', root])).stdout) as { 'virtual-size': number };
    if (sizeGiB * GiB > info['virtual-size']) await run('qemu-img', ['resize', '-q', root, String(sizeGiB * GiB)]);
  }

  /** Keeps the root disk as it is, for a revert. */
  async backupForResize(uid: string): Promise<void> {
    const p = this.paths(uid);
    await copyFile(p.root, `${p.resizeBackup}.part`);
    await rename(`${p.resizeBackup}.part`, p.resizeBackup);
  }

  /** Puts the kept root disk back (a reverted resize). */
  async restoreResizeBackup(uid: string): Promise<boolean> {
    const p = this.paths(uid);
    if (!(await exists(p.resizeBackup))) return false;
    await rename(p.resizeBackup, p.root);
    return true;
  }

  async dropResizeBackup(uid: string): Promise<void> {
    await rm(this.paths(uid).resizeBackup, { force: true });
  }

  async saveGuestSpec(uid: string, spec: GuestSpec): Promise<void> {
    const { guestSpec } = this.paths(uid);
    await writeFile(`${guestSpec}.part`, JSON.stringify(spec, null, 2), { mode: 0o600 });
    await rename(`${guestSpec}.part`, guestSpec);
  }

  /** The guest's saved definition, or undefined when there is none. */
  async loadGuestSpec(uid: string): Promise<GuestSpec | undefined> {
    const text = await readFile(this.paths(uid).guestSpec, 'utf8').catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as GuestSpec);
  }

  /** Removes everything the instance had here. */
  async remove(uid: string): Promise<void> {
    await rm(this.paths(uid).dir, { recursive: true, force: true });
  }

  /** The UIDs of every instance with files here. */
  async list(): Promise<string[]> {
    return (await readdir(this.root, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => e.name);
  }
}
