/** Typed shapes and API references for the identity kinds and the core kinds Keystone touches. */
import { resourceOf, type Condition, type ResourceRef } from '@stratus/runtime';
import { SYSTEM_NAMESPACE, TenantKind, UserKind } from './kinds.js';

export const TENANTS = resourceOf(TenantKind);
export const USERS = resourceOf(UserKind);
export const NAMESPACES: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };
export const SECRETS: ResourceRef = { group: '', version: 'v1', plural: 'secrets', namespaced: true };
export { SYSTEM_NAMESPACE };
/** On a credential Secret: which version of the user's password Secret it was hashed from. */
export const PASSWORD_SOURCE_ANNOTATION = 'identity.stratus.io/password-source';

export const FIELD_MANAGER = 'stratus-keystone';
/** Marks a Namespace as a tenant's, so Keystone never adopts one it did not create. */
export const TENANT_LABEL = 'identity.stratus.io/tenant';
export const TENANT_FINALIZER = 'identity.stratus.io/tenant-namespace';

export interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
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
  spec: { description?: string; enabled?: boolean; domain?: string; quota?: Record<string, number> };
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

export interface User {
  apiVersion: string;
  kind: 'User';
  metadata: Meta;
  spec: { description?: string; enabled?: boolean; email?: string; defaultTenant?: string; passwordSecretRef: { name: string; namespace?: string; key?: string } };
  status?: CommonStatus & { userId?: string; credentialSecret?: string; passwordUpdatedAt?: string };
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
