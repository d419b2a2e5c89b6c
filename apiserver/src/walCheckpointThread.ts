/**
 * The thread that moves the store's write-ahead log into its database file (see `sqlitePersistence`): a
 * connection of its own, a PASSIVE checkpoint every `everyMs` (it never waits for, nor blocks, the writer), and
 * the connection closed when the main thread says stop.
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const { file, everyMs } = workerData as { file: string; everyMs: number };
const db = new DatabaseSync(file);
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => checkpoint.get(), everyMs);
parentPort!.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
