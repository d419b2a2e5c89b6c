/**
 * What a compute back end does for the node agent: run guests described by a GuestSpec and say how they are.
 * The agent decides; the driver does, on its own host only (KubeVirt's virt-handler split).
 */

/** KVM itself failed the guest (QEMU could not set it up under KVM): the host's KVM is not usable. */
export class KvmFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KvmFailure';
  }
}

/**
 * A guest's power as the hypervisor reports it: `stopping` is on its way down (libvirt's "in shutdown"),
 * `nostate` anything it cannot say. A suspended guest (its memory saved to disk) is `shutoff` and `saved`.
 */
export type GuestPower = 'running' | 'stopping' | 'paused' | 'shutoff' | 'crashed' | 'nostate';

export interface GuestState {
  power: GuestPower;
  /** The hypervisor's reason for the state: booted, user, shutdown, destroyed, saved, crashed, unknown, … */
  reason: string;
  /** Its memory is saved to disk (Nova's suspend): starting it resumes where it was. */
  saved: boolean;
}

export interface GuestDisk {
  /** The file; for a network disk, a name for it in messages (rbd:pool/image). */
  path: string;
  /** A disk QEMU reaches over the network (a Ceph RBD image) rather than a file. */
  network?: NetworkDisk;
  format: 'raw' | 'qcow2';
  device: 'disk' | 'cdrom';
  bus: 'virtio' | 'sata' | 'ide';
  /** vda, vdb, sda, … */
  target: string;
  readOnly?: boolean;
  /** 1 boots first. */
  bootOrder?: number;
  /** The serial the guest reads (a volume's ID, as Nova sets it). */
  serial?: string;
  /** A block storage volume: its VolumeAttachment's object name (plugged and unplugged with it). */
  attachment?: string;
  /** I/O limits QEMU holds the disk to (libvirt's <iotune>): a volume type's front-end QoS. */
  iotune?: Record<string, number>;
}

/** An RBD image as QEMU's rbd driver reaches it: its monitors, and the cephx user whose key is a libvirt secret. */
export interface NetworkDisk {
  protocol: 'rbd';
  /** pool/image */
  name: string;
  hosts: Array<{ name: string; port: string }>;
  auth?: { username: string; secretUuid: string };
}

/** A NIC: a virtio device on a tap the node's switch takes (Neutron's port, plugged by its iface-id). */
export interface GuestNic {
  mac: string;
  /** The tap device's name (tap + the port ID's first 11 characters). */
  device: string;
  mtu: number;
  /** The port ID: the switch binds the tap to it. */
  portId: string;
  /** The Port's object name (in the instance's namespace). */
  port?: string;
}

/** Everything the hypervisor needs to run one guest. */
export interface GuestSpec {
  uuid: string;
  /** Unique on the host: instance-<uuid>. */
  name: string;
  /** Who the guest is, for people reading the hypervisor's own listing: namespace/name. */
  title: string;
  vcpus: number;
  memoryMiB: number;
  disks: GuestDisk[];
  /** The serial console is logged here (appended across boots). */
  consoleLog: string;
  /** NICs, in the order the guest sees them (eth0 first). */
  nics?: GuestNic[];
  /** A machine type the image asks for (hw_machine_type), e.g. q35. */
  machineType?: string;
  /** Facts about the instance kept with the guest definition (namespace, name, flavor, image, the agent's home). */
  metadata: Record<string, string>;
}

export interface HostFacts {
  /** Physical CPUs and memory the host has. */
  cpus: number;
  memoryMiB: number;
  /** QEMU (emulation) or KVM. */
  hypervisorType: 'QEMU' | 'KVM';
  hypervisorVersion: string;
  architecture: string;
}

/** What a running guest has used, as the hypervisor counts it (Nova's server diagnostics). */
export interface GuestStats {
  state: 'pending' | 'running' | 'paused' | 'shutdown' | 'crashed' | 'suspended';
  cpuTimeNs?: number;
  cpus: Array<{ id: number; timeNs?: number }>;
  memoryKiB: { maximum?: number; current?: number; rss?: number };
  disks: Array<{ name: string; readBytes?: number; readRequests?: number; writeBytes?: number; writeRequests?: number }>;
  nics: Array<{ name: string; rxBytes?: number; rxPackets?: number; rxErrors?: number; rxDrop?: number; txBytes?: number; txPackets?: number; txErrors?: number; txDrop?: number }>;
}

/** A guest the hypervisor knows, found by listing (the agent's restart and orphan checks). */
export interface GuestListing {
  uuid: string;
  name: string;
  /** The facts its spec's metadata recorded (namespace, name, the agent that made it, …). */
  metadata: Record<string, string>;
}

export interface ComputeDriver {
  hostFacts(): Promise<HostFacts>;
  /** Every guest this driver made on the host (others are left alone). */
  guests(): Promise<GuestListing[]>;
  /** How many of them are running now. */
  runningCount(): Promise<number>;
  /** The guest's state, or undefined when no such guest is defined. */
  state(uuid: string): Promise<GuestState | undefined>;
  /** Creates the guest's definition, or replaces it (a stopped guest only). */
  define(spec: GuestSpec): Promise<void>;
  /** Boots it (or resumes a saved guest); `paused` leaves its CPUs stopped. Throws KvmFailure when KVM is to blame. */
  start(uuid: string, opts?: { paused?: boolean }): Promise<void>;
  /** Asks the guest to power off (ACPI); it may take a while or ignore it. */
  shutdown(uuid: string): Promise<void>;
  /** Powers it off at once. Not running is not an error. */
  destroy(uuid: string): Promise<void>;
  pause(uuid: string): Promise<void>;
  unpause(uuid: string): Promise<void>;
  /** Saves its memory to disk and stops it (Nova's suspend). */
  save(uuid: string): Promise<void>;
  /** Throws away a saved memory image: the next start boots afresh. */
  discardSave(uuid: string): Promise<void>;
  /** Asks the guest to reboot (ACPI). */
  reboot(uuid: string): Promise<void>;
  /** Removes the definition and any saved memory. Not defined is not an error. */
  undefine(uuid: string): Promise<void>;
  /**
   * Copies the guest disk `diskTarget` (vda, …) as it is now into a standalone qcow2 at `to`: consistent even
   * while the guest runs (the hypervisor copies a point in time).
   */
  snapshotDisk(spec: GuestSpec, diskTarget: string, to: string): Promise<void>;
  /** What the guest has used so far, or undefined when no such guest is defined. */
  stats(uuid: string): Promise<GuestStats | undefined>;
  /** Where its VNC display listens (host:port), while it runs. */
  vncAddress(uuid: string): Promise<string | undefined>;
  /** Plugs a NIC into the running guest (hot-plug; the definition is the caller's to update). */
  attachNic(uuid: string, nic: GuestNic): Promise<void>;
  /** Unplugs a NIC from the running guest. */
  detachNic(uuid: string, nic: GuestNic): Promise<void>;
  /** Plugs a disk into the running guest unless one is plugged at its target (hot-plug; the definition is the caller's to update). */
  attachDisk(uuid: string, disk: GuestDisk): Promise<void>;
  /** Unplugs a disk from the running guest. */
  detachDisk(uuid: string, disk: GuestDisk): Promise<void>;
  /** Grows a disk of the running guest to `bytes`: the hypervisor grows its file and tells the guest. */
  resizeDisk(uuid: string, target: string, bytes: number): Promise<void>;
  /** Calls `changed` with a guest's UUID whenever its state changes, until stopped. */
  watch(changed: (uuid: string) => void): { stop(): void };
}
