/**
 * The cephx keys guests' RBD disks are opened with, as libvirt secrets (Nova's rbd_secret_uuid): defined
 * through libvirt's secret API from the node's own keyring before a guest that needs one is defined or a disk
 * plugged, its value handed over in a private file, never on a command line, and never readable back (private).
 * libvirt gives the key to QEMU as an encrypted secret object; the volume's connection names only the UUID.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLBuilder } from 'fast-xml-parser';
import type { GuestDisk } from '../types.js';
import type { Virsh } from './virsh.js';

/** The key of `client.<user>` in a keyring's text, if it has one. Pure. */
export function keyOf(keyring: string, user: string): string | undefined {
  let inSection = false;
  for (const raw of keyring.split('\n')) {
    const line = raw.trim();
    const section = /^\[(.+)\]$/.exec(line);
    if (section) inSection = section[1] === `client.${user}`;
    else if (inSection) {
      const m = /^key\s*=\s*(\S+)$/.exec(line);
      if (m) return m[1];
    }
  }
  return undefined;
}

/** A persistent, private secret of usage ceph (its usage name carries the UUID: several clouds share a libvirtd). Pure. */
export function secretXml(uuid: string, user: string): string {
  return new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true }).build({
    secret: { '@_ephemeral': 'no', '@_private': 'yes', uuid, usage: { '@_type': 'ceph', name: `client.${user} secret ${uuid}` } },
  });
}

export class CephSecrets {
  private readonly defined = new Set<string>();

  /** `keyring`: the node's keyring file (NOVA_CEPH_KEYRING) holding the keys of the users its volumes name. */
  constructor(
    private readonly virsh: Virsh,
    private readonly keyring: string | undefined,
    private readonly tmpDir?: string,
  ) {}

  /** The key of `user`, from the node's keyring. */
  async key(user: string): Promise<string> {
    if (!this.keyring) throw new Error(`an RBD disk of client.${user} cannot be opened: this node has no Ceph keyring (NOVA_CEPH_KEYRING)`);
    const key = keyOf(await readFile(this.keyring, 'utf8'), user);
    if (!key) throw new Error(`an RBD disk of client.${user} cannot be opened: ${this.keyring} has no key for client.${user}`);
    return key;
  }

  /** Makes sure every secret the disks name is defined, with its user's key. */
  async ensure(disks: readonly GuestDisk[]): Promise<void> {
    for (const d of disks) {
      const auth = d.network?.auth;
      if (!auth || this.defined.has(auth.secretUuid)) continue;
      const key = await this.key(auth.username);
      await withPrivateDir('stratus-secret-', async (dir) => {
        await writeFile(join(dir, 'secret.xml'), secretXml(auth.secretUuid, auth.username), { mode: 0o600 });
        await this.virsh.run('secret-define', join(dir, 'secret.xml'));
        // The key as cephx writes it is base64: virsh decodes it into the secret's value.
        await writeFile(join(dir, 'key'), key, { mode: 0o600 });
        await this.virsh.run('secret-set-value', '--secret', auth.secretUuid, '--file', join(dir, 'key'));
      }, this.tmpDir);
      this.defined.add(auth.secretUuid);
    }
  }
}

/**
 * Runs `use` with a private temporary folder (under `base`: the agent's own, emptied when it starts, so a
 * process killed in between leaves nothing behind for good), removed after.
 */
export async function withPrivateDir<T>(prefix: string, use: (dir: string) => Promise<T>, base = tmpdir()): Promise<T> {
  const dir = await mkdtemp(join(base, prefix));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
