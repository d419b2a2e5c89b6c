/** `stratus up` (behind `make up`) as a user runs it: the cloud starts, operators act, Ctrl-C stops it cleanly. */
import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parse } from 'yaml';
import { eventually } from '@stratus/apiserver';
import { runKubectl as kubectl } from './lib/cluster.js';
import { alive, childrenOf, commandOf, descendantsOf } from './lib/processes.js';
import { removeCloudState, startCloud, type RunningCloud } from '@stratus/cli';

describe('stratus up', function () {
  this.timeout(300_000);
  let cloud: RunningCloud;
  after(() => cloud?.remove());

  it('leaves no state folder behind when the cloud does not come up in time', async () => {
    const folders = () => new Set(readdirSync(tmpdir()).filter((f) => f.startsWith('stratus-up-')));
    const before = folders();
    await assert.rejects(startCloud(1), /did not come up/);
    assert.deepEqual([...folders()].filter((f) => !before.has(f)), [], 'the folder made for it is gone');
  });

  it('starts the cloud, reconciles a Tenant through the Keystone operator, and stops on SIGTERM', async () => {
    cloud = await startCloud();
    const out = cloud.output();
    assert.match(out, /Stratus is up\. Control plane: https:\/\/127\.0\.0\.1:\d+/);
    assert.match(out, /operators: keystone/);
    assert.ok(out.includes(`export KUBECONFIG=${cloud.kubeconfig}`));
    const { kubeconfig, dir } = cloud;

    // The admin's credentials are written for the openstack client, readable by the owner only.
    const clouds = parse(readFileSync(cloud.cloudsYaml, 'utf8')).clouds.stratus;
    assert.match(clouds.auth.auth_url, /^http:\/\/127\.0\.0\.1:\d+\/identity\/v3$/);
    assert.equal(statSync(cloud.cloudsYaml).mode & 0o077, 0);
    assert.equal((await fetch(`${clouds.auth.auth_url}/`)).status, 200, 'the gateway reaches the Identity API');

    const apply = await kubectl(kubeconfig, dir, ['apply', '-f', '-'], 'apiVersion: identity.stratus.io/v1alpha1\nkind: Tenant\nmetadata: {name: demo}\nspec: {description: Demo}\n');
    assert.equal(apply.code, 0, apply.stderr);
    const wait = await kubectl(kubeconfig, dir, ['wait', '--for=condition=Ready', 'tenant/demo', '--timeout=30s']);
    assert.equal(wait.code, 0, wait.stderr);
    const ns = await kubectl(kubeconfig, dir, ['get', 'namespace', 'demo', '-o', 'jsonpath={.metadata.labels}']);
    assert.match(ns.stdout, /"identity.stratus.io\/tenant":"demo"/);

    // The admin's token outlives a restart: nothing about the admin changed, so nothing revokes it.
    const signIn = await fetch(`${clouds.auth.auth_url}/auth/tokens`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: clouds.auth.password } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } }),
    });
    const token = signIn.headers.get('x-subject-token')!;
    assert.equal(statSync(`${dir}/s3-credentials.json`).mode & 0o077, 0, "the S3 server's credentials are the owner's only");
    // The control plane's store (every Secret: password hashes, Fernet keys) and the image objects: the owner's only.
    for (const f of ['apiserver', 'apiserver/state.db', 'apiserver/state.db-wal', 's3']) assert.equal(statSync(`${dir}/${f}`).mode & 0o077, 0, `${f} is readable by others`);

    assert.equal(await cloud.stop(), 0, 'a clean shutdown');
    cloud = await startCloud(undefined, dir);
    const authUrl = parse(readFileSync(cloud.cloudsYaml, 'utf8')).clouds.stratus.auth.auth_url;
    const checked = await fetch(`${authUrl}/auth/tokens`, { headers: { 'X-Auth-Token': token, 'X-Subject-Token': token } });
    assert.equal(checked.status, 200, 'the token issued before the restart still validates');
    assert.equal(await cloud.stop(), 0);
  });

  it('supervises its processes: a killed operator comes back, and none outlives a killed stratus up', async () => {
    cloud = await startCloud(undefined, cloud.dir);
    const up = cloud.process.pid!;
    const children = childrenOf(up);
    const glance = children.find((p) => commandOf(p).includes('glance/dist/src/main.js'))!;
    assert.ok(glance, `a Glance child among ${children.map(commandOf).join(', ')}`);
    const imageUrl = `${cloud.admin().authUrl.replace(/\/identity\/v3$/, '')}/image/`;
    process.kill(glance, 'SIGKILL');
    await eventually('Glance answering again through the gateway', async () => (await fetch(imageUrl).catch(() => undefined))?.status === 300, 60_000);
    assert.ok(childrenOf(up).some((p) => p !== glance && commandOf(p).includes('glance/dist/src/main.js')), 'a new Glance process');

    // kill -9 of stratus up itself: its children notice (their stdin pipe closes) and stop.
    const all = childrenOf(up);
    process.kill(up, 'SIGKILL');
    await eventually('every child of the killed stratus up gone', async () => all.every((p) => !alive(p)), 60_000);
  });

  it("runs each process as its Helm chart ServiceAccount, under the chart's RBAC: what the chart grants and no more, a refusal logged", async () => {
    const cloud = await startCloud();
    try {
      const own = (process: string) => join(cloud.dir, 'kubeconfigs', `${process}.kubeconfig`);
      const as = (process: string, ...args: string[]) => kubectl(own(process), cloud.dir, args);
      assert.equal(statSync(own('nova')).mode & 0o077, 0, "a process's kubeconfig is the owner's only");
      const whoami = await as('neutron', 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}');
      assert.equal(whoami.stdout, 'system:serviceaccount:stratus-system:stratus-neutron', whoami.stderr);
      const sa = await kubectl(cloud.kubeconfig, cloud.dir, ['get', 'serviceaccount', 'stratus-horizon', '-n', 'stratus-system', '-o', 'name']);
      assert.equal(sa.stdout.trim(), 'serviceaccount/stratus-horizon', 'the chart’s ServiceAccounts are there');
      assert.equal((await as('horizon', 'auth', 'can-i', 'watch', 'instances.compute.stratus.io', '--all-namespaces')).stdout.trim(), 'yes');
      assert.equal((await as('horizon', 'auth', 'can-i', 'delete', 'instances.compute.stratus.io', '--all-namespaces')).stdout.trim(), 'no', 'the dashboard only reads');
      assert.equal(cloud.serviceAccountRefusals().length, 0);
      // The admin project's Secrets: the dashboard keeps its own in the release namespace, and no one else's.
      const refused = await as('horizon', 'get', 'secrets', '-n', 'admin');
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /secrets is forbidden: User "system:serviceaccount:stratus-system:stratus-horizon" cannot list resource "secrets" in API group "" in the namespace "admin"/);
      await eventually('the refusal in the log', () => cloud.serviceAccountRefusals().some((l) => l.includes('stratus-horizon') && l.includes('secrets')));
    } finally {
      await cloud.stop();
      await cloud.remove();
    }
  });
});

describe('make up', function () {
  this.timeout(600_000);
  it('runs every process of the cloud on the project’s own Node.js, even when the Node on the PATH is another one', async () => {
    const pinned = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).devDependencies.node as string;
    const dir = mkdtempSync(join(tmpdir(), 'stratus-make-up-'));
    chmodSync(dir, 0o711); // QEMU's user passes through to the guests' disks, as a home folder lets it
    // The user's PATH as a fresh machine has it: the system's Node first.
    const make = spawn('make', ['-s', '-C', ROOT, 'up', `STATE=${dir}`, 'PORT=0', 'API_PORT=0', 'S3_PORT=0', 'SERVICE_PORTS=free'], {
      env: { ...process.env, PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', STRATUS_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    make.stdout!.on('data', (d) => (out += d));
    make.stderr!.on('data', (d) => (out += d));
    try {
      await eventually('make up to say the cloud is up', async () => out.includes('Stratus is up') || make.exitCode !== null, 540_000);
      assert.ok(out.includes('Stratus is up'), `make up did not come up:\n${out.slice(-3000)}`);
      const processes = descendantsOf(make.pid!).filter((p) => commandOf(p).includes('/dist/'));
      assert.ok(processes.length >= 6, `stratus up, the S3 server and four operators: ${processes.map(commandOf).join('\n')}`);
      for (const p of processes) {
        let exe: string;
        try {
          exe = readlinkSync(`/proc/${p}/exe`);
        } catch {
          continue; // a short-lived helper that ended meanwhile
        }
        const version = execFileSync(exe, ['--version'], { encoding: 'utf8' }).trim();
        assert.equal(version, `v${pinned}`, `${commandOf(p)} runs on ${version}`);
      }
    } finally {
      // make exits at once on SIGTERM; the cloud's own processes are waited for before what they leave is removed.
      const processes = descendantsOf(make.pid!);
      if (make.exitCode === null && make.signalCode === null) process.kill(-make.pid!, 'SIGTERM');
      await eventually('make up to stop', async () => make.exitCode !== null || make.signalCode !== null, 60_000);
      await eventually('every process of make up to stop', async () => processes.every((p) => !alive(p)), 60_000);
      await removeCloudState(dir);
    }
  });
});

const ROOT = new URL('../../', import.meta.url).pathname;
