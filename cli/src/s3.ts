/** The embedded S3 server (operators/glance's s3main) as a child process of `stratus up`. */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export const S3_SERVER_MAIN = 'operators/glance/dist/src/store/s3main.js';

export interface S3Process {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

export async function startS3Process(main: string, opts: { directory: string; host: string; port: number }, timeoutMs = 30_000): Promise<S3Process> {
  const child = spawn(process.execPath, [main, '--directory', opts.directory, '--host', opts.host, '--port', String(opts.port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the S3 server did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`the S3 server exited with ${code} before it was ready`)));
    createInterface({ input: child.stdout! }).once('line', (line) => (clearTimeout(timer), resolve(line)));
  });
  const info = JSON.parse(first) as Omit<S3Process, 'stop'>;
  return {
    ...info,
    stop: () => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM')))),
  };
}
