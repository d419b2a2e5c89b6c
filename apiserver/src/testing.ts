/** Test support: a control plane per suite (like controller-runtime's envtest) and polling for an outcome. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeconfigYaml } from './kubeconfig.js';
import { startServer, type RunningServer, type ServerOptions } from './server.js';

export interface TestControlPlane {
  server: RunningServer;
  dataDir: string;
  /** The admin bearer token. */
  token: string;
  /** A kubeconfig for the admin token, to load with KubeConfig.loadFromString. */
  kubeconfig(): string;
  /** Stops and starts the server on the same port and data, as after a crash. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestControlPlane(opts: Omit<ServerOptions, 'dataDir' | 'token'> = {}): Promise<TestControlPlane> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stratus-test-'));
  const token = 'test-admin-token';
  const plane: TestControlPlane = {
    server: await startServer({ ...opts, dataDir, token }),
    dataDir,
    token,
    kubeconfig: () => kubeconfigYaml(plane.server.url, token, plane.server.caCert),
    async restart() {
      const port = plane.server.port;
      await plane.server.close();
      plane.server = await startServer({ ...opts, dataDir, token, port });
    },
    async stop() {
      await plane.server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return plane;
}

/** Polls `check` until it holds, failing the test with `what` after `ms` (generous: the machine may be ten times busier than usual). */
/** `everyMs` spaces the checks: a check that costs much (many API calls) is made less often. */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, ms = 60_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  assert.fail(`timed out after ${ms} ms waiting for ${what}`);
}
