/**
 * Authentication: turning a POST /v3/auth/tokens body into a token, and a token back into who is asking.
 * Password checks go through scrypt once per password version; after that a keyed digest held in memory
 * answers, so repeated sign-ins cost microseconds without keeping any password.
 */
import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';
import { displayNameOf, isConflict, patchStatusChanges, type KubeClient } from '@stratus/runtime';
import { verifyPassword } from '../passwords.js';
import { NO_SECURITY_COMPLIANCE, accountLockedMessage, afterFailure, isLocked, type FailedSignIns, type SecurityCompliance } from '../securityCompliance.js';
import { appCredentials, isExpired, type AppCredential } from './appCredentials.js';
import { CONFIGMAPS, FIELD_MANAGER, SECRETS, SYSTEM_NAMESPACE, USERS, credentialSecretName, openstackId, type Role, type Tenant, type User } from '../resources.js';
import { FERNET_KEYS_SECRET, initialKeyRing, keyRingFromSecretData, keyRingToSecretData, type KeyRing } from '../tokens/keyRing.js';
import { newAuditId, openToken, sealToken, type Scope, type Token } from '../tokens/tokenFormat.js';
import { waitUntil, type IdentityDirectory } from './directory.js';
import { badRequest, forbidden, notFound, unauthorized } from './errors.js';
import { DEFAULT_DOMAIN, domainInfo, findDomain, type DomainInfo } from './views.js';

export const REVOCATIONS_CONFIGMAP = 'keystone-revocations';

/** Who a valid token says is asking, with what they hold in its scope right now. */
export interface AuthContext {
  tokenId: string;
  token: Token;
  user: User;
  project?: Tenant;
  /** A system-scoped token (the whole deployment). */
  system?: boolean;
  /** The domain a domain-scoped token is for. */
  domain?: { id: string; name: string };
  roles: Role[];
  /** The application credential the token was made with. */
  appCred?: AppCredential;
}

export const isAdmin = (ctx: AuthContext) => ctx.roles.some((r) => r.metadata.name === 'admin');

type Ref = { id?: string; name?: string; domain?: { id?: string; name?: string } };

export class Authenticator {
  private readonly memoKey = createSecretKey(randomBytes(32)); // a KeyObject: Node 24 re-imports a Buffer key per HMAC
  private readonly verified = new Map<string, Buffer>();

  constructor(
    private readonly dir: IdentityDirectory,
    private readonly client: KubeClient,
    private readonly expirationSeconds: number,
    readonly compliance: SecurityCompliance = NO_SECURITY_COMPLIANCE,
  ) {}

  /** Creates the Fernet key ring on first start; a ring another replica made first is kept. */
  async ensureKeyRing(): Promise<void> {
    if (await this.client.get(SECRETS, SYSTEM_NAMESPACE, FERNET_KEYS_SECRET)) return;
    try {
      const data = keyRingToSecretData(initialKeyRing());
      await this.client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: FERNET_KEYS_SECRET, namespace: SYSTEM_NAMESPACE }, type: 'Opaque', data }, FIELD_MANAGER);
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
    await waitUntil(() => !!this.dir.secrets.named(FERNET_KEYS_SECRET, SYSTEM_NAMESPACE));
  }

  /** The ring as the Secret holds it now, decoded once per version of the Secret (every token needs it). */
  keyRing(): KeyRing {
    const secret = this.dir.secrets.named(FERNET_KEYS_SECRET, SYSTEM_NAMESPACE);
    if (!secret?.data) throw new Error(`secret ${SYSTEM_NAMESPACE}/${FERNET_KEYS_SECRET} with the Fernet keys is missing`);
    if (this.decodedRing?.from !== secret.data) this.decodedRing = { from: secret.data, ring: keyRingFromSecretData(secret.data) };
    return this.decodedRing.ring;
  }
  private decodedRing?: { from: Record<string, string>; ring: KeyRing };

  /**
   * A token's contents, decrypted once while the key ring stays the same: a validation opens the caller's token
   * and the subject token (usually the same one), and a client presents one token many times. Only the
   * decryption is remembered; expiry, revocation, the user and the project are checked on every call.
   */
  private opened(tokenId: string): Token | undefined {
    const ring = this.keyRing();
    if (this.openedTokens.ring !== ring) this.openedTokens = { ring, tokens: new Map() };
    const known = this.openedTokens.tokens.get(tokenId);
    if (known) return known;
    const token = openToken(ring, tokenId);
    if (token) {
      if (this.openedTokens.tokens.size >= 10_000) this.openedTokens.tokens.clear();
      this.openedTokens.tokens.set(tokenId, token);
    }
    return token;
  }
  private openedTokens: { ring?: KeyRing; tokens: Map<string, Token> } = { tokens: new Map() };

  /** POST /v3/auth/tokens: checks the identity, resolves the scope, and seals a token. */
  async issue(body: any): Promise<AuthContext> {
    const auth = body?.auth;
    const methods: unknown = auth?.identity?.methods;
    if (!Array.isArray(methods) || methods.length === 0) throw badRequest("auth.identity.methods must list 'password' or 'token'");
    let user: User;
    let expiresAtSeconds = Math.floor(Date.now() / 1000) + this.expirationSeconds;
    let auditIds = [newAuditId()];
    let inheritedScope: Scope = {};
    let inheritedMethods: string[] = [];
    if (methods.includes('application_credential')) {
      // Bound to its project and roles: no other scope may be asked for.
      const cred = await this.checkAppCredential(auth.identity.application_credential);
      const u = this.dir.users.named(cred.user)!;
      const token: Token = { userId: cred.userId, methods: ['application_credential'], scope: { project: cred.projectId }, expiresAtSeconds: Math.min(expiresAtSeconds, cred.expiresAt ? Math.floor(Date.parse(cred.expiresAt) / 1000) : Infinity), auditIds, issuedAtSeconds: Math.floor(Date.now() / 1000), appCredId: cred.id };
      return this.contextFor(sealToken(this.keyRing(), token, token.issuedAtSeconds), token, u);
    }
    if (methods.includes('password')) {
      user = await this.checkPassword(auth.identity.password?.user);
    } else if (methods.includes('token')) {
      // Re-scoping: the new token keeps the old one's expiry and audit chain.
      const from = this.validate(String(auth.identity.token?.id ?? ''), 'token');
      // Its roles and access rules would not pass to the new token: the credential is the way to get another.
      if (from.appCred) throw forbidden('A token made with an application credential cannot be exchanged for another; authenticate with the application credential again.');
      user = from.user;
      expiresAtSeconds = from.token.expiresAtSeconds;
      auditIds = [auditIds[0], from.token.auditIds.at(-1)!];
      inheritedScope = from.token.scope;
      inheritedMethods = from.token.methods;
    } else {
      throw unauthorized(`Unsupported authentication method: ${methods.join(', ')}`);
    }
    const scope = this.resolveScope(user, auth.scope, auth.scope === undefined && !methods.includes('token') ? undefined : inheritedScope);
    const token: Token = { userId: openstackId(user.metadata.uid), methods: methods.includes('password') ? ['password'] : [...new Set([...inheritedMethods, 'token'])], scope, expiresAtSeconds, auditIds, issuedAtSeconds: Math.floor(Date.now() / 1000) };
    return this.contextFor(sealToken(this.keyRing(), token, token.issuedAtSeconds), token, user);
  }

  /** An application credential named by ID, or by name and its user, whose secret matches and that has not expired. */
  private async checkAppCredential(ref: { id?: string; name?: string; secret?: string; user?: Ref } | undefined): Promise<AppCredential> {
    if (!ref || typeof ref.secret !== 'string') throw badRequest('auth.identity.application_credential needs a secret and an id, or a name and its user');
    const owner = ref.id ? undefined : ref.user ? this.findUser(ref.user) : undefined;
    if (!ref.id && !owner) throw unauthorized('The request you have made requires authentication.');
    const cred = appCredentials(this.dir, owner).find((c) => (ref.id ? c.id === ref.id : c.name === ref.name));
    const user = cred && this.dir.users.named(cred.user);
    if (!cred || !user || user.spec.enabled === false || isExpired(cred) || !(await verifyPassword(ref.secret, cred.hash))) throw unauthorized('The request you have made requires authentication.');
    this.checkDomainEnabled(user.spec.domain, `user ${displayNameOf(user)}`);
    return cred;
  }

  private async checkPassword(ref: (Ref & { password?: string }) | undefined): Promise<User> {
    if (!ref || typeof ref.password !== 'string') throw badRequest('auth.identity.password.user needs a password and an id or a name');
    const user = this.findUser(ref);
    if (!user) throw unauthorized('The request you have made requires authentication.');
    // Keystone's order: a locked account first (not even the right password opens it), then the password.
    const failures = user.status ?? {};
    if (isLocked(this.compliance, failures, Date.now())) throw unauthorized(accountLockedMessage(openstackId(user.metadata.uid)));
    if (!(await this.passwordMatches(user, ref.password))) {
      await this.recordFailures(user, afterFailure(this.compliance, failures, Date.now()));
      throw unauthorized('The request you have made requires authentication.');
    }
    if (user.spec.enabled === false) throw unauthorized('The request you have made requires authentication.');
    if (failures.failedAuthCount) await this.recordFailures(user, { failedAuthCount: 0 });
    this.checkDomainEnabled(user.spec.domain, `user ${displayNameOf(user)}`);
    return user;
  }

  /** Keeps a user's failed sign-ins on its status (nothing when lockout is off), and waits until the cache shows them, so the next sign-in counts them. */
  async recordFailures(user: User, failures: FailedSignIns | undefined): Promise<void> {
    if (!failures) return;
    const change = { failedAuthCount: failures.failedAuthCount, failedAuthAt: failures.failedAuthAt ?? null };
    const written = await patchStatusChanges(this.client, USERS, user, change, FIELD_MANAGER, { observedGeneration: false, precondition: false });
    if (written !== user) await this.dir.users.seen(written);
  }

  /** Whether `password` is the user's current one. */
  async passwordMatches(user: User, password: string): Promise<boolean> {
    const credential = this.dir.secrets.named(credentialSecretName(user.metadata.name), SYSTEM_NAMESPACE);
    const hash = credential?.data?.hash && Buffer.from(credential.data.hash, 'base64').toString('utf8');
    if (!hash) return false;
    const memo = createHmac('sha256', this.memoKey).update(`${credential.metadata.uid}/${credential.metadata.resourceVersion}\0${password}`).digest();
    const known = this.verified.get(user.metadata.uid!);
    if (known && timingSafeEqual(known, memo)) return true;
    if (!(await verifyPassword(password, hash))) return false;
    if (this.verified.size > 10_000) this.verified.clear();
    this.verified.set(user.metadata.uid!, memo);
    return true;
  }

  private findUser(ref: Ref): User | undefined {
    if (ref.id) return this.dir.users.byOpenstackId(ref.id);
    if (!ref.name) throw badRequest('a user needs an id or a name');
    const domain = this.domainOf(ref.domain);
    return domain && this.dir.users.byDisplayName(ref.name).find((u) => !u.metadata.deletionTimestamp && (u.spec.domain ?? DEFAULT_DOMAIN.id) === domain.ref);
  }

  /** The domain a request names by ID or name (a name is unique only within one). */
  private domainOf(d: Ref['domain']): DomainInfo | undefined {
    if (!d) throw badRequest('a name needs its domain (id or name)');
    return findDomain(this.dir, d.id !== undefined ? { id: d.id } : { name: d.name });
  }

  /** Nobody signs in to a disabled domain, nor to a project of one. */
  private checkDomainEnabled(ref: string | undefined, what: string): void {
    const d = domainInfo(this.dir, ref);
    if (!d || !d.enabled) throw unauthorized(`The domain of ${what} is disabled.`);
  }

  /** Explicit scope, else the inherited one, else the user's default tenant, else unscoped. */
  private resolveScope(user: User, asked: any, inherited: Scope | undefined): Scope {
    const name = displayNameOf(user);
    if (asked?.project) {
      const p: Ref = asked.project;
      const domain = p.id ? undefined : this.domainOf(p.domain);
      const tenant = p.id ? this.dir.tenants.byOpenstackId(p.id) : p.name && domain ? this.dir.tenants.byDisplayName(p.name).find((t) => !t.metadata.deletionTimestamp && (t.spec.domain ?? DEFAULT_DOMAIN.id) === domain.ref) : undefined;
      if (!tenant || tenant.metadata.deletionTimestamp) throw unauthorized(`Could not find project: ${p.id ?? p.name}.`);
      this.checkDomainEnabled(tenant.spec.domain, `project ${displayNameOf(tenant)}`);
      if (tenant.spec.enabled === false) throw unauthorized(`Project ${displayNameOf(tenant)} is disabled.`);
      if (this.dir.rolesOn(user, tenant.metadata.name).length === 0) throw unauthorized(`User ${name} has no access to project ${displayNameOf(tenant)}.`);
      return { project: openstackId(tenant.metadata.uid) };
    }
    if (asked?.domain) {
      const d: Ref = asked.domain;
      const domain = findDomain(this.dir, d.id !== undefined ? { id: d.id } : { name: d.name });
      if (!domain || !domain.enabled) throw unauthorized(`Could not find domain: ${d.id ?? d.name}.`);
      if (this.dir.domainRolesOf(user, domain.ref).length === 0) throw unauthorized(`User ${name} has no access to domain ${domain.name}.`);
      return { domain: domain.id };
    }
    if (asked?.system) {
      if (asked.system.all !== true) throw badRequest("A system scope is {\"all\": true}.");
      if (this.dir.systemRolesOf(user).length === 0) throw unauthorized(`User ${name} has no role on the system.`);
      return { system: 'all' };
    }
    if (asked?.['OS-TRUST:trust']) throw unauthorized('Trusts are not supported.');
    if (inherited) return inherited;
    const home = user.spec.defaultTenant ? this.dir.tenants.named(user.spec.defaultTenant) : undefined;
    if (home && home.spec.enabled !== false && this.dir.rolesOn(user, home.metadata.name).length) return { project: openstackId(home.metadata.uid) };
    return {};
  }

  /**
   * Who a token speaks for, checked against the present: keys, expiry, revocations, and that its user,
   * project and roles still stand. `as` says which header it came in, for the right error.
   */
  validate(tokenId: string, as: 'subject' | 'auth' | 'token', allowExpired = false): AuthContext {
    // Keystone's TokenNotFound (404) for a token it was asked about or asked to sign in with; a caller's own X-Auth-Token is 401.
    const invalid = () => (as === 'auth' ? unauthorized('The request you have made requires authentication.') : notFound('token', tokenId.slice(0, 12) + '…'));
    const token = this.opened(tokenId);
    if (!token) throw invalid();
    if (!allowExpired && token.expiresAtSeconds * 1000 <= Date.now()) throw invalid();
    const revoked = this.dir.configMaps.named(REVOCATIONS_CONFIGMAP, SYSTEM_NAMESPACE)?.data;
    // DELETE /v3/auth/tokens revokes that token's own audit ID (Keystone's revoke_token without revoke_chain):
    // tokens re-scoped from it carry it as their chain ID and stand.
    if (revoked && token.auditIds[0] in revoked) throw invalid();
    const user = this.dir.users.byOpenstackId(token.userId);
    if (!user || user.spec.enabled === false) throw invalid();
    // A password change revokes the tokens issued before it, as in Keystone.
    const changed = user.status?.passwordUpdatedAt ? Date.parse(user.status.passwordUpdatedAt) / 1000 : 0;
    if (token.issuedAtSeconds < changed) throw invalid();
    try {
      return this.contextFor(tokenId, token, user);
    } catch {
      throw invalid();
    }
  }

  private contextFor(tokenId: string, token: Token, user: User): AuthContext {
    if ('project' in token.scope) {
      const project = this.dir.tenants.byOpenstackId(token.scope.project);
      // A project being deleted takes no more work: its tokens end when its deletion begins, or it never ends.
      if (!project || project.spec.enabled === false || project.metadata.deletionTimestamp) throw unauthorized('the project is gone, being deleted, or disabled');
      let roles = this.dir.rolesOn(user, project.metadata.name);
      // A token made with an application credential holds only its roles, and ends with it.
      const appCred = token.appCredId ? appCredentials(this.dir, user).find((c) => c.id === token.appCredId) : undefined;
      if (token.appCredId && (!appCred || isExpired(appCred))) throw unauthorized('the application credential is gone or expired');
      if (appCred) roles = roles.filter((r) => appCred.roles.includes(r.metadata.name));
      if (!roles.length) throw unauthorized('the user no longer holds a role on the project');
      return { tokenId, token, user, project, roles, ...(appCred ? { appCred } : {}) };
    }
    if ('domain' in token.scope) {
      const domain = findDomain(this.dir, { id: token.scope.domain });
      if (!domain || !domain.enabled) throw unauthorized('the domain is gone or disabled');
      const roles = this.dir.domainRolesOf(user, domain.ref);
      if (!roles.length) throw unauthorized('the user no longer holds a role on the domain');
      return { tokenId, token, user, domain: { id: domain.id, name: domain.name }, roles };
    }
    if ('system' in token.scope) {
      const roles = this.dir.systemRolesOf(user);
      if (!roles.length) throw unauthorized('the user no longer holds a role on the system');
      return { tokenId, token, user, system: true, roles };
    }
    return { tokenId, token, user, roles: [] };
  }

  /** DELETE /v3/auth/tokens: the token's audit ID is revoked until the token would have expired anyway. */
  async revoke(ctx: AuthContext): Promise<void> {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const current = this.dir.configMaps.named(REVOCATIONS_CONFIGMAP, SYSTEM_NAMESPACE);
    const expired = Object.entries(current?.data ?? {}).filter(([, until]) => Number(until) < nowSeconds).map(([a]) => a);
    const auditId = ctx.token.auditIds[0];
    const revoked = { [auditId]: String(ctx.token.expiresAtSeconds) };
    let created = false;
    if (!current) {
      try {
        await this.client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: REVOCATIONS_CONFIGMAP, namespace: SYSTEM_NAMESPACE }, data: revoked }, FIELD_MANAGER);
        created = true;
      } catch (e) {
        if (!isConflict(e)) throw e; // another replica made it first: add to theirs
      }
    }
    // A merge patch adds keys (and drops expired ones) without a read-modify-write race between replicas.
    if (!created) await this.client.patch(CONFIGMAPS, SYSTEM_NAMESPACE, REVOCATIONS_CONFIGMAP, { data: { ...Object.fromEntries(expired.map((a) => [a, null])), ...revoked } }, FIELD_MANAGER);
    await waitUntil(() => auditId in (this.dir.configMaps.named(REVOCATIONS_CONFIGMAP, SYSTEM_NAMESPACE)?.data ?? {}));
  }
}
