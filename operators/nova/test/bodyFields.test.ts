import assert from 'node:assert/strict';
import { Microversion } from '../src/api/microversion.js';
import { serverActionShape, serverCreateShape, unexpectedField } from '../src/api/bodyFields.js';

const v = (s: string) => Microversion.parse(s)!;

describe('Nova body fields (the schemas’ additionalProperties: False)', () => {
  it('finds a stray field at the top, in the server, and in each item of a list, naming the attribute that holds it', () => {
    const shape = serverCreateShape(v('2.1'));
    assert.equal(unexpectedField({ server: { name: 'a', flavorRef: '1', imageRef: 'x' } }, shape), undefined);
    assert.deepEqual(unexpectedField({ server: { name: 'a' }, foo: 1 }, shape), { holder: 'body', field: 'foo' });
    assert.deepEqual(unexpectedField({ server: { name: 'a', flavorref: '1' } }, shape), { holder: 'server', field: 'flavorref' });
    assert.deepEqual(unexpectedField({ server: { networks: [{ uuid: 'u' }, { uuid: 'u', tag: 't' }] } }, shape), { holder: 'networks', field: 'tag' });
    assert.equal(unexpectedField({ server: { name: 'a' }, 'os:scheduler_hints': { anything: 1 } }, shape), undefined, 'hints stay open-ended');
  });

  it('follows the microversions that add and remove fields', () => {
    assert.ok(unexpectedField({ server: { personality: [] } }, serverCreateShape(v('2.56'))) === undefined);
    assert.deepEqual(unexpectedField({ server: { personality: [] } }, serverCreateShape(v('2.57'))), { holder: 'server', field: 'personality' });
    assert.deepEqual(unexpectedField({ server: { tags: [] } }, serverCreateShape(v('2.51'))), { holder: 'server', field: 'tags' });
    assert.equal(unexpectedField({ server: { tags: [], description: 'd', trusted_image_certificates: [] } }, serverCreateShape(v('2.63'))), undefined);
    assert.equal(unexpectedField({ key_name: 'k' }, serverActionShape('rebuild', v('2.54'))!), undefined);
    assert.deepEqual(unexpectedField({ key_name: 'k' }, serverActionShape('rebuild', v('2.53'))!), { holder: 'body', field: 'key_name' });
    assert.equal(serverActionShape('lock', v('2.72')), undefined, 'before 2.73 Nova does not look inside lock');
    assert.equal(serverActionShape('os-start', v('2.73')), undefined);
  });
});
