/**
 * A guest as libvirt domain XML, built from typed structures by an XML builder (never by string
 * concatenation, so no name or value can break the document). Pure: tested without libvirt.
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import type { GuestDisk, GuestNic, GuestSpec } from '../types.js';

/** The XML namespace of the facts Stratus keeps in a domain's <metadata>. */
export const METADATA_NAMESPACE = 'https://stratus.io/xmlns/libvirt/instance/1';

export type VirtType = 'kvm' | 'qemu';

type Attrs = Record<`@_${string}`, string | number>;
type Node = Attrs & { [child: string]: unknown };

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, suppressEmptyNode: true });

/** A disk's <source>: its file, or an RBD image with its monitors and the libvirt secret of its cephx key. */
function sourceNode(d: GuestDisk): Node {
  const n = d.network;
  if (!n) return { '@_file': d.path };
  return {
    '@_protocol': n.protocol,
    '@_name': n.name,
    host: n.hosts.map((h) => ({ '@_name': h.name, '@_port': h.port })),
    ...(n.auth ? { auth: { '@_username': n.auth.username, secret: { '@_type': 'ceph', '@_uuid': n.auth.secretUuid } } } : {}),
  };
}

function diskNode(d: GuestDisk): Node {
  return {
    '@_type': d.network ? 'network' : 'file',
    '@_device': d.device,
    driver: { '@_name': 'qemu', '@_type': d.format, '@_cache': d.network ? 'writeback' : 'none', '@_discard': 'unmap' },
    source: sourceNode(d),
    target: { '@_dev': d.target, '@_bus': d.bus },
    ...(d.readOnly ? { readonly: '' } : {}),
    ...(d.serial ? { serial: d.serial } : {}),
    ...(d.bootOrder ? { boot: { '@_order': d.bootOrder } } : {}),
    ...(d.iotune && Object.keys(d.iotune).length ? { iotune: d.iotune } : {}),
  };
}

function interfaceNode(n: GuestNic): Node {
  return { '@_type': 'ethernet', mac: { '@_address': n.mac }, target: { '@_dev': n.device, '@_managed': 'yes' }, model: { '@_type': 'virtio' }, mtu: { '@_size': n.mtu } };
}

/** One disk's <disk> alone, for hot-plugging it into a running guest. */
export function diskXml(d: GuestDisk): string {
  return builder.build({ disk: diskNode(d) });
}

/** One NIC's <interface> alone, for hot-plugging it into a running guest. */
export function interfaceXml(nic: GuestNic): string {
  return builder.build({ interface: interfaceNode(nic) });
}

/** The domain document for `spec` under the given virtualization type (kvm, or qemu for emulation). */
export function domainXml(spec: GuestSpec, virtType: VirtType, vncListen = '127.0.0.1'): string {
  const smbios = (name: string, value: string) => ({ '@_name': name, '#text': value });
  const domain: Node = {
    '@_type': virtType,
    name: spec.name,
    uuid: spec.uuid,
    title: spec.title,
    metadata: {
      'stratus:instance': {
        '@_xmlns:stratus': METADATA_NAMESPACE,
        ...Object.fromEntries(Object.entries(spec.metadata).map(([k, v]) => [`stratus:${k}`, v])),
      },
    },
    memory: { '@_unit': 'MiB', '#text': spec.memoryMiB },
    vcpu: spec.vcpus,
    // What the guest sees in its DMI tables, as Nova sets it: cloud-init and dmidecode identify the cloud by it.
    sysinfo: {
      '@_type': 'smbios',
      system: { entry: [smbios('manufacturer', 'Stratus'), smbios('product', 'OpenStack Nova'), smbios('serial', spec.uuid), smbios('uuid', spec.uuid), smbios('family', 'Virtual Machine')] },
    },
    os: {
      type: { '@_arch': 'x86_64', ...(spec.machineType ? { '@_machine': spec.machineType } : {}), '#text': 'hvm' },
      smbios: { '@_mode': 'sysinfo' },
    },
    features: { acpi: '', apic: '' },
    // KVM guests get the host's CPU model; emulated ones QEMU's default, which TCG runs fastest.
    ...(virtType === 'kvm' ? { cpu: { '@_mode': 'host-model' } } : {}),
    clock: { '@_offset': 'utc' },
    on_poweroff: 'destroy',
    on_reboot: 'restart',
    on_crash: 'destroy',
    devices: {
      disk: spec.disks.map(diskNode),
      // A tap libvirt makes; the node agent then moves it into the node's switch namespace and plugs it.
      ...(spec.nics?.length ? { interface: spec.nics.map(interfaceNode) } : {}),
      // A pty for `virsh console`, logged to a file (by virtlogd, which caps its size) for the console log.
      serial: { '@_type': 'pty', log: { '@_file': spec.consoleLog, '@_append': 'on' }, target: { '@_port': 0 } },
      console: { '@_type': 'pty', target: { '@_type': 'serial', '@_port': 0 } },
      input: { '@_type': 'tablet', '@_bus': 'usb' },
      graphics: { '@_type': 'vnc', '@_autoport': 'yes', '@_listen': vncListen, listen: { '@_type': 'address', '@_address': vncListen } },
      video: { model: { '@_type': 'virtio' } },
      memballoon: { '@_model': 'virtio', stats: { '@_period': 10 } },
      rng: { '@_model': 'virtio', backend: { '@_model': 'random', '#text': '/dev/urandom' } },
    },
  };
  return builder.build({ domain });
}

/** A push-mode backup of one disk into a qcow2 file, the guest's other disks left out (libvirt's domainbackup). */
export function backupXml(spec: GuestSpec, diskTarget: string, to: string): string {
  const disk = spec.disks.map((d) => (d.target === diskTarget ? { '@_name': d.target, '@_type': 'file', target: { '@_file': to }, driver: { '@_type': 'qcow2' } } : { '@_name': d.target, '@_backup': 'no' }));
  return builder.build({ domainbackup: { '@_mode': 'push', disks: { disk } } });
}

/** A guest with nothing to boot, only to see whether KVM will run a vCPU with the host's CPU model. */
export function probeXml(name: string): string {
  return builder.build({ domain: { '@_type': 'kvm', name, memory: { '@_unit': 'MiB', '#text': 32 }, vcpu: 1, os: { type: { '@_arch': 'x86_64', '#text': 'hvm' } }, cpu: { '@_mode': 'host-model' }, devices: { graphics: { '@_type': 'vnc', '@_listen': '127.0.0.1', '@_autoport': 'yes' } } } });
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', removeNSPrefix: true });

/** The Stratus facts kept in a domain's <metadata>, read back from `virsh dumpxml`; {} when there are none. */
export function metadataOf(xml: string): Record<string, string> {
  const doc = parser.parse(xml) as { domain?: { metadata?: { instance?: Record<string, unknown> } } };
  const facts = doc.domain?.metadata?.instance ?? {};
  return Object.fromEntries(Object.entries(facts).filter(([k]) => !k.startsWith('@_')).map(([k, v]) => [k, String(v)]));
}
