/**
 * The Identity API's read side: informer caches of the identity resources and of the stratus-system Secrets
 * and ConfigMaps (password hashes, Fernet keys, revocations), indexed by OpenStack ID and by name. Requests
 * are answered from memory; the resources stay the truth and writes go to the Kubernetes API.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { selfHealingInformer, type KubeClient, type Logger, type ResourceRef, type SelfHealingInformer } from '@stratus/runtime';
import {
  CONFIGMAPS,
  ENDPOINTS,
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
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  data?: Record<string, string>;
}

export { waitUntil } from '@stratus/runtime';

/** One kind's cache with lookups by OpenStack ID and by name, rebuilt lazily after a change. */
export class Indexed<T extends KubernetesObject> {
  private dirty = true;
  private byId = new Map<string, T>();
  private byName = new Map<string, T>();
  readonly source: SelfHealingInformer<T>;

  constructor(kc: KubeConfig, client: KubeClient, ref: ResourceRef, log: Logger, namespace?: string) {
    this.source = selfHealingInformer<T>(kc, client, ref, { namespace, log, onChange: () => (this.dirty = true) });
  }

  all(): readonly T[] {
    return this.source.informer.list();
  }

  private index() {
    if (!this.dirty) return;
    this.dirty = false;
    this.byId = new Map();
    this.byName = new Map();
    for (const o of this.all()) {
      this.byId.set(openstackId(o.metadata!.uid), o);
      this.byName.set(o.metadata!.namespace ? `${o.metadata!.namespace}/${o.metadata!.name}` : o.metadata!.name!, o);
    }
  }

  byOpenstackId(id: string): T | undefined {
    this.index();
    return this.byId.get(id);
  }

  /** The object with this OpenStack ID, or Keystone's 404 naming `what`; one being deleted counts as gone. */
  require(id: string, what: string): T {
    const o = this.byOpenstackId(id);
    if (!o || o.metadata?.deletionTimestamp) throw notFound(what, id);
    return o;
  }

  named(name: string, namespace?: string): T | undefined {
    this.index();
    return this.byName.get(namespace ? `${namespace}/${name}` : name);
  }
}

export class IdentityDirectory {
  readonly tenants: Indexed<Tenant>;
  readonly users: Indexed<User>;
  readonly roles: Indexed<Role>;
  readonly assignments: Indexed<RoleAssignment>;
  readonly services: Indexed<CatalogService>;
  readonly endpoints: Indexed<CatalogEndpoint>;
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
    this.secrets = new Indexed(kc, client, SECRETS, log, SYSTEM_NAMESPACE);
    this.configMaps = new Indexed(kc, client, CONFIGMAPS, log, SYSTEM_NAMESPACE);
    this.all = [this.tenants, this.users, this.roles, this.assignments, this.services, this.endpoints, this.secrets, this.configMaps];
  }

  async start(): Promise<void> {
    await Promise.all(this.all.map((i) => i.source.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((i) => i.source.stop()));
  }

  /** The roles the user is assigned on a tenant (only roles that exist). */
  rolesOn(user: User, tenant: string): Role[] {
    const names = new Set(this.assignments.all().filter((a) => a.metadata.namespace === tenant && a.spec.user === user.metadata.name).map((a) => a.spec.role));
    return [...names].map((n) => this.roles.named(n)).filter((r): r is Role => !!r);
  }

  domainRolesOf(user: User): Role[] {
    return [...new Set(user.spec.domainRoles ?? [])].map((n) => this.roles.named(n)).filter((r): r is Role => !!r);
  }

  /** The tenants, not being deleted, that the user holds some existing role on. */
  tenantsOf(user: User): Tenant[] {
    const names = new Set(this.assignments.all().filter((a) => a.spec.user === user.metadata.name && this.roles.named(a.spec.role)).map((a) => a.metadata.namespace!));
    return [...names].map((n) => this.tenants.named(n)).filter((t): t is Tenant => !!t && !t.metadata.deletionTimestamp);
  }
}
