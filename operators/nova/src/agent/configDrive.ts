/**
 * The cloud-init NoCloud config drive an instance boots with: a small FAT disk labelled `cidata` holding
 * meta-data (instance ID, hostname, SSH keys, metadata) and user-data. What it holds is decided by a pure
 * function; writing it uses mkfs.vfat and mcopy, so nothing is mounted.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile, chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import type { NicNetwork } from './vifs.js';

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
  /** The NICs and their addresses. */
  networks?: NicNetwork[];
}

export type ConfigDriveFiles = Record<'meta-data' | 'user-data', Buffer> & Partial<Record<'network-config' | 'network_data.json', Buffer>>;

const netmaskOf = (cidr: string) => {
  const bits = Number(cidr.split('/')[1]);
  return [0, 8, 16, 24].map((s) => ((0xffffffff << (32 - bits)) >>> (24 - s)) & 0xff).join('.');
};

/** OpenStack's network_data.json (Nova's format): links, networks (DHCP or static) and DNS services. */
export function networkDataJson(nics: NicNetwork[]): object {
  return {
    links: nics.map((n) => ({ id: n.device, vif_id: n.portId, type: 'ovs', mtu: n.mtu, ethernet_mac_address: n.mac })),
    networks: nics.flatMap((n) =>
      n.addresses.map((a, i) => ({
        id: `network${nics.indexOf(n)}${i ? `-${i}` : ''}`,
        link: n.device,
        network_id: n.networkId,
        ...(a.dhcp && !a.ip.includes(':')
          ? { type: 'ipv4_dhcp' }
          : { type: a.ip.includes(':') ? 'ipv6' : 'ipv4', ip_address: a.ip, netmask: a.ip.includes(':') ? a.cidr.split('/')[1] : netmaskOf(a.cidr), routes: a.gateway ? [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: a.gateway }] : [] }),
      })),
    ),
    services: [...new Set(nics.flatMap((n) => n.addresses.flatMap((a) => a.dns)))].map((address) => ({ type: 'dns', address })),
  };
}

/** The same as cloud-init's network config v2 (what its NoCloud data source reads): each NIC by its MAC. */
export function networkConfigV2(nics: NicNetwork[]): object {
  return {
    version: 2,
    ethernets: Object.fromEntries(
      nics.map((n, i) => {
        const dhcp = n.addresses.some((a) => a.dhcp && !a.ip.includes(':'));
        const statics = n.addresses.filter((a) => !(a.dhcp && !a.ip.includes(':')));
        const gateway = statics.find((a) => a.gateway)?.gateway;
        const dns = [...new Set(n.addresses.flatMap((a) => a.dns))];
        return [
          `eth${i}`,
          { match: { macaddress: n.mac }, 'set-name': `eth${i}`, mtu: n.mtu, dhcp4: dhcp, ...(statics.length ? { addresses: statics.map((a) => `${a.ip}/${a.cidr.split('/')[1]}`) } : {}), ...(gateway && !dhcp ? { gateway4: gateway } : {}), ...(dns.length ? { nameservers: { addresses: dns } } : {}) },
        ];
      }),
    ),
  };
}

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
  return {
    'meta-data': Buffer.from(stringify(meta)),
    'user-data': input.userData ?? Buffer.alloc(0),
    ...(input.networks?.length ? { 'network-config': Buffer.from(stringify(networkConfigV2(input.networks))), 'network_data.json': Buffer.from(JSON.stringify(networkDataJson(input.networks))) } : {}),
  };
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
  // Beside the drive, in the instance's folder: a process killed meanwhile leaves nothing outside it.
  const work = await mkdtemp(join(dirname(path), '.config-drive-'));
  try {
    const names = Object.keys(files) as Array<keyof ConfigDriveFiles>;
    for (const name of names) await writeFile(join(work, name), files[name]!);
    const bytes = names.reduce((n, k) => n + (files[k]?.length ?? 0), 0);
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
