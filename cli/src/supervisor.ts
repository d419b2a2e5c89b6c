/**
 * What keeps `stratus up`'s processes alive and ends them together: each operator runs as a child that is
 * started again with growing back-off when it dies; each child's stdin is a pipe from this process, so the
 * kernel tells it when this process is gone, however it died (the child then stops by itself: runtime's
 * stopWithParent); what was started is stopped in reverse order on SIGINT/SIGTERM or a failed start-up; a
 * shutdown that hangs is forced after a bound, and a second signal forces it at once.
 */
import { spawn, type ChildProcess, type Serializable } from 'node:child_process';
import type { Socket } from 'node:net';
import { HANDOFF_READY, HANDOFF_TAKEN, RESPONSE_MESSAGE, type Logger, type ResponseMessage } from '@stratus/runtime';

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
  /** Children that said they take handed-over connections (runtime's acceptHandedConnections). */
  private readonly takingConnections = new WeakSet<ChildProcess>();
  /** Sockets sent and not yet taken, per child: what to tell when it takes them (or dies first). */
  private readonly handing = new WeakMap<ChildProcess, Map<number, (err?: Error) => void>>();
  private handovers = 0;
  /** Who writes the answers children hand over (runtime's RESPONSE_MESSAGE), by the name they are sent to. */
  private readonly responseTakers = new Map<string, (message: ResponseMessage, socket: Socket) => void>();
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
      child.on('message', (m: { type?: string; id?: number }, handle?: unknown) => {
        if (m?.type === HANDOFF_READY) this.takingConnections.add(child);
        if (m?.type === HANDOFF_TAKEN) this.settle(child, m.id!);
        if (m?.type === RESPONSE_MESSAGE && handle) this.passResponse(spec.name, m as ResponseMessage, handle as Socket);
      });
      child.on('exit', () => {
        for (const id of [...(this.handing.get(child)?.keys() ?? [])]) this.settle(child, id, new Error(`${spec.name} exited before taking the connection`));
      });
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
    if (!this.takingConnections.has(child)) return done(new Error(`${name} does not take connections yet`));
    // keepOpen: this process keeps its copy of the socket until the child says it has its own, so that a child
    // dying meanwhile leaves the connection here to give to another (without it, Node holds the socket until
    // an acknowledgement that never comes, and the client hangs).
    const id = ++this.handovers;
    const pending = this.handing.get(child) ?? new Map<number, (err?: Error) => void>();
    this.handing.set(child, pending.set(id, done));
    child.send({ ...(message as object), id } as Serializable, socket, { keepOpen: true }, (err) => {
      if (err) this.settle(child, id, err);
    });
  }

  /** `take` writes the answers handed over to `name` (a process this supervisor does not run itself). */
  takeResponses(name: string, take: (message: ResponseMessage, socket: Socket) => void): void {
    this.responseTakers.set(name, take);
  }

  private passResponse(from: string, message: ResponseMessage, socket: Socket): void {
    const take = this.responseTakers.get(message.to);
    if (take) return take(message, socket);
    this.log.error('an answer was handed to a process that takes none; its connection is closed', { from, to: message.to });
    socket.destroy();
  }

  private settle(child: ChildProcess, id: number, err?: Error): void {
    const done = this.handing.get(child)?.get(id);
    if (!done) return;
    this.handing.get(child)!.delete(id);
    done(err);
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
