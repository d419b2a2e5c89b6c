import { strict as assert } from 'node:assert';
import { MAX_TAG_LENGTH, TagError, parseTag, parseTagsBody, tagsMatcher, withTag } from '../src/tags.js';

describe('resource tags', () => {
  it('takes any text up to Neutron’s length, and refuses what it refuses, with its words', () => {
    assert.equal(parseTag('red team, 2026 / ü'), 'red team, 2026 / ü');
    assert.equal(parseTag('x'.repeat(MAX_TAG_LENGTH)).length, MAX_TAG_LENGTH);
    assert.throws(() => parseTag('x'.repeat(MAX_TAG_LENGTH + 1)), (e: Error) => e instanceof TagError && /exceeds maximum length of 255/.test(e.message));
    assert.throws(() => parseTag(7), TagError);
    assert.deepEqual(parseTagsBody({ tags: ['a', 'b'] }), ['a', 'b']);
    assert.deepEqual(parseTagsBody({ tags: [] }), [], 'an empty list clears them');
    assert.throws(() => parseTagsBody({ tag: ['a'] }), /Invalid tags body/);
    assert.throws(() => parseTagsBody({ tags: 'a' }), /Invalid tags body/);
    assert.throws(() => parseTagsBody({ tags: ['a', 'b', 'a'] }), /Duplicate items in the list: 'a'/);
  });

  it('adds a tag once, keeping the order they were set in', () => {
    assert.deepEqual(withTag(['b'], 'a'), ['b', 'a']);
    assert.deepEqual(withTag(['b', 'a'], 'b'), ['b', 'a']);
  });

  it('filters as Neutron documents: tags all, tags-any one, not-tags not all, not-tags-any none; commas and repeats join', () => {
    const q = (s: string) => tagsMatcher(new URLSearchParams(s));
    const red = ['red'];
    const redBlue = ['red', 'blue'];
    const none: string[] = [];
    assert.ok(q('')(none) && q('')(redBlue), 'no filter passes everything');
    assert.deepEqual([red, redBlue, none].map(q('tags=red,blue')), [false, true, false]);
    assert.deepEqual([red, redBlue, none].map(q('tags=red&tags=blue')), [false, true, false], 'repeated values join');
    assert.deepEqual([red, redBlue, none].map(q('tags-any=blue,green')), [false, true, false]);
    assert.deepEqual([red, redBlue, none].map(q('not-tags=red,blue')), [true, false, true]);
    assert.deepEqual([red, redBlue, none].map(q('not-tags-any=blue,green')), [true, false, true]);
    assert.deepEqual([red, redBlue, none].map(q('tags=red&not-tags-any=blue')), [true, false, false], 'filters combine');
  });
});
