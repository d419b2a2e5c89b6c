/**
 * A client of libexec/rbd-io.py, the RBD backend's librbd process: one request at a time over its stdin and
 * stdout (a JSON line, then the data it carries). The process is started on first use and again after it
 * dies; a request in flight when it dies fails with what it said on stderr.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KeyedLock } from '@stratus/runtime';

const HELPER = fileURLToPath(new URL('../../../libexec/rbd-io.py', import.meta.url));

export interface RbdAccess {
  /** ceph.conf naming the monitors. */
  conf: string;
  /** The cephx user, without `client.`. */
  user: string;
  keyring: string;
  pool: string;
  /** Bound on every cluster operation (RADOS op and mon timeouts); default 30. */
  timeoutSeconds?: number;
  /** The Python with python3-rbd; default /usr/bin/python3 (Debian's, where the binding lives). */
  python?: string;
}

/** librbd's or librados's failure, by its exception class (ImageNotFound, ImageExists, TimedOut, …). */
export class RbdError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
    this.name = 'RbdError';
  }
}

interface Answer {
  ok: boolean;
  result?: unknown;
  length?: number;
  error?: string;
  message?: string;
}

export class RbdIo {
  private child?: ChildProcessWithoutNullStreams;
  /** What came before an answer's line was whole; then the line, and the pieces of its data so far. */
  private buffered: Buffer = Buffer.alloc(0);
  private head?: Answer;
  private body: Buffer[] = [];
  private bodyBytes = 0;
  private waiting?: { resolve: (a: { answer: Answer; data?: Buffer }) => void; reject: (e: Error) => void };
  private stderr = '';
  private readonly one = new KeyedLock();

  constructor(readonly access: RbdAccess) {}

  /** Sends one request; resolves with its result (and data, for reads). */
  async call<T = unknown>(op: string, args: Record<string, unknown> = {}, data?: Buffer): Promise<{ result: T; data?: Buffer }> {
    const release = await this.one.acquire('io');
    try {
      const child = this.started();
      const answered = new Promise<{ answer: Answer; data?: Buffer }>((resolve, reject) => (this.waiting = { resolve, reject }));
      child.stdin.write(JSON.stringify({ op, ...args, ...(data ? { bytes: data.length } : {}) }) + "\n");
      if (data?.length) child.stdin.write(data);
      this.take();
      const { answer, data: out } = await answered;
      if (!answer.ok) throw new RbdError(answer.error ?? 'Error', `rbd ${op}${args.name ? ` ${this.access.pool}/${String(args.name)}` : ''}: ${answer.message ?? answer.error}`);
      return { result: answer.result as T, ...(out ? { data: out } : {}) };
    } finally {
      release();
    }
  }

  close(): void {
    this.child?.stdin.end();
    this.child = undefined;
  }

  private started(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const a = this.access;
    const child = spawn(a.python ?? '/usr/bin/python3', [HELPER, a.conf, a.user, a.keyring, a.pool, String(a.timeoutSeconds ?? 30)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.buffered = Buffer.alloc(0);
    this.head = undefined;
    this.body = [];
    this.bodyBytes = 0;
    this.stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (this.head) {
        this.body.push(chunk);
        this.bodyBytes += chunk.length;
      } else this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
      this.take();
    });
    child.stderr.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-2000)));
    child.stdin.on('error', () => {});
    // Not started at all (no Python where it was looked for): the request says so, as a closed one would.
    child.on('error', (e) => {
      this.stderr += `${e.message}\n`;
      if (this.child === child) this.child = undefined;
      const w = this.waiting;
      this.waiting = undefined;
      w?.reject(new RbdError('HelperExited', `rbd-io (pool ${a.pool}, client.${a.user}) did not start: ${e.message}`));
    });
    child.on('close', (code) => {
      if (this.child === child) this.child = undefined;
      this.take();
      const w = this.waiting;
      this.waiting = undefined;
      w?.reject(new RbdError('HelperExited', `rbd-io (pool ${a.pool}, client.${a.user}) exited with ${code}: ${this.lastWords()}`));
    });
    return child;
  }

  /** The helper's own last message: its error answer, or the end of its stderr. */
  private lastWords(): string {
    const line = this.buffered.toString().split('\n')[0];
    try {
      const a = JSON.parse(line) as Answer;
      if (a.message) return a.message;
    } catch {
      /* not an answer */
    }
    return this.stderr.trim().split('\n').slice(-3).join('; ') || 'no message';
  }

  /** Hands a complete answer (its line and its data) to the request waiting for it. */
  private take(): void {
    if (!this.waiting) return;
    if (!this.head) {
      const nl = this.buffered.indexOf(10);
      if (nl < 0) return;
      this.head = JSON.parse(this.buffered.subarray(0, nl).toString()) as Answer;
      this.buffered = this.buffered.subarray(nl + 1);
      this.body = [this.buffered];
      this.bodyBytes = this.buffered.length;
    }
    const need = this.head.length ?? 0;
    if (this.bodyBytes < need) return;
    // Data is gathered once it has all come (joining each piece as it came would copy it over and over).
    const all = this.body.length === 1 ? this.body[0]! : Buffer.concat(this.body, this.bodyBytes);
    const data = this.head.length !== undefined ? Buffer.from(all.subarray(0, need)) : undefined;
    const answer = this.head;
    this.buffered = all.subarray(need);
    this.head = undefined;
    this.body = [];
    this.bodyBytes = 0;
    const w = this.waiting;
    this.waiting = undefined;
    w.resolve({ answer, ...(data ? { data } : {}) });
  }
}
