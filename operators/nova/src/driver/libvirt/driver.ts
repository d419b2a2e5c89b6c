/**
 * The libvirt compute driver: guests are libvirt domains on this host, named instance-<uuid>, reached by UUID.
 * It runs them under KVM where the host can, and under QEMU's emulation (TCG) otherwise.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { promisify } from 'node:util';
import { access, readFile, writeFile } from 'node:fs/promises';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { KvmFailure, type ComputeDriver, type GuestDisk, type GuestListing, type GuestNic, type GuestPower, type GuestSpec, type GuestState, type GuestStats, type HostFacts, type NetworkDisk } from '../types.js';
import { parseDomStats } from './domstats.js';
import { METADATA_NAMESPACE, backupXml, diskXml, domainXml, interfaceXml, metadataOf, probeXml, type VirtType } from './domainXml.js';
import { LibvirtError, Virsh } from './virsh.js';
import { CephSecrets, withPrivateDir } from './cephSecrets.js';

const run = promisify(execFile);

/** Domains this driver made, and only those, are named so. */
export const DOMAIN_PREFIX = 'instance-';
export const domainNameOf = (uuid: string) => `${DOMAIN_PREFIX}${uuid}`;
export const uuidOfDomain = (name: string) => (name.startsWith(DOMAIN_PREFIX) ? name.slice(DOMAIN_PREFIX.length) : undefined);

export interface LibvirtOptions {
  uri: string;
  /** kvm, qemu (emulation), or auto: kvm when /dev/kvm is usable and libvirt offers it (Nova's virt_type). */
  virtType: VirtType | 'auto';
  /** Where the choice to stop using a failing KVM is remembered across restarts. */
  fallbackFile: string;
  /** The address guests' VNC displays listen on (Nova's [vnc] server_listen): loopback on one machine, the node's address when a console proxy elsewhere must reach them. */
  vncListen?: string;
  /** The node's Ceph keyring (NOVA_CEPH_KEYRING): the keys of the cephx users RBD volumes name. */
  cephKeyring?: string;
  /** Where its private temporary files go (definitions, keys): the agent's own folder, emptied when it starts. */
  tmpDir?: string;
}

/** virsh's state words (virshDomainState), as GuestPower; a guest asleep in ACPI S3 (pmsuspended) is nothing we drive. */
const POWER: Record<string, GuestPower> = { 'no state': 'nostate', running: 'running', idle: 'running', paused: 'paused', 'in shutdown': 'stopping', 'shut off': 'shutoff', crashed: 'crashed', pmsuspended: 'nostate' };

/** `virsh domstate --reason` output, e.g. "shut off (saved)", as a GuestState. */
export function parseDomState(text: string, saved: boolean): GuestState {
  const m = /^([a-z ]+?)(?: \(([^)]*)\))?$/.exec(text.trim());
  const word = m?.[1] ?? 'no state';
  return { power: POWER[word] ?? 'nostate', reason: m?.[2] ?? 'unknown', saved };
}

export class LibvirtDriver implements ComputeDriver {
  readonly virsh: Virsh;
  private chosen?: VirtType;
  private readonly secrets: CephSecrets;

  constructor(private readonly opts: LibvirtOptions) {
    this.virsh = new Virsh(opts.uri);
    this.secrets = new CephSecrets(this.virsh, opts.cephKeyring, opts.tmpDir);
  }

  /** The virtualization type guests are defined with, decided once. */
  async virtType(): Promise<VirtType> {
    if (this.chosen) return this.chosen;
    if (this.opts.virtType !== 'auto') return (this.chosen = this.opts.virtType);
    const fellBack = await readFile(this.opts.fallbackFile, 'utf8').catch(() => undefined);
    if (fellBack) return (this.chosen = 'qemu');
    const kvm = await probeKvm(this.virsh, this.opts.tmpDir);
    // A KVM that is there but fails is remembered; a host without KVM just emulates (and uses KVM once it has it).
    if (kvm.broken) await this.abandonKvm(kvm.broken);
    return (this.chosen = kvm.usable ? 'kvm' : 'qemu');
  }

  /**
   * KVM failed a guest here (the hypervisor paused it for no reason a person gave: the emulation failure of
   * a host whose nested virtualization is incomplete). From now on guests run emulated; the file says why.
   */
  async abandonKvm(why: string): Promise<void> {
    this.chosen = 'qemu';
    await writeFile(this.opts.fallbackFile, `${new Date().toISOString()} ${why}\n`);
  }

  async hostFacts(): Promise<HostFacts> {
    const info = Object.fromEntries(
      (await this.virsh.run('nodeinfo'))
        .split('\n')
        .map((l) => l.split(/:\s+/))
        .filter((p) => p.length === 2),
    );
    const version = /Running hypervisor: QEMU ([\d.]+)/.exec(await this.virsh.run('version'))?.[1] ?? 'unknown';
    return {
      cpus: Number(info['CPU(s)']),
      // The kernel's total, not libvirt's NUMA-cell sum, which some hosts (sandboxes, cgroups) report short.
      memoryMiB: Math.floor(totalmem() / 1024 ** 2),
      hypervisorType: (await this.virtType()) === 'kvm' ? 'KVM' : 'QEMU',
      hypervisorVersion: version,
      architecture: info['CPU model'] ?? 'x86_64',
    };
  }

  async guests(): Promise<GuestListing[]> {
    const names = (await this.virsh.run('list', '--all', '--name')).split('\n').map((l) => l.trim()).filter((n) => uuidOfDomain(n));
    const out: GuestListing[] = [];
    for (const name of names) {
      const uuid = uuidOfDomain(name)!;
      const metadata = await this.virsh.tolerant([], 'metadata', uuid, METADATA_NAMESPACE);
      if (metadata === undefined) continue; // undefined meanwhile
      out.push({ uuid, name, metadata: metadataOf(`<domain><metadata>${metadata}</metadata></domain>`) });
    }
    return out;
  }

  async runningCount(): Promise<number> {
    return (await this.virsh.run('list', '--name')).split('\n').filter((n) => uuidOfDomain(n.trim())).length;
  }

  async state(uuid: string): Promise<GuestState | undefined> {
    const text = await this.virsh.tolerant([], 'domstate', '--reason', uuid);
    if (text === undefined) return undefined;
    // A saved guest is "shut off (saved)"; after a libvirtd restart the reason may be lost, dominfo is not.
    const saved = /\(saved\)/.test(text) || (/^shut off/.test(text.trim()) && /Managed save:\s+yes/.test((await this.virsh.tolerant([], 'dominfo', uuid)) ?? ''));
    return parseDomState(text, saved);
  }

  async stats(uuid: string): Promise<GuestStats | undefined> {
    const text = await this.virsh.tolerant([], 'domstats', '--raw', '--state', '--cpu-total', '--balloon', '--vcpu', '--interface', '--block', uuid);
    return text === undefined ? undefined : parseDomStats(text);
  }

  async define(spec: GuestSpec): Promise<void> {
    await this.secrets.ensure(spec.disks);
    const xml = domainXml(spec, await this.virtType(), this.opts.vncListen);
    await this.withXmlFile('stratus-domain-', xml, (file) => this.virsh.run('define', file));
  }

  async start(uuid: string, opts: { paused?: boolean } = {}): Promise<void> {
    try {
      await this.virsh.run('start', uuid, ...(opts.paused ? ['--paused'] : []));
    } catch (e) {
      if (e instanceof LibvirtError && /\bkvm/i.test(e.detail) && this.chosen === 'kvm') throw new KvmFailure(`QEMU could not start the guest under KVM: ${e.detail}`);
      throw e;
    }
  }

  async shutdown(uuid: string): Promise<void> {
    await this.virsh.tolerant(['InvalidState'], 'shutdown', uuid, '--mode', 'acpi');
  }

  async destroy(uuid: string): Promise<void> {
    await this.virsh.tolerant(['InvalidState'], 'destroy', uuid);
  }

  async pause(uuid: string): Promise<void> {
    await this.virsh.run('suspend', uuid);
  }

  async unpause(uuid: string): Promise<void> {
    await this.virsh.run('resume', uuid);
  }

  async save(uuid: string): Promise<void> {
    // Restored running whatever it was when saved: resuming a suspended server runs it, as in Nova.
    await this.virsh.run('managedsave', uuid, '--running');
  }

  async discardSave(uuid: string): Promise<void> {
    await this.virsh.tolerant(['InvalidState'], 'managedsave-remove', uuid);
  }

  async reboot(uuid: string): Promise<void> {
    await this.virsh.run('reboot', uuid, '--mode', 'acpi');
  }

  async attachNic(uuid: string, nic: GuestNic): Promise<void> {
    await this.withXmlFile('stratus-device-', interfaceXml(nic), (file) => this.virsh.run('attach-device', uuid, file, '--live'));
  }

  async detachNic(uuid: string, nic: GuestNic): Promise<void> {
    await this.withXmlFile('stratus-device-', interfaceXml(nic), (file) => this.virsh.run('detach-device', uuid, file, '--live'));
  }

  /**
   * Plugs the disk unless it is plugged at its target already: an agent that died mid-plug may have left it
   * plugged, or its virsh may finish the plug meanwhile (then this one's attach fails, and the disk is there).
   * Any other failure is the caller's: the disk is not plugged.
   */
  async attachDisk(uuid: string, disk: GuestDisk): Promise<void> {
    if (await this.diskPlugged(uuid, disk.target)) return;
    await this.secrets.ensure([disk]);
    try {
      await this.withXmlFile('stratus-device-', diskXml(disk), (file) => this.virsh.run('attach-device', uuid, file, '--live'));
    } catch (e) {
      if (await this.diskPlugged(uuid, disk.target)) return;
      throw e;
    }
  }

  /** Whether the running guest has a disk at `target` (domblklist: the live definition). */
  private async diskPlugged(uuid: string, target: string): Promise<boolean> {
    return (await this.virsh.run('domblklist', uuid)).split('\n').some((line) => line.trim().split(/\s+/)[0] === target);
  }

  /**
   * Asks the guest to let the disk go and waits (a generous bound) until the hypervisor says it is gone. A guest
   * may miss the request (busy, or not yet listening for it), so it is asked again every `askEveryMs`, as Nova's
   * libvirt driver does (device_detach_timeout); QEMU refuses a request while one is pending, which is no error.
   */
  async detachDisk(uuid: string, disk: GuestDisk, timeoutMs = 60_000, askEveryMs = 20_000): Promise<void> {
    const plugged = () => this.diskPlugged(uuid, disk.target);
    // Gone already (an agent that died after asking): nothing to ask again.
    if (!(await plugged())) return;
    const ask = () => this.withXmlFile('stratus-device-', diskXml(disk), (file) => this.virsh.run('detach-device', uuid, file, '--live'));
    await ask();
    const deadline = Date.now() + timeoutMs;
    let askedAt = Date.now();
    for (;;) {
      if (!(await plugged())) return;
      if (Date.now() > deadline) throw new Error(`the guest did not let disk ${disk.target} go within ${timeoutMs / 1000} s`);
      if (Date.now() - askedAt >= askEveryMs) {
        askedAt = Date.now();
        // Refused while the first is pending (or the disk went meanwhile): the wait goes on, bounded as before.
        await ask().catch((e: unknown) => {
          if (!(e instanceof LibvirtError)) throw e;
        });
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async resizeDisk(uuid: string, target: string, bytes: number): Promise<void> {
    await this.virsh.run('blockresize', uuid, target, `${bytes}B`);
  }

  /** virsh reads domain, device and backup XML from a file only: a private temporary one, removed after use. */
  private withXmlFile<T>(prefix: string, xml: string, use: (file: string) => Promise<T>): Promise<T> {
    return withXmlFile(prefix, xml, use, this.opts.tmpDir);
  }

  /** An RBD disk at rest copied by qemu-img, its key handed over in a private file as a QEMU secret object. */
  private async copyRbdDisk(n: NetworkDisk, to: string): Promise<void> {
    const key = n.auth ? await this.secrets.key(n.auth.username) : undefined;
    await withPrivateDir('stratus-rbd-', async (dir) => {
      const [pool, image] = n.name.split('/');
      const opts = [`driver=rbd`, `pool=${pool}`, `image=${image}`, ...n.hosts.flatMap((h, i) => [`server.${i}.host=${h.name}`, `server.${i}.port=${h.port}`])];
      const secret: string[] = [];
      if (n.auth && key) {
        await writeFile(join(dir, 'key'), key, { mode: 0o600 });
        secret.push('--object', `secret,id=cephx,file=${join(dir, 'key')},format=base64`);
        opts.push(`user=${n.auth.username}`, 'key-secret=cephx');
      }
      await run('qemu-img', ['convert', '-q', ...secret, '--image-opts', opts.join(','), '-O', 'qcow2', to]);
    }, this.opts.tmpDir);
  }

  async undefine(uuid: string): Promise<void> {
    await this.virsh.tolerant([], 'undefine', uuid, '--managed-save', '--nvram');
  }

  async snapshotDisk(spec: GuestSpec, diskTarget: string, to: string): Promise<void> {
    const disk = spec.disks.find((d) => d.target === diskTarget);
    if (!disk) throw new Error(`guest ${spec.name} has no disk ${diskTarget}`);
    const state = await this.state(spec.uuid);
    if (state?.power === 'shutoff' || state?.power === 'crashed' || !state) {
      // QEMU is not running: the file is at rest, and its whole backing chain is copied into one.
      if (!disk.network) await run('qemu-img', ['convert', '-q', '-O', 'qcow2', '-f', disk.format, disk.path, to]);
      else await this.copyRbdDisk(disk.network, to);
      return;
    }
    await this.withXmlFile('stratus-backup-', backupXml(spec, diskTarget, to), (file) => this.virsh.run('backup-begin', spec.uuid, file));
    // The backup is a job of the guest's QEMU: wait for it to end, then ask how it ended.
    while (/Job type:\s+(Backup|Unbounded|Bounded)/i.test((await this.virsh.tolerant(['InvalidState'], 'domjobinfo', spec.uuid)) ?? '')) await new Promise((r) => setTimeout(r, 100));
    const done = (await this.virsh.tolerant(['InvalidState'], 'domjobinfo', spec.uuid, '--completed')) ?? '';
    if (!/Job type:\s+Completed/.test(done)) throw new Error(`the backup of ${spec.name}'s disk ${diskTarget} did not complete: ${done.replace(/\s+/g, ' ').trim() || 'no job record'}`);
  }

  async vncAddress(uuid: string): Promise<string | undefined> {
    const display = (await this.virsh.tolerant(['InvalidState', 'Failed'], 'vncdisplay', uuid))?.trim();
    const m = display && /^(.*):(\d+)$/.exec(display);
    const host = m && (m[1] && m[1] !== '0.0.0.0' && m[1] !== '[::]' ? m[1] : (this.opts.vncListen ?? '127.0.0.1'));
    return m ? `${host}:${5900 + Number(m[2])}` : undefined;
  }

  watch(changed: (uuid: string) => void, onError: (err: Error) => void = () => {}): { stop(): void } {
    return this.virsh.lifecycleEvents((domain) => {
      const uuid = uuidOfDomain(domain);
      if (uuid) changed(uuid);
    }, onError);
  }
}

/**
 * Whether guests can run under KVM here: /dev/kvm must be there for us and libvirt must offer kvm domains
 * (else KVM is simply absent), and a throwaway KVM guest with the host's CPU model must start (else KVM is
 * broken, as where nested virtualization is incomplete and QEMU dies setting up the vCPU).
 */
async function probeKvm(virsh: Virsh, tmpDir = tmpdir()): Promise<{ usable: boolean; broken?: string }> {
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
    await virsh.run('domcapabilities', '--virttype', 'kvm');
  } catch {
    return { usable: false };
  }
  const name = `stratus-kvm-probe-${process.pid}`;
  try {
    await withXmlFile('stratus-kvm-probe-', probeXml(name), (file) => virsh.run('create', file), tmpDir);
    return { usable: true };
  } catch (e) {
    return { usable: false, broken: `a KVM guest would not start: ${e instanceof LibvirtError ? e.detail : (e as Error).message}` };
  } finally {
    await virsh.tolerant(['InvalidState'], 'destroy', name).catch(() => undefined);
  }
}

/** One XML document in a private temporary folder for the length of `use`. */
function withXmlFile<T>(prefix: string, xml: string, use: (file: string) => Promise<T>, tmpDir?: string): Promise<T> {
  return withPrivateDir(prefix, async (dir) => {
    await writeFile(join(dir, 'doc.xml'), xml, { mode: 0o600 });
    return use(join(dir, 'doc.xml'));
  }, tmpDir);
}
