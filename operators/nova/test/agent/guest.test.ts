/**
 * What the agent gives the hypervisor: domain XML (checked against libvirt's own schema), the guest spec from
 * an instance, the config drive's files, and how virsh's answers are read. No libvirt daemon needed.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Image } from '@stratus/glance';
import { decodeUserData, domainXml, type Instance } from '../../src/index.js';
import { configDriveFiles, hostnameOf } from '../../src/agent/configDrive.js';
import { guestSpecOf, ownDiskTargets, rescueSpecOf, withFlavor } from '../../src/agent/guestSpec.js';
import { InstanceFiles } from '../../src/agent/instanceFiles.js';
import { metadataOf } from '../../src/driver/libvirt/domainXml.js';
import { parseDomState } from '../../src/driver/libvirt/driver.js';
import { parseDomStats } from '../../src/driver/libvirt/domstats.js';
import { kindOf } from '../../src/driver/libvirt/virsh.js';
import { keyOf, secretXml } from '../../src/driver/libvirt/cephSecrets.js';
import { diskXml } from '../../src/driver/libvirt/domainXml.js';
import { iotuneOf, nextTarget, volumeDisk } from '../../src/agent/volumes.js';
import type { VolumeAttachment } from '@stratus/cinder';

const uid = '4825a5de-b021-494f-8fa4-13cc4816342f';
const inst = { apiVersion: 'compute.stratus.io/v1alpha1', kind: 'Instance', metadata: { name: 'web-1', namespace: 'demo', uid }, spec: { flavor: 'm1.small', image: { name: 'cirros' } } } as Instance;
const image = (properties: Record<string, string> = {}) => ({ metadata: { name: 'cirros', namespace: 'demo', uid: 'img-1' }, spec: { diskFormat: 'qcow2', properties } }) as unknown as Image;
const flavor = { name: 'm1.small', vcpus: 2, ramMiB: 512, diskGiB: 1, ephemeralGiB: 1, swapMiB: 0 };
const files = new InstanceFiles('/var/lib/stratus/nova/instances');
const cached = { path: '/var/lib/stratus/nova/_base/img-1.qcow2', format: 'qcow2' as const, cdrom: false, virtualSize: 1 << 30 };

describe('guest definitions', () => {
  let work: string;
  before(() => (work = mkdtempSync(join(tmpdir(), 'guest-test-'))));
  after(() => rmSync(work, { recursive: true, force: true }));
  /** libvirt's own schema check: its verdict, and it must pass. */
  const validate = (xml: string) => {
    writeFileSync(join(work, 'domain.xml'), xml);
    const r = spawnSync('virt-xml-validate', [join(work, 'domain.xml'), 'domain'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `libvirt's schema refuses the domain: ${r.stderr}\n${xml}`);
    return r.stdout + r.stderr;
  };

  it("builds domain XML that libvirt's schema accepts, with the instance's disks, console log and metadata", () => {
    const spec = guestSpecOf(inst, flavor, image(), cached, files.paths(uid), '/var/lib/stratus/nova');
    const xml = domainXml(spec, 'qemu');
    assert.match(validate(xml), /validates/);
    assert.match(xml, /<domain type="qemu">/);
    assert.match(xml, /<name>instance-4825a5de-b021-494f-8fa4-13cc4816342f<\/name>/);
    assert.match(xml, /<memory unit="MiB">512<\/memory>\s*<vcpu>2<\/vcpu>/);
    assert.deepEqual(spec.disks.map((d) => `${d.target}:${d.path.split('/').pop()}:${d.bootOrder ?? '-'}${d.readOnly ? ':ro' : ''}`), ['vda:disk:1', 'vdb:disk.eph0:-', 'vdz:disk.config:-:ro'], "the config drive at the bus's end, as Nova puts it");
    assert.match(xml, /<log file="\/var\/lib\/stratus\/nova\/instances\/4825a5de-b021-494f-8fa4-13cc4816342f\/console.log" append="on"\/>/);
    assert.match(xml, /<graphics type="vnc" autoport="yes" listen="127.0.0.1">/);
    assert.doesNotMatch(xml, /<cpu /, 'emulated guests keep QEMU’s CPU model');
    assert.deepEqual(metadataOf(xml), { namespace: 'demo', name: 'web-1', flavor: 'm1.small', image: 'demo/cirros', agentHome: '/var/lib/stratus/nova' });
    assert.match(validate(domainXml(spec, 'kvm')), /validates/);
    assert.match(domainXml(spec, 'kvm'), /<cpu mode="host-model"\/>/);
  });

  it('boots from a volume: its file is the first disk, with the volume ID as serial; attached volumes take the next free names', () => {
    const boot = { metadata: { name: 'web-1-root' }, spec: { volume: 'root', instance: 'web-1', bootIndex: 0 }, status: { phase: 'reserved', volumeId: 'f7ae5fac-11ff-4114-ab7f-9b7549d9889e', connection: { driverVolumeType: 'file', path: '/pool/volume-f7ae5fac', format: 'raw' } } } as VolumeAttachment;
    const spec = guestSpecOf(inst, { ...flavor, ephemeralGiB: 0 }, image(), undefined, files.paths(uid), '/var/lib/stratus/nova', [], volumeDisk(boot, 'vda', 1));
    assert.deepEqual(spec.disks.map((d) => `${d.target}:${d.path.split('/').pop()}:${d.bootOrder ?? '-'}:${d.format}`), ['vda:volume-f7ae5fac:1:raw', 'vdz:disk.config:-:raw']);
    const xml = domainXml(spec, 'qemu');
    assert.match(validate(xml), /validates/);
    assert.match(xml, /<serial>f7ae5fac-11ff-4114-a<\/serial>/, "the guest reads the volume's ID (20 characters, as Nova gives it)");
    const data = volumeDisk({ ...boot, spec: { volume: 'data', instance: 'web-1' } }, nextTarget(spec.disks));
    assert.equal(data.target, 'vdb', "the first volume attached takes the name after the guest's own disks, as on OpenStack");
    assert.match(diskXml(data), /<disk type="file" device="disk">[\s\S]*<source file="\/pool\/volume-f7ae5fac"\/>[\s\S]*<target dev="vdb" bus="virtio"\/>/);
    assert.equal(nextTarget(spec.disks, '/dev/vdf'), 'vdf', 'a free device asked for is given');
    assert.equal(nextTarget(spec.disks, '/dev/vda'), 'vdb', 'a taken one is not');
    assert.equal(nextTarget(spec.disks, '/dev/vdz'), 'vdb', "nor the config drive's");
    for (const f of [flavor, { ...flavor, ephemeralGiB: 0 }, { ...flavor, ephemeralGiB: 0, swapMiB: 0 }, { ...flavor, ephemeralGiB: 1, swapMiB: 512 }])
      assert.deepEqual(ownDiskTargets(f), guestSpecOf(inst, f, image(), cached, files.paths(uid), '/h').disks.map((d) => d.target), "the API reserves around the guest's own disks");
    assert.throws(() => volumeDisk({ ...boot, status: { ...boot.status, connection: { driverVolumeType: 'rbd', name: 'pool/img' } } } as VolumeAttachment, 'vdd'), /connection type rbd/);
  });

  it("holds a volume's disk to its type's front-end QoS (libvirt's iotune), leaving out keys libvirt does not know", () => {
    assert.deepEqual(iotuneOf({ total_iops_sec: '200', read_bytes_sec_max: '1048576', iops_bytes: '500', write_iops_sec: 'fast' }), { total_iops_sec: 200, read_bytes_sec_max: 1048576 });
    assert.equal(iotuneOf({ consumer_only: '1' }), undefined);
    const limited = { metadata: { name: 'web-1-data' }, spec: { volume: 'data', instance: 'web-1' }, status: { phase: 'reserved', volumeId: 'f7ae5fac-11ff-4114-ab7f-9b7549d9889e', connection: { driverVolumeType: 'file', path: '/pool/volume-f7ae5fac', format: 'raw', qosSpecs: { total_iops_sec: '200', write_bytes_sec: '1048576' } } } } as VolumeAttachment;
    const disk = volumeDisk(limited, 'vdb');
    assert.deepEqual(disk.iotune, { total_iops_sec: 200, write_bytes_sec: 1048576 });
    assert.match(diskXml(disk), /<iotune>\s*<total_iops_sec>200<\/total_iops_sec>\s*<write_bytes_sec>1048576<\/write_bytes_sec>\s*<\/iotune>/);
    const spec = guestSpecOf(inst, { ...flavor, ephemeralGiB: 0 }, image(), cached, files.paths(uid), '/h');
    assert.match(validate(domainXml({ ...spec, disks: [...spec.disks, disk] }, 'qemu')), /validates/);
    assert.doesNotMatch(diskXml(volumeDisk({ ...limited, status: { ...limited.status!, connection: { driverVolumeType: 'file', path: '/p' } } }, 'vdb')), /iotune/, 'no QoS, no iotune');
  });

  it('boots from and attaches RBD volumes as network disks naming the monitors and the libvirt secret of the cephx key, never the key', () => {
    const connection = { driverVolumeType: 'rbd', name: 'volumes/volume-f7ae5fac', hosts: ['127.0.0.1', '10.0.0.2'], ports: ['6789', '6790'], authUsername: 'cinder', secretType: 'ceph', secretUuid: '3b1f5d0e-8d4c-4b38-a8e1-2f7d9c0e6a11', format: 'raw' };
    const boot = { metadata: { name: 'web-1-root' }, spec: { volume: 'root', instance: 'web-1', bootIndex: 0 }, status: { phase: 'reserved', volumeId: 'f7ae5fac-11ff-4114-ab7f-9b7549d9889e', connection } } as VolumeAttachment;
    const disk = volumeDisk(boot, 'vda', 1);
    assert.deepEqual(disk.network, { protocol: 'rbd', name: 'volumes/volume-f7ae5fac', hosts: [{ name: '127.0.0.1', port: '6789' }, { name: '10.0.0.2', port: '6790' }], auth: { username: 'cinder', secretUuid: connection.secretUuid } });
    const xml = domainXml(guestSpecOf(inst, { ...flavor, ephemeralGiB: 0 }, image(), undefined, files.paths(uid), '/var/lib/stratus/nova', [], disk), 'qemu');
    assert.match(validate(xml), /validates/);
    assert.match(xml, /<disk type="network" device="disk">\s*<driver name="qemu" type="raw" cache="writeback" discard="unmap"\/>\s*<source protocol="rbd" name="volumes\/volume-f7ae5fac">\s*<host name="127.0.0.1" port="6789"\/>\s*<host name="10.0.0.2" port="6790"\/>\s*<auth username="cinder">\s*<secret type="ceph" uuid="3b1f5d0e-8d4c-4b38-a8e1-2f7d9c0e6a11"\/>/);
    assert.match(diskXml(volumeDisk({ ...boot, spec: { volume: 'data', instance: 'web-1' } }, 'vdc')), /<source protocol="rbd" name="volumes\/volume-f7ae5fac">[\s\S]*<target dev="vdc" bus="virtio"\/>/);
    // Without monitors there is nothing to reach.
    assert.throws(() => volumeDisk({ ...boot, status: { ...boot.status, connection: { ...connection, hosts: [] } } } as VolumeAttachment, 'vdd'), /connection type rbd is not one this node attaches/);
  });

  it("defines the cephx key's libvirt secret as private, from the keyring's section of the user", () => {
    const keyring = '[client.admin]\n\tkey = QURNSU4=\n[client.cinder]\n\tkey = AQBcinderKey==\n\tcaps mon = "profile rbd"\n';
    assert.equal(keyOf(keyring, 'cinder'), 'AQBcinderKey==');
    assert.equal(keyOf(keyring, 'admin'), 'QURNSU4=');
    assert.equal(keyOf(keyring, 'glance'), undefined);
    const xml = secretXml('3b1f5d0e-8d4c-4b38-a8e1-2f7d9c0e6a11', 'cinder');
    writeFileSync(join(work, 'secret.xml'), xml);
    const r = spawnSync('virt-xml-validate', [join(work, 'secret.xml'), 'secret'], { encoding: 'utf8' });
    assert.match(r.stdout + r.stderr, /validates/);
    assert.match(xml, /<secret ephemeral="no" private="yes">\s*<uuid>3b1f5d0e-8d4c-4b38-a8e1-2f7d9c0e6a11<\/uuid>\s*<usage type="ceph">\s*<name>client.cinder secret 3b1f5d0e-8d4c-4b38-a8e1-2f7d9c0e6a11<\/name>/);
  });

  it('escapes what people name things, so no name can change the document', () => {
    const hostile = { ...inst, metadata: { ...inst.metadata, name: 'x</name><devices>' } } as Instance;
    const xml = domainXml(guestSpecOf(hostile, flavor, image(), cached, files.paths(uid), '/h'), 'qemu');
    assert.match(validate(xml), /validates/);
    assert.equal(metadataOf(xml).name, 'x</name><devices>');
  });

  it('boots an ISO from a CD-ROM beside a blank root disk, and follows the image’s machine type and disk bus', () => {
    const spec = guestSpecOf(inst, { ...flavor, ephemeralGiB: 0 }, image({ hw_machine_type: 'q35', hw_disk_bus: 'sata' }), { ...cached, cdrom: true, format: 'raw' }, files.paths(uid), '/h');
    assert.deepEqual(spec.disks.map((d) => `${d.device}:${d.bus}:${d.target}:${d.bootOrder ?? '-'}`), ['cdrom:sata:sdz:1', 'disk:sata:sda:2', 'disk:sata:sdy:-'], 'the config drive before the CD-ROM at the end');
    const xml = domainXml(spec, 'qemu');
    assert.match(xml, /machine="q35"/);
    assert.match(validate(xml), /validates/);
    assert.equal(withFlavor(spec, { ...flavor, name: 'm1.large', vcpus: 4, ramMiB: 2048 }).memoryMiB, 2048);
  });

  it('boots a rescue from a disk of the rescue image, with the guest’s own disks after it and the rescue’s config drive', () => {
    const paths = files.paths(uid);
    const spec = guestSpecOf(inst, flavor, image(), cached, paths, '/h');
    const rescue = rescueSpecOf(spec, paths.rescue, { from: paths.configDrive, to: paths.rescueConfigDrive });
    assert.deepEqual(rescue.disks.map((d) => `${d.target}:${d.path.split('/').pop()}:${d.bootOrder ?? '-'}`), ['vda:disk.rescue:1', 'vdb:disk:-', 'vdc:disk.eph0:-', 'vdz:disk.config.rescue:-']);
    assert.deepEqual(spec.disks.map((d) => d.target), ['vda', 'vdb', 'vdz'], 'the saved definition is left as it was');
    // A guest defined before the config drive moved to the end (at vdc) keeps it there, and the rest go round it.
    const older = { ...spec, disks: spec.disks.map((d) => (d.path === paths.configDrive ? { ...d, target: 'vdc' } : d)) };
    assert.deepEqual(rescueSpecOf(older, paths.rescue, { from: paths.configDrive, to: paths.rescueConfigDrive }).disks.map((d) => `${d.target}:${d.path.split('/').pop()}`), ['vda:disk.rescue', 'vdb:disk', 'vdd:disk.eph0', 'vdc:disk.config.rescue']);
    assert.match(validate(domainXml(rescue, 'qemu')), /validates/);
  });

  it("tells a missing guest (or one without Stratus's metadata) from other libvirt failures", () => {
    assert.equal(kindOf("failed to get domain 'instance-x'"), 'NotFound');
    assert.equal(kindOf('metadata not found: Requested metadata element is not present'), 'NotFound', 'a guest Stratus did not make');
    assert.equal(kindOf('Requested operation is not valid: domain is not running'), 'InvalidState');
    assert.equal(kindOf('internal error: qemu unexpectedly closed the monitor'), 'Failed');
  });

  it('reads virsh domstats counters (recorded from a running guest) for server diagnostics', () => {
    const recorded = ['state.state=1', 'cpu.time=6478120000', 'balloon.current=196608', 'balloon.maximum=196608', 'balloon.rss=227908', 'vcpu.current=1', 'vcpu.0.time=4650000000', 'net.count=0', 'block.count=2', 'block.0.name=vda', 'block.0.rd.reqs=535', 'block.0.rd.bytes=16152576', 'block.0.wr.reqs=0', 'block.0.wr.bytes=0', 'block.1.name=vdb', 'block.1.rd.reqs=130', 'block.1.rd.bytes=348160'];
    const s = parseDomStats(`Domain: 'instance-x'\n${recorded.map((l) => `  ${l}`).join('\n')}\n`);
    assert.equal(s.state, 'running');
    assert.deepEqual(s.cpus, [{ id: 0, timeNs: 4650000000 }]);
    assert.deepEqual(s.memoryKiB, { maximum: 196608, current: 196608, rss: 227908 });
    assert.deepEqual(s.disks.map((d) => [d.name, d.readBytes, d.readRequests]), [['vda', 16152576, 535], ['vdb', 348160, 130]]);
    assert.deepEqual(s.nics, []);
    assert.equal(parseDomStats('  state.state=3\n').state, 'paused');
  });

  it('reads virsh domstate answers', () => {
    assert.deepEqual(parseDomState('running (booted)\n', false), { power: 'running', reason: 'booted', saved: false });
    assert.deepEqual(parseDomState('shut off (saved)', true), { power: 'shutoff', reason: 'saved', saved: true });
    assert.deepEqual(parseDomState('paused (shutting down)', false), { power: 'paused', reason: 'shutting down', saved: false });
    assert.deepEqual(parseDomState('in shutdown (user)', false), { power: 'stopping', reason: 'user', saved: false });
    assert.deepEqual(parseDomState('paused (migrating)', false), { power: 'paused', reason: 'migrating', saved: false }, 'restoring saved memory');
    assert.deepEqual(parseDomState('paused (I/O error)', false), { power: 'paused', reason: 'I/O error', saved: false });
    assert.deepEqual(parseDomState('idle (unknown)', false), { power: 'running', reason: 'unknown', saved: false });
    assert.deepEqual(parseDomState('pmsuspended (unknown)', false), { power: 'nostate', reason: 'unknown', saved: false });
  });
});

describe('the config drive', () => {
  it("holds NoCloud meta-data and the user's data", () => {
    const files = configDriveFiles({ instanceId: uid, hostname: 'web-1', publicKeys: ['ssh-ed25519 AAAA me@x'], metadata: { role: 'web' }, availabilityZone: 'nova', userData: Buffer.from('#cloud-config\n') });
    assert.deepEqual(parse(files['meta-data'].toString()), { 'instance-id': uid, 'local-hostname': 'web-1', 'public-keys': ['ssh-ed25519 AAAA me@x'], 'availability-zone': 'nova', meta: { role: 'web' } });
    assert.equal(files['user-data'].toString(), '#cloud-config\n');
    assert.equal(configDriveFiles({ instanceId: uid, hostname: 'h', publicKeys: [], metadata: {} })['user-data'].length, 0, 'NoCloud wants the file even when empty');
    const withPass = configDriveFiles({ instanceId: uid, hostname: 'h', publicKeys: [], metadata: {}, adminPass: 's3cret' });
    assert.equal(parse(withPass['meta-data'].toString()).admin_pass, 's3cret', "the admin password the API returned, as Nova's admin_pass");
  });

  it("says the NICs as Nova's network_data.json and as cloud-init's network-config: DHCP or static, MTU, DNS", () => {
    const networks = [
      { portId: 'p-1', networkId: 'n-1', mac: 'fa:16:3e:00:00:01', mtu: 1442, device: 'tapp-1', addresses: [{ ip: '10.0.0.5', cidr: '10.0.0.0/24', gateway: '10.0.0.1', dhcp: true, dns: ['10.0.0.3'] }] },
      { portId: 'p-2', networkId: 'n-2', mac: 'fa:16:3e:00:00:02', mtu: 1400, device: 'tapp-2', addresses: [{ ip: '192.168.5.9', cidr: '192.168.5.0/26', gateway: '192.168.5.1', dhcp: false, dns: [] }] },
    ];
    const files = configDriveFiles({ instanceId: uid, hostname: 'h', publicKeys: [], metadata: {}, networks });
    const data = JSON.parse(files['network_data.json']!.toString());
    assert.deepEqual(data.links.map((l: { vif_id: string; ethernet_mac_address: string; mtu: number }) => [l.vif_id, l.ethernet_mac_address, l.mtu]), [['p-1', 'fa:16:3e:00:00:01', 1442], ['p-2', 'fa:16:3e:00:00:02', 1400]]);
    assert.deepEqual(data.networks[0], { id: 'network0', link: 'tapp-1', network_id: 'n-1', type: 'ipv4_dhcp' });
    assert.deepEqual(data.networks[1], { id: 'network1', link: 'tapp-2', network_id: 'n-2', type: 'ipv4', ip_address: '192.168.5.9', netmask: '255.255.255.192', routes: [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: '192.168.5.1' }] });
    assert.deepEqual(data.services, [{ type: 'dns', address: '10.0.0.3' }]);
    const v2 = parse(files['network-config']!.toString());
    assert.deepEqual(v2.ethernets.eth1, { match: { macaddress: 'fa:16:3e:00:00:02' }, 'set-name': 'eth1', mtu: 1400, dhcp4: false, addresses: ['192.168.5.9/26'], gateway4: '192.168.5.1' });
    assert.equal(v2.ethernets.eth0.dhcp4, true);
    assert.equal(configDriveFiles({ instanceId: uid, hostname: 'h', publicKeys: [], metadata: {} })['network_data.json'], undefined, 'no NIC, no network data');
  });

  it('makes hostnames from display names as Nova does, and takes only real base64 as user data', () => {
    assert.equal(hostnameOf('My Web Server #1'), 'my-web-server-1');
    assert.equal(hostnameOf('___'), 'server');
    assert.equal(hostnameOf('a'.repeat(80)).length, 63);
    assert.equal(decodeUserData(Buffer.from('echo hi').toString('base64'))?.toString(), 'echo hi');
    assert.equal(decodeUserData('not base64!'), undefined);
    assert.equal(decodeUserData('abc'), undefined, 'a length that is not a multiple of 4');
  });
});
