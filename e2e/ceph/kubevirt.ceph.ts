/**
 * `stratus up --ceph --kubevirt` (make test-ceph, not make test): a Cinder volume on Ceph RBD attached with the
 * openstack CLI to a server on the kubevirt hypervisor is hot-plugged into its VirtualMachine as a static
 * ceph-csi PersistentVolume and claim naming the volume's RBD image, and detached again leaving the image, and
 * no claim or PersistentVolume. KubeVirt cannot run here (no container runtime): kubevirt-simulator stands in
 * for virt-api, virt-controller, virt-handler and the PersistentVolume binder, so no guest boots and nothing is
 * mapped; Cinder, its RBD image in a real Ceph, the API, the driver and the objects' schemas are real.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCloud, type RunningCloud } from '@stratus/cli';
import { RbdIo } from '@stratus/cinder';
import { runKubectl } from '../lib/cluster.js';
import { kubectlOk, openstackJson, openstackOk } from '../lib/up.js';
import { cephArgs, cephOf } from './cluster.js';

describe('stratus up --ceph --kubevirt: RBD volumes hot-plugged into KubeVirt VMs through ceph-csi claims (KubeVirt played by kubevirt-simulator, a stand-in: no guest boots)', function () {
  this.timeout(600_000);
  let cloud: RunningCloud;
  let ns: string;
  const os = (...args: string[]) => openstackOk(cloud, args);
  const json = (...args: string[]) => openstackJson(cloud, args);
  const kubectl = (...args: string[]) => kubectlOk(cloud, args);
  /** Polls until `probe` gives a value: 3 minutes at most, saying what it waited for. */
  async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      assert.ok(Date.now() < deadline, `gave up waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const imagesInPool = async () => {
    const ceph = cephOf(cloud);
    const io = new RbdIo({ conf: join(ceph.cluster, 'ceph.conf'), user: 'admin', keyring: join(ceph.cluster, 'client.admin.keyring'), pool: ceph.pool });
    try {
      return (await io.call<Array<{ name: string }>>('list')).result.map((i) => i.name);
    } finally {
      io.close();
    }
  };

  before(async () => {
    cloud = await startCloud(300_000, undefined, { args: [...cephArgs(), '--kubevirt'] });
    writeFileSync(join(cloud.dir, 'disk.raw'), Buffer.alloc(4 * 1024 * 1024, 1));
    await os('image', 'create', '--file', join(cloud.dir, 'disk.raw'), '--disk-format', 'raw', '--container-format', 'bare', 'tiny-disk');
    await os('flavor', 'create', '--vcpus', '1', '--ram', '256', '--disk', '1', 'm1.tiny');
    const server = await json('server', 'create', '--flavor', 'm1.tiny', '--image', 'tiny-disk', '--availability-zone', 'kubevirt', '--wait', 'kv');
    assert.equal(server.status, 'ACTIVE');
    ns = (await kubectl('get', 'instances', '-A', '-o', 'jsonpath={.items[?(@.metadata.name=="kv")].metadata.namespace}')).trim();
  });
  after(async () => {
    await cloud?.stop();
    await cloud?.remove();
  });

  it('attaches an RBD volume with the CLI: in-use as /dev/sda, a Bound claim on a ceph-csi volume naming the image, Ready in the VMI', async () => {
    await os('volume', 'create', '--size', '1', 'kv-data');
    const vol = await until('the volume to be available', async () => {
      const v = await json('volume', 'show', 'kv-data');
      return v.status === 'available' ? v : undefined;
    });
    await os('server', 'add', 'volume', 'kv', 'kv-data');
    const inUse = await until('the volume to be in-use', async () => {
      const v = await json('volume', 'show', 'kv-data');
      return v.status === 'in-use' && v.attachments[0]?.device ? v : undefined;
    });
    assert.equal(inUse.attachments[0].device, '/dev/sda');
    const attachments = await json('server', 'volume', 'list', 'kv');
    assert.deepEqual(attachments.map((a: any) => [a['Volume ID'], a.Device]), [[vol.id, '/dev/sda']]);

    const claim = JSON.parse(await kubectl('get', 'pvc', '-n', ns, '-o', 'json')).items;
    assert.equal(claim.length, 1);
    assert.deepEqual([claim[0].status.phase, claim[0].spec.volumeMode, claim[0].spec.storageClassName], ['Bound', 'Block', '']);
    const pv = JSON.parse(await kubectl('get', 'pv', claim[0].spec.volumeName, '-o', 'json'));
    const fsid = /fsid\s*=\s*(\S+)/.exec(readFileSync(join(cephOf(cloud).cluster, 'ceph.conf'), 'utf8'))![1];
    assert.deepEqual(
      [pv.spec.csi.driver, pv.spec.csi.volumeHandle, pv.spec.csi.volumeAttributes.pool, pv.spec.csi.volumeAttributes.clusterID, pv.spec.csi.nodeStageSecretRef, pv.spec.persistentVolumeReclaimPolicy],
      ['rbd.csi.ceph.com', `volume-${vol.id}`, cephOf(cloud).pool, fsid, { name: 'csi-rbd-secret', namespace: 'ceph-csi' }, 'Retain'],
    );
    assert.ok((await imagesInPool()).includes(pv.spec.csi.volumeHandle), 'the PersistentVolume names the volume’s RBD image');
    const secret = JSON.parse(await kubectl('get', 'secret', 'csi-rbd-secret', '-n', 'ceph-csi', '-o', 'json'));
    assert.equal(Buffer.from(secret.data.userID, 'base64').toString(), cephOf(cloud).user, 'ceph-csi maps images as Cinder’s cephx user');
    const status = await kubectl('get', 'vmi', 'kv', '-n', ns, '-o', `jsonpath={.status.volumeStatus[?(@.name=="cinder-${vol.id}")].phase}`);
    assert.equal(status, 'Ready');
  });

  it('detaches it with the CLI: unplugged from the VM and VMI, the claim and PersistentVolume gone, the RBD image kept', async () => {
    const vol = await json('volume', 'show', 'kv-data');
    const pvName = (await kubectl('get', 'pvc', '-n', ns, '-o', 'jsonpath={.items[0].spec.volumeName}')).trim();
    await os('server', 'remove', 'volume', 'kv', 'kv-data');
    await until('the volume to be available', async () => ((await json('volume', 'show', 'kv-data')).status === 'available' ? true : undefined));
    await until('the claim and the PersistentVolume to go', async () => ((await kubectl('get', 'pvc', '-n', ns, '-o', 'name')).trim() === '' && (await runKubectl(cloud.kubeconfig, cloud.dir, ['get', 'pv', pvName])).code !== 0 ? true : undefined));
    const volumes = await kubectl('get', 'vm', 'kv', '-n', ns, '-o', 'jsonpath={.spec.template.spec.volumes[*].name}');
    assert.ok(!volumes.includes(`cinder-${vol.id}`), volumes);
    assert.ok((await imagesInPool()).includes(`volume-${vol.id}`), 'the image is Cinder’s: a detach keeps it');
    assert.equal((await json('server', 'show', 'kv')).status, 'ACTIVE');
  });

  it('deletes the server with a volume attached: the attachment is let go, the volume available, no claim left', async () => {
    await os('server', 'add', 'volume', 'kv', 'kv-data');
    await until('the volume to be in-use', async () => ((await json('volume', 'show', 'kv-data')).status === 'in-use' ? true : undefined));
    await os('server', 'delete', '--wait', 'kv');
    await until('the volume to be available', async () => ((await json('volume', 'show', 'kv-data')).status === 'available' ? true : undefined));
    assert.equal((await kubectl('get', 'pvc,vm,vmi', '-n', ns, '-o', 'name')).trim(), '');
    assert.equal((await kubectl('get', 'pv', '-o', 'name')).trim(), '');
    await os('volume', 'delete', 'kv-data');
  });
});
