/** Typed shapes and API references for the identity kinds and the core kinds Keystone touches. */
import { resourceOf, type Condition, type ResourceRef } from '@stratus/runtime';
import { TenantKind } from './kinds.js';

export const TENANTS = resourceOf(TenantKind);
export const NAMESPACES: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };

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
