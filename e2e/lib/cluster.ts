/** A throwaway control plane on a temporary folder, with a kubeconfig file and a way to run the real kubectl. */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestControlPlane, type RunningServer, type TestControlPlane } from '@stratus/apiserver';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs /usr/bin/kubectl with a kubeconfig and its own HOME (so no discovery cache leaks between runs); never throws on a non-zero exit. */
export function runKubectl(kubeconfig: string, home: string, args: string[], stdin?: string): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: home }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

export class TestCluster {
  private plane!: TestControlPlane;

  get server(): RunningServer {
    return this.plane.server;
  }

  get dataDir(): string {
    return this.plane.dataDir;
  }

  get kubeconfig(): string {
    return join(this.plane.dataDir, 'kubeconfig');
  }

  async start(): Promise<this> {
    this.plane = await startTestControlPlane();
    writeFileSync(this.kubeconfig, this.plane.kubeconfig(), { mode: 0o600 });
    return this;
  }

  /** Stops the server and starts it again on the same port and data, as after a crash or upgrade. */
  restart(): Promise<void> {
    return this.plane.restart();
  }

  stop(): Promise<void> {
    return this.plane.stop();
  }

  kubectl(args: string[], stdin?: string): Promise<KubectlResult> {
    return runKubectl(this.kubeconfig, this.dataDir, args, stdin);
  }

  /** kubectl that must succeed; returns stdout. */
  async ok(args: string[], stdin?: string): Promise<string> {
    const r = await this.kubectl(args, stdin);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }
}

export const fixture = (name: string) => new URL(`../../fixtures/${name}`, import.meta.url).pathname;
