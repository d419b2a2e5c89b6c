/**
 * Takes over what the earlier embedded server (s3rver) left in the folder, so a cloud's images survive the
 * change of server. s3rver kept `<bucket>/<key dirs>/<name>._S3rver_object`, with `._S3rver_metadata.json`
 * and `._S3rver_object.md5` beside it, and unfinished uploads under `<bucket>/uploads` (dropped: their
 * uploaders are long gone). Each object's file is moved, not copied, into the new layout.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { recordFileOf } from './objectFiles.js';

const OBJECT = '._S3rver_object';
const OWN = new Set(['buckets', 'tmp']);

function* s3rverObjects(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* s3rverObjects(path);
    else if (entry.name.endsWith(OBJECT)) yield path;
  }
}

/** Moves every s3rver bucket under `root` into `root/buckets`; returns how many objects were taken over. */
export function importS3rverFolders(root: string): number {
  let moved = 0;
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || OWN.has(entry.name)) continue;
    const from = join(root, entry.name);
    const to = join(root, 'buckets', entry.name);
    for (const sub of ['objects', 'data', 'uploads']) mkdirSync(join(to, sub), { recursive: true, mode: 0o700 });
    rmSync(join(from, 'uploads'), { recursive: true, force: true });
    for (const path of s3rverObjects(from)) {
      const key = relative(from, path).slice(0, -OBJECT.length);
      const base = path.slice(0, -OBJECT.length);
      const meta = existsSync(`${base}._S3rver_metadata.json`) ? JSON.parse(readFileSync(`${base}._S3rver_metadata.json`, 'utf8')) : {};
      const md5 = existsSync(`${path}.md5`) ? readFileSync(`${path}.md5`, 'utf8').trim() : createHash('md5').update(readFileSync(path)).digest('hex');
      const { size, mtime } = statSync(path);
      const file = randomBytes(16).toString('hex');
      renameSync(path, join(to, 'data', file));
      const userMeta = Object.fromEntries(Object.entries(meta).filter(([k]) => k.startsWith('x-amz-meta-'))) as Record<string, string>;
      const info = { key, size, etag: `"${md5}"`, lastModified: mtime.toUTCString(), contentType: meta['content-type'] ?? 'application/octet-stream', userMeta, parts: [{ file, size }] };
      writeFileSync(join(to, 'objects', recordFileOf(key)), JSON.stringify(info), { mode: 0o600 });
      moved++;
    }
    rmSync(from, { recursive: true, force: true });
  }
  return moved;
}
