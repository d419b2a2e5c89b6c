/** The real `openstack` client against a cloud `startCloud` (from @stratus/cli) started. */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import type { RunningCloud } from '@stratus/cli';

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
