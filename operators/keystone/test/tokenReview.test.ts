/** Keystone's TokenReview webhook: what the control plane learns of a Keystone token, as k8s-keystone-auth answers it. */
import { strict as assert } from 'node:assert';
import { eventually } from '@stratus/apiserver';
import { TOKEN_REVIEW_PATH } from '../src/index.js';
import { call, passwordAuth, startIdentityEnv, type IdentityEnv } from './support.js';

describe('the TokenReview webhook', function () {
  this.timeout(60_000);
  let env: IdentityEnv;
  let admin: string;
  let projectId: string;
  const review = async (token: unknown) => (await call(env.v3, 'POST', TOKEN_REVIEW_PATH, { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } })).body;
  const tokenOf = async (auth: unknown) => (await call(env.v3, 'POST', '/auth/tokens', { body: auth })).headers.get('x-subject-token')!;

  before(async () => {
    env = await startIdentityEnv();
    admin = await tokenOf(passwordAuth('admin', env.adminPassword, 'admin'));
    projectId = (await call(env.v3, 'POST', '/projects', { token: admin, body: { project: { name: 'Team Blue' } } })).body.project.id;
    const user = (await call(env.v3, 'POST', '/users', { token: admin, body: { user: { name: 'Wile E.', password: 'pw-1' } } })).body.user;
    const reader = (await call(env.v3, 'GET', '/roles?name=reader', { token: admin })).body.roles[0];
    await call(env.v3, 'PUT', `/projects/${projectId}/users/${user.id}/roles/${reader.id}`, { token: admin });
    await eventually('the user can sign in to the project', async () => !!(await tokenOf(passwordAuth('Wile E.', 'pw-1', 'Team Blue')).catch(() => undefined)));
  });
  after(() => env?.stop());

  it("names a project member by the User's object name, with the project and (project, role) as groups and the roles as extra", async () => {
    const r = await review(await tokenOf(passwordAuth('Wile E.', 'pw-1', 'Team Blue')));
    assert.equal(r.kind, 'TokenReview');
    assert.equal(r.status.authenticated, true);
    const users = (await env.client.list<any>({ group: 'identity.stratus.io', version: 'v1alpha1', plural: 'users', namespaced: false })).items;
    const object = users.find((u) => u.spec.displayName === 'Wile E.');
    assert.equal(r.status.user.username, object.metadata.name, 'a free-text name is a slug with a suffix; RoleBindings name that');
    assert.deepEqual(r.status.user.groups, [projectId, `${projectId}:reader`], 'the project, and (project, role) for each role of the token');
    assert.deepEqual(r.status.user.extra['alpha.kubernetes.io/identity/roles'], ['reader']);
    assert.deepEqual(r.status.user.extra['alpha.kubernetes.io/identity/project/name'], ['Team Blue']);
  });

  it('puts a project admin in system:masters', async () => {
    const r = await review(admin);
    assert.equal(r.status.user.username, 'admin');
    assert.ok(r.status.user.groups.includes('system:masters'));
  });

  it('refuses unscoped, revoked, forged and missing tokens', async () => {
    // Wile has no default project: without a scope, Keystone gives an unscoped token.
    const unscoped = await tokenOf(passwordAuth('Wile E.', 'pw-1'));
    assert.equal((await review(unscoped)).status.authenticated, false);
    const gone = await tokenOf(passwordAuth('admin', env.adminPassword, 'admin'));
    await call(env.v3, 'DELETE', '/auth/tokens', { token: gone, subject: gone });
    assert.equal((await review(gone)).status.authenticated, false);
    assert.equal((await review('gAAAAAB-forged')).status.authenticated, false);
    assert.equal((await review(undefined)).status.authenticated, false);
  });
});
