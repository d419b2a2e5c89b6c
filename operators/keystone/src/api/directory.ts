/**
 * The Identity API's read side: informer caches of the identity resources and of the stratus-system Secrets
 * and ConfigMaps (password hashes, Fernet keys, revocations), indexed by OpenStack ID and by name. Requests
 * are answered from memory; the resources stay the truth and writes go to the Kubernetes API.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { IndexedCache, type KubeClient, type Logger, type ResourceRef } from '@stratus/runtime';
import {
  CONFIGMAPS,
  DOMAINS,
  ENDPOINTS,
  ENDPOINT_GROUPS,
  GROUPS,
  REGIONS,
  ROLES,
  ROLE_ASSIGNMENTS,
  SECRETS,
  SERVICES,
  SYSTEM_NAMESPACE,
  TENANTS,
  USERS,
  openstackId,
  type CatalogEndpoint,
  type CatalogService,
  type Domain,
  type EndpointGroup,
  type Group,
  type Region,
  type Role,
  type RoleAssignment,
  type Secret,
  type Tenant,
  type User,
} from '../resources.js';
import { notFound } from './errors.js';

export interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
}

export { waitUntil } from '@stratus/runtime';

/** One kind's cache with lookups by OpenStack ID and by name (the runtime's), and Keystone's 404. */
export class Indexed<T extends KubernetesObject> extends IndexedCache<T> {
  constructor(kc: KubeConfig, client: KubeClient, ref: ResourceRef, log: Logger, namespace?: string) {
    super(kc, client, ref, log, { idOf: (o) => openstackId(o.metadata!.uid), namespace, showDeleting: true });
  }

  all(): readonly T[] {
    return this.list();
  }

  byOpenstackId(id: string): T | undefined {
    return this.byId(id);
  }

  /** The object with this OpenStack ID, or Keystone's 404 naming `what`; one being deleted counts as gone. */
  require(id: string, what: string): T {
    const o = this.byId(id);
    if (!o || o.metadata?.deletionTimestamp) throw notFound(what, id);
    return o;
  }

  named(name: string, namespace?: string): T | undefined {
    return this.get(name, namespace);
  }
}

export class IdentityDirectory {
  readonly tenants: Indexed<Tenant>;
  readonly users: Indexed<User>;
  readonly roles: Indexed<Role>;
  readonly assignments: Indexed<RoleAssignment>;
  readonly services: Indexed<CatalogService>;
  readonly endpoints: Indexed<CatalogEndpoint>;
  readonly regions: Indexed<Region>;
  readonly domains: Indexed<Domain>;
  readonly groups: Indexed<Group>;
  readonly endpointGroups: Indexed<EndpointGroup>;
  readonly secrets: Indexed<Secret>;
  readonly configMaps: Indexed<ConfigMap>;
  private readonly all: Array<Indexed<any>>;

  constructor(kc: KubeConfig, client: KubeClient, log: Logger) {
    this.tenants = new Indexed(kc, client, TENANTS, log);
    this.users = new Indexed(kc, client, USERS, log);
    this.roles = new Indexed(kc, client, ROLES, log);
    this.assignments = new Indexed(kc, client, ROLE_ASSIGNMENTS, log);
    this.services = new Indexed(kc, client, SERVICES, log);
    this.endpoints = new Indexed(kc, client, ENDPOINTS, log);
    this.regions = new Indexed(kc, client, REGIONS, log);
    this.domains = new Indexed(kc, client, DOMAINS, log);
    this.groups = new Indexed(kc, client, GROUPS, log);
    this.endpointGroups = new Indexed(kc, client, ENDPOINT_GROUPS, log);
    this.secrets = new Indexed(kc, client, SECRETS, log, SYSTEM_NAMESPACE);
    this.configMaps = new Indexed(kc, client, CONFIGMAPS, log, SYSTEM_NAMESPACE);
    this.all = [this.tenants, this.users, this.roles, this.assignments, this.services, this.endpoints, this.regions, this.domains, this.groups, this.endpointGroups, this.secrets, this.configMaps];
  }

  async start(): Promise<void> {
    await Promise.all(this.all.map((i) => i.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((i) => i.stop()));
  }

  /** The object names of the groups the user is a member of. */
  groupsOf(user: User): Set<string> {
    return new Set(this.groups.all().filter((g) => !g.metadata.deletionTimestamp && (g.spec.members ?? []).includes(user.metadata.name)).map((g) => g.metadata.name));
  }

  /** Whether an assignment grants to this user: directly, or through a group the user is in. */
  private grantsTo(a: RoleAssignment, user: User, groups: Set<string>): boolean {
    return a.spec.user === user.metadata.name || (!!a.spec.group && groups.has(a.spec.group));
  }

  /**
   * The roles the user holds on a tenant, as Keystone counts them: granted on it (not inherited), inherited
   * from a project above it or from its domain, directly or through groups, and the roles those imply.
   */
  rolesOn(user: User, tenant: string): Role[] {
    const groups = this.groupsOf(user);
    const above = new Set(this.ancestorsOf(tenant));
    const granted = this.assignments.all().filter((a) => this.grantsTo(a, user, groups) && (a.spec.inherited ? above.has(a.metadata.namespace!) : a.metadata.namespace === tenant));
    const domain = this.tenants.named(tenant)?.spec.domain ?? 'default';
    const actors: Array<User | Group> = [user, ...this.groups.all().filter((g) => groups.has(g.metadata.name))];
    const fromDomain = actors.flatMap((a) => a.spec.inheritedDomainGrants?.[domain] ?? []);
    return this.withImplied([...granted.map((a) => a.spec.role), ...fromDomain]);
  }

  /** The tenants above this one in Keystone's project tree, nearest first. */
  ancestorsOf(tenant: string): string[] {
    const out: string[] = [];
    for (let at = this.tenants.named(tenant)?.spec.parent; at && !out.includes(at); at = this.tenants.named(at)?.spec.parent) out.push(at);
    return out;
  }

  /** The roles named (object names) and every role they imply, transitively (Keystone's implied roles). */
  withImplied(names: Iterable<string>): Role[] {
    const seen = new Set<string>();
    const visit = (n: string) => {
      const role = this.roles.named(n);
      if (!role || seen.has(n)) return;
      seen.add(n);
      for (const implied of role.spec.implies ?? []) visit(implied);
    };
    for (const n of names) visit(n);
    // A domain-specific role only stands for the global roles it implies (Keystone keeps it out of tokens).
    return [...seen].map((n) => this.roles.named(n)!).filter((r) => !r.spec.domain);
  }

  /** The roles a user or group was granted on a domain itself (a User's spec.domainRoles are the Default domain's). */
  directDomainRoles(actor: User | Group, domain: string): string[] {
    const legacy = actor.kind === 'User' && domain === 'default' ? (actor.spec.domainRoles ?? []) : [];
    return [...new Set([...legacy, ...(actor.spec.domainGrants?.[domain] ?? [])])];
  }

  /** The roles the user holds on the system (the whole deployment), directly or through groups, with the roles those imply. */
  systemRolesOf(user: User): Role[] {
    const groups = this.groupsOf(user);
    return this.withImplied([...(user.spec.systemRoles ?? []), ...this.groups.all().filter((g) => groups.has(g.metadata.name)).flatMap((g) => g.spec.systemRoles ?? [])]);
  }

  /** The roles the user holds on a domain, directly or through groups, with the roles those imply. */
  domainRolesOf(user: User, domain = 'default'): Role[] {
    const groups = this.groupsOf(user);
    const fromGroups = this.groups.all().filter((g) => groups.has(g.metadata.name)).flatMap((g) => this.directDomainRoles(g, domain));
    return this.withImplied([...this.directDomainRoles(user, domain), ...fromGroups]);
  }

  /** The tenants, not being deleted, that the user holds some existing role on. */
  tenantsOf(user: User): Tenant[] {
    return this.tenants.all().filter((t) => !t.metadata.deletionTimestamp && this.rolesOn(user, t.metadata.name).length > 0);
  }
}
