/** An instance as the hypervisor runs it: its GuestSpec, from its flavor, image and files. Pure. */
import type { Image } from '@stratus/glance';
import { domainNameOf } from '../driver/libvirt/driver.js';
import type { GuestDisk, GuestNic, GuestSpec } from '../driver/types.js';
import type { FlavorSnapshot, Instance } from '../resources.js';
import type { CachedImage } from './imageCache.js';
import type { InstancePaths } from './instanceFiles.js';

/** Hands out disk names on a bus in order: vda, vdb, … or sda, sdb, …, past the names `taken`. */
function targets(prefix: string, taken: ReadonlySet<string> = new Set()) {
  let next = 0;
  return () => {
    let name: string;
    do name = `${prefix}${String.fromCharCode(97 + next++)}`;
    while (taken.has(name));
    return name;
  };
}

/**
 * The last free name on a bus (vdz, or sdz, else the one before): where Nova's libvirt driver puts the config
 * drive (blockinfo's last_device), so that the first volume attached takes the next name after the guest's
 * own disks (vdb on a plain flavor), as on OpenStack.
 */
function lastTarget(prefix: string, disks: readonly GuestDisk[]): string {
  const used = new Set(disks.map((d) => d.target));
  for (let i = 25; i >= 0; i--) {
    const t = `${prefix}${String.fromCharCode(97 + i)}`;
    if (!used.has(t)) return t;
  }
  throw new Error('no free device name is left on the bus');
}

/**
 * The names a guest booted from an image gives its own disks on the virtio bus: root, the flavor's ephemeral and
 * swap disks, and the config drive at the end; a volume attached takes a name outside them (Nova's API reserves
 * one before the node plugs it). Pure; guestSpecOf gives the same names.
 */
export function ownDiskTargets(flavor: Pick<FlavorSnapshot, 'ephemeralGiB' | 'swapMiB'> | undefined): string[] {
  const disk = targets('vd');
  const own = [disk(), ...(flavor?.ephemeralGiB ? [disk()] : []), ...(flavor?.swapMiB ? [disk()] : [])];
  return [...own, lastTarget('vd', own.map((target) => ({ target }) as GuestDisk))];
}

/** `agentHome`: the state folder of the agent making it, so agents sharing a libvirt tell their guests apart. */
/** `bootVolume`: the instance boots from that volume's disk, not from a disk made on the cached image. */
export function guestSpecOf(inst: Instance, flavor: FlavorSnapshot, image: Image, cached: CachedImage | undefined, paths: InstancePaths, agentHome: string, nics: GuestNic[] = [], bootVolume?: GuestDisk): GuestSpec {
  const props = image.spec.properties ?? {};
  const machineType = props.hw_machine_type;
  const bus: GuestDisk['bus'] = props.hw_disk_bus === 'sata' ? 'sata' : 'virtio';
  const disk = targets(bus === 'virtio' ? 'vd' : 'sd');
  const disks: GuestDisk[] = [];
  // An ISO boots from a CD-ROM (IDE on the default i440fx machine, SATA on q35), with a blank root disk beside it.
  if (cached?.cdrom) {
    const cdromBus = machineType?.includes('q35') ? 'sata' : 'ide';
    disks.push({ path: cached.path, format: 'raw', device: 'cdrom', bus: cdromBus, target: cdromBus === 'ide' ? 'hdc' : 'sdz', readOnly: true, bootOrder: 1 });
  }
  if (bootVolume) disks.push({ ...bootVolume, bus, target: disk(), bootOrder: 1 });
  else disks.push({ path: paths.root, format: 'qcow2', device: 'disk', bus, target: disk(), bootOrder: cached?.cdrom ? 2 : 1 });
  if (flavor.ephemeralGiB) disks.push({ path: paths.ephemeral, format: 'qcow2', device: 'disk', bus, target: disk() });
  if (flavor.swapMiB) disks.push({ path: paths.swap, format: 'qcow2', device: 'disk', bus, target: disk() });
  disks.push({ path: paths.configDrive, format: 'raw', device: 'disk', bus, target: lastTarget(bus === 'virtio' ? 'vd' : 'sd', disks), readOnly: true });
  const uid = inst.metadata.uid!;
  return {
    uuid: uid,
    name: domainNameOf(uid),
    title: `${inst.metadata.namespace}/${inst.metadata.name}`,
    vcpus: flavor.vcpus,
    memoryMiB: flavor.ramMiB,
    disks,
    consoleLog: paths.consoleLog,
    ...(nics.length ? { nics } : {}),
    ...(machineType ? { machineType } : {}),
    metadata: { namespace: inst.metadata.namespace!, name: inst.metadata.name, flavor: flavor.name, image: `${image.metadata.namespace}/${image.metadata.name}`, agentHome },
  };
}

/** The same guest with another flavor's vCPUs and memory (a resize). */
export const withFlavor = (spec: GuestSpec, flavor: FlavorSnapshot): GuestSpec => ({ ...spec, vcpus: flavor.vcpus, memoryMiB: flavor.ramMiB, metadata: { ...spec.metadata, flavor: flavor.name } });

/**
 * The guest booted for a rescue (Nova's rescue): a disk of the rescue image first, on the root disk's bus, and
 * the guest's own disks after it, renamed in order (its root disk is then the second: vdb), none booting; its
 * config drive (`configDrive.from`) keeps its place at the bus's end, swapped for `configDrive.to`.
 */
export function rescueSpecOf(spec: GuestSpec, rescueDisk: string, configDrive?: { from: string; to: string }): GuestSpec {
  const own = spec.disks.filter((d) => d.device === 'disk');
  const bus = own[0]?.bus ?? 'virtio';
  const isDrive = (d: GuestDisk) => !!configDrive && d.path === configDrive.from;
  const disk = targets(bus === 'virtio' ? 'vd' : 'sd', new Set(own.filter(isDrive).map((d) => d.target)));
  const rescue: GuestDisk = { path: rescueDisk, format: 'qcow2', device: 'disk', bus, target: disk(), bootOrder: 1 };
  // The rescue boot reads its own config drive (the rescue's admin password) in place of the guest's.
  const after = own.map(({ bootOrder: _, ...d }) => (isDrive(d) ? { ...d, path: configDrive!.to } : { ...d, target: d.bus === bus ? disk() : d.target }));
  const cdroms = spec.disks.filter((d) => d.device === 'cdrom').map(({ bootOrder: _, ...d }) => d);
  return { ...spec, disks: [rescue, ...after, ...cdroms], metadata: { ...spec.metadata, rescue: 'true' } };
}
