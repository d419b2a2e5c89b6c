/** A throwaway control plane on a temporary folder, with a kubeconfig and a way to run the real kubectl. */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, writeKubeconfig, type RunningServer } from '@stratus/apiserver';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class TestCluster {
  server!: RunningServer;
  readonly dataDir = mkdtempSync(join(tmpdir(), 'stratus-e2e-'));
  readonly kubeconfig = join(this.dataDir, 'kubeconfig');
  readonly token = randomBytes(16).toString('hex');
  private port = 0;

  async start(): Promise<this> {
    this.server = await startServer({ dataDir: this.dataDir, token: this.token, port: this.port });
    this.port = this.server.port;
    writeKubeconfig(this.kubeconfig, this.server.url, this.token, this.server.caCert);
    return this;
  }

  /** Stops the server and starts it again on the same port and data, as after a crash or upgrade. */
  async restart(): Promise<void> {
    await this.server.close();
    await this.start();
  }

  async stop(): Promise<void> {
    await this.server?.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Runs /usr/bin/kubectl against this cluster; never throws on a non-zero exit. */
  kubectl(args: string[], stdin?: string): Promise<KubectlResult> {
    return new Promise((resolve) => {
      const child = execFile(
        'kubectl',
        args,
        { env: { ...process.env, KUBECONFIG: this.kubeconfig, HOME: this.dataDir }, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      if (stdin !== undefined) child.stdin!.end(stdin);
    });
  }

  /** kubectl that must succeed; returns stdout. */
  async ok(args: string[], stdin?: string): Promise<string> {
    const r = await this.kubectl(args, stdin);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }
}

export const fixture = (name: string) => new URL(`../../fixtures/${name}`, import.meta.url).pathname;
