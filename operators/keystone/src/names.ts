/** Keystone's unique names (projects and users per domain, roles globally) as claims of the runtime's naming model. */
import { displayNameOf, holdUniqueName, NameClaims, type KubeClient, type NameKey, type NameOwner, type ReconcileContext, type ResourceRef, type Result } from '@stratus/runtime';
import { DEFAULT_DOMAIN_ID } from './kinds.js';
import { DOMAINS, FIELD_MANAGER, GROUPS, ROLES, TENANTS, USERS, type Domain, type Group, type Role, type Tenant, type User } from './resources.js';

export const projectNameKey = (name: string, domain = DEFAULT_DOMAIN_ID): NameKey => ({ kind: 'project', scope: domain, name });
export const userNameKey = (name: string, domain = DEFAULT_DOMAIN_ID): NameKey => ({ kind: 'user', scope: domain, name });
/** Global role names are unique among global roles; a domain-specific role's within its domain. */
export const roleNameKey = (name: string, domain?: string): NameKey => ({ kind: 'role', scope: domain ?? '', name });
export const domainNameKey = (name: string): NameKey => ({ kind: 'domain', scope: '', name });
export const groupNameKey = (name: string, domain = DEFAULT_DOMAIN_ID): NameKey => ({ kind: 'group', scope: domain, name });
/** A region's ID is chosen by its maker, so it is held like a unique name. */
export const regionIdKey = (id: string): NameKey => ({ kind: 'region', scope: '', name: id });

type Named = Tenant | User | Role | Domain | Group;
const REFS: Record<Named['kind'], ResourceRef> = { Tenant: TENANTS, User: USERS, Role: ROLES, Domain: DOMAINS, Group: GROUPS };

/** The claim key of an identity object's current name. */
export function nameKeyOf(o: Named): NameKey {
  const name = displayNameOf(o);
  if (o.kind === 'Tenant') return projectNameKey(name, o.spec.domain);
  if (o.kind === 'User') return userNameKey(name, o.spec.domain);
  if (o.kind === 'Domain') return domainNameKey(name);
  if (o.kind === 'Group') return groupNameKey(name, o.spec.domain);
  return roleNameKey(name, o.spec.domain);
}

export const ownerOf = (o: Named): NameOwner => ({ resource: REFS[o.kind], apiVersion: o.apiVersion, kind: o.kind, metadata: o.metadata });

export const nameClaims = (client: KubeClient, fieldManager = FIELD_MANAGER) => new NameClaims(client, fieldManager);

/** A reconciler's pass holds the object's name first; a duplicate made with kubectl is Stalled and gets nothing. */
export const holdName = <T extends Named>(o: T, ctx: ReconcileContext<T>): Promise<Result | undefined> =>
  holdUniqueName(ctx, o, nameKeyOf(o), ownerOf(o), FIELD_MANAGER, o.kind === 'User' ? 'Error' : undefined);
