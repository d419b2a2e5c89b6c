/** /v3/auth: sign in, validate, revoke, and what a token may reach. */
import { ACCESS_RULES_HEADER, ACCESS_RULES_VERSION, displayNameOf } from '@stratus/runtime';
import { openstackId } from '../resources.js';
import { isAdmin, type AuthContext, type Authenticator } from './auth.js';
import type { IdentityDirectory } from './directory.js';
import { badRequest, forbidden, notFound } from './errors.js';
import type { Router } from './router.js';
import { allDomains, catalogView, domainRef, domainView, keystoneTime, projectView, roleRef } from './views.js';

/** The `token` body Keystone returns from issue and validate. */
export function tokenBody(ctx: AuthContext, dir: IdentityDirectory, withCatalog: boolean) {
  const { token, user, project } = ctx;
  const scoped = !!(project || ctx.domain || ctx.system);
  return {
    token: {
      methods: token.methods,
      user: { id: openstackId(user.metadata.uid), name: displayNameOf(user), domain: domainRef(dir, user.spec.domain), password_expires_at: null },
      audit_ids: token.auditIds,
      issued_at: keystoneTime(token.issuedAtSeconds),
      expires_at: keystoneTime(token.expiresAtSeconds),
      ...(project ? { project: { id: openstackId(project.metadata.uid), name: displayNameOf(project), domain: domainRef(dir, project.spec.domain) }, is_domain: false } : {}),
      ...(ctx.domain ? { domain: ctx.domain } : {}),
      ...(ctx.system ? { system: { all: true } } : {}),
      ...(scoped ? { roles: ctx.roles.map(roleRef) } : {}),
      ...(scoped && withCatalog ? { catalog: catalogView(dir, project) } : {}),
      ...(ctx.appCred
        ? { application_credential: { id: ctx.appCred.id, name: ctx.appCred.name, restricted: !ctx.appCred.unrestricted, ...(ctx.appCred.accessRules.length ? { access_rules: ctx.appCred.accessRules.map(({ id, service, method, path }) => ({ id, service, method, path })) } : {}) } }
        : {}),
    },
  };
}

export function authRoutes(router: Router, dir: IdentityDirectory, auth: Authenticator) {
  router.public('POST', '/auth/tokens', async (req) => {
    if (!req.body?.auth?.identity) throw badRequest('Expecting to find auth.identity in request body.');
    const ctx = await auth.issue(req.body);
    return { status: 201, headers: { 'X-Subject-Token': ctx.tokenId }, body: tokenBody(ctx, dir, !req.query.has('nocatalog')) };
  });

  const subject = (req: { headers: Record<string, unknown>; query: URLSearchParams }, caller: AuthContext) => {
    const id = req.headers['x-subject-token'];
    if (typeof id !== 'string' || !id) throw badRequest('X-Subject-Token header is required.');
    const ctx = auth.validate(id, 'subject', req.query.get('allow_expired') === '1' || req.query.get('allow_expired') === 'true');
    // A token bound by access rules is vouched for only to a service that says it enforces them (Keystone's check).
    const support = Number(req.headers[ACCESS_RULES_HEADER.toLowerCase()]);
    if (ctx.appCred?.accessRules.length && !(support >= Number(ACCESS_RULES_VERSION))) throw notFound('token', 'Failed to validate token');
    // Anyone may check their own token; checking others' is for admins (and services).
    if (ctx.user.metadata.uid !== caller.user.metadata.uid && !isAdmin(caller)) throw forbidden();
    return ctx;
  };

  router.on('GET', '/auth/tokens', (req) => {
    const ctx = subject(req, req.auth);
    return { status: 200, headers: { 'X-Subject-Token': ctx.tokenId }, body: tokenBody(ctx, dir, !req.query.has('nocatalog')) };
  });
  router.on('HEAD', '/auth/tokens', (req) => {
    const ctx = subject(req, req.auth);
    return { status: 200, headers: { 'X-Subject-Token': ctx.tokenId } };
  });
  router.on('DELETE', '/auth/tokens', async (req) => {
    await auth.revoke(subject(req, req.auth));
    return { status: 204 };
  });

  router.on('GET', '/auth/projects', (req) => ({
    status: 200,
    body: { projects: dir.tenantsOf(req.auth.user).map((t) => projectView(t, req.base, dir)), links: { self: `${req.base}/auth/projects`, next: null, previous: null } },
  }));
  router.on('GET', '/auth/domains', (req) => ({
    status: 200,
    // The domains the user may scope a token to: those they hold a role on, directly or through a group.
    body: { domains: allDomains(dir).filter((d) => d.enabled && dir.domainRolesOf(req.auth.user, d.ref).length).map((d) => domainView(d, req.base)), links: { self: `${req.base}/auth/domains`, next: null, previous: null } },
  }));
  router.on('GET', '/auth/system', (req) => ({ status: 200, body: { system: dir.systemRolesOf(req.auth.user).length ? [{ all: true }] : [], links: { self: `${req.base}/auth/system` } } }));
  router.on('GET', '/auth/catalog', (req) => {
    if (!req.auth.project && !req.auth.domain) throw forbidden('An unscoped token has no catalog; scope it to a project.');
    return { status: 200, body: { catalog: catalogView(dir, req.auth.project), links: { self: `${req.base}/auth/catalog` } } };
  });
}
