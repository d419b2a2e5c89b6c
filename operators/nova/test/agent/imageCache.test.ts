/** The node's image cache lets go of images no instance uses once they have been idle long enough. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageStore } from '@stratus/glance';
import { ImageCache } from '../../src/agent/imageCache.js';

describe('the image cache', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'image-cache-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('removes only cached images that no instance uses and that were last used before the cut-off', async () => {
    const hourAgo = Date.now() / 1000 - 3600;
    const file = (name: string, usedAt: number) => {
      writeFileSync(join(dir, name), 'data');
      utimesSync(join(dir, name), usedAt, usedAt);
    };
    file('idle-old.raw', hourAgo);
    file('in-use.qcow2', hourAgo);
    file('recent.raw', Date.now() / 1000);
    file('half-fetched.raw.part', hourAgo);
    const cache = new ImageCache(dir, {} as ImageStore);
    const removed = await cache.prune(new Set(['in-use']), Date.now() - 60_000);
    assert.deepEqual(removed.sort(), ['half-fetched.raw.part', 'idle-old.raw']);
    assert.deepEqual(readdirSync(dir).sort(), ['in-use.qcow2', 'recent.raw']);
  });
});
