/**
 * KubeVirt's and CDI's own CRDs (vendor/kubevirt/, verbatim) in the embedded control plane: the objects a
 * kubevirt compute driver writes are accepted under fieldValidation=Strict with their metadata kept, and ones
 * KubeVirt's schemas forbid are refused with the field named, as a cluster running KubeVirt would.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { eventually, startTestControlPlane, type TestControlPlane } from '../src/index.js';

const vendored = (file: string) => parseAllDocuments(readFileSync(new URL(`../../../vendor/kubevirt/${file}`, import.meta.url), 'utf8')).map((d) => d.toJS());
const CRDS = [...vendored('kubevirt-crds.yaml'), ...vendored('cdi-crds.yaml')];

describe('KubeVirt and CDI schemas in the embedded control plane', function () {
  this.timeout(120_000);
  let plane: TestControlPlane;
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(plane.server.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { Authorization: `Bearer ${plane.token}`, 'Content-Type': 'application/json' } });
    return { status: r.status, body: (await r.json()) as any };
  };
  const strict = (path: string, body: unknown) => call('POST', `${path}?fieldValidation=Strict`, body);

  before(async () => {
    plane = await startTestControlPlane({ tls: false });
    for (const crd of CRDS) assert.equal((await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status, 201, crd.metadata.name);
    await eventually('the nine CRDs to be Established', async () => {
      const list = (await call('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions')).body.items as any[];
      return CRDS.every((c) => list.find((l) => l.metadata.name === c.metadata.name)?.status?.conditions?.some((x: any) => x.type === 'Established' && x.status === 'True'));
    });
  });
  after(() => plane.stop());

  it('serves the nine kinds in discovery with KubeVirt’s short names, as kubectl get vm,vmi,dv finds them', async () => {
    const kinds = async (groupVersion: string) => ((await call('GET', `/apis/${groupVersion}`)).body.resources as any[]).filter((r) => !r.name.includes('/'));
    const virt = await kinds('kubevirt.io/v1');
    assert.deepEqual(virt.map((r) => r.name).sort(), ['virtualmachineinstances', 'virtualmachines']);
    assert.deepEqual(virt.find((r) => r.name === 'virtualmachines').shortNames, ['vm', 'vms']);
    assert.ok(virt.find((r) => r.name === 'virtualmachineinstances').shortNames.includes('vmi'));
    const cdi = await kinds('cdi.kubevirt.io/v1beta1');
    assert.deepEqual(cdi.map((r) => r.name).sort(), ['datasources', 'datavolumes', 'storageprofiles']);
    assert.ok(cdi.find((r) => r.name === 'datavolumes').shortNames.includes('dv'));
    assert.equal((await kinds('instancetype.kubevirt.io/v1beta1')).length, 3);
    assert.equal((await kinds('snapshot.kubevirt.io/v1beta1')).length, 1);
  });

  it('accepts an instancetype, a DataVolume importing from S3, a VirtualMachine using both with a cloud-init disk, and a snapshot', async () => {
    const it = await strict('/apis/instancetype.kubevirt.io/v1beta1/virtualmachineclusterinstancetypes', {
      apiVersion: 'instancetype.kubevirt.io/v1beta1', kind: 'VirtualMachineClusterInstancetype', metadata: { name: 'm1.small', labels: { 'compute.stratus.io/flavor': 'm1.small' } }, spec: { cpu: { guest: 1 }, memory: { guest: '2Gi' } },
    });
    assert.equal(it.status, 201, JSON.stringify(it.body));
    const dv = await strict('/apis/cdi.kubevirt.io/v1beta1/namespaces/default/datavolumes', {
      apiVersion: 'cdi.kubevirt.io/v1beta1', kind: 'DataVolume', metadata: { name: 'web-root', annotations: { 'cdi.kubevirt.io/storage.bind.immediate.requested': 'true' } },
      spec: { source: { s3: { url: 'https://s3.example.test/images/images/admin/raw1', secretRef: 'image-reader' } }, storage: { resources: { requests: { storage: '10Gi' } } } },
    });
    assert.equal(dv.status, 201, JSON.stringify(dv.body));
    const vm = await strict('/apis/kubevirt.io/v1/namespaces/default/virtualmachines', {
      apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine',
      metadata: { name: 'web', labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'compute.stratus.io/v1alpha1', kind: 'Instance', name: 'web', uid: '6f1c1c8e-0000-4000-8000-000000000001', controller: true }], finalizers: ['compute.stratus.io/kubevirt'] },
      spec: {
        runStrategy: 'Always',
        instancetype: { kind: 'VirtualMachineClusterInstancetype', name: 'm1.small' },
        template: {
          metadata: { labels: { 'kubevirt.io/domain': 'web' } },
          spec: {
            domain: { devices: { disks: [{ name: 'root', disk: { bus: 'virtio' } }, { name: 'cloudinit', disk: { bus: 'virtio' } }], interfaces: [{ name: 'default', masquerade: {} }] } },
            networks: [{ name: 'default', pod: {} }],
            volumes: [{ name: 'root', dataVolume: { name: 'web-root' } }, { name: 'cloudinit', cloudInitNoCloud: { userData: '#cloud-config\nssh_authorized_keys: [ssh-ed25519 AAAA test]\n' } }],
          },
        },
      },
    });
    assert.equal(vm.status, 201, JSON.stringify(vm.body));
    assert.deepEqual(vm.body.metadata.labels, { app: 'web' });
    assert.equal(vm.body.metadata.ownerReferences[0].kind, 'Instance');
    assert.deepEqual(vm.body.metadata.finalizers, ['compute.stratus.io/kubevirt']);
    assert.deepEqual(vm.body.spec.template.metadata.labels, { 'kubevirt.io/domain': 'web' });
    const snap = await strict('/apis/snapshot.kubevirt.io/v1beta1/namespaces/default/virtualmachinesnapshots', {
      apiVersion: 'snapshot.kubevirt.io/v1beta1', kind: 'VirtualMachineSnapshot', metadata: { name: 'web-snap' }, spec: { source: { apiGroup: 'kubevirt.io', kind: 'VirtualMachine', name: 'web' } },
    });
    assert.equal(snap.status, 201, JSON.stringify(snap.body));
  });

  it('refuses what KubeVirt’s and CDI’s schemas do not allow, naming the field, and stores nothing', async () => {
    const unknownField = await strict('/apis/kubevirt.io/v1/namespaces/default/virtualmachines', {
      apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name: 'typo' },
      spec: { runStrategy: 'Always', template: { spec: { domain: { devices: { disks: [{ name: 'root', disk: { busType: 'virtio' } }] } } } } },
    });
    assert.equal(unknownField.status, 400, JSON.stringify(unknownField.body));
    assert.match(unknownField.body.message, /unknown field "spec\.template\.spec\.domain\.devices\.disks\[0\]\.disk\.busType"/);
    const noTemplate = await strict('/apis/kubevirt.io/v1/namespaces/default/virtualmachines', { apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name: 'empty' }, spec: { runStrategy: 'Always' } });
    assert.equal(noTemplate.status, 422, JSON.stringify(noTemplate.body));
    assert.match(noTemplate.body.message, /spec\.template: Required value/);
    const badDv = await strict('/apis/cdi.kubevirt.io/v1beta1/namespaces/default/datavolumes', {
      apiVersion: 'cdi.kubevirt.io/v1beta1', kind: 'DataVolume', metadata: { name: 'bad' }, spec: { source: { s3: { secretRef: 'x' } }, storage: {} },
    });
    assert.equal(badDv.status, 422, JSON.stringify(badDv.body));
    assert.match(badDv.body.message, /spec\.source\.s3\.url: Required value/);
    for (const [path, name] of [['kubevirt.io/v1/namespaces/default/virtualmachines', 'typo'], ['kubevirt.io/v1/namespaces/default/virtualmachines', 'empty'], ['cdi.kubevirt.io/v1beta1/namespaces/default/datavolumes', 'bad']])
      assert.equal((await call('GET', `/apis/${path}/${name}`)).status, 404, `${name} stored`);
  });
});
