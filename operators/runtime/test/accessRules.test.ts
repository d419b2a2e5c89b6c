/** Access rule matching, as keystonemiddleware matches a request against an application credential's rules. */
import { strict as assert } from 'node:assert';
import { accessRuleAllows, pathMatches, serviceCallOf } from '../src/index.js';

describe('access rules', () => {
  it('matches * and {name} to exactly one path segment, ** to any rest, and the rest literally', () => {
    assert.ok(pathMatches('/v2.1/servers/*/ips', '/v2.1/servers/4a1c/ips'));
    assert.ok(!pathMatches('/v2.1/servers/*/ips', '/v2.1/servers//ips'), 'one segment is not none');
    assert.ok(!pathMatches('/v2.1/servers/*/ips', '/v2.1/servers/a/b/ips'), 'nor two');
    assert.ok(pathMatches('/v2.1/servers/{server_id}', '/v2.1/servers/4a1c'));
    assert.ok(pathMatches('/v2/images/**', '/v2/images/x/file'));
    assert.ok(pathMatches('/v2/images**', '/v2/images'), '** may be empty');
    assert.ok(!pathMatches('/v2.1/servers', '/v2.1/servers/x'), 'no prefix match');
    assert.ok(!pathMatches('/v2.1/servers', '/v2X1/servers'), 'a dot is a dot');
    assert.ok(pathMatches('/v2.1/*', '/v2.1/flavors') && !pathMatches('/v2.1/*', '/v2.1/flavors/detail'));
  });

  it('costs the pattern times the path even for a pattern of nothing but wildcards', () => {
    const pattern = '/**'.repeat(70) + '/x';
    const path = '/a'.repeat(5000);
    // A backtracking matcher would not finish this; the table does in a moment (no timing is asserted).
    assert.equal(pathMatches(pattern, path), false);
    assert.equal(pathMatches(pattern, `${path}/x`), true);
  });

  it('allows a call only when a rule names its service, method and path', () => {
    const rules = [{ service: 'compute', method: 'GET', path: '/v2.1/servers' }];
    assert.ok(accessRuleAllows(rules, 'compute', 'get', '/v2.1/servers'));
    assert.ok(!accessRuleAllows(rules, 'compute', 'POST', '/v2.1/servers'));
    assert.ok(!accessRuleAllows(rules, 'image', 'GET', '/v2.1/servers'));
    assert.ok(!accessRuleAllows([], 'compute', 'GET', '/v2.1/servers'));
  });

  it('names a call by its path under the service, whether or not it came through the gateway', () => {
    assert.deepEqual(serviceCallOf({ method: 'GET', url: '/compute/v2.1/servers?limit=1' }, '/compute'), { method: 'GET', path: '/v2.1/servers' });
    assert.deepEqual(serviceCallOf({ method: 'GET', url: '/v2.1/servers' }, '/compute'), { method: 'GET', path: '/v2.1/servers' });
    assert.deepEqual(serviceCallOf({ method: 'PUT', url: '/computer/x' }, '/compute'), { method: 'PUT', path: '/computer/x' });
  });
});
