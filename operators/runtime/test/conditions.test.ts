import { strict as assert } from 'node:assert';
import { markReady, markReconciling, markStalled, setCondition } from '../src/conditions.js';

describe('conditions', () => {
  it('moves lastTransitionTime only when the status changes', () => {
    const a = setCondition([], { type: 'Ready', status: 'False', reason: 'Creating', message: 'x' }, 't1');
    const b = setCondition(a, { type: 'Ready', status: 'False', reason: 'StillCreating', message: 'y' }, 't2');
    assert.equal(b[0].lastTransitionTime, 't1');
    assert.equal(b[0].reason, 'StillCreating');
    const c = setCondition(b, { type: 'Ready', status: 'True', reason: 'Done', message: 'z' }, 't3');
    assert.equal(c[0].lastTransitionTime, 't3');
  });

  it('keeps Ready, Reconciling and Stalled consistent, as kstatus reads them', () => {
    const reconciling = markReconciling(undefined, 2, 'Progressing', 'working');
    assert.deepEqual(reconciling.map((c) => [c.type, c.status]).sort(), [['Ready', 'False'], ['Reconciling', 'True']]);
    const stalled = markStalled(reconciling, 2, 'NoValidHost', 'nothing fits');
    assert.deepEqual(stalled.map((c) => [c.type, c.status]).sort(), [['Ready', 'False'], ['Stalled', 'True']]);
    const ready = markReady(stalled, 3, 'Active', 'running');
    assert.deepEqual(ready.map((c) => [c.type, c.status, c.observedGeneration]), [['Ready', 'True', 3]]);
  });
});
