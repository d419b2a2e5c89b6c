/** The real `openstack` client against a cloud `startCloud` (from @stratus/cli) started. */
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
