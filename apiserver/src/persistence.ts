/**
 * Durable storage of objects and the resourceVersion sequence, in one SQLite file (WAL mode), through Node's
 * built-in SQLite (node:sqlite): no native module to compile at install time.
 *
 * Commits only append to the write-ahead log. Moving the log into the database file (a checkpoint, which ends
 * in an fsync) runs in a thread of its own, as SQLite's documentation suggests for applications that cannot
 * stall: left to SQLite, every ~300th commit ran it on the control plane's event loop, a 5-10 ms stall each
 * (measured: 55 of 16,000 commits over 5 ms; 2 with the thread).
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { createLogger } from './logger.js';

/** How often the checkpoint thread moves the log into the database file. */
const CHECKPOINT_EVERY_MS = 500;

export interface PersistedRow {
  storageKey: string;
  namespace: string;
  name: string;
  json: string;
}

/** What the store needs from a durable back end; `memoryPersistence` serves tests that need no disk. */
export interface Persistence {
  loadAll(): PersistedRow[];
  loadRevision(): number;
  put(row: PersistedRow, revision: number): void;
  remove(storageKey: string, namespace: string, name: string, revision: number): void;
  /** Resolves once nothing holds the files any more (so they may be removed). */
  close(): Promise<void>;
}

export function sqlitePersistence(file: string): Persistence {
  // The store holds every Secret (password hashes, Fernet keys): its folder and files are the owner's only.
  // SQLite makes its -wal and -shm files with the database file's mode, so that is set before WAL begins.
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  chmodSync(dirname(file), 0o700);
  const db = new DatabaseSync(file);
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
  db.exec('PRAGMA journal_mode = WAL');
  // NORMAL in WAL mode keeps the database consistent across crashes; a power cut may lose the last commits only.
  db.exec('PRAGMA synchronous = NORMAL');
  const checkpoints = checkpointInThread(file, db);
  db.exec(`CREATE TABLE IF NOT EXISTS objects (
             storage_key TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, json TEXT NOT NULL,
             PRIMARY KEY (storage_key, namespace, name));
           CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
  const upsert = db.prepare(
    'INSERT INTO objects (storage_key, namespace, name, json) VALUES (?, ?, ?, ?) ' +
      'ON CONFLICT (storage_key, namespace, name) DO UPDATE SET json = excluded.json',
  );
  const del = db.prepare('DELETE FROM objects WHERE storage_key = ? AND namespace = ? AND name = ?');
  const setRevision = db.prepare("INSERT INTO meta (key, value) VALUES ('revision', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  const begin = db.prepare('BEGIN');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');
  /** The object's change and the revision it made, as one commit. */
  const atomically = (change: StatementSync, args: string[], revision: number) => {
    begin.run();
    try {
      change.run(...args);
      setRevision.run(String(revision));
      commit.run();
    } catch (e) {
      rollback.run();
      throw e;
    }
  };
  return {
    loadAll: () =>
      (db.prepare('SELECT storage_key, namespace, name, json FROM objects').all() as Array<Record<string, string>>).map((r) => ({
        storageKey: r.storage_key,
        namespace: r.namespace,
        name: r.name,
        json: r.json,
      })),
    loadRevision: () => {
      const row = db.prepare("SELECT value FROM meta WHERE key = 'revision'").get() as { value: string } | undefined;
      return row ? Number(row.value) : 0;
    },
    put: (row, revision) => atomically(upsert, [row.storageKey, row.namespace, row.name, row.json], revision),
    remove: (key, ns, name, revision) => atomically(del, [key, ns, name], revision),
    close: async () => {
      await checkpoints.stop();
      db.close();
    },
  };
}

/**
 * Turns SQLite's own checkpoints off on `db` and runs them from a worker thread instead. Should the thread
 * fail, SQLite's own come back on, so the log never grows without bound.
 */
function checkpointInThread(file: string, db: DatabaseSync): { stop(): Promise<void> } {
  db.exec('PRAGMA wal_autocheckpoint = 0');
  const thread = new Worker(new URL('./walCheckpointThread.js', import.meta.url), { workerData: { file, everyMs: CHECKPOINT_EVERY_MS } });
  thread.unref();
  const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
  let stopped = false;
  thread.on('error', (e) => {
    if (stopped) return; // closed before the thread had opened it: nothing left to checkpoint for
    createLogger('persistence').error('the checkpoint thread failed: SQLite checkpoints on commit again', { file, error: String(e) });
    if (db.isOpen) db.exec('PRAGMA wal_autocheckpoint = 1000');
  });
  return {
    // The thread closes its connection and ends; waited for, so that no connection is left open on files
    // the caller may remove next (its last close would write to them).
    stop: () => {
      stopped = true;
      // Unreferenced while the store is open, so that it never keeps a process alive; referenced while it is
      // waited for, or a process with nothing else to do would end with the close unsettled.
      thread.ref();
      thread.postMessage('stop');
      return exited;
    },
  };
}

export function memoryPersistence(): Persistence {
  return { loadAll: () => [], loadRevision: () => 0, put: () => {}, remove: () => {}, close: async () => {} };
}
