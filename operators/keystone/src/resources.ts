/** Typed shapes and API references for the identity kinds and the core kinds Keystone touches. */
import { resourceOf, type Condition, type ResourceRef } from '@stratus/runtime';
import { DomainKind, EndpointGroupKind, EndpointKind, GroupKind, RegionKind, RoleAssignmentKind, RoleKind, SYSTEM_NAMESPACE, ServiceKind, TenantKind, UserKind } from './kinds.js';

export const TENANTS = resourceOf(TenantKind);
export const USERS = resourceOf(UserKind);
export const ROLES = resourceOf(RoleKind);
export const ROLE_ASSIGNMENTS = resourceOf(RoleAssignmentKind);
export const SERVICES = resourceOf(ServiceKind);
export const ENDPOINTS = resourceOf(EndpointKind);
export const REGIONS = resourceOf(RegionKind);
export const DOMAINS = resourceOf(DomainKind);
export const GROUPS = resourceOf(GroupKind);
export const ENDPOINT_GROUPS = resourceOf(EndpointGroupKind);
export const CONFIGMAPS: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', namespaced: true };
export const CLUSTER_ROLES: ResourceRef = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', namespaced: false };
export const ROLE_BINDINGS: ResourceRef = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', namespaced: true };
export const NAMESPACES: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };
export const SECRETS: ResourceRef = { group: '', version: 'v1', plural: 'secrets', namespaced: true };
export { SYSTEM_NAMESPACE };
/** On a credential Secret: which version of the user's password Secret it was hashed from. */
export const PASSWORD_SOURCE_ANNOTATION = 'identity.stratus.io/password-source';
/** On a credential Secret: the user whose password hash it holds. */
export const CREDENTIAL_LABEL = 'identity.stratus.io/credential-for';

export const FIELD_MANAGER = 'stratus-keystone';
/** Marks a Namespace as a tenant's, so Keystone never adopts one it did not create. */
export const TENANT_LABEL = 'identity.stratus.io/tenant';
export const TENANT_FINALIZER = 'identity.stratus.io/tenant-namespace';

export interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  /** A string on the wire; typed as client-node types it. */
  deletionTimestamp?: Date;
  generateName?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }>;
}

export interface CommonStatus {
  observedGeneration?: number;
  phase?: string;
  conditions?: Condition[];
}

export interface Tenant {
  apiVersion: string;
  kind: 'Tenant';
  metadata: Meta;
  spec: { displayName?: string; description?: string; enabled?: boolean; domain?: string; parent?: string; tags?: string[]; extra?: Record<string, unknown>; quota?: Record<string, number> };
  status?: CommonStatus & { namespace?: string; projectId?: string };
}

export interface Namespace {
  apiVersion: 'v1';
  kind: 'Namespace';
  metadata: Meta;
  status?: { phase?: string };
}

/** OpenStack IDs are 32 hex digits: the Kubernetes UID without its dashes. */
export const openstackId = (uid: string | undefined) => (uid ?? '').replace(/-/g, '');

/**
 * The Kubernetes group a project-scoped token carries for each of its roles, and the subject of the RoleBindings
 * role assignments make: kubectl gets what the token's roles allow in its project (an application credential
 * restricted to some roles, a Keystone group's assignment and an implied role all count, as they do in the
 * token), never more.
 */
export const projectRoleGroup = (projectId: string, role: string) => `${projectId}:${role}`;

export interface User {
  apiVersion: string;
  kind: 'User';
  metadata: Meta;
  spec: { displayName?: string; description?: string; enabled?: boolean; domain?: string; email?: string; extra?: Record<string, unknown>; defaultTenant?: string; domainRoles?: string[]; domainGrants?: Record<string, string[]>; inheritedDomainGrants?: Record<string, string[]>; systemRoles?: string[]; passwordSecretRef: { name: string; namespace?: string; key?: string } };
  status?: CommonStatus & { userId?: string; credentialSecret?: string; passwordUpdatedAt?: string; failedAuthCount?: number; failedAuthAt?: string };
}

export interface Secret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: Meta & { annotations?: Record<string, string> };
  type?: string;
  data?: Record<string, string>;
}

/** The stratus-system Secret that holds a user's password hash. */
export const credentialSecretName = (user: string) => `user-${user}-credentials`;

/** A credential Secret's earlier password hashes, newest first (each base64, as its `hash`); kept only where the cloud forbids reusing passwords. */
export const passwordHistoryOf = (data: Record<string, string> | undefined): string[] => (data?.history ? (JSON.parse(Buffer.from(data.history, 'base64').toString('utf8')) as string[]) : []);
/** The `history` data entry for those hashes (none when there are none). */
export const passwordHistoryData = (hashes: string[]): Record<string, string> => (hashes.length ? { history: Buffer.from(JSON.stringify(hashes)).toString('base64') } : {});

export interface Role {
  apiVersion: string;
  kind: 'Role';
  metadata: Meta;
  spec: { displayName?: string; description?: string; domain?: string; implies?: string[]; kubernetesAccess?: 'admin' | 'edit' | 'view' };
  status?: CommonStatus & { roleId?: string; clusterRole?: string; access?: string };
}

export interface RoleAssignment {
  apiVersion: string;
  kind: 'RoleAssignment';
  metadata: Meta;
  spec: { user?: string; group?: string; role: string; inherited?: boolean };
  status?: CommonStatus & { roleBinding?: string };
}

/** A catalog Service (named so as not to be confused with a Kubernetes Service). */
export interface CatalogService {
  apiVersion: string;
  kind: 'Service';
  metadata: Meta;
  spec: { displayName?: string; type: string; description?: string; enabled?: boolean };
  status?: CommonStatus & { serviceId?: string };
}

export interface CatalogEndpoint {
  apiVersion: string;
  kind: 'Endpoint';
  metadata: Meta;
  spec: { service: string; interface: 'public' | 'internal' | 'admin'; region?: string; url: string; enabled?: boolean };
  status?: CommonStatus & { endpointId?: string };
}

export interface Domain {
  apiVersion: string;
  kind: 'Domain';
  metadata: Meta;
  /** config: Keystone's domain-specific configuration, its shown options (api/domainConfig.ts). */
  spec: { displayName?: string; description?: string; enabled?: boolean; config?: Record<string, Record<string, unknown>> };
  status?: CommonStatus & { domainId?: string };
}

export interface Group {
  apiVersion: string;
  kind: 'Group';
  metadata: Meta;
  spec: { displayName?: string; description?: string; domain?: string; members?: string[]; domainGrants?: Record<string, string[]>; inheritedDomainGrants?: Record<string, string[]>; systemRoles?: string[]; extra?: Record<string, unknown> };
  status?: CommonStatus & { groupId?: string };
}

export interface EndpointGroup {
  apiVersion: string;
  kind: 'EndpointGroup';
  metadata: Meta;
  spec: { displayName?: string; description?: string; filters?: { interface?: string; service?: string; region?: string }; projects?: string[] };
  status?: CommonStatus & { endpointGroupId?: string };
}

export interface Region {
  apiVersion: string;
  kind: 'Region';
  metadata: Meta;
  spec: { regionId: string; description?: string; parentRegionId?: string };
  status?: CommonStatus;
}

/** The controller ownerReference that makes `owner` garbage-collect what it made. */
export function controllerRef(owner: { apiVersion: string; kind: string; metadata: Meta }) {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}
