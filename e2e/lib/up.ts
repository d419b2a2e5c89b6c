/** The real `openstack` client against a cloud `startCloud` (from @stratus/cli) started. */
import { strict as assert } from 'node:assert';
import { eventually } from '@stratus/apiserver';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { RunningCloud } from '@stratus/cli';
import { runKubectl } from './cluster.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real `openstack` client against the cloud's clouds.yaml; `env` adds or overrides OS_* settings. */
export function openstack(cloud: RunningCloud, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile('openstack', args, { env: { PATH: process.env.PATH, HOME: cloud.dir, OS_CLIENT_CONFIG_FILE: cloud.cloudsYaml, OS_CLOUD: 'stratus', ...env }, timeout: 60_000 }, (e, stdout, stderr) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The openstack client, which must succeed: its output. */
export async function openstackOk(cloud: RunningCloud, args: string[]): Promise<string> {
  const r = await openstack(cloud, args);
  assert.equal(r.code, 0, `openstack ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The openstack client's JSON answer (`-f json`), which must succeed. */
export const openstackJson = async (cloud: RunningCloud, args: string[]) => JSON.parse(await openstackOk(cloud, [...args, '-f', 'json']));

/** kubectl against the cloud's control plane as its admin, which must succeed: its output. */
export async function kubectlOk(cloud: RunningCloud, args: string[]): Promise<string> {
  const r = await runKubectl(cloud.kubeconfig, cloud.dir, args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** OS_* settings signing in as `user` (password `<user>-pw-1`) to `project`, not through clouds.yaml. */
export const memberEnv = (cloud: RunningCloud, user: string, project: string) => ({ OS_CLOUD: '', OS_CLIENT_CONFIG_FILE: '/dev/null', OS_AUTH_URL: cloud.admin().authUrl, OS_USERNAME: user, OS_PASSWORD: `${user}-pw-1`, OS_PROJECT_NAME: project, OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_IDENTITY_API_VERSION: '3' });

/** A Keystone token of `user` scoped to `project`, as `openstack token issue` gives it. */
export async function memberToken(cloud: RunningCloud, user: string, project: string): Promise<string> {
  const r = await openstack(cloud, ['token', 'issue', '-f', 'value', '-c', 'id'], memberEnv(cloud, user, project));
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** A kubeconfig like the admin's, signed in with this bearer token instead (kept in the cloud's folder). */
export function kubeconfigWithToken(cloud: RunningCloud, name: string, token: string): string {
  const kc = parse(readFileSync(cloud.kubeconfig, 'utf8'));
  kc.users = [{ name, user: { token } }];
  kc.contexts[0].context.user = name;
  const path = join(cloud.dir, `kubeconfig-${name}`);
  writeFileSync(path, stringify(kc), { mode: 0o600 });
  return path;
}

/** The server's console log (`openstack console log show`) once it holds `marker`: a generous bound, as guests boot emulated here. */
export async function consoleUntil(cloud: RunningCloud, server: string, marker: RegExp, timeoutMs = 240_000): Promise<string> {
  let out = '';
  await eventually(`${marker} in the console log of ${server}`, async () => {
    out = await openstackOk(cloud, ['console', 'log', 'show', server]);
    return marker.test(out);
  }, timeoutMs, 1000);
  return out;
}

/** The test disk image as the public image `stratus-test` (active) and the flavor `m1.tiny`, for e2e suites that boot servers. */
export async function uploadTestImage(cloud: RunningCloud, path: string): Promise<void> {
  await openstackOk(cloud, ['image', 'create', '--disk-format', 'raw', '--public', '--file', path, 'stratus-test']);
  await eventually('the image to be active', async () => (await openstackJson(cloud, ['image', 'show', 'stratus-test'])).status === 'active', 120_000, 500);
  await openstackOk(cloud, ['flavor', 'create', '--vcpus', '1', '--ram', '256', '--disk', '1', 'm1.tiny']);
}

/**
 * The suite's last test: the cloud's processes, each its Helm chart ServiceAccount under the chart's RBAC (as
 * `stratus up` runs them), were refused nothing by the control plane while the suite ran.
 */
export function itAskedNothingTheChartRefuses(cloud: () => RunningCloud | undefined): void {
  it("asked nothing of the control plane that the Helm chart's RBAC refuses its processes", () => {
    const c = cloud();
    assert.ok(c, 'the cloud started');
    assert.deepEqual(c.serviceAccountRefusals(), []);
  });
}
