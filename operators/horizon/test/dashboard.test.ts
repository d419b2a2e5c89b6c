/**
 * The dashboard's server against a real control plane and Keystone: sign-in into a sealed HttpOnly cookie,
 * CSRF on every write, the APIs' answers passed on as they said them, live changes only of what the user may
 * see, each object's YAML, project switching and sign-out that revoke tokens, and the page itself.
 */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { eventually } from '@stratus/apiserver';
import { call, passwordAuth, startIdentityEnv, type IdentityEnv } from '@stratus/keystone/testing';
import { createLogger } from '@stratus/runtime';
import { parse } from 'yaml';
import { startDashboard, type Dashboard } from '../src/server/index.js';

const INSTANCES = { group: 'compute.stratus.io', version: 'v1alpha1', plural: 'instances', namespaced: true };
const webDir = fileURLToPath(new URL('../web/', import.meta.url));

interface Browser {
  cookie?: string;
  csrf?: string;
}

describe('the dashboard server', function () {
  this.timeout(120_000);
  let identity: IdentityEnv;
  let dashboard: Dashboard;
  let admin: string;
  const ids: Record<string, string> = {};

  /** A request as the page makes it: the cookie the browser keeps, the CSRF header when asked. */
  const req = async (b: Browser, method: string, path: string, o: { body?: unknown; csrf?: boolean; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (b.cookie) headers.Cookie = b.cookie;
    if (o.csrf && b.csrf) headers['X-CSRF-Token'] = b.csrf;
    if (o.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${dashboard.url}/dashboard${path}`, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body), redirect: 'manual' });
    const text = await res.text();
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: res.status, headers: res.headers, body };
  };
  const signIn = async (username: string, password: string, extra: Record<string, string> = {}): Promise<Browser & { status: number; body: any; setCookie: string }> => {
    const r = await req({}, 'POST', '/api/session', { body: { username, password }, headers: extra });
    const setCookie = r.headers.get('set-cookie') ?? '';
    return { status: r.status, body: r.body, setCookie, cookie: setCookie.split(';')[0], csrf: r.body?.csrfToken };
  };
  const tokenOf = async (user: string, password: string, project: string) => (await call(identity.v3, 'POST', '/auth/tokens', { body: passwordAuth(user, password, project) })).headers.get('x-subject-token')!;

  before(async () => {
    identity = await startIdentityEnv();
    admin = await tokenOf('admin', identity.adminPassword, 'admin');
    const member = (await call(identity.v3, 'GET', '/roles?name=member', { token: admin })).body.roles[0];
    for (const name of ['acme', 'globex', 'initech']) ids[name] = (await call(identity.v3, 'POST', '/projects', { token: admin, body: { project: { name } } })).body.project.id;
    ids.wile = (await call(identity.v3, 'POST', '/users', { token: admin, body: { user: { name: 'wile', password: 'wile-pw', default_project_id: ids.acme } } })).body.user.id;
    ids.hank = (await call(identity.v3, 'POST', '/users', { token: admin, body: { user: { name: 'hank', password: 'hank-pw' } } })).body.user.id;
    await call(identity.v3, 'PUT', `/projects/${ids.acme}/users/${ids.wile}/roles/${member.id}`, { token: admin });
    await call(identity.v3, 'PUT', `/projects/${ids.globex}/users/${ids.wile}/roles/${member.id}`, { token: admin });
    await call(identity.v3, 'PUT', `/projects/${ids.globex}/users/${ids.hank}/roles/${member.id}`, { token: admin });
    // Every role assignment in effect before the tests ask for them (Keystone reads them from its cache).
    for (const [user, project] of [['wile', 'acme'], ['wile', 'globex'], ['hank', 'globex']])
      await eventually(`${user} can sign in to ${project}`, async () => !!(await tokenOf(user, `${user}-pw`, project).catch(() => undefined)));
    dashboard = await startDashboard({ kubeConfig: identity.kubeConfig, log: createLogger('horizon-test', 'error'), identityUrl: identity.v3, host: '127.0.0.1', port: 0, webDir, sessionKey: randomBytes(32) });
  });
  after(async () => {
    await dashboard?.close();
    await identity?.stop();
  });

  it('signs a member in to their project into an HttpOnly, SameSite=Strict cookie that does not hold the token', async () => {
    const b = await signIn('wile', 'wile-pw');
    assert.equal(b.status, 201, JSON.stringify(b.body));
    assert.match(b.setCookie, /^stratus_session=[\w-]+; Path=\/dashboard; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    assert.equal(b.body.user.name, 'wile');
    assert.equal(b.body.project.id, ids.acme, 'the default project');
    assert.deepEqual(b.body.projects.map((p: { name: string }) => p.name), ['acme', 'globex'], 'the projects to switch to');
    assert.equal(b.body.admin, false);
    assert.ok(b.body.csrfToken);
    const s = await req(b, 'GET', '/api/session');
    assert.equal(s.status, 200);
    assert.equal(s.body.user.name, 'wile');
  });

  it('signs in a user with no default project to the first project they have', async () => {
    const b = await signIn('hank', 'hank-pw');
    assert.equal(b.status, 201, JSON.stringify(b.body));
    assert.equal(b.body.project.id, ids.globex);
  });

  it("refuses a wrong password with Keystone's own answer, and a sign-in posted from another site", async () => {
    const wrong = await signIn('wile', 'not-it');
    assert.equal(wrong.status, 401);
    assert.match(wrong.body.error.message, /The request you have made requires authentication/);
    assert.equal(wrong.setCookie, '');
    const missing = await req({}, 'POST', '/api/session', { body: { username: 'wile' } });
    assert.equal(missing.status, 400);
    assert.match(missing.body.error.message, /password/);
    const crossSite = await signIn('wile', 'wile-pw', { Origin: 'https://evil.example' });
    assert.equal(crossSite.status, 403);
    assert.equal(crossSite.setCookie, '');
  });

  it("changes the user's own password with the CSRF token, passing Keystone's refusal on, and ends the session with it", async () => {
    ids.road = (await call(identity.v3, 'POST', '/users', { token: admin, body: { user: { name: 'road', password: 'road-pw', default_project_id: ids.initech } } })).body.user.id;
    const member = (await call(identity.v3, 'GET', '/roles?name=member', { token: admin })).body.roles[0];
    await call(identity.v3, 'PUT', `/projects/${ids.initech}/users/${ids.road}/roles/${member.id}`, { token: admin });
    await eventually('road can sign in', async () => (await signIn('road', 'road-pw')).status === 201);
    const b = await signIn('road', 'road-pw');
    const change = (original: string, password: string, csrf = true) => req(b, 'POST', '/api/session/password', { body: { originalPassword: original, password }, csrf });
    assert.equal((await change('road-pw', 'road-pw-2', false)).status, 403, 'not without the CSRF token');
    const wrong = await change('not-it', 'road-pw-2');
    assert.deepEqual([wrong.status, wrong.body.error.message], [401, 'The original password is not correct.'], "Keystone's answer, as it said it");
    assert.equal((await req(b, 'GET', '/api/session')).status, 200, 'a wrong current password does not end the session');
    assert.equal((await change('road-pw', '')).status, 400);
    const done = await change('road-pw', 'road-pw-2');
    assert.equal(done.status, 204);
    assert.match(done.headers.get('set-cookie') ?? '', /^stratus_session=;/, 'the cookie is cleared');
    assert.equal((await req(b, 'GET', '/api/session')).status, 401, 'the session ended with the change');
    assert.equal((await signIn('road', 'road-pw')).status, 401);
    assert.equal((await signIn('road', 'road-pw-2')).status, 201, 'the new password signs in');
  });

  it('needs a session for everything but the page, and the CSRF token for every write', async () => {
    assert.equal((await req({}, 'GET', '/api/session')).status, 401);
    assert.equal((await req({}, 'GET', '/api/os/identity/auth/projects')).status, 401);
    assert.equal((await req({ cookie: 'stratus_session=forged' }, 'GET', '/api/session')).status, 401, 'a cookie not sealed here is no session');
    const b = await signIn('wile', 'wile-pw');
    const write = { body: { project: { name: 'mine' } } };
    const noCsrf = await req(b, 'POST', '/api/os/identity/projects', write);
    assert.equal(noCsrf.status, 403);
    assert.match(noCsrf.body.error.message, /CSRF/);
    const wrongCsrf = await req({ ...b, csrf: 'x'.repeat(43) }, 'POST', '/api/os/identity/projects', { ...write, csrf: true });
    assert.equal(wrongCsrf.status, 403);
    // With the token the write reaches Keystone, whose policy answers (a member may not make projects), as it said it.
    const reached = await req(b, 'POST', '/api/os/identity/projects', { ...write, csrf: true });
    assert.equal(reached.status, 403);
    assert.doesNotMatch(reached.body.error.message, /CSRF/);
    assert.match(reached.body.error.message, /not authorized|Policy/i);
    assert.equal((await req(b, 'DELETE', '/api/session')).status, 403, 'signing out needs it too');
  });

  it("calls the APIs with the user's token and passes their answers on: reads, 404s; dot segments never reach a service", async () => {
    const b = await signIn('wile', 'wile-pw');
    const projects = await req(b, 'GET', '/api/os/identity/auth/projects');
    assert.equal(projects.status, 200);
    assert.deepEqual(projects.body.projects.map((p: { name: string }) => p.name).sort(), ['acme', 'globex']);
    const missing = await req(b, 'GET', '/api/os/identity/projects/0000');
    assert.equal(missing.status, 404);
    assert.ok(missing.body.error.message, "Keystone's message");
    assert.equal((await req(b, 'GET', '/api/os/nowhere/v1/things')).status, 404);
    // Browsers resolve dot segments before sending; a raw client may not: the dashboard resolves them before it routes, so they never reach a service.
    const raw = await new Promise<number>((resolve, reject) => http.get(`${dashboard.url}/dashboard/api/os/identity/../../api/session`, { headers: { Cookie: b.cookie! } }, (res) => (res.resume(), resolve(res.statusCode!))).on('error', reject));
    assert.equal(raw, 404, '/dashboard/api/api/session is no route');
  });

  it('tells a page of changes to what its user may see, and nothing of other tenants', async () => {
    const b = await signIn('wile', 'wile-pw');
    const abort = new AbortController();
    const res = await fetch(`${dashboard.url}/dashboard/api/live`, { headers: { Cookie: b.cookie! }, signal: abort.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /text\/event-stream/);
    const changes: any[] = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buf = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk);
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = /^data: (.*)$/m.exec(block);
          if (/^event: change$/m.test(block) && data) changes.push(JSON.parse(data[1]));
        }
      }
    })().catch(() => undefined);
    const make = (ns: string, name: string) => identity.client.create<any>(INSTANCES, { apiVersion: 'compute.stratus.io/v1alpha1', kind: 'Instance', metadata: { name, namespace: ns }, spec: { flavor: 'm1.tiny', image: { name: 'img' } } }, 'test');
    const theirs = await make('globex', 'their-server');
    const ours = await make('acme', 'our-server');
    await eventually('the change of our server reached the page', () => changes.some((c) => c.id === ours.metadata.uid));
    assert.deepEqual(
      changes.filter((c) => c.kind === 'servers').map((c) => c.id),
      [ours.metadata.uid],
      "another tenant's server (made first, on the same watch) was never told",
    );
    assert.equal(changes[0].type, 'ADDED');
    abort.abort();
    await reading;

    const yaml = await req(b, 'GET', `/api/yaml/servers/${ours.metadata.uid}`);
    assert.equal(yaml.status, 200);
    const doc = parse(yaml.body);
    assert.equal(doc.kind, 'Instance');
    assert.equal(doc.metadata.name, 'our-server');
    assert.equal(doc.metadata.managedFields, undefined);
    assert.equal((await req(b, 'GET', `/api/yaml/servers/${theirs.metadata.uid}`)).status, 404, "another tenant's object is not found");
    assert.equal((await req(b, 'GET', `/api/events/servers/${theirs.metadata.uid}`)).status, 404);
    const events = await req(b, 'GET', `/api/events/servers/${ours.metadata.uid}`);
    assert.equal(events.status, 200);
    assert.ok(Array.isArray(events.body.events));
  });

  it('switches project with a new token and revokes the old one', async () => {
    const b = await signIn('wile', 'wile-pw');
    const before = await req(b, 'GET', '/api/session');
    const switched = await req(b, 'PUT', '/api/session', { body: { projectId: ids.globex }, csrf: true });
    assert.equal(switched.status, 200, JSON.stringify(switched.body));
    assert.equal(switched.body.project.id, ids.globex);
    assert.notEqual(switched.body.csrfToken, before.body.csrfToken, 'a new session, a new CSRF token');
    assert.equal((await req(b, 'GET', '/api/session')).status, 401, "the old session's token was revoked");
    const next: Browser = { cookie: switched.headers.get('set-cookie')!.split(';')[0], csrf: switched.body.csrfToken };
    assert.equal((await req(next, 'GET', '/api/session')).body.project.id, ids.globex);
    // A project that exists but where wile has no role, and one that does not exist.
    for (const projectId of [ids.initech, '0'.repeat(32)]) {
      const refused = await req(next, 'PUT', '/api/session', { body: { projectId }, csrf: true });
      assert.ok(refused.status === 401 || refused.status === 403 || refused.status === 404, `a project without a role is refused: ${refused.status}`);
    }
  });

  it('signs out by revoking the token in Keystone and ending the cookie', async () => {
    const b = await signIn('wile', 'wile-pw');
    const out = await req(b, 'DELETE', '/api/session', { csrf: true });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie')!, /^stratus_session=; .*Max-Age=0/);
    assert.equal((await req(b, 'GET', '/api/session')).status, 401, 'the old cookie is no session');
    assert.equal((await req(b, 'GET', '/api/os/identity/auth/projects')).status, 401);
  });

  it('serves the page (precompressed, with a strict content policy) and its routes', async () => {
    const page = await fetch(`${dashboard.url}/dashboard/`, { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-encoding'), 'gzip');
    assert.match(page.headers.get('content-security-policy')!, /script-src 'self'/);
    assert.match(page.headers.get('content-security-policy')!, /frame-ancestors 'none'/);
    const html = await page.text();
    const script = /src="\/dashboard\/(app-[A-Z0-9]+\.js)"/.exec(html);
    assert.ok(script, 'the page names its bundle');
    const asset = await fetch(`${dashboard.url}/dashboard/${script[1]}`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control')!, /immutable/);
    const deep = await fetch(`${dashboard.url}/dashboard/instances/some-id`);
    assert.match(await deep.text(), /<div id="root">/, "a page's own path serves the single page");
    assert.equal((await fetch(`${dashboard.url}/`, { redirect: 'manual' })).headers.get('location'), '/dashboard/');
    assert.equal((await fetch(`${dashboard.url}/dashboard/api/nothing`)).status, 404);
  });
});
