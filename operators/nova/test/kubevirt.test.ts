/**
 * The kubevirt compute driver, with KubeVirt's and CDI's own CRDs (vendor/kubevirt/) installed in the embedded
 * control plane. Every object the driver writes is created under fieldValidation=Strict by their schemas.
 * KubeVirt itself cannot run here (no container runtime), so its controllers are played by
 * kubevirt-simulator, a STAND-IN named as such: no guest boots in these tests; what is real is the Nova
 * scheduler binding instances to the KubeVirt hypervisor, the driver, the objects and their schemas, and the
 * import reading the image from the S3 server.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { eventually, generateProxyClientCert } from '@stratus/apiserver';
import { IMAGES, ImageStore, glanceManager, startEmbeddedS3, type EmbeddedS3, type Image } from '@stratus/glance';
import { Agent as UndiciAgent, request as undiciRequest } from 'undici';
import { PLUGGED_FINALIZER, VOLUMES, VOLUME_ATTACHMENTS, type VolumeAttachment } from '@stratus/cinder';
import { KubeApiError, MERGE_PATCH, createLogger, type KubeClient, type Manager } from '@stratus/runtime';
import type { KubernetesObject } from '@kubernetes/client-node';
import { EVENTS, FLAVORS, HYPERVISORS, INSTANCES, KEYPAIRS, kubevirtCrds, type Hypervisor, type Instance } from '../src/index.js';
import { instanceViewOf } from '../src/kubevirt/instanceView.js';
import { startKubevirtCompute, type KubevirtCompute, type KubevirtComputeConfig } from '../src/kubevirt/kubevirtCompute.js';
import { namesOf, rootDataVolumeOf, virtualMachineOf, cloudInitSecretOf, type DataVolume, type VirtualMachine, type VirtualMachineInstance } from '../src/kubevirt/objects.js';
import { hotplugOf, staticPersistentVolumeOf, claimOf, unpluggableBecause, heldHotplugs } from '../src/kubevirt/hotplug.js';
import { DATA_VOLUMES, PERSISTENT_VOLUMES, PERSISTENT_VOLUME_CLAIMS, SECRETS, VIRTUAL_MACHINES, VIRTUAL_MACHINE_EXPORTS, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINE_SNAPSHOTS, vmActionPath, vmiActionPath, vmiVncPath } from '../src/kubevirt/refs.js';
import { startKubevirtSimulator, type KubevirtSimulator } from '../src/kubevirt/simulator/simulator.js';
import { vmExportOf, vmSnapshotOf } from '../src/kubevirt/snapshots.js';
import { startComputeEnv, type ComputeEnv } from './support.js';

const api = 'compute.stratus.io/v1alpha1';
const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHzK4sQ1cG3fOrTmvWl3ipIhg6MRLa7zfF3vd0qHbZvI test@stratus';
const CRD_REF = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };

/** Waits (a minute at most) for `probe` to give a value, and returns it. */
async function eventuallyValue<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  let v: T | undefined;
  await eventually(what, async () => (v = await probe()) !== undefined);
  return v!;
}

describe('instanceViewOf: KubeVirt’s states in Nova’s words', () => {
  const vm = (printableStatus: string, conditions: object[] = []) => ({ status: { printableStatus, conditions } }) as unknown as VirtualMachine;
  const vmi = (phase: string, extra: object = {}) => ({ status: { phase, nodeName: 'n1', ...extra } }) as unknown as VirtualMachineInstance;

  it('reads Provisioning and Starting as BUILD before the first run, and as a power-on after it', () => {
    const dv = { status: { phase: 'ImportInProgress', progress: '42.0%' } } as DataVolume;
    const prov = instanceViewOf({ power: 'Running', vm: vm('Provisioning'), dv, launched: false });
    assert.deepEqual([prov.phase, prov.taskState, prov.settled], ['BUILD', 'spawning', false]);
    assert.match(prov.message, /42\.0% imported/);
    assert.deepEqual([instanceViewOf({ power: 'Running', vm: vm('Starting'), launched: true }).phase, instanceViewOf({ power: 'Running', vm: vm('Starting'), launched: true }).taskState], ['SHUTOFF', 'powering-on']);
  });

  it('reads Running with the VMI’s addresses as ACTIVE, and a Paused condition as PAUSED', () => {
    const running = instanceViewOf({ power: 'Running', vm: vm('Running'), vmi: vmi('Running', { interfaces: [{ name: 'default', ipAddress: '10.244.1.5', ipAddresses: ['10.244.1.5', 'fd00::5'], mac: '02:00:00:00:00:01' }] }), launched: true });
    assert.deepEqual([running.phase, running.powerState, running.settled, running.node], ['ACTIVE', 'Running', true, 'n1']);
    assert.deepEqual(running.addresses, [{ port: 'default', network: 'pod', networkName: 'pod', mac: '02:00:00:00:00:01', ips: ['10.244.1.5', 'fd00::5'] }]);
    const paused = instanceViewOf({ power: 'Paused', vm: vm('Paused'), vmi: vmi('Running', { conditions: [{ type: 'Paused', status: 'True' }] }), launched: true });
    assert.deepEqual([paused.phase, paused.powerState, paused.settled], ['PAUSED', 'Paused', true]);
    assert.equal(instanceViewOf({ power: 'Running', vm: vm('Paused'), launched: true }).taskState, 'unpausing');
  });

  it('reads Stopped as SHUTOFF (settled only when asked), Stopping as a power-off under way', () => {
    assert.deepEqual(['phase', 'powerState', 'settled'].map((k) => (instanceViewOf({ power: 'Stopped', vm: vm('Stopped'), launched: true }) as any)[k]), ['SHUTOFF', 'Shutdown', true]);
    assert.equal(instanceViewOf({ power: 'Running', vm: vm('Stopped'), launched: true }).settled, false);
    assert.equal(instanceViewOf({ power: 'Stopped', vm: vm('Stopping'), launched: true }).taskState, 'powering-off');
  });

  it('reads KubeVirt’s error states and a hopeless import as ERROR with their own words as the fault', () => {
    const unsched = instanceViewOf({ power: 'Running', vm: vm('ErrorUnschedulable', [{ type: 'Failure', status: 'True', message: '0/3 nodes are available: 3 Insufficient memory.' }]), launched: false });
    assert.equal(unsched.phase, 'ERROR');
    assert.match(unsched.fault!.message, /ErrorUnschedulable: 0\/3 nodes are available: 3 Insufficient memory/);
    const retrying = { status: { phase: 'ImportInProgress', restartCount: 1, conditions: [{ type: 'Running', status: 'False', reason: 'Error', message: 'NoSuchKey' }] } } as DataVolume;
    assert.equal(instanceViewOf({ power: 'Running', vm: vm('Provisioning'), dv: retrying, launched: false }).phase, 'BUILD', 'CDI retries an import: one failure is not the end');
    const hopeless = { status: { ...retrying.status, restartCount: 3 } } as DataVolume;
    const failed = instanceViewOf({ power: 'Running', vm: vm('Provisioning'), dv: hopeless, launched: false });
    assert.equal(failed.phase, 'ERROR');
    assert.match(failed.fault!.message, /NoSuchKey \(import restarted 3 times\)/);
  });
});

describe('virt-api’s paths the driver and the console proxy call', () => {
  it('are each one KubeVirt’s swagger documents, with the method used', () => {
    const swagger = JSON.parse(readFileSync(new URL('../../../../vendor/kubevirt/kubevirt-swagger.json', import.meta.url), 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    const path = (p: string) => p.replace('/namespaces/ns/', '/namespaces/{namespace}/').replace(/\/vm(\/|$)/, '/{name}$1');
    const called: Array<[string, string]> = [
      ...(['restart', 'addvolume', 'removevolume'] as const).map((a) => ['put', path(vmActionPath('ns', 'vm', a))] as [string, string]),
      ...(['pause', 'unpause', 'softreboot'] as const).map((a) => ['put', path(vmiActionPath('ns', 'vm', a))] as [string, string]),
      ['get', path(vmiVncPath('ns', 'vm'))],
    ];
    for (const [method, p] of called) assert.ok(swagger.paths[p]?.[method], `${method.toUpperCase()} ${p} is in KubeVirt's swagger`);
  });
});

describe('Cinder volumes on KubeVirt, decided alone', () => {
  const CSI = { clusterID: 'b6f2c0de-ceph', secret: { namespace: 'ceph-csi', name: 'csi-rbd-secret' }, driver: 'rbd.csi.ceph.com' };
  const att = (connection: object | undefined, extra: object = {}) => ({ metadata: { name: 'web-data', namespace: 'demo', uid: 'a7a7a7a7-0000-4000-8000-000000000001' }, spec: { volume: 'data', instance: 'web' }, status: { volumeId: '0c0ffee0-1111-4222-8333-444455556666', connection, ...extra } }) as VolumeAttachment;
  const rbd = { driverVolumeType: 'rbd', name: 'volumes/volume-0c0ffee0', hosts: ['10.0.0.1'], ports: ['6789'], authUsername: 'cinder' };

  it('plugs only RBD volumes, and only with ceph-csi configured; a file-pool volume is refused saying why', () => {
    assert.equal(unpluggableBecause(att(rbd), CSI, 'kv'), undefined);
    assert.match(unpluggableBecause(att({ driverVolumeType: 'file', path: '/pool/v' }), CSI, 'kv')!, /file in a node pool/);
    assert.match(unpluggableBecause(att(rbd), undefined, 'kv')!, /no ceph-csi configured/);
  });

  it('makes a static ceph-csi PersistentVolume of the RBD image, pre-bound to the claim, that never deletes the image', () => {
    const pv = staticPersistentVolumeOf(att(rbd), CSI, 3);
    assert.deepEqual(pv.spec.csi, { driver: 'rbd.csi.ceph.com', volumeHandle: 'volume-0c0ffee0', nodeStageSecretRef: { name: 'csi-rbd-secret', namespace: 'ceph-csi' }, volumeAttributes: { clusterID: 'b6f2c0de-ceph', pool: 'volumes', staticVolume: 'true', imageFeatures: 'layering' } });
    assert.deepEqual([pv.spec.persistentVolumeReclaimPolicy, pv.spec.volumeMode, pv.spec.capacity.storage, pv.spec.claimRef.name, pv.spec.claimRef.namespace], ['Retain', 'Block', '3Gi', 'web-data', 'demo']);
    const h = hotplugOf(att(rbd));
    assert.deepEqual(h, { volume: { name: 'cinder-0c0ffee0-1111-4222-8333-444455556666', persistentVolumeClaim: { claimName: 'web-data', hotpluggable: true } }, disk: { name: 'cinder-0c0ffee0-1111-4222-8333-444455556666', disk: { bus: 'scsi' }, serial: '0c0ffee0-1111-4222-8' } });
  });

  it('keeps what KubeVirt holds of a VM’s Cinder volumes: in its template or asked, less what is asked to go', () => {
    const h = hotplugOf(att(rbd));
    const vm = { spec: { template: { spec: { volumes: [{ name: 'root', dataVolume: { name: 'r' } }, h.volume], domain: { devices: { disks: [{ name: 'root' }, h.disk] } } } } }, status: { volumeRequests: [{ addVolumeOptions: { name: 'cinder-x', disk: { disk: { bus: 'scsi' } }, volumeSource: { persistentVolumeClaim: { claimName: 'x' } } } }] } } as unknown as VirtualMachine;
    assert.deepEqual([...heldHotplugs(vm).keys()], [h.volume.name, 'cinder-x']);
    vm.status!.volumeRequests!.push({ removeVolumeOptions: { name: h.volume.name } });
    assert.deepEqual([...heldHotplugs(vm).keys()], ['cinder-x']);
  });
});

describe('Nova’s kubevirt driver with KubeVirt’s and CDI’s schemas (KubeVirt played by kubevirt-simulator, a stand-in: no guest boots)', function () {
  this.timeout(180_000);
  let env: ComputeEnv;
  let client: KubeClient;
  let s3: EmbeddedS3;
  let store: ImageStore;
  let work: string;
  let config: KubevirtComputeConfig;
  let driver: KubevirtCompute;
  let simulator: KubevirtSimulator;
  let glance: Manager;
  const HOST = `kubevirt-${process.pid}`;

  const get = (name: string) => client.get<Instance>(INSTANCES, 'demo', name);
  async function until(name: string, what: string, ok: (i: Instance) => boolean, timeoutMs = 90_000): Promise<Instance> {
    let last: Instance | undefined;
    await eventually(`instance ${name} to be ${what}`, async () => {
      last = await get(name);
      return !!last && ok(last);
    }, timeoutMs).catch((e: Error) => {
      throw new Error(`${e.message}; last status: ${JSON.stringify(last?.status)}`);
    });
    return last!;
  }
  const settled = (name: string, phase: string) => until(name, phase, (i) => i.status?.phase === phase && !i.status.taskState && i.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true);
  /** A create KubeVirt's or CDI's schema judges, under fieldValidation=Strict, stored nowhere (dryRun). */
  const strictCreate = async (path: string, body: object): Promise<{ status: number; body: { message?: string } }> => {
    try {
      return { status: 201, body: await client.request('POST', `${path}?fieldValidation=Strict&dryRun=All`, body) };
    } catch (e) {
      if (e instanceof KubeApiError) return { status: e.code, body: { message: e.message } };
      throw e;
    }
  };
  const kube = <T>(ref: typeof VIRTUAL_MACHINES, name: string) => client.get<KubernetesObject>(ref, 'demo', name) as Promise<T | undefined>;
  const startDriver = () => startKubevirtCompute({ config, kubeConfig: env.kubeConfig, logger: createLogger('kubevirt-test', process.env.STRATUS_LOG_LEVEL ?? 'error'), workers: 2, store });
  const create = (name: string, spec: Partial<Instance['spec']> = {}) =>
    client.create<Instance>(INSTANCES, { apiVersion: api, kind: 'Instance', metadata: { name, namespace: 'demo' }, spec: { flavor: 'm1.small', image: { name: 'cirros' }, host: HOST, ...spec } } as Instance, 'test');

  async function addImage(name: string, key: string, bytes?: Buffer) {
    const stored = bytes ? await store.put(key, Readable.from([bytes])) : undefined;
    await client.create(IMAGES, { apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name, namespace: 'demo' }, spec: { diskFormat: 'raw', containerFormat: 'bare' } } as Image, 'test');
    await client.patch(IMAGES, 'demo', name, { status: { phase: 'active', size: stored?.size ?? 1024, virtualSize: stored?.size ?? 1024, checksum: stored?.checksum ?? '0', location: stored?.location ?? `s3://test-images/${key}` } }, 'test', MERGE_PATCH, 'status');
  }

  before(async () => {
    env = await startComputeEnv();
    client = env.client;
    for (const crd of kubevirtCrds(new URL('../../../../vendor/kubevirt/', import.meta.url).pathname)) await client.create(CRD_REF, crd, 'test');
    await env.plane.server.controllers.idle();
    work = mkdtempSync(join(tmpdir(), 'kubevirt-test-'));
    s3 = await startEmbeddedS3({ directory: join(work, 's3') });
    store = new ImageStore({ endpoint: s3.endpoint, bucket: 'test-images', accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
    await store.ensureBucket();
    await client.create(FLAVORS, { apiVersion: api, kind: 'Flavor', metadata: { name: 'm1.small' }, spec: { vcpus: 2, ramMiB: 512, diskGiB: 1 } }, 'test');
    await client.create(FLAVORS, { apiVersion: api, kind: 'Flavor', metadata: { name: 'm1.huge' }, spec: { vcpus: 4, ramMiB: 32_768, diskGiB: 1 } }, 'test');
    await client.create(KEYPAIRS, { apiVersion: api, kind: 'Keypair', metadata: { name: 'me', namespace: 'demo' }, spec: { publicKey: SSH_KEY } }, 'test');
    await addImage('cirros', 'images/demo/cirros', Buffer.alloc(3 * 1024 * 1024 + 17, 7));
    await addImage('gone', 'images/demo/never-uploaded');
    config = { host: HOST, imageSource: { endpoint: s3.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, capacity: { vcpus: 32, ramMiB: 262_144, diskGiB: 100 }, heartbeatSeconds: 2, cephCsi: { clusterID: 'b6f2c0de-0000-4000-8000-00000000ce9h', secret: { namespace: 'ceph-csi', name: 'csi-rbd-secret' }, driver: 'rbd.csi.ceph.com' } };
    await env.startNova({ workers: 2 });
    // Glance's operator too: it guards image data with its finalizer, and snapshots go through its data path.
    glance = glanceManager({ store }, { kubeConfig: env.kubeConfig, logger: createLogger('glance-test', 'error') });
    await glance.start();
    simulator = await startKubevirtSimulator({ kubeConfig: env.kubeConfig, logger: createLogger('kubevirt-simulator-test', process.env.STRATUS_LOG_LEVEL ?? 'error'), node: { name: 'sim-node-0', memoryMiB: 16_384 } });
    driver = await startDriver();
  });
  after(async () => {
    await driver?.stop();
    await simulator?.stop();
    await glance?.stop();
    await env?.stop();
    await s3?.close();
    store?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('writes objects KubeVirt’s and CDI’s schemas accept under fieldValidation=Strict, and a wrong one is refused with the field named', async () => {
    const inst = { apiVersion: api, kind: 'Instance', metadata: { name: 'probe', namespace: 'demo', uid: '6f1c1c8e-0000-4000-8000-0000000000aa' }, spec: { flavor: 'm1.small', powerState: 'Stopped' } } as Instance;
    const flavor = { name: 'm1.small', vcpus: 2, ramMiB: 512, diskGiB: 1 };
    const src = { endpoint: 'http://127.0.0.1:9000', bucket: 'images', key: 'images/demo/odd name+1', accessKeyId: 'a', secretAccessKey: 's' };
    const vm = virtualMachineOf(inst, { flavor, sshKeys: true, diskBus: 'sata' });
    const accepted = await strictCreate('/apis/kubevirt.io/v1/namespaces/demo/virtualmachines', vm);
    assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
    assert.equal(vm.spec.runStrategy, 'Halted');
    const dv = rootDataVolumeOf(inst, src, 1, { namespace: 'demo', name: 'cirros' });
    assert.equal(dv.spec.source.s3.url, 'http://127.0.0.1:9000/images/images/demo/odd%20name%2B1');
    assert.equal((await strictCreate('/apis/cdi.kubevirt.io/v1beta1/namespaces/demo/datavolumes', dv)).status, 201);
    assert.equal((await strictCreate('/api/v1/namespaces/demo/secrets', cloudInitSecretOf(inst, undefined, 'probe'))).status, 201);
    const image = { apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name: 'probe-snap', namespace: 'demo', uid: '6f1c1c8e-0000-4000-8000-0000000000bb' }, spec: {} } as Image;
    assert.equal((await strictCreate('/apis/snapshot.kubevirt.io/v1beta1/namespaces/demo/virtualmachinesnapshots', vmSnapshotOf(image, 'probe'))).status, 201);
    const exportAccepted = await strictCreate('/apis/export.kubevirt.io/v1/namespaces/demo/virtualmachineexports', vmExportOf(image));
    assert.equal(exportAccepted.status, 201, JSON.stringify(exportAccepted.body));
    // With a Cinder volume hot-plugged (as KubeVirt persists it in the template), its claim and volume too.
    const a = { metadata: { name: 'probe-data', namespace: 'demo', uid: '6f1c1c8e-0000-4000-8000-0000000000cc' }, spec: { volume: 'data', instance: 'probe' }, status: { volumeId: '6f1c1c8e-0000-4000-8000-0000000000dd', connection: { driverVolumeType: 'rbd', name: 'volumes/volume-x', hosts: ['10.0.0.1'] } } } as VolumeAttachment;
    const plugged = await strictCreate('/apis/kubevirt.io/v1/namespaces/demo/virtualmachines', virtualMachineOf(inst, { flavor, hotplug: [hotplugOf(a)] }));
    assert.equal(plugged.status, 201, JSON.stringify(plugged.body));
    assert.equal((await strictCreate('/api/v1/namespaces/demo/persistentvolumeclaims', claimOf(inst, a, 1))).status, 201);
    assert.equal((await strictCreate('/api/v1/persistentvolumes', staticPersistentVolumeOf(a, { clusterID: 'c', secret: { namespace: 'n', name: 's' }, driver: 'rbd.csi.ceph.com' }, 1))).status, 201);
    const wrong = structuredClone(vm) as any;
    wrong.spec.template.spec.domain.cpu.socket = 2;
    const refused = await strictCreate('/apis/kubevirt.io/v1/namespaces/demo/virtualmachines', wrong);
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.match(refused.body.message ?? '', /unknown field "spec\.template\.spec\.domain\.cpu\.socket"/);
  });

  it('registers the cluster as one Hypervisor with the kubevirt driver, which the scheduler binds to', async () => {
    await eventually('the kubevirt hypervisor to heartbeat', async () => !!(await client.get<Hypervisor>(HYPERVISORS, undefined, HOST))?.status?.lastHeartbeat);
    const hv = (await client.get<Hypervisor>(HYPERVISORS, undefined, HOST))!;
    assert.equal(hv.spec.driver, 'kubevirt');
    assert.equal(hv.status?.hypervisorType, 'KubeVirt');
    assert.deepEqual(hv.spec.capacity, { vcpus: 32, ramMiB: 262_144, diskGiB: 100 });
    // Not pinned: the scheduler has this one hypervisor to choose.
    await create('scheduled', { host: undefined });
    const i = await until('scheduled', 'bound', (x) => !!x.status?.host);
    assert.equal(i.status?.host, HOST);
    await client.delete(INSTANCES, 'demo', 'scheduled');
    await eventually('scheduled to go', async () => !(await get('scheduled')));
  });

  it('builds a server as a VirtualMachine with a DataVolume imported from S3 and cloud-init, BUILD then ACTIVE with KubeVirt’s address', async () => {
    const userData = Buffer.from('#!/bin/sh\necho hello from user data\n');
    await create('web', { keypair: 'me', userData: userData.toString('base64'), displayName: 'Web server #1' });
    const building = await until('web', 'BUILD', (i) => i.status?.phase === 'BUILD');
    assert.equal(building.status?.host, HOST);
    const web = await settled('web', 'ACTIVE');
    assert.equal(web.status?.powerState, 'Running');
    assert.ok(web.status?.launchedAt, 'launchedAt is set');
    assert.equal(web.status?.flavor?.name, 'm1.small');
    const ips = web.status?.addresses?.[0]?.ips ?? [];
    assert.match(ips[0] ?? '', /^10\.244\.\d+\.\d+$/);

    const names = namesOf(web);
    const vm = (await kube<VirtualMachine>(VIRTUAL_MACHINES, names.vm))!;
    const vmi = (await kube<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, names.vm))!;
    const dv = (await kube<DataVolume>(DATA_VOLUMES, names.rootDisk))!;
    assert.equal(vm.status?.printableStatus, 'Running');
    assert.equal(vmi.status?.phase, 'Running');
    assert.equal(vmi.status?.interfaces?.[0]?.ipAddress, ips[0]);
    assert.equal(dv.status?.phase, 'Succeeded');
    for (const o of [vm, dv] as Array<{ metadata: { ownerReferences?: Array<{ kind: string; uid: string; controller: boolean }>; labels?: Record<string, string> } }>) {
      assert.deepEqual(o.metadata.ownerReferences?.map((r) => [r.kind, r.uid, r.controller]), [['Instance', web.metadata.uid, true]]);
      assert.equal(o.metadata.labels?.['compute.stratus.io/instance'], 'web');
    }
    const domain = vm.spec.template.spec.domain;
    assert.deepEqual([domain.cpu.sockets, domain.memory.guest, domain.firmware.uuid], [2, '512Mi', web.metadata.uid]);
    assert.equal(dv.spec.source?.s3?.url, `${s3.endpoint}/test-images/images/demo/cirros`);
    const cloudInit = await client.get<KubernetesObject & { data: Record<string, string> }>(SECRETS, 'demo', names.cloudInit);
    assert.equal(Buffer.from(cloudInit!.data.userdata!, 'base64').toString(), userData.toString(), 'the user data is passed through untouched');
    const keys = await client.get<KubernetesObject & { data: Record<string, string> }>(SECRETS, 'demo', names.sshKeys);
    assert.equal(Buffer.from(keys!.data.key1!, 'base64').toString(), SSH_KEY);
    assert.deepEqual(vm.spec.template.spec.accessCredentials?.[0]?.sshPublicKey.propagationMethod, { noCloud: {} });
  });

  it('stops and starts the server through runStrategy: SHUTOFF with no VMI, then ACTIVE again', async () => {
    await client.patch(INSTANCES, 'demo', 'web', { spec: { powerState: 'Stopped' } }, 'test', MERGE_PATCH);
    const off = await settled('web', 'SHUTOFF');
    assert.equal(off.status?.powerState, 'Shutdown');
    assert.equal((await kube<VirtualMachine>(VIRTUAL_MACHINES, 'web'))?.spec.runStrategy, 'Halted');
    await eventually('the VMI to be gone', async () => !(await kube(VIRTUAL_MACHINE_INSTANCES, 'web')));
    await client.patch(INSTANCES, 'demo', 'web', { spec: { powerState: 'Running' } }, 'test', MERGE_PATCH);
    await settled('web', 'ACTIVE');
    assert.equal((await kube<VirtualMachine>(VIRTUAL_MACHINES, 'web'))?.spec.runStrategy, 'Always');
  });

  it('pauses and unpauses through virt-api’s subresources (called through the API server’s aggregation)', async () => {
    await client.patch(INSTANCES, 'demo', 'web', { spec: { powerState: 'Paused' } }, 'test', MERGE_PATCH);
    const paused = await settled('web', 'PAUSED');
    assert.equal(paused.status?.powerState, 'Paused');
    const vmi = (await kube<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, 'web'))!;
    assert.equal(vmi.status?.conditions?.find((c) => c.type === 'Paused')?.reason, 'PausedByUser');
    assert.equal((await kube<VirtualMachine>(VIRTUAL_MACHINES, 'web'))?.status?.printableStatus, 'Paused');
    await client.patch(INSTANCES, 'demo', 'web', { spec: { powerState: 'Running' } }, 'test', MERGE_PATCH);
    await settled('web', 'ACTIVE');
    const again = (await kube<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, 'web'))!;
    assert.equal(again.metadata.uid, vmi.metadata.uid, 'an unpause keeps the same VMI');
    assert.ok(!again.status?.conditions?.some((c) => c.type === 'Paused'));
  });

  it("refuses (401, as virt-api) a caller that is not the API server's front proxy, whatever user it names: the VMI is untouched", async () => {
    const apiService = await client.get<KubernetesObject & { spec: { service: { port: number } } }>({ group: 'apiregistration.k8s.io', version: 'v1', plural: 'apiservices', namespaced: false }, undefined, 'v1.subresources.kubevirt.io');
    const url = `https://127.0.0.1:${apiService!.spec.service.port}${vmiActionPath('demo', 'web', 'pause')}`;
    const impostor = await generateProxyClientCert(); // the front proxy's name, not the published CA
    for (const [who, certificate] of [['no certificate', {}], ['a certificate of its own', { cert: impostor.cert, key: impostor.key }]] as const) {
      const answer = await undiciRequest(url, { method: 'PUT', headers: { 'X-Remote-User': 'system:admin', 'X-Remote-Group': 'system:masters' }, dispatcher: new UndiciAgent({ connect: { rejectUnauthorized: false, ...certificate } }) });
      const body = (await answer.body.json()) as { reason?: string; message?: string };
      assert.equal(answer.statusCode, 401, `${who}: ${body.message}`);
      assert.equal(body.reason, 'Unauthorized');
    }
    const vmi = await kube<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, 'web');
    assert.ok(!vmi?.status?.conditions?.some((c) => c.type === 'Paused'), 'the VMI was not paused');
  });

  it('soft-reboots in the guest (the VMI stays) and hard-reboots with a new VMI, counting each', async () => {
    const before = (await kube<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, 'web'))!;
    await client.patch(INSTANCES, 'demo', 'web', { spec: { reboot: { count: 1, type: 'SOFT' } } }, 'test', MERGE_PATCH);
    await until('web', 'soft-rebooted', (i) => i.status?.rebootsDone === 1 && i.status.phase === 'ACTIVE' && !i.status.taskState);
    assert.equal((await kube<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, 'web'))?.metadata.uid, before.metadata.uid);
    await client.patch(INSTANCES, 'demo', 'web', { spec: { reboot: { count: 2, type: 'HARD' } } }, 'test', MERGE_PATCH);
    await until('web', 'hard-rebooted', (i) => i.status?.rebootsDone === 2);
    await eventually('a new VMI to run', async () => {
      const now = await kube<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, 'web');
      return !!now && now.metadata.uid !== before.metadata.uid && now.status?.phase === 'Running';
    });
    const web = await settled('web', 'ACTIVE');
    assert.equal(web.status?.powerState, 'Running');
  });

  it('snapshots a server through a VirtualMachineSnapshot and its VirtualMachineExport into an active image; the export and its token go, the snapshot stays with the image', async () => {
    await client.create(IMAGES, { apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name: 'web-snap', namespace: 'demo' }, spec: { diskFormat: 'qcow2', containerFormat: 'bare', source: { instance: { name: 'web' } } } } as Image, 'test');
    let img: Image | undefined;
    await eventually('the snapshot image to be active', async () => ['active', 'killed'].includes((img = await client.get<Image>(IMAGES, 'demo', 'web-snap'))?.status?.phase ?? ''), 90_000);
    assert.equal(img!.status?.phase, 'active', JSON.stringify(img!.status));
    const source = (await client.get<Image>(IMAGES, 'demo', 'cirros'))!;
    // No guest ever wrote to the disk (the stand-in runs none): its snapshot is the image it was imported from.
    assert.equal(img!.status?.size, source.status?.size);
    assert.equal(img!.status?.checksum, source.status?.checksum);
    assert.equal(img!.spec.diskFormat, 'raw', 'as KubeVirt exports a disk');
    const name = `stratus-image-${img!.metadata.uid}`;
    const snap = await client.get<KubernetesObject & { status?: { readyToUse?: boolean } }>(VIRTUAL_MACHINE_SNAPSHOTS, 'demo', name);
    assert.equal(snap?.status?.readyToUse, true);
    assert.deepEqual(snap?.metadata?.ownerReferences?.map((o) => [o.kind, o.name]), [['Image', 'web-snap']]);
    await eventually('the export and its token to go', async () => !(await client.get(VIRTUAL_MACHINE_EXPORTS, 'demo', name)) && !(await client.get(SECRETS, 'demo', `${name}-export-token`)));
    assert.equal((await get('web'))?.status?.phase, 'ACTIVE', 'the server ran on');
    await client.delete(IMAGES, 'demo', 'web-snap');
    await eventually('the image and its VirtualMachineSnapshot to go', async () => !(await client.get(IMAGES, 'demo', 'web-snap')) && !(await client.get(VIRTUAL_MACHINE_SNAPSHOTS, 'demo', name)));
  });

  it('refuses a VirtualMachineExport’s disk to a request without its token (401), as virt-exportserver does', async () => {
    await client.create(IMAGES, { apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name: 'probe-snap', namespace: 'demo' }, spec: { diskFormat: 'raw', containerFormat: 'bare', source: { instance: { name: 'web' } } } } as Image, 'test');
    // Caught while the export is Ready and before the driver has read it and let it go: or else made here.
    const img = await eventuallyValue('the probe image', async () => client.get<Image>(IMAGES, 'demo', 'probe-snap'));
    await eventually('the probe snapshot to be active', async () => (await client.get<Image>(IMAGES, 'demo', 'probe-snap'))?.status?.phase === 'active', 90_000);
    const name = `stratus-image-${img.metadata.uid}`;
    await client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'probe-token', namespace: 'demo' }, stringData: { token: 'right' } } as KubernetesObject, 'test');
    await client.create(VIRTUAL_MACHINE_EXPORTS, { apiVersion: 'export.kubevirt.io/v1', kind: 'VirtualMachineExport', metadata: { name: 'probe', namespace: 'demo' }, spec: { source: { apiGroup: 'snapshot.kubevirt.io', kind: 'VirtualMachineSnapshot', name }, tokenSecretRef: 'probe-token' } } as KubernetesObject, 'test');
    let exp: any;
    await eventually('the probe export to be Ready', async () => (exp = await client.get<KubernetesObject & { status?: { phase?: string } }>(VIRTUAL_MACHINE_EXPORTS, 'demo', 'probe'))?.status?.phase === 'Ready');
    const link = exp.status.links.internal;
    const url = link.volumes.find((v: any) => v.name === 'web-root').formats.find((f: any) => f.format === 'raw').url as string;
    const agent = new UndiciAgent({ connect: { ca: Buffer.from(link.cert, 'base64').toString() } });
    const ask = async (token?: string) => {
      const r = await undiciRequest(url, { dispatcher: agent, headers: token ? { 'x-kubevirt-export-token': token } : {} });
      const bytes = (await r.body.arrayBuffer()).byteLength;
      return { status: r.statusCode, bytes };
    };
    assert.equal((await ask()).status, 401);
    assert.equal((await ask('wrong')).status, 401);
    assert.deepEqual(await ask('right'), { status: 200, bytes: (await client.get<Image>(IMAGES, 'demo', 'cirros'))!.status!.size });
    await agent.close();
    for (const [ref, n] of [[VIRTUAL_MACHINE_EXPORTS, 'probe'], [SECRETS, 'probe-token'], [IMAGES, 'probe-snap']] as const) await client.delete(ref, 'demo', n);
  });

  /** Plays Cinder's part of an attach (reserve, initialize_connection): the attachment gets its volume's connection. */
  async function reserve(name: string, volume: string, connection: object, instance = 'web'): Promise<VolumeAttachment> {
    await client.create(VOLUME_ATTACHMENTS, { apiVersion: 'blockstorage.stratus.io/v1alpha1', kind: 'VolumeAttachment', metadata: { name, namespace: 'demo' }, spec: { volume, instance } } as KubernetesObject, 'test');
    const vol = await client.get<KubernetesObject>(VOLUMES, 'demo', volume);
    return client.patch<VolumeAttachment>(VOLUME_ATTACHMENTS, 'demo', name, { status: { phase: 'reserved', volumeId: vol!.metadata!.uid, connection } }, 'test', MERGE_PATCH, 'status');
  }
  const RBD_CONNECTION = { driverVolumeType: 'rbd', name: 'volumes/volume-data', hosts: ['127.0.0.1'], ports: ['6789'], authUsername: 'cinder', secretType: 'ceph', secretUuid: '5b1d3c4e-0000-4000-8000-000000000001' };
  const vmOf = async () => (await kube<VirtualMachine>(VIRTUAL_MACHINES, 'web'))!;
  const templateVolumes = async () => ((await vmOf()).spec.template.spec.volumes as Array<{ name: string }>).map((v) => v.name);

  it('turns away a file-pool volume attached to a server on KubeVirt, as a Nova attach its driver cannot plug fails: the attachment goes and the server’s events say why', async () => {
    await client.create(VOLUMES, { apiVersion: 'blockstorage.stratus.io/v1alpha1', kind: 'Volume', metadata: { name: 'pooled', namespace: 'demo' }, spec: { sizeGiB: 1 } } as KubernetesObject, 'test');
    await reserve('web-pooled', 'pooled', { driverVolumeType: 'file', path: '/var/lib/stratus/volumes/pooled.qcow2', format: 'qcow2' });
    await eventually('the attachment to be turned away', async () => !(await client.get(VOLUME_ATTACHMENTS, 'demo', 'web-pooled')));
    const events = (await client.list<KubernetesObject & { reason?: string; message?: string; involvedObject?: { name?: string } }>(EVENTS, 'demo')).items;
    const why = events.find((e) => e.involvedObject?.name === 'web' && e.reason === 'VolumeAttachFailed');
    assert.match(why?.message ?? '', /Volume pooled cannot be attached: it is a file in a node pool, which the KubeVirt hypervisor .* cannot reach/);
    assert.equal((await get('web'))?.status?.phase, 'ACTIVE', 'the server ran on');
    assert.ok(!(await templateVolumes()).some((n) => n.startsWith('cinder-')), 'nothing was plugged');
  });

  it('turns away an RBD volume whose claim name is taken by someone else’s PVC, leaving that claim untouched and no PersistentVolume', async () => {
    await client.create(PERSISTENT_VOLUME_CLAIMS, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'web-theirs', namespace: 'demo' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } as KubernetesObject, 'test');
    await client.create(VOLUMES, { apiVersion: 'blockstorage.stratus.io/v1alpha1', kind: 'Volume', metadata: { name: 'theirs', namespace: 'demo' }, spec: { sizeGiB: 1 } } as KubernetesObject, 'test');
    const a = await reserve('web-theirs', 'theirs', RBD_CONNECTION);
    await eventually('the attachment to be turned away', async () => !(await client.get(VOLUME_ATTACHMENTS, 'demo', 'web-theirs')));
    const events = (await client.list<KubernetesObject & { reason?: string; message?: string; involvedObject?: { name?: string } }>(EVENTS, 'demo')).items;
    assert.ok(events.some((e) => e.reason === 'VolumeAttachFailed' && /Volume theirs cannot be attached: PersistentVolumeClaim demo\/web-theirs exists and is not this server's/.test(e.message ?? '')), JSON.stringify(events.map((e) => e.message)));
    const claim = await client.get<KubernetesObject & { spec: { volumeName?: string } }>(PERSISTENT_VOLUME_CLAIMS, 'demo', 'web-theirs');
    assert.ok(claim && !claim.metadata?.ownerReferences && !claim.spec.volumeName, 'their claim is as they made it');
    assert.equal(await client.get(PERSISTENT_VOLUMES, undefined, `stratus-${a.metadata.uid}`), undefined);
    await client.delete(PERSISTENT_VOLUME_CLAIMS, 'demo', 'web-theirs');
  });

  it('hot-plugs an RBD volume as a ceph-csi claim through virt-api’s addvolume: attached as the SCSI disk the VMI reports, kept across a restart, and unplugged on detach leaving no claim or PersistentVolume', async () => {
    await client.create(VOLUMES, { apiVersion: 'blockstorage.stratus.io/v1alpha1', kind: 'Volume', metadata: { name: 'data', namespace: 'demo' }, spec: { sizeGiB: 2 } } as KubernetesObject, 'test');
    const a = await reserve('web-data', 'data', RBD_CONNECTION);
    const name = `cinder-${a.status!.volumeId}`;
    const attached = await eventuallyValue('the attachment to be attached', async () => {
      const x = await client.get<VolumeAttachment>(VOLUME_ATTACHMENTS, 'demo', 'web-data');
      return x?.status?.phase === 'attached' ? x : undefined;
    });
    assert.equal(attached.status?.device, '/dev/sda', 'the first hot-plugged SCSI disk');
    assert.equal(attached.status?.host, HOST);
    assert.ok(attached.metadata.finalizers?.includes(PLUGGED_FINALIZER), 'held while plugged');
    // KubeVirt's own objects: the VMI has it Ready; the VM keeps it in its template (persisted); the claim is bound to a static ceph-csi volume.
    const vmi = (await kube<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, 'web'))!;
    const status = vmi.status?.volumeStatus?.find((v) => v.name === name);
    assert.deepEqual([status?.phase, status?.target, status?.persistentVolumeClaimInfo?.claimName], ['Ready', 'sda', 'web-data']);
    assert.ok((await templateVolumes()).includes(name));
    const claim = await client.get<KubernetesObject & { spec: { volumeName: string; volumeMode: string }; status?: { phase?: string } }>(PERSISTENT_VOLUME_CLAIMS, 'demo', 'web-data');
    assert.deepEqual([claim?.status?.phase, claim?.spec.volumeMode, claim?.metadata?.ownerReferences?.[0]?.uid], ['Bound', 'Block', (await get('web'))!.metadata.uid]);
    const pv = await client.get<KubernetesObject & { spec: { csi: { volumeHandle: string; volumeAttributes: Record<string, string> }; persistentVolumeReclaimPolicy: string }; status?: { phase?: string } }>(PERSISTENT_VOLUMES, undefined, claim!.spec.volumeName);
    assert.deepEqual([pv?.status?.phase, pv?.spec.csi.volumeHandle, pv?.spec.csi.volumeAttributes.pool, pv?.spec.csi.volumeAttributes.clusterID, pv?.spec.persistentVolumeReclaimPolicy], ['Bound', 'volume-data', 'volumes', config.cephCsi!.clusterID, 'Retain']);

    // A hard reboot makes a new VMI: the volume comes back with it, from the template.
    const before = (await get('web'))!;
    await client.patch(INSTANCES, 'demo', 'web', { spec: { reboot: { type: 'HARD', count: (before.spec.reboot?.count ?? 0) + 1 } } }, 'test', MERGE_PATCH);
    await eventually('a new VMI with the volume Ready', async () => {
      const x = await kube<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, 'web');
      return !!x && x.metadata.uid !== vmi.metadata.uid && x.status?.volumeStatus?.some((v) => v.name === name && v.phase === 'Ready') === true;
    });
    await settled('web', 'ACTIVE');

    // Detach (Nova's DELETE of the attachment): unplugged through removevolume, then the claim and the volume go.
    await client.delete(VOLUME_ATTACHMENTS, 'demo', 'web-data');
    await eventually('the attachment to be let go', async () => !(await client.get(VOLUME_ATTACHMENTS, 'demo', 'web-data')));
    assert.ok(!(await templateVolumes()).includes(name), 'out of the VM template');
    const after = (await kube<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, 'web'))!;
    assert.ok(!(after.spec.volumes as Array<{ name: string }>).some((v) => v.name === name) && !after.status?.volumeStatus?.some((v) => v.name === name), 'out of the running VMI');
    assert.equal(await client.get(PERSISTENT_VOLUME_CLAIMS, 'demo', 'web-data'), undefined);
    assert.equal(await client.get(PERSISTENT_VOLUMES, undefined, claim!.spec.volumeName), undefined);
    assert.equal((await get('web'))?.status?.phase, 'ACTIVE');
  });

  it('refuses what KubeVirt cannot do (suspend) without touching the running server', async () => {
    await client.patch(INSTANCES, 'demo', 'web', { spec: { powerState: 'Suspended' } }, 'test', MERGE_PATCH);
    const stalled = await until('web', 'stalled', (i) => i.status?.conditions?.some((c) => c.type === 'Stalled' && c.status === 'True' && c.reason === 'SuspendUnsupported') === true);
    assert.equal(stalled.status?.phase, 'ACTIVE');
    assert.match(stalled.status?.fault?.message ?? '', /cannot suspend/);
    assert.equal((await kube<VirtualMachine>(VIRTUAL_MACHINES, 'web'))?.status?.printableStatus, 'Running');
    await client.patch(INSTANCES, 'demo', 'web', { spec: { powerState: 'Running' } }, 'test', MERGE_PATCH);
    await settled('web', 'ACTIVE');
    // A resize asked with kubectl (the Compute API refuses it at once with 409): Stalled, and the VM keeps its size.
    await client.patch(INSTANCES, 'demo', 'web', { spec: { flavor: 'm1.huge' } }, 'test', MERGE_PATCH);
    const resize = await until('web', 'stalled on the resize', (i) => i.status?.conditions?.some((c) => c.type === 'Stalled' && c.status === 'True' && c.reason === 'ResizeUnsupported') === true);
    assert.equal(resize.status?.phase, 'ACTIVE');
    assert.equal((await kube<VirtualMachine>(VIRTUAL_MACHINES, 'web'))?.spec.template.spec.domain.memory.guest, '512Mi');
    await client.patch(INSTANCES, 'demo', 'web', { spec: { flavor: 'm1.small' } }, 'test', MERGE_PATCH);
    await settled('web', 'ACTIVE');
  });

  it('puts a server whose image cannot be imported into ERROR with CDI’s reason, and leaves nothing of it behind', async () => {
    await create('broken', { image: { name: 'gone' } });
    const broken = await until('broken', 'ERROR', (i) => i.status?.phase === 'ERROR', 120_000);
    assert.match(broken.status?.fault?.message ?? '', /NoSuchKey/);
    assert.match(broken.status?.fault?.message ?? '', /import restarted 3 times/);
    const names = namesOf(broken);
    await eventually('the broken server’s objects to be gone', async () => !(await kube(VIRTUAL_MACHINES, names.vm)) && !(await kube(DATA_VOLUMES, names.rootDisk)) && !(await kube(SECRETS, names.cloudInit)) && !(await kube(SECRETS, names.s3Credentials)));
    await client.delete(INSTANCES, 'demo', 'broken');
    await eventually('broken to go', async () => !(await get('broken')));
  });

  it('puts a server no node can hold into ERROR with KubeVirt’s ErrorUnschedulable', async () => {
    await create('huge', { flavor: 'm1.huge' });
    const huge = await until('huge', 'ERROR', (i) => i.status?.phase === 'ERROR');
    assert.match(huge.status?.fault?.message ?? '', /ErrorUnschedulable.*Insufficient memory/);
    await client.delete(INSTANCES, 'demo', 'huge');
    await eventually('huge to go', async () => !(await get('huge')));
  });

  it('never takes over an object of the same name it does not own: the build fails saying which, and the object is untouched', async () => {
    await client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mine-cloudinit', namespace: 'demo' }, stringData: { userdata: 'the user’s own' } } as KubernetesObject, 'test');
    await create('mine');
    const i = await until('mine', 'ERROR', (x) => x.status?.phase === 'ERROR');
    assert.match(i.status?.fault?.message ?? '', /Secret demo\/mine-cloudinit exists and is not this server's/);
    const secret = await client.get<KubernetesObject & { data: Record<string, string> }>(SECRETS, 'demo', 'mine-cloudinit');
    assert.equal(Buffer.from(secret!.data.userdata!, 'base64').toString(), 'the user’s own');
    await client.delete(INSTANCES, 'demo', 'mine');
    await eventually('mine to go', async () => !(await get('mine')));
  });

  it('finishes a build after the driver restarts in the middle of it, making each object once', async () => {
    await create('restarted');
    await eventually('the VM to be made', async () => !!(await kube(VIRTUAL_MACHINES, 'restarted')));
    await driver.stop();
    driver = await startDriver();
    await settled('restarted', 'ACTIVE');
    const vms = await client.list<KubernetesObject>(VIRTUAL_MACHINES, 'demo', 'compute.stratus.io/instance=restarted');
    assert.equal(vms.items.length, 1);
  });

  it('carries out a stop, a start, a pause, an unpause, a volume attach and detach and a delete asked while the driver was down, once it is back', async () => {
    const whileDown = async (change: () => Promise<unknown>) => {
      await driver.stop();
      await change();
      driver = await startDriver();
    };
    await settled('restarted', 'ACTIVE');
    await whileDown(() => client.patch(INSTANCES, 'demo', 'restarted', { spec: { powerState: 'Stopped' } }, 'test', MERGE_PATCH));
    await settled('restarted', 'SHUTOFF');
    await whileDown(() => client.patch(INSTANCES, 'demo', 'restarted', { spec: { powerState: 'Running' } }, 'test', MERGE_PATCH));
    await settled('restarted', 'ACTIVE');
    await whileDown(() => client.patch(INSTANCES, 'demo', 'restarted', { spec: { powerState: 'Paused' } }, 'test', MERGE_PATCH));
    await settled('restarted', 'PAUSED');
    await whileDown(() => client.patch(INSTANCES, 'demo', 'restarted', { spec: { powerState: 'Running' } }, 'test', MERGE_PATCH));
    await settled('restarted', 'ACTIVE');
    // A volume attached, then detached, while the driver was down.
    await client.create(VOLUMES, { apiVersion: 'blockstorage.stratus.io/v1alpha1', kind: 'Volume', metadata: { name: 'late', namespace: 'demo' }, spec: { sizeGiB: 1 } } as KubernetesObject, 'test');
    await whileDown(() => reserve('restarted-late', 'late', RBD_CONNECTION, 'restarted'));
    await eventually('the attachment made while the driver was down to be attached', async () => (await client.get<VolumeAttachment>(VOLUME_ATTACHMENTS, 'demo', 'restarted-late'))?.status?.device === '/dev/sda');
    await whileDown(() => client.delete(VOLUME_ATTACHMENTS, 'demo', 'restarted-late'));
    await eventually('the attachment deleted while the driver was down to be let go', async () => !(await client.get(VOLUME_ATTACHMENTS, 'demo', 'restarted-late')));
    assert.equal(await client.get(PERSISTENT_VOLUME_CLAIMS, 'demo', 'restarted-late'), undefined);
    await create('doomed');
    await settled('doomed', 'ACTIVE');
    await whileDown(() => client.delete(INSTANCES, 'demo', 'doomed'));
    await eventually('doomed to go', async () => !(await get('doomed')));
    assert.equal(await kube(VIRTUAL_MACHINES, 'doomed'), undefined);
    assert.equal(await kube(DATA_VOLUMES, 'doomed-root'), undefined);
  });

  it('deletes a server: the VM (stopped by KubeVirt first), its DataVolume and Secrets go, then the instance', async () => {
    for (const name of ['web', 'restarted']) {
      const inst = (await get(name))!;
      const names = namesOf(inst);
      await client.delete(INSTANCES, 'demo', name);
      await eventually(`${name} to go`, async () => !(await get(name)));
      for (const [ref, n] of [[VIRTUAL_MACHINES, names.vm], [VIRTUAL_MACHINE_INSTANCES, names.vm], [DATA_VOLUMES, names.rootDisk], [SECRETS, names.cloudInit], [SECRETS, names.s3Credentials]] as const)
        assert.equal(await kube(ref, n), undefined, `${ref.plural}/${n} left behind`);
    }
  });
});
