/**
 * GitOps with kpt (issue 17): `kpt live apply --reconcile-timeout` waits on the Stratus kinds' kstatus
 * (observedGeneration, Ready/Reconciling/Stalled) and so applies a package of Tenant, Flavor, Image and Instance
 * in dependency order, succeeds once all are Current, and fails, with the Stalled reason on show, when an
 * Instance cannot be scheduled. `kpt live destroy` then removes it all.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '@stratus/apiserver';
import { startCloud, type RunningCloud } from '@stratus/cli';
import { runKubectl } from './lib/cluster.js';
import { kubectlOk, itAskedNothingTheChartRefuses } from './lib/up.js';
import { serveTestImage, type ServedImage } from './lib/testImage.js';

interface KptResult {
  code: number;
  out: string;
}

describe('kpt live apply of Stratus kinds waits on their status', function () {
  this.timeout(900_000);
  let cloud: RunningCloud;
  let image: ServedImage;
  let pkg: string;

  /** Runs the real kpt against the cloud's control plane; never throws on a non-zero exit. */
  const kpt = (...args: string[]) =>
    new Promise<KptResult>((resolve) =>
      execFile('kpt', args, { env: { ...process.env, KUBECONFIG: cloud.kubeconfig, HOME: cloud.dir }, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      ),
    );
  const kubectl = (...args: string[]) => kubectlOk(cloud, args);
  const write = (file: string, yaml: string) => writeFileSync(join(pkg, file), yaml);

  before(async () => {
    image = await serveTestImage();
    cloud = await startCloud(undefined, undefined, { imageImportAllow: [image.host] });
    pkg = join(cloud.dir, 'package');
    mkdirSync(pkg);
    // The Image and the Instance live in the namespace the Tenant makes: depends-on makes kpt wait for the
    // Tenant to be Current (its namespace made) before it applies them.
    write('tenant.yaml', 'apiVersion: identity.stratus.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: gitops\nspec:\n  description: applied by kpt\n');
    write('flavor.yaml', 'apiVersion: compute.stratus.io/v1alpha1\nkind: Flavor\nmetadata:\n  name: g1.tiny\nspec:\n  vcpus: 1\n  ramMiB: 256\n  diskGiB: 1\n');
    write(
      'image.yaml',
      `apiVersion: image.stratus.io/v1alpha1\nkind: Image\nmetadata:\n  name: test-disk\n  namespace: gitops\n  annotations:\n    config.kubernetes.io/depends-on: identity.stratus.io/Tenant/gitops\nspec:\n  diskFormat: raw\n  source:\n    url: "${image.url}"\n    checksum: "${image.md5}"\n`,
    );
    write(
      'instance.yaml',
      'apiVersion: compute.stratus.io/v1alpha1\nkind: Instance\nmetadata:\n  name: web\n  namespace: gitops\n  annotations:\n    config.kubernetes.io/depends-on: image.stratus.io/namespaces/gitops/Image/test-disk,compute.stratus.io/Flavor/g1.tiny\nspec:\n  flavor: g1.tiny\n  image:\n    name: test-disk\n',
    );
    const init = await kpt('live', 'init', pkg, '--namespace', 'default', '--name', 'gitops-package');
    assert.equal(init.code, 0, init.out);
    const rg = await kpt('live', 'install-resource-group');
    assert.equal(rg.code, 0, rg.out);
  });
  after(async () => {
    image?.close();
    await cloud?.stop();
    await cloud?.remove();
  });

  it('applies Tenant, Flavor, Image and Instance in order and returns once all are Ready', async () => {
    const r = await kpt('live', 'apply', pkg, '--reconcile-timeout=5m', '--output=events');
    assert.equal(r.code, 0, r.out);
    for (const o of ['tenant.identity.stratus.io/gitops', 'flavor.compute.stratus.io/g1.tiny', 'image.image.stratus.io/test-disk', 'instance.compute.stratus.io/web'])
      assert.match(r.out, new RegExp(`${o.replace(/\./g, '\\.')} reconcile successful`), `kpt waited for ${o}:\n${r.out}`);
    assert.match(r.out, /reconcile result: 4 attempted, 4 successful, 0 skipped, 0 failed, 0 timed out/);
    // kpt returned only once every object was Ready: they are, without waiting here.
    assert.equal((await kubectl('get', 'instance/web', '-n', 'gitops', '-o', 'jsonpath={.status.phase} {.status.conditions[?(@.type=="Ready")].status}')).trim(), 'ACTIVE True');
    assert.equal((await kubectl('get', 'image/test-disk', '-n', 'gitops', '-o', 'jsonpath={.status.phase}')).trim(), 'active');
    // The Image was applied after the Tenant was Ready (its namespace existed), not retried into it.
    const tenantReady = r.out.indexOf('tenant.identity.stratus.io/gitops reconcile successful');
    const imageApplied = r.out.search(/image\.image\.stratus\.io\/test-disk (created|apply successful)/);
    assert.ok(tenantReady >= 0 && imageApplied > tenantReady, `the Image was applied after the Tenant was Ready:\n${r.out}`);
    const status = await kpt('live', 'status', pkg);
    assert.equal(status.code, 0, status.out);
    assert.equal((status.out.match(/Current/g) ?? []).length, 4, status.out);
  });

  it('fails with the Stalled reason when an Instance cannot be scheduled', async () => {
    write('huge.yaml', 'apiVersion: compute.stratus.io/v1alpha1\nkind: Flavor\nmetadata:\n  name: g1.huge\nspec:\n  vcpus: 512\n  ramMiB: 256\n  diskGiB: 1\n');
    write(
      'nowhere.yaml',
      'apiVersion: compute.stratus.io/v1alpha1\nkind: Instance\nmetadata:\n  name: nowhere\n  namespace: gitops\n  annotations:\n    config.kubernetes.io/depends-on: compute.stratus.io/Flavor/g1.huge\nspec:\n  flavor: g1.huge\n  image:\n    name: test-disk\n',
    );
    const r = await kpt('live', 'apply', pkg, '--reconcile-timeout=2m', '--output=events');
    assert.notEqual(r.code, 0, `kpt must not report success for an Instance that cannot run:\n${r.out}`);
    assert.match(r.out, /instance\.compute\.stratus\.io\/nowhere reconcile (failed|timeout)/, r.out);
    // kstatus calls a Stalled=True object Failed, and kpt shows the condition's message: Nova's NoValidHost.
    const status = await kpt('live', 'status', pkg);
    const line = status.out.split('\n').find((l) => l.includes('instance.compute.stratus.io/gitops/nowhere')) ?? '';
    assert.match(line, /is Failed: No valid host was found\. CoreFilter rejected/, status.out);
    assert.equal((await kubectl('get', 'instance/nowhere', '-n', 'gitops', '-o', 'jsonpath={.status.conditions[?(@.type=="Stalled")].reason}')).trim(), 'NoValidHost');
  });

  it('removes everything it applied with kpt live destroy', async () => {
    const r = await kpt('live', 'destroy', pkg, '--output=events');
    assert.equal(r.code, 0, r.out);
    await eventually(
      'the Tenant and Flavors are gone (the Tenant waits for its Instances and Image to go first)',
      async () => {
        const left = await runKubectl(cloud.kubeconfig, cloud.dir, ['get', 'tenant/gitops', 'flavor/g1.tiny', 'flavor/g1.huge', '--ignore-not-found', '-o', 'name']);
        return left.code === 0 && left.stdout.trim() === '';
      },
      300_000,
      1000,
    );
    assert.equal((await kubectl('get', 'instances,images', '-A', '-o', 'name')).trim(), '', 'no Instance or Image left');
  });

  itAskedNothingTheChartRefuses(() => cloud);
});
