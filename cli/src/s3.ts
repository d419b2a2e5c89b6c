/** The embedded S3 server (operators/glance's s3main) as a child process of `stratus up`. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { newS3Credentials } from '@stratus/glance';
import type { ResponseMessage } from '@stratus/runtime';

export const S3_CREDENTIALS_FILE = 's3-credentials.json';

export const S3_SERVER_MAIN = 'operators/glance/dist/src/store/s3main.js';

export interface S3Process {
  endpoint: string;
  pid: number;
  accessKeyId: string;
  secretAccessKey: string;
  /** Gives it a client's connection to write an object to (Glance's downloads: runtime's RESPONSE_MESSAGE). */
  takeResponse(message: ResponseMessage, socket: Socket): void;
  stop(): Promise<void>;
}

/** The credentials it accepts go in its environment (not its arguments, which every local user can list). */
export async function startS3Process(main: string, opts: { directory: string; host: string; port: number; credentials: { accessKeyId: string; secretAccessKey: string } }, timeoutMs = 30_000): Promise<S3Process> {
  // Its stdin is a pipe from us: it stops when we are gone, however we end.
  const env = { ...process.env, S3_ACCESS_KEY_ID: opts.credentials.accessKeyId, S3_SECRET_ACCESS_KEY: opts.credentials.secretAccessKey, STRATUS_PARENT_PIPE: '1' };
  const child = spawn(process.execPath, [main, '--directory', opts.directory, '--host', opts.host, '--port', String(opts.port)], { stdio: ['pipe', 'pipe', 'inherit', 'ipc'], env });
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the S3 server did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`the S3 server exited with ${code} before it was ready`)));
    createInterface({ input: child.stdout! }).once('line', (line) => (clearTimeout(timer), resolve(line)));
  });
  const info = JSON.parse(first) as { endpoint: string };
  return {
    ...info,
    pid: child.pid!,
    ...opts.credentials,
    takeResponse(message, socket) {
      if (!child.connected) return void socket.destroy();
      child.send(message, socket, {}, (err) => err && socket.destroy());
    },
    stop: () => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM')))),
  };
}

/** The embedded S3 server's credentials, kept in the state folder (readable by its owner only) so a restart keeps them. */
export function s3CredentialsIn(dataDir: string): { accessKeyId: string; secretAccessKey: string } {
  const file = join(dataDir, S3_CREDENTIALS_FILE);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const made = newS3Credentials();
  writeFileSync(file, JSON.stringify(made) + '\n', { mode: 0o600 });
  return made;
}
