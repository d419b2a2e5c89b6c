/**
 * /v3/users: Users with their password in a Secret. A user made here gets a Secret
 * `stratus-system/user-<name>-password` owned by the User; the call returns once the operator has hashed
 * it, so the new user can sign in straight away.
 */
import { randomBytes } from 'node:crypto';
import { displayNameOf, isConflict, objectNameFor, type KubeClient } from '@stratus/runtime';
import { nameClaims, ownerOf, userNameKey } from '../names.js';
import {
  GROUPS,
  PASSWORD_SOURCE_ANNOTATION,
  SECRETS,
  SYSTEM_NAMESPACE,
  USERS,
  controllerRef,
  credentialSecretName,
  passwordHistoryOf,
  type Secret,
  type User,
} from '../resources.js';
import type { Authenticator } from './auth.js';
import { isAdmin } from './auth.js';
import { API_FIELD_MANAGER, committed, deleteAssignments, entity, extraAttributes, freeName, fromKubernetes, gone, matches, optionalBoolean, optionalString, requireAdmin, seen, writeRenaming } from './common.js';
import { waitUntil, type IdentityDirectory } from './directory.js';
import { badRequest, forbidden, notFound, unauthorized } from './errors.js';
import { verifyPassword } from '../passwords.js';
import { keptHistory, passwordReusedMessage } from '../securityCompliance.js';
import type { Router } from './router.js';
import { DEFAULT_DOMAIN, findDomain, userView } from './views.js';

const HASHED_WITHIN_MS = 15_000;
export const passwordSecretName = (user: string) => `user-${user}-password`;

export function userRoutes(router: Router, dir: IdentityDirectory, client: KubeClient, auth: Authenticator) {
  const find = (id: string) => dir.users.require(id, 'user');
  const claims = nameClaims(client, API_FIELD_MANAGER);
  /** Keystone's user names: free text of at most 255 characters. */
  const userName = (value: unknown) => freeName(value, 'user', 255);
  const defaultTenantOf = (u: Record<string, any>) => {
    const id = optionalString(u, 'default_project_id', 'user');
    if (id === undefined) return undefined;
    return dir.tenants.require(id, 'project').metadata.name;
  };

  /**
   * Waits until the operator has hashed this version of the password Secret and stamped the user's
   * passwordUpdatedAt (which revokes older tokens), both as this process's caches show them.
   */
  const hashed = (user: string, source: Secret) => {
    const since = Math.floor(Date.now() / 1000) * 1000;
    return waitUntil(() => {
      const stamped = dir.users.named(user)?.status?.passwordUpdatedAt;
      return dir.secrets.named(credentialSecretName(user), SYSTEM_NAMESPACE)?.metadata.annotations?.[PASSWORD_SOURCE_ANNOTATION] === `${source.metadata.uid}/${source.metadata.resourceVersion}` && !!stamped && Date.parse(stamped) >= since;
    }, HASHED_WITHIN_MS);
  };

  /** Whether `password` is one of the user's last unique_last_password_count passwords, its current one counted (never, with the rule off). */
  const usedRecently = async (user: User, password: string): Promise<boolean> => {
    if (auth.compliance.uniqueLastPasswordCount <= 0) return false;
    if (await auth.passwordMatches(user, password)) return true;
    const data = dir.secrets.named(credentialSecretName(user.metadata.name), SYSTEM_NAMESPACE)?.data;
    for (const h of passwordHistoryOf(data).slice(0, keptHistory(auth.compliance))) if (await verifyPassword(password, Buffer.from(h, 'base64').toString('utf8'))) return true;
    return false;
  };

  const setPassword = async (user: User, password: string) => {
    const ref = user.spec.passwordSecretRef;
    const updated = await client.patch<Secret>(SECRETS, ref.namespace ?? SYSTEM_NAMESPACE, ref.name, { data: { [ref.key ?? 'password']: Buffer.from(password).toString('base64') } }, API_FIELD_MANAGER);
    await hashed(user.metadata.name, updated);
  };

  router.on('GET', '/users', (req) => {
    requireAdmin(req.auth);
    const q = req.query;
    const users = dir.users
      .all()
      .map((u) => userView(u, dir, req.base))
      .filter((u) => matches(q, { name: u.name, enabled: u.enabled, domain_id: u.domain_id }));
    return { status: 200, body: { users, links: { self: `${req.base}/users`, next: null, previous: null } } };
  });

  router.on('GET', '/users/:id', (req) => {
    const u = find(req.params.id);
    if (u.metadata.uid !== req.auth.user.metadata.uid && !isAdmin(req.auth)) throw forbidden();
    return { status: 200, body: { user: userView(u, dir, req.base) } };
  });

  router.on('POST', '/users', async (req) => {
    requireAdmin(req.auth);
    const u = entity(req.body, 'user');
    const display = userName(u.name);
    const domain = u.domain_id === undefined || u.domain_id === null ? findDomain(dir, { id: DEFAULT_DOMAIN.id })! : findDomain(dir, { id: String(u.domain_id) });
    if (!domain) throw notFound('domain', String(u.domain_id));
    const name = objectNameFor(display, (n) => !!dir.users.named(n), 'user');
    // Without a password the user exists but cannot sign in: nobody knows this one.
    const password = optionalString(u, 'password', 'user') ?? randomBytes(24).toString('base64url');
    const spec: User['spec'] = {
      displayName: display,
      domain: domain.ref,
      extra: extraAttributes(u, USER_ATTRIBUTES),
      description: optionalString(u, 'description', 'user'),
      email: optionalString(u, 'email', 'user'),
      enabled: optionalBoolean(u, 'enabled', 'user') ?? true,
      defaultTenant: defaultTenantOf(u),
      passwordSecretRef: { name: passwordSecretName(name), namespace: SYSTEM_NAMESPACE, key: 'password' },
    };
    let secret: Secret | undefined;
    const made = async (annotations: Record<string, string>) => {
      const user = await createUser(name, annotations, spec, password);
      secret = user.secret;
      return user.created;
    };
    const created = await claims.create(userNameKey(display, domain.ref), { resource: USERS, apiVersion: 'identity.stratus.io/v1alpha1', kind: 'User', metadata: {} }, made).catch((e) => fromKubernetes(e, 'user'));
    await hashed(name, secret!);
    return { status: 201, body: { user: userView(dir.users.named(name) ?? created, dir, req.base) } };
  });

  /** The password Secret first, so the operator finds it at once, then the User, which then owns the Secret. */
  const createUser = async (name: string, annotations: Record<string, string>, spec: User['spec'], password: string): Promise<{ created: User; secret: Secret }> => {
    const secretBody: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: passwordSecretName(name), namespace: SYSTEM_NAMESPACE }, type: 'Opaque', data: { password: Buffer.from(password).toString('base64') } };
    await client.create(SECRETS, secretBody, API_FIELD_MANAGER).catch(async (e) => {
      if (!isConflict(e)) throw e;
      await client.replace(SECRETS, secretBody, API_FIELD_MANAGER); // left by a user deleted while the API was down
    });
    let created: User;
    try {
      created = await client.create<User>(USERS, { apiVersion: 'identity.stratus.io/v1alpha1', kind: 'User', metadata: { name, annotations }, spec }, API_FIELD_MANAGER);
    } catch (e) {
      await client.delete(SECRETS, SYSTEM_NAMESPACE, passwordSecretName(name));
      fromKubernetes(e, `user ${name}`);
    }
    const secret = await client.patch<Secret>(SECRETS, SYSTEM_NAMESPACE, passwordSecretName(name), { metadata: { ownerReferences: [{ ...controllerRef(created), controller: false }] } }, API_FIELD_MANAGER);
    await seen(dir.users, created);
    return { created, secret };
  };

  router.on('PATCH', '/users/:id', async (req) => {
    requireAdmin(req.auth);
    const user = find(req.params.id);
    const u = entity(req.body, 'user');
    const rename = u.name !== undefined && u.name !== displayNameOf(user) ? userName(u.name) : undefined;
    const patch: Partial<User['spec']> = rename === undefined ? {} : { displayName: rename };
    if (u.description !== undefined) patch.description = optionalString(u, 'description', 'user') ?? '';
    if (u.email !== undefined) patch.email = optionalString(u, 'email', 'user');
    if (u.enabled !== undefined) patch.enabled = optionalBoolean(u, 'enabled', 'user');
    if (u.default_project_id !== undefined) patch.defaultTenant = defaultTenantOf(u);
    const extra = extraAttributes(u, USER_ATTRIBUTES);
    if (extra) patch.extra = extra;
    let current = user;
    if (Object.keys(patch).length) {
      const write = () => committed(dir.users, client.patch<User>(USERS, undefined, user.metadata.name, { spec: patch }, API_FIELD_MANAGER), `user ${displayNameOf(user)}`);
      current = await writeRenaming(claims, rename === undefined ? undefined : userNameKey(rename, user.spec.domain), ownerOf(user), write).catch((e) => fromKubernetes(e, 'user'));
    }
    // Enabling a user again unlocks it, as in Keystone.
    if (patch.enabled === true && user.status?.failedAuthCount) await auth.recordFailures(user, { failedAuthCount: 0 });
    const password = optionalString(u, 'password', 'user');
    if (password !== undefined) await setPassword(current, password);
    return { status: 200, body: { user: userView(dir.users.named(user.metadata.name) ?? current, dir, req.base) } };
  });

  // As Keystone's, this call needs no token: the original password is the proof (a user whose password has
  // expired can still change it), and anyone who knows it may.
  router.public('POST', '/users/:id/password', async (req) => {
    const user = find(req.params.id);
    const u = entity(req.body, 'user');
    const original = optionalString(u, 'original_password', 'user');
    const password = optionalString(u, 'password', 'user');
    if (!original || !password) throw badRequest("Both 'user.original_password' and 'user.password' are required.");
    if (!(await auth.passwordMatches(user, original))) throw unauthorized('The original password is not correct.');
    // Only the user's own change is held to the history; an admin's reset is not, as in Keystone.
    if (await usedRecently(user, password)) throw badRequest(passwordReusedMessage(auth.compliance));
    await setPassword(user, password);
    return { status: 204 };
  });

  router.on('DELETE', '/users/:id', async (req) => {
    requireAdmin(req.auth);
    const user = find(req.params.id);
    const name = user.metadata.name;
    // As Keystone does, a user's role assignments and group memberships go with the user.
    await deleteAssignments(client, dir, (a) => a.spec.user === name);
    for (const g of dir.groups.all().filter((g) => (g.spec.members ?? []).includes(name)))
      await client.patch(GROUPS, undefined, g.metadata.name, { spec: { members: (g.spec.members ?? []).filter((m) => m !== name) } }, API_FIELD_MANAGER);
    await client.delete(USERS, undefined, name);
    await gone(dir.users, name);
    return { status: 204 };
  });
}

/** What a user body may say that Keystone knows; anything else is kept as an extra attribute. */
const USER_ATTRIBUTES = ['id', 'name', 'password', 'enabled', 'description', 'email', 'default_project_id', 'domain_id', 'options', 'federated', 'links', 'password_expires_at'];
