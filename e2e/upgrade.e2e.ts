/**
 * Upgrading in place: `stratus up` resumes a state folder that the release before free-text names made, and
 * every object survives with its OpenStack name and ID, while the new naming model holds their names.
 *
 * The fixture (e2e/fixtures/state-before-free-names.tar.gz) is the state folder of commit 9993cf3's
 * `stratus up`, made with the real openstack CLI and stopped with Ctrl-C:
 *   openstack project create --description "made before free names" legacy
 *   openstack user create --password legacy-pw --project legacy olduser
 *   openstack role add --project legacy --user olduser member
 *   openstack flavor create --vcpus 1 --ram 128 --disk 1 m1.legacy
 *   openstack image create --file img.raw --disk-format raw --container-format bare --public legacy-image
 *     (img.raw holds the 15 bytes "tiny image data")
 *   as olduser in legacy: openstack keypair create oldkey; openstack server group create --policy anti-affinity spread
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCloud, type RunningCloud } from '@stratus/cli';
import { runKubectl } from './lib/cluster.js';
import { openstack as run, openstackJson, type CliResult, itAskedNothingTheChartRefuses } from './lib/up.js';

const FIXTURE = new URL('../../e2e/fixtures/state-before-free-names.tar.gz', import.meta.url).pathname;
const LEGACY_PROJECT_ID = 'c74eb0d39f0646faad448baea6fa0eca';
const LEGACY_USER_ID = '0a4d8e20fc0647dc98add216e1d14df9';
const LEGACY_IMAGE_ID = '46a1d697-fde6-45aa-8aae-8597bb481ec7';
const LEGACY_GROUP_ID = 'e0fda96f-480e-4b3b-9812-0c82d4d08830';

describe('upgrade from a state folder made before free-text names', function () {
  this.timeout(300_000);
  let work: string;
  let cloud: RunningCloud;
  const json = (...args: string[]) => openstackJson(cloud, args);
  const kubectl = (...args: string[]) => runKubectl(cloud.kubeconfig, cloud.dir, args);
  const asOldUser = (...args: string[]): Promise<CliResult> =>
    run(cloud, args, {
      OS_CLOUD: '',
      OS_CLIENT_CONFIG_FILE: '/dev/null',
      OS_AUTH_URL: cloud.admin().authUrl,
      OS_USERNAME: 'olduser',
      OS_PASSWORD: 'legacy-pw',
      OS_PROJECT_NAME: 'legacy',
      OS_USER_DOMAIN_NAME: 'Default',
      OS_PROJECT_DOMAIN_NAME: 'Default',
      OS_IDENTITY_API_VERSION: '3',
    });

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'stratus-upgrade-'));
    chmodSync(work, 0o755); // QEMU's user must pass through to the state folder
    execFileSync('tar', ['-xzf', FIXTURE, '-C', work]);
    cloud = await startCloud(undefined, join(work, 'state'));
  });
  after(async () => {
    await cloud?.stop();
    await cloud?.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it('keeps every object with its OpenStack name and ID, and each becomes Ready under the new operators', async () => {
    const project = await json('project', 'show', 'legacy');
    assert.equal(project.id, LEGACY_PROJECT_ID);
    assert.equal(project.description, 'made before free names');
    assert.equal((await json('user', 'show', 'olduser')).id, LEGACY_USER_ID);
    const flavor = await json('flavor', 'show', 'm1.legacy');
    assert.deepEqual([flavor.id, flavor.name, flavor.ram], ['m1.legacy', 'm1.legacy', 128]);
    const image = await json('image', 'show', 'legacy-image');
    assert.equal(image.id, LEGACY_IMAGE_ID);
    assert.equal(image.status, 'active');
    const copy = join(work, 'copy.raw');
    assert.equal((await run(cloud, ['image', 'save', '--file', copy, 'legacy-image'])).code, 0);
    assert.equal(readFileSync(copy, 'utf8'), 'tiny image data', 'the image data is still in S3');

    // The user's password hash survived: they sign in, and see their keypair and server group.
    const token = await asOldUser('token', 'issue', '-f', 'json');
    assert.equal(token.code, 0, token.stderr);
    assert.equal(JSON.parse(token.stdout).project_id, LEGACY_PROJECT_ID);
    const keypairs = await asOldUser('keypair', 'list', '-f', 'value', '-c', 'Name');
    assert.equal(keypairs.stdout.trim(), 'oldkey');
    const groups = await asOldUser('server', 'group', 'list', '-f', 'json');
    assert.deepEqual(JSON.parse(groups.stdout).map((g: any) => [g.ID, g.Name]), [[LEGACY_GROUP_ID, 'spread']]);

    for (const kind of ['tenants.identity', 'users.identity', 'roles.identity', 'flavors.compute', 'keypairs.compute', 'servergroups.compute', 'images.image']) {
      const ready = await kubectl('wait', '--for=condition=Ready', kind, '--all', '-A', '--timeout=60s');
      assert.equal(ready.code, 0, `${kind}: ${ready.stderr}`);
    }
    // Objects from before keep their object names, which are their OpenStack names.
    assert.equal((await kubectl('get', 'tenant', 'legacy', '-o', 'jsonpath={.status.namespace}')).stdout, 'legacy');
  });

  it('holds the names of the objects from before, so new ones cannot take them', async () => {
    const project = await run(cloud, ['project', 'create', 'legacy']);
    assert.match(project.stderr, /Duplicate entry found with name legacy.*HTTP 409/);
    const user = await run(cloud, ['user', 'create', '--password', 'x', 'olduser']);
    assert.match(user.stderr, /HTTP 409/);
    const flavor = await run(cloud, ['flavor', 'create', '--vcpus', '1', '--ram', '64', 'm1.legacy']);
    assert.match(flavor.stderr, /409.*Flavor with name m1.legacy already exists/);
    const keypair = await asOldUser('keypair', 'create', 'oldkey');
    assert.match(keypair.stderr, /409.*Key pair 'oldkey' already exists/);
    // Renaming an object from before works like any other rename.
    const renamed = await run(cloud, ['project', 'set', '--name', 'Legacy Project', 'legacy']);
    assert.equal(renamed.code, 0, renamed.stderr);
    assert.equal((await json('project', 'show', LEGACY_PROJECT_ID)).name, 'Legacy Project');
    assert.equal((await kubectl('get', 'tenant', 'legacy', '-o', 'jsonpath={.spec.displayName}')).stdout, 'Legacy Project');
  });

  itAskedNothingTheChartRefuses(() => cloud);
});
