/**
 * What keeps `stratus up`'s processes alive and ends them together: each operator runs as a child that is
 * started again with growing back-off when it dies; each child's stdin is a pipe from this process, so the
 * kernel tells it when this process is gone, however it died (the child then stops by itself: runtime's
 * stopWithParent); what was started is stopped in reverse order on SIGINT/SIGTERM or a failed start-up; a
 * shutdown that hangs is forced after a bound, and a second signal forces it at once.
 */
import { spawn, type ChildProcess, type Serializable } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Logger } from '@stratus/runtime';

export interface ChildSpec {
  name: string;
  /** The program; Node itself (this process's) when unset. */
  command?: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** 1 s, 2 s, 4 s … up to `maxMs` (30 s) between restarts; a child that ran a minute starts the count again. */
export function restartDelayMs(failuresInARow: number, maxMs = 30_000): number {
  return Math.min(maxMs, 1000 * 2 ** failuresInARow);
}
const HEALTHY_MS = 60_000;

export class Supervisor {
  private readonly children = new Map<string, ChildProcess>();
  private readonly stops: Array<{ what: string; stop: () => Promise<unknown> }> = [];
  private stopping = false;

  constructor(
    private readonly log: Logger,
    private readonly forceAfterMs = 30_000,
    /** The longest wait before a restart (STRATUS_RESTART_BACKOFF_MAX_SECONDS; the fault-injection suite shortens it). */
    private readonly backoffMaxMs = 30_000,
  ) {}

  /** Stops everything on SIGINT/SIGTERM (exit 0); a second signal kills the children and exits at once (130). */
  handleSignals(): void {
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.on(signal, () => {
        if (this.stopping) {
          this.log.warn('second signal: stopping at once', { signal });
          this.killAll();
          process.exit(130);
        }
        this.log.info('shutting down', { signal });
        void this.stopAll().then((clean) => process.exit(clean ? 0 : 1));
      });
  }

  /** Something to stop on the way out (stopped after what was registered later). */
  onStop(what: string, stop: () => Promise<unknown>): void {
    this.stops.push({ what, stop });
  }

  /** Runs `spec` as a child, started again (with back-off) whenever it exits until stopAll. */
  run(spec: ChildSpec): void {
    let failures = 0;
    const start = () => {
      const startedAt = Date.now();
      // Node children get an IPC channel: the front door hands them client connections over it.
      const child = spawn(spec.command ?? process.execPath, spec.args, { env: { ...spec.env, STRATUS_PARENT_PIPE: '1' }, stdio: spec.command ? ['pipe', 'inherit', 'inherit'] : ['pipe', 'inherit', 'inherit', 'ipc'] });
      this.children.set(spec.name, child);
      child.on('exit', (code, signal) => {
        if (this.stopping) return;
        if (Date.now() - startedAt > HEALTHY_MS) failures = 0;
        const delay = restartDelayMs(failures++, this.backoffMaxMs);
        this.log.error('process exited; starting it again', { process: spec.name, code, signal, inMs: delay });
        setTimeout(() => {
          if (!this.stopping) start();
        }, delay);
      });
    };
    start();
  }

  /** Sends a message with a socket to the running child `name`; `done` gets an error when it could not. */
  send(name: string, message: unknown, socket: Socket, done: (err?: Error) => void): void {
    const child = this.children.get(name);
    if (!child?.connected || child.exitCode !== null || child.signalCode !== null) return done(new Error(`${name} is not running`));
    child.send(message as Serializable, socket, (err) => done(err ?? undefined));
  }

  /** Stops the children (SIGTERM, waiting for each), then the rest in reverse order; forced after the bound. Resolves whether all went cleanly. */
  async stopAll(): Promise<boolean> {
    this.stopping = true;
    const forced = setTimeout(() => {
      this.log.error('shutdown did not finish in time: stopping at once', { afterMs: this.forceAfterMs });
      this.killAll();
      process.exit(1);
    }, this.forceAfterMs);
    let clean = true;
    await Promise.all([...this.children.values()].map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(undefined) : (c.once('exit', r), c.kill('SIGTERM'))))));
    for (const { what, stop } of [...this.stops].reverse())
      await stop().catch((e: Error) => {
        clean = false;
        this.log.error('could not stop', { what, error: e.message });
      });
    clearTimeout(forced);
    return clean;
  }

  private killAll(): void {
    for (const c of this.children.values()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
