/**
 * An OVSDB client (RFC 7047 JSON-RPC over a unix or TCP socket) for OVN's northbound and southbound
 * databases and a node's Open_vSwitch database: transactions, and a monitor that keeps a local copy of the
 * tables it names, updated by the server's pushes (never polled). It answers the server's echo, reconnects
 * with back-off when the server goes away, and then monitors afresh, so the copy is whole again.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { Logger } from '@stratus/runtime';
import { JsonTextSplitter } from './jsonStream.js';
import { decodeRow, type Row } from './values.js';

/** Where a database listens, in OVS's notation: unix:/path or tcp:host:port. */
export type OvsdbRemote = string;

export interface OvsdbClientOptions {
  remote: OvsdbRemote;
  database: string;
  /** The tables to keep a copy of, each with the columns wanted (all when empty). */
  monitor?: Record<string, string[]>;
  log?: Logger;
  /** The longest wait between reconnect attempts. */
  maxBackoffMs?: number;
  /** How long an answer may take before the connection is taken for dead and dropped (then made again). */
  requestTimeoutMs?: number;
}

/** A failed operation of a transaction, with OVSDB's error word and details. */
export class OvsdbError extends Error {
  constructor(
    readonly error: string,
    readonly details: string | undefined,
    readonly operation?: unknown,
  ) {
    super(`OVSDB ${error}${details ? `: ${details}` : ''}${operation ? ` (in ${JSON.stringify(operation).slice(0, 200)})` : ''}`);
  }
}

export class OvsdbDisconnected extends Error {}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type TableUpdates = Record<string, Record<string, { old?: Record<string, unknown>; new?: Record<string, unknown> }>>;

/**
 * Emits 'change' (table names) after monitor updates, 'connected' after every (re)connection whose monitor
 * has its first full copy, and 'disconnected'.
 */
export class OvsdbClient extends EventEmitter {
  /** The monitored tables: table → row UUID → row (values decoded, see values.ts). */
  readonly tables = new Map<string, Map<string, Row>>();
  private socket?: Socket;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private failures = 0;
  private readyWaiters: Array<() => void> = [];
  private isReady = false;

  constructor(private readonly opts: OvsdbClientOptions) {
    super();
    for (const t of Object.keys(opts.monitor ?? {})) this.tables.set(t, new Map());
  }

  /** Starts connecting (and reconnecting); `ready()` tells when the first copy is in. */
  start(): this {
    this.dial();
    return this;
  }

  get connected(): boolean {
    return this.isReady;
  }

  /** Resolves once connected with a full copy of the monitored tables; rejects after `timeoutMs`. */
  ready(timeoutMs = 60_000): Promise<void> {
    if (this.isReady) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`OVSDB ${this.opts.database} at ${this.opts.remote}: not connected within ${timeoutMs / 1000} s`)), timeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The rows of a monitored table. */
  rows(table: string): Row[] {
    return [...(this.tables.get(table)?.values() ?? [])];
  }

  /** Runs the operations as one transaction; throws OvsdbError naming the first that failed. */
  async transact(operations: object[]): Promise<unknown[]> {
    if (!operations.length) return [];
    const results = (await this.request('transact', [this.opts.database, ...operations])) as Array<{ error?: string; details?: string } | null>;
    results.forEach((r, i) => {
      if (r && r.error) throw new OvsdbError(r.error, r.details, operations[i]);
    });
    return results;
  }

  /** Sends one JSON-RPC request and waits for its answer. */
  request(method: string, params: unknown[]): Promise<unknown> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.reject(new OvsdbDisconnected(`OVSDB ${this.opts.database} at ${this.opts.remote} is not connected`));
    const id = this.nextId++;
    const timeoutMs = this.opts.requestTimeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new OvsdbDisconnected(`OVSDB ${this.opts.database} at ${this.opts.remote}: no answer to ${method} within ${timeoutMs / 1000} s`));
        socket.destroy();
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      socket.write(JSON.stringify({ method, params, id }));
    });
  }

  close(): void {
    this.closed = true;
    this.socket?.destroy();
  }

  private dial(): void {
    if (this.closed) return;
    const socket = connectTo(this.opts.remote);
    this.socket = socket;
    const splitter = new JsonTextSplitter();
    socket.setEncoding('utf8');
    socket.on('connect', () => void this.onConnect());
    socket.on('data', (chunk: string) => {
      let messages: unknown[];
      try {
        messages = splitter.push(chunk);
      } catch (e) {
        this.opts.log?.error('OVSDB stream broken; reconnecting', { database: this.opts.database, error: (e as Error).message });
        socket.destroy();
        return;
      }
      for (const m of messages) this.onMessage(m as { id?: number | string | null; method?: string; params?: unknown[]; result?: unknown; error?: unknown });
    });
    socket.on('error', () => {}); // 'close' follows and handles it
    socket.on('close', () => {
      const wasReady = this.isReady;
      this.isReady = false;
      for (const p of this.pending.values()) p.reject(new OvsdbDisconnected(`OVSDB ${this.opts.database} at ${this.opts.remote}: connection closed`));
      this.pending.clear();
      if (wasReady) {
        this.opts.log?.warn('OVSDB connection lost; reconnecting', { database: this.opts.database, remote: this.opts.remote });
        this.emit('disconnected');
      }
      if (this.closed) return;
      const delay = Math.min(this.opts.maxBackoffMs ?? 5000, 100 * 2 ** Math.min(this.failures++, 10));
      setTimeout(() => this.dial(), delay).unref();
    });
  }

  private async onConnect(): Promise<void> {
    try {
      if (this.opts.monitor) {
        const requests = Object.fromEntries(Object.entries(this.opts.monitor).map(([t, columns]) => [t, columns.length ? { columns } : {}]));
        const initial = (await this.request('monitor', [this.opts.database, null, requests])) as TableUpdates;
        for (const t of this.tables.values()) t.clear();
        this.apply(initial);
      }
      this.failures = 0;
      this.isReady = true;
      this.opts.log?.info('OVSDB connected', { database: this.opts.database, remote: this.opts.remote });
      for (const w of this.readyWaiters.splice(0)) w();
      this.emit('connected');
      this.emit('change', [...this.tables.keys()]);
    } catch (e) {
      this.opts.log?.warn('OVSDB monitor failed; reconnecting', { database: this.opts.database, error: (e as Error).message });
      this.socket?.destroy();
    }
  }

  private onMessage(m: { id?: number | string | null; method?: string; params?: unknown[]; result?: unknown; error?: unknown }): void {
    if (m.method === 'echo') {
      this.socket?.write(JSON.stringify({ result: m.params ?? [], error: null, id: m.id }));
      return;
    }
    if (m.method === 'update') {
      const updates = (m.params?.[1] ?? {}) as TableUpdates;
      this.apply(updates);
      this.emit('change', Object.keys(updates));
      return;
    }
    if (typeof m.id === 'number' && this.pending.has(m.id)) {
      const p = this.pending.get(m.id)!;
      this.pending.delete(m.id);
      if (m.error) p.reject(new OvsdbError(String(typeof m.error === 'object' ? (m.error as { error?: string }).error ?? JSON.stringify(m.error) : m.error), undefined));
      else p.resolve(m.result);
    }
  }

  private apply(updates: TableUpdates): void {
    for (const [table, rows] of Object.entries(updates)) {
      const copy = this.tables.get(table) ?? new Map<string, Row>();
      this.tables.set(table, copy);
      for (const [id, change] of Object.entries(rows)) {
        if (!change.new) copy.delete(id);
        else copy.set(id, { ...(copy.get(id) ?? {}), ...decodeRow(change.new), _uuid: id });
      }
    }
  }
}

function connectTo(remote: OvsdbRemote): Socket {
  if (remote.startsWith('unix:')) return connect({ path: remote.slice(5) });
  const m = /^tcp:(.+):(\d+)$/.exec(remote);
  if (!m) throw new Error(`OVSDB remote ${remote}: expected unix:/path or tcp:host:port`);
  return connect({ host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) });
}
