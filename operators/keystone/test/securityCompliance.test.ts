/** Keystone's account rules, alone: when an account is locked, how failures count, what the settings accept. */
import { strict as assert } from 'node:assert';
import { afterFailure, isLocked, securityComplianceFromEnv } from '../src/securityCompliance.js';

const rules = { lockoutFailureAttempts: 3, lockoutDurationSeconds: 60, uniqueLastPasswordCount: 0 };
const t0 = Date.parse('2026-12-03T20:00:00Z');

describe('security compliance decisions', () => {
  it('locks at the allowed number of failures, for the duration after the last one, and starts again after', () => {
    assert.equal(isLocked(rules, { failedAuthCount: 2, failedAuthAt: new Date(t0).toISOString() }, t0), false);
    const third = afterFailure(rules, { failedAuthCount: 2, failedAuthAt: new Date(t0).toISOString() }, t0 + 1000)!;
    assert.deepEqual(third, { failedAuthCount: 3, failedAuthAt: new Date(t0 + 1000).toISOString() });
    assert.equal(isLocked(rules, third, t0 + 60_000), true, 'within a minute of the last failure');
    assert.equal(isLocked(rules, third, t0 + 61_001), false, 'a minute after it');
    assert.equal(afterFailure(rules, third, t0 + 120_000)!.failedAuthCount, 1, 'a failure after the lock ran out counts from one');
    assert.equal(isLocked({ ...rules, lockoutDurationSeconds: 0 }, third, t0 + 10 ** 9), true, 'no duration: until enabled again');
    assert.equal(afterFailure({ ...rules, lockoutFailureAttempts: 0 }, {}, t0), undefined, 'off: nothing counted');
  });

  it('reads its settings from the environment, off by default, and refuses what is not a whole number', () => {
    assert.deepEqual(securityComplianceFromEnv({}), { lockoutFailureAttempts: 0, lockoutDurationSeconds: 1800, uniqueLastPasswordCount: 0 });
    assert.deepEqual(securityComplianceFromEnv({ KEYSTONE_LOCKOUT_FAILURE_ATTEMPTS: '5', KEYSTONE_LOCKOUT_DURATION_SECONDS: '300', KEYSTONE_UNIQUE_LAST_PASSWORD_COUNT: '4' }), { lockoutFailureAttempts: 5, lockoutDurationSeconds: 300, uniqueLastPasswordCount: 4 });
    assert.throws(() => securityComplianceFromEnv({ KEYSTONE_LOCKOUT_FAILURE_ATTEMPTS: 'five' }), /KEYSTONE_LOCKOUT_FAILURE_ATTEMPTS must be a whole number of 0 or more, not "five"/);
  });
});
