/**
 * `stratus up --ceph` (make test-ceph, not make test): the block storage suite with volumes as RBD images in the
 * cloud's pool of a real Ceph (./cluster.ts says which), looked at in the pool with librbd (as client.admin); guests reach them as network
 * disks, with client.cinder's key in a libvirt secret, never in a connection, a definition or a command line.
 * And a fault: the OSD stopped under a volume create gives an error, and no image is left once Ceph is back.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '@stratus/apiserver';
import { RbdIo } from '@stratus/cinder';
import type { RunningCloud } from '@stratus/cli';
import { runKubectl } from '../lib/cluster.js';
import { openstack, openstackJson, openstackOk } from '../lib/up.js';
import { volumeSuite, type PoolView } from '../lib/volumeSuite.js';
import { cephArgs, cephOf } from './cluster.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const sh = promisify(execFile);
const cephDir = (cloud: RunningCloud) => cephOf(cloud).cluster;
const cinderKey = (cloud: RunningCloud) => /key\s*=\s*(\S+)/.exec(readFileSync(cephOf(cloud).keyring, 'utf8'))![1]!;

/** The cloud's pool as librbd shows it to the cluster's admin: every image (a half-made `.part` too) and snapshot. */
function rbdView(cloud: RunningCloud): PoolView {
  const io = new RbdIo({ conf: join(cephDir(cloud), 'ceph.conf'), user: 'admin', keyring: join(cephDir(cloud), 'client.admin.keyring'), pool: cephOf(cloud).pool });
  return {
    what: "the volume's RBD image",
    names: async () => {
      const { result } = await io.call<Array<{ name: string; snapshots: string[] }>>('list');
      return result.flatMap((i) => [i.name, ...i.snapshots]).sort();
    },
    read: async (id, length) => ((await io.call('read', { name: `volume-${id}`, offset: 0, length })).data ?? Buffer.alloc(0)).toString(),
    close: () => io.close(),
  };
}

volumeSuite('stratus up --ceph: block storage on Ceph RBD with the openstack CLI and kubectl', {
  args: cephArgs(),
  pool: rbdView,
  whileAttached: ({ cloud }) => {
    it('keeps volumes as RBD images of type ceph, plugged in as rbd network disks whose cephx key is a libvirt secret only', async () => {
      const c = cloud();
      const json = (...args: string[]) => openstackJson(c, args);
      const type = await json('volume', 'type', 'show', 'ceph');
      assert.deepEqual(type.properties, { volume_backend_name: 'ceph' });
      const vol = await json('volume', 'show', 'data');
      assert.equal(vol['os-vol-host-attr:host'], `stratus@ceph#${cephOf(c).pool}`);
      const conn = JSON.parse((await runKubectl(c.kubeconfig, c.dir, ['get', '-n', 'admin', 'volumes', '-o', `jsonpath={.items[?(@.metadata.uid=="${vol.id}")].status.connection}`])).stdout);
      assert.equal(conn.driverVolumeType, 'rbd');
      assert.equal(conn.name, `${cephOf(c).pool}/volume-${vol.id}`);
      assert.equal(conn.authUsername, cephOf(c).user);
      const key = cinderKey(c);
      assert.ok(!JSON.stringify(conn).includes(key), 'the connection carries no key');

      const beta = (await json('server', 'show', 'beta')).id as string;
      const domain = (await sh('virsh', ['-q', '-c', 'qemu:///system', 'list', '--name'])).stdout.split('\n').find((n) => n.includes(beta))!;
      assert.ok(domain, `a domain for server ${beta}`);
      const xml = (await sh('virsh', ['-c', 'qemu:///system', 'dumpxml', domain])).stdout;
      assert.match(xml, new RegExp(`<disk type=.network. device=.disk.>[\\s\\S]*?<source protocol=.rbd. name=.${cephOf(c).pool}/volume-${vol.id}.`));
      assert.match(xml, new RegExp(`<secret type=.ceph. uuid=.${conn.secretUuid}.`));
      assert.ok(!xml.includes(key), 'the definition carries no key');
      const secrets = (await sh('virsh', ['-c', 'qemu:///system', 'secret-list'])).stdout;
      assert.match(secrets, new RegExp(`${conn.secretUuid}\\s+ceph client\\.${cephOf(c).user} secret`));
      // The secret is private: libvirt will not hand its value back.
      const leak = await sh('virsh', ['-c', 'qemu:///system', 'secret-get-value', conn.secretUuid]).then(
        (r) => r.stdout,
        (e: { stderr: string }) => e.stderr,
      );
      assert.ok(!leak.includes(key), 'a private secret is not readable');
      // Nor is it on any QEMU's command line.
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        const cmdline = (() => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
          } catch {
            return '';
          }
        })();
        if (cmdline.includes(beta)) assert.ok(!cmdline.includes(key), `QEMU (pid ${pid}) has no key on its command line`);
      }
    });
  },
  atEnd: ({ cloud, pool }) => {
    it('answers a volume create with the OSD stopped with an error, and leaves no image once Ceph is back', async function () {
      const c = cloud();
      const os = (...args: string[]) => openstackOk(c, args);
      const before = await pool().names();
      const osd = Number(readFileSync(join(cephDir(c), 'run', 'osd.0.pid'), 'utf8'));
      process.kill(osd, 'SIGTERM');
      try {
        await eventually('osd.0 to be down', async () => !(await sh('ceph', ['-c', join(cephDir(c), 'ceph.conf'), 'osd', 'dump'])).stdout.includes('osd.0 up'), 120_000, 1000);
        await os('volume', 'create', '--image', 'stratus-test', '--size', '1', 'no-osd');
        // librbd gives up after the RADOS op timeout (30 s) rather than wait for the OSD forever.
        await eventually('the volume to be in error', async () => (await openstackJson(c, ['volume', 'show', 'no-osd'])).status === 'error', 240_000, 1000);
      } finally {
        await sh(join(ROOT, 'hack/ceph-up.sh'), [cephDir(c)], { maxBuffer: 1 << 20 });
      }
      const vol = await openstackJson(c, ['volume', 'show', 'no-osd']);
      await os('volume', 'delete', 'no-osd');
      await eventually('the volume to be gone', async () => (await openstack(c, ['volume', 'show', 'no-osd'])).code !== 0, 180_000, 1000);
      const after = await pool().names();
      assert.ok(!after.some((n) => n.includes(vol.id)), `no image of volume ${vol.id} is left: ${after.join(', ')}`);
      assert.deepEqual(after, before);
    });
  },
});
