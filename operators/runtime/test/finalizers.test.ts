/** The finalizer patches, pure: each says the one write that makes the change, or that none is needed. */
import { strict as assert } from 'node:assert';
import { swapFinalizerPatch } from '../src/index.js';

describe('finalizer patches', () => {
  const obj = (finalizers?: string[]) => ({ metadata: { name: 'x', resourceVersion: '7', ...(finalizers ? { finalizers } : {}) } });

  it('hands one finalizer over to another in one compare-and-swap write, keeping the others', () => {
    assert.deepEqual(swapFinalizerPatch(obj(['a/keep', 'a/from']), 'a/from', 'a/to'), { metadata: { finalizers: ['a/keep', 'a/to'], resourceVersion: '7' } });
    assert.deepEqual(swapFinalizerPatch(obj(), 'a/from', 'a/to'), { metadata: { finalizers: ['a/to'], resourceVersion: '7' } }, 'held by neither: the new one comes');
    assert.deepEqual(swapFinalizerPatch(obj(['a/from', 'a/to']), 'a/from', 'a/to'), { metadata: { finalizers: ['a/to'], resourceVersion: '7' } }, 'both: the old one goes');
  });

  it('asks for no write once handed over', () => {
    assert.equal(swapFinalizerPatch(obj(['a/keep', 'a/to']), 'a/from', 'a/to'), undefined);
  });
});
