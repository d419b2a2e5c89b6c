/** The node's OVN as `stratus up` starts it (Debian's daemons, in a namespace and folder of the test's own). */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger, eventually } from '@stratus/apiserver';
import { startOvn } from '../src/ovn.js';
import { Supervisor } from '../src/supervisor.js';

const sh = promisify(execFile);

describe('the node’s OVN as stratus up starts it', function () {
  this.timeout(180_000);

  it('starts ovn-controller once, after the chassis settings: it registers its chassis and does not die on the way', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-ovn-'));
    const supervisor = new Supervisor(createLogger('ovn-test', 'error'));
    try {
      const layout = await startOvn(supervisor, dir, createLogger('ovn-test', 'error'));
      const chassis = async () => (await sh('ovn-sbctl', [`--db=${layout.sbRemote}`, '--bare', '--columns=name', 'list', 'Chassis'])).stdout.trim();
      await eventually('ovn-controller to register its chassis in the southbound database', async () => (await chassis()) !== '', 120_000, 200);
      const starts = readFileSync(join(layout.dir, 'ovn-controller.log'), 'utf8').match(/opened log file/g) ?? [];
      assert.equal(starts.length, 1, `ovn-controller started ${starts.length} times (see its log in ${layout.dir})`);
      await supervisor.stopAll();
      assert.equal(existsSync(`/run/netns/${layout.netns}`), false, 'the node namespace is gone after the stop');
    } finally {
      await supervisor.stopAll();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
