/**
 * /v3/users/{id}/application_credentials: a user makes them for their current project with some or all of
 * their roles there (the secret is shown once, on create), lists and deletes them; admins may read and delete
 * anyone's. A restricted one cannot make more (Keystone's rule), so a leaked secret cannot breed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { KubeApiError, type KubeClient } from '@stratus/runtime';
import { hashPassword } from '../passwords.js';
import { CONFIGMAPS, SECRETS, SYSTEM_NAMESPACE, controllerRef, openstackId, type Role, type Secret, type User } from '../resources.js';
import { accessRuleConfigMap, accessRuleId, accessRuleObjectName, accessRulesOf, requestedAccessRules, type StoredAccessRule } from './accessRules.js';
import { APP_CREDENTIAL_LABEL, appCredentialData, appCredentialSecretName, appCredentials, type AppCredential } from './appCredentials.js';
import { isAdmin, type AuthContext } from './auth.js';
import { API_FIELD_MANAGER, committed, entity, gone, optionalBoolean, optionalString } from './common.js';
import type { IdentityDirectory } from './directory.js';
import { badRequest, forbidden, notFound } from './errors.js';
import type { Router } from './router.js';
import { roleRef } from './views.js';

/**
 * The user whose application credentials (or access rules, `what`) a call names: oneself, or, to read and
 * delete (not `write`), anyone for an admin.
 */
export function credentialOwner(dir: IdentityDirectory, id: string, auth: AuthContext, write: boolean, what = 'application credentials'): User {
  const user = dir.users.require(id, 'user');
  if (user.metadata.uid !== auth.user.metadata.uid && (write || !isAdmin(auth))) throw forbidden(`You may only manage ${what} of your own.`);
  return user;
}

export function appCredentialRoutes(router: Router, dir: IdentityDirectory, client: KubeClient) {
  const owner = (id: string, auth: AuthContext, write: boolean) => credentialOwner(dir, id, auth, write);
  const find = (user: User, id: string) => appCredentials(dir, user).find((c) => c.id === id) ?? notFoundCred(id);
  const view = (c: AppCredential, base: string) => ({
    id: c.id,
    name: c.name,
    description: c.description || null,
    project_id: c.projectId,
    roles: c.roles.map((n) => dir.roles.named(n)).filter((r): r is Role => !!r).map(roleRef),
    expires_at: c.expiresAt ?? null,
    unrestricted: c.unrestricted,
    access_rules: c.accessRules.map(({ id, service, method, path }) => ({ id, service, method, path })),
    links: { self: `${base}/users/${c.userId}/application_credentials/${c.id}` },
  });

  router.on('GET', '/users/:user/application_credentials', (req) => {
    const user = owner(req.params.user, req.auth, false);
    const name = req.query.get('name');
    const creds = appCredentials(dir, user).filter((c) => name === null || c.name === name);
    return { status: 200, body: { application_credentials: creds.map((c) => view(c, req.base)), links: { self: `${req.base}/users/${req.params.user}/application_credentials`, next: null, previous: null } } };
  });
  router.on('GET', '/users/:user/application_credentials/:id', (req) => ({ status: 200, body: { application_credential: view(find(owner(req.params.user, req.auth, false), req.params.id), req.base) } }));

  router.on('POST', '/users/:user/application_credentials', async (req) => {
    const user = owner(req.params.user, req.auth, true);
    if (req.auth.appCred && !req.auth.appCred.unrestricted) throw forbidden('A restricted application credential cannot make others.');
    if (!req.auth.project) throw forbidden('An application credential is made for a project: use a project-scoped token.');
    const a = entity(req.body, 'application_credential');
    const name = optionalString(a, 'name', 'application_credential');
    if (!name || name.length > 255) throw badRequest("Invalid input for field 'application_credential.name': 1 to 255 characters.");
    const accessRules = a.access_rules === undefined || a.access_rules === null ? [] : resolveAccessRules(user, requestedAccessRules(a.access_rules));
    const expiresAt = optionalString(a, 'expires_at', 'application_credential');
    if (expiresAt !== undefined && (Number.isNaN(Date.parse(expiresAt)) || Date.parse(expiresAt) <= Date.now())) throw badRequest("Invalid input for field 'application_credential.expires_at': a time in the future.");
    // Its roles: those asked for (by id or name), which the token must hold; else all the token holds.
    const held = req.auth.roles;
    const asked = a.roles === undefined ? held : (Array.isArray(a.roles) ? a.roles : [a.roles]).map((r: { id?: string; name?: string }) => held.find((h) => openstackId(h.metadata.uid) === r?.id || roleRef(h).name === r?.name) ?? missingRole(r));
    const secret = optionalString(a, 'secret', 'application_credential') ?? randomBytes(48).toString('base64url');
    const cred: AppCredential = {
      id: randomUUID().replace(/-/g, ''),
      name,
      description: optionalString(a, 'description', 'application_credential') ?? '',
      user: user.metadata.name,
      userId: openstackId(user.metadata.uid),
      projectId: openstackId(req.auth.project.metadata.uid),
      roles: [...new Set(asked.map((r: Role) => r.metadata.name))],
      expiresAt,
      unrestricted: optionalBoolean(a, 'unrestricted', 'application_credential') ?? false,
      hash: await hashPassword(secret),
      accessRules,
    };
    const body: Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: appCredentialSecretName(user, name), namespace: SYSTEM_NAMESPACE, labels: { [APP_CREDENTIAL_LABEL]: user.metadata.name }, ownerReferences: [{ ...controllerRef(user), controller: false }] },
      type: 'Opaque',
      data: appCredentialData(cred),
    };
    // Its new access rules first (they are the user's, and outlive it), taken back if the credential is not made.
    const madeRules = await createAccessRules(user, accessRules);
    try {
      // The object name is a digest of (user, name): a second one of the same name is the API server's 409.
      await committed(dir.secrets, client.create(SECRETS, body, API_FIELD_MANAGER), 'application_credential');
    } catch (e) {
      await Promise.all(madeRules.map((name) => client.delete(CONFIGMAPS, SYSTEM_NAMESPACE, name).catch(() => undefined)));
      throw e;
    }
    return { status: 201, body: { application_credential: { ...view(cred, req.base), secret } } };
  });

  /** Rules named by ID are the user's existing ones (404 otherwise); new ones get the ID of (user, rule). */
  function resolveAccessRules(user: User, asked: ReturnType<typeof requestedAccessRules>): StoredAccessRule[] {
    const existing = accessRulesOf(dir, user);
    const rules = asked.map((r) => ('service' in r ? { id: accessRuleId(user, r), ...r } : (existing.find((e) => e.id === r.id) ?? notFoundRule(r.id))));
    return [...new Map(rules.map((r) => [r.id, r])).values()];
  }

  /** Makes the rules the user does not have yet; the object names of those it made. */
  async function createAccessRules(user: User, rules: StoredAccessRule[]): Promise<string[]> {
    const made: string[] = [];
    for (const rule of rules) {
      const created = await client.create(CONFIGMAPS, accessRuleConfigMap(user, rule), API_FIELD_MANAGER).catch((e) => {
        if (e instanceof KubeApiError && e.code === 409) return undefined; // the user has it already
        throw e;
      });
      if (created) made.push(accessRuleObjectName(rule.id));
    }
    return made;
  }

  router.on('DELETE', '/users/:user/application_credentials/:id', async (req) => {
    const user = owner(req.params.user, req.auth, false);
    if (req.auth.appCred && !req.auth.appCred.unrestricted) throw forbidden('A restricted application credential cannot delete others.');
    const cred = find(user, req.params.id);
    const name = appCredentialSecretName(user, cred.name);
    await client.delete(SECRETS, SYSTEM_NAMESPACE, name);
    await gone(dir.secrets, name, SYSTEM_NAMESPACE);
    return { status: 204 };
  });
}

function notFoundCred(id: string): never {
  throw notFound('application credential', id);
}

function notFoundRule(id: string): never {
  throw notFound('access rule', id);
}

function missingRole(r: unknown): never {
  throw badRequest(`Invalid input for field 'application_credential.roles': the token holds no role ${JSON.stringify(r)}.`);
}
