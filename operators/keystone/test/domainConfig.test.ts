/** Keystone's domain configuration rules, alone: what an update may name, what a delete leaves, the patch that replaces. */
import { strict as assert } from 'node:assert';
import { checkedUpdate, replacingPatch, splitSensitive, withoutPart } from '../src/api/domainConfig.js';

const current = { identity: { driver: 'ldap' }, ldap: { url: 'ldap://a/', password: 'p' } };

describe('domain configuration decisions', () => {
  it("takes an option's update as its bare option, a group's as that group only, and only for what is there", () => {
    assert.deepEqual(checkedUpdate({ url: 'ldap://b/' }, current, 'd1', 'ldap', 'url'), { ldap: { url: 'ldap://b/' } });
    assert.deepEqual(checkedUpdate({ identity: { driver: 'sql', list_limit: 5 } }, current, 'd1', 'identity'), { identity: { driver: 'sql', list_limit: 5 } });
    assert.throws(() => checkedUpdate({ url: 'x', user: 'y' }, current, 'd1', 'ldap', 'url'), /only that, option must be specified/);
    assert.throws(() => checkedUpdate({ user_filter: '(x)' }, current, 'd1', 'ldap', 'user_filter'), /Could not find option user_filter in group ldap in domain configuration for domain d1\./);
    assert.throws(() => checkedUpdate({ ldap: {} }, current, 'd1'), /The value of group ldap specified in the config should be a dictionary of options/);
    assert.throws(() => checkedUpdate({}, current, 'd1'), /No options specified/);
  });

  it('deletes an option, a group or everything, and says when what is named is not there', () => {
    assert.deepEqual(withoutPart(current, 'd1', 'identity', 'driver'), { ldap: current.ldap }, 'a group left empty goes');
    assert.deepEqual(withoutPart(current, 'd1', 'ldap'), { identity: current.identity });
    assert.deepEqual(withoutPart(current, 'd1'), {});
    assert.throws(() => withoutPart(current, 'd1', 'identity', 'list_limit'), /Could not find option list_limit in group identity/);
  });

  it('keeps the password apart, and writes a replacement as a merge patch that drops what is gone', () => {
    assert.deepEqual(splitSensitive(current), { shown: { identity: { driver: 'ldap' }, ldap: { url: 'ldap://a/' } }, sensitive: { ldap: { password: 'p' } } });
    assert.deepEqual(replacingPatch({ identity: { driver: 'ldap' }, ldap: { url: 'a', user: 'u' } }, { ldap: { url: 'b' } }), { identity: null, ldap: { url: 'b', user: null } });
  });
});
