import assert from 'node:assert/strict';
import { restartDelayMs } from '../src/supervisor.js';

describe('supervisor back-off', () => {
  it('doubles the wait before each restart in a row, up to its bound (30 s unless told otherwise)', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((n) => restartDelayMs(n)), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    assert.deepEqual([0, 1, 2, 3].map((n) => restartDelayMs(n, 2000)), [1000, 2000, 2000, 2000]);
  });
});
