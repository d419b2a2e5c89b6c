/**
 * Block storage as OpenStack users drive it with the real `openstack` CLI (and kubectl) against `stratus up`,
 * on its default backend: volumes as sparse files in the node pool (the suite itself: lib/volumeSuite.ts).
 */
import { existsSync, openSync, readSync, closeSync, readdirSync, statSync } from 'node:fs';
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { volumeSuite } from './lib/volumeSuite.js';

volumeSuite('block storage with the openstack CLI and kubectl', {
  pool: (cloud) => {
    const dir = join(cloud.dir, 'cinder', 'pool');
    return {
      what: "the volume's file",
      names: async () => (existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('.')).sort() : []),
      read: async (id, length) => {
        const fd = openSync(join(dir, `volume-${id}`), 'r');
        try {
          const buf = Buffer.alloc(length);
          readSync(fd, buf, 0, length, 0);
          return buf.toString();
        } finally {
          closeSync(fd);
        }
      },
      afterAll: () => assert.equal(statSync(dir).isDirectory(), true, 'the pool folder itself stays'),
    };
  },
});
