import { strict as assert } from 'node:assert';
import { JsonTextSplitter } from '../src/ovsdb/jsonStream.js';

describe('OVSDB stream splitting', () => {
  it('splits back-to-back JSON texts, whole or cut anywhere, with braces and escapes inside strings', () => {
    const texts = [{ id: 1, result: ['{', '}'] }, { method: 'update', params: [null, { a: 'quote \\" and \\\\ { [' }] }, { id: 2, result: [] }];
    const wire = texts.map((t) => JSON.stringify(t)).join('');
    for (let cut = 1; cut < wire.length; cut += 7) {
      const s = new JsonTextSplitter();
      const got = [...s.push(wire.slice(0, cut)), ...s.push(wire.slice(cut))];
      assert.deepEqual(got, texts, `cut at ${cut}`);
    }
  });

  it('refuses what is not a JSON object stream', () => {
    assert.throws(() => new JsonTextSplitter().push('x{}'), /outside a JSON object/);
  });
});
