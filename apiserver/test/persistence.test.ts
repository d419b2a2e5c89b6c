/**
 * The SQLite store's durability as an operator of the control plane sees it: what was committed is there after
 * a reopen, and the write-ahead log reaches the database file on its own (its checkpoints run in a thread of
 * their own), so the database file alone, as a backup copies it, holds the commits.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import { sqlitePersistence } from '../src/persistence.js';

const row = (i: number) => ({ storageKey: 'widgets.test.io', namespace: 'default', name: `w-${i}`, json: JSON.stringify({ metadata: { name: `w-${i}` }, spec: { i } }) });

describe('the SQLite store', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'stratus-persistence-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives back every commit and the last revision after a reopen', async () => {
    const file = join(dir, 'state.db');
    const p = sqlitePersistence(file);
    for (let i = 1; i <= 500; i++) p.put(row(i), i);
    p.remove('widgets.test.io', 'default', 'w-7', 501);
    await p.close();
    const again = sqlitePersistence(file);
    try {
      assert.equal(again.loadRevision(), 501);
      const names = new Set(again.loadAll().map((r) => r.name));
      assert.equal(names.size, 499);
      assert.ok(names.has('w-500') && !names.has('w-7'));
    } finally {
      await again.close();
    }
  });

  it('moves its log into the database file while it stays open, with no checkpoint asked for; closed, it leaves only that file', async () => {
    const file = join(dir, 'state.db');
    const p = sqlitePersistence(file);
    try {
      // More commits than SQLite's own checkpoint threshold would let through: none of them checkpoints on this
      // thread, so only the checkpoint thread can bring them into the file.
      for (let i = 1; i <= 2000; i++) p.put(row(i), i);
      // The database file alone, copied as a backup would be, without its -wal.
      const rowsInFile = () => {
        const copy = join(dir, 'copy.db');
        copyFileSync(file, copy);
        const db = new DatabaseSync(copy);
        try {
          const table = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'objects'").get();
          return table ? (db.prepare('SELECT count(*) AS n FROM objects').get() as { n: number }).n : 0;
        } finally {
          db.close();
          for (const f of [copy, `${copy}-wal`, `${copy}-shm`]) rmSync(f, { force: true });
        }
      };
      const deadline = Date.now() + 60_000;
      while (rowsInFile() < 2000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(rowsInFile(), 2000, 'the database file, without its log, holds every commit within 60 s');
    } finally {
      await p.close();
    }
    // Every connection is closed once close resolves, the checkpoint thread's too (it has one open by now): the
    // last to close folded the log into the file and removed it, so the folder may go with nothing writing to it.
    assert.deepEqual(readdirSync(dir), ['state.db']);
  });

  it('finishes closing in a process with nothing else to do, so that code after the close runs and the process exits 0', async () => {
    // The checkpoint thread does not keep a process alive while the store is open; a close waiting on it must.
    const script = `
      const { sqlitePersistence } = await import(${JSON.stringify(new URL('../src/persistence.js', import.meta.url).href)});
      const p = sqlitePersistence(${JSON.stringify(join(dir, 'state.db'))});
      p.put(${JSON.stringify(row(1))}, 1);
      await p.close();
      console.log('closed');`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
    assert.equal(stdout.trim(), 'closed');
    assert.deepEqual(readdirSync(dir), ['state.db']);
  });
});
