/** Fernet tokens and the key ring: what makes a token trustworthy without a lookup. */
import { strict as assert } from 'node:assert';
import { fernetDecrypt, fernetEncrypt, newFernetKey } from '../src/tokens/fernet.js';
import { initialKeyRing, primaryKey, rotateKeyRing } from '../src/tokens/keyRing.js';
import { openToken, sealToken, type TokenPayload } from '../src/tokens/tokenFormat.js';

const payload: TokenPayload = { userId: 'a'.repeat(32), methods: ['password'], scope: { project: 'b'.repeat(32) }, expiresAtSeconds: 2_000_000_000, auditIds: ['audit-1'] };

describe('Fernet', () => {
  it('opens what it sealed, with the issue time, and nothing else', () => {
    const key = newFernetKey();
    const token = fernetEncrypt(key, Buffer.from('hello'), 1_700_000_000);
    assert.doesNotMatch(token, /[=+/]/, 'URL-safe and unpadded, as Keystone sends it');
    const opened = fernetDecrypt(key, token)!;
    assert.equal(opened.plaintext.toString(), 'hello');
    assert.equal(opened.issuedAtSeconds, 1_700_000_000);
    assert.equal(fernetDecrypt(newFernetKey(), token), undefined, 'another key');
    const raw = Buffer.from(token, 'base64url');
    raw[30] ^= 1;
    assert.equal(fernetDecrypt(key, raw.toString('base64url')), undefined, 'one flipped bit');
  });

  it('interoperates with the Fernet spec test vector', () => {
    // github.com/fernet/spec generate.json: this key, IV 00..0f and time 1985-10-26T01:20:00-07:00 make this token.
    const key = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';
    const token = 'gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==';
    const opened = fernetDecrypt(key.replace(/=+$/, ''), token.replace(/=+$/, ''))!;
    assert.equal(opened.plaintext.toString(), 'hello');
    assert.equal(new Date(opened.issuedAtSeconds * 1000).toISOString(), '1985-10-26T08:20:00.000Z');
  });
});

describe('Fernet key ring', () => {
  it('starts with a staged key 0 and a primary key 1', () => {
    const ring = initialKeyRing();
    assert.deepEqual(Object.keys(ring).sort(), ['0', '1']);
    assert.equal(primaryKey(ring), ring['1']);
  });

  it('rotates as keystone-manage fernet_rotate does: staged becomes primary, oldest go', () => {
    const r0 = initialKeyRing();
    const r1 = rotateKeyRing(r0);
    assert.deepEqual(Object.keys(r1).sort(), ['0', '1', '2']);
    assert.equal(r1['2'], r0['0'], 'the staged key is promoted');
    assert.notEqual(r1['0'], r0['0'], 'a new staged key');
    const r2 = rotateKeyRing(r1);
    assert.deepEqual(Object.keys(r2).sort(), ['0', '2', '3'], 'three active keys at most: key 1 goes');
    assert.equal(r2['3'], r1['0']);
  });

  it('keeps validating tokens across rotations until their key is dropped', () => {
    const r0 = initialKeyRing();
    const before = sealToken(r0, payload);
    const r1 = rotateKeyRing(r0);
    assert.deepEqual(openToken(r1, before)?.scope, payload.scope, 'a secondary key still opens it');
    const afterFirst = sealToken(r1, payload);
    assert.ok(openToken(r0, afterFirst), 'a replica that has not seen the rotation opens it with its staged key');
    const r2 = rotateKeyRing(r1);
    assert.equal(openToken(r2, before), undefined, 'its key left the ring');
    assert.ok(openToken(r2, afterFirst));
  });

  it('carries the payload intact, and rejects junk without throwing', () => {
    const ring = initialKeyRing();
    const t = openToken(ring, sealToken(ring, { ...payload, scope: {}, auditIds: ['x', 'y'] }))!;
    assert.deepEqual({ ...t, issuedAtSeconds: 0 }, { ...payload, scope: {}, auditIds: ['x', 'y'], issuedAtSeconds: 0 });
    for (const junk of ['', 'abc', 'gAAAAA' + 'A'.repeat(200), '../../etc/passwd']) assert.equal(openToken(ring, junk), undefined);
  });
});
