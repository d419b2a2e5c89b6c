/** `stratus up` (behind `make up`) as a user runs it: the cloud starts, operators act, Ctrl-C stops it cleanly. */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKubectl as kubectl } from './lib/cluster.js';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('stratus up', function () {
  this.timeout(90_000);
  const dir = mkdtempSync(join(tmpdir(), 'stratus-up-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('starts the cloud, reconciles a Tenant through the Keystone operator, and stops on SIGTERM', async () => {
    const up = spawn(process.execPath, [join(ROOT, 'cli/dist/src/main.js'), '--data-dir', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    up.stdout.on('data', (d) => (out += d));
    up.stderr.on('data', () => {});
    const deadline = Date.now() + 30_000;
    while (!out.includes('Stratus is up') && Date.now() < deadline && up.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /Stratus is up\. Control plane: https:\/\/127\.0\.0\.1:\d+/);
    assert.match(out, /operators: keystone/);
    const kubeconfig = join(dir, 'kubeconfig');
    assert.ok(out.includes(`export KUBECONFIG=${kubeconfig}`));

    const apply = await kubectl(kubeconfig, dir, ['apply', '-f', '-'], 'apiVersion: identity.stratus.io/v1alpha1\nkind: Tenant\nmetadata: {name: demo}\nspec: {description: Demo}\n');
    assert.equal(apply.code, 0, apply.stderr);
    const wait = await kubectl(kubeconfig, dir, ['wait', '--for=condition=Ready', 'tenant/demo', '--timeout=30s']);
    assert.equal(wait.code, 0, wait.stderr);
    const ns = await kubectl(kubeconfig, dir, ['get', 'namespace', 'demo', '-o', 'jsonpath={.metadata.labels}']);
    assert.match(ns.stdout, /"identity.stratus.io\/tenant":"demo"/);

    const exited = new Promise<number | null>((r) => up.once('exit', (code) => r(code)));
    up.kill('SIGTERM');
    assert.equal(await exited, 0, 'a clean shutdown');
  });
});
