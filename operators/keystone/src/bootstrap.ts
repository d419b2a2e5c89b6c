/**
 * `keystone-manage bootstrap` for Stratus: the roles every cloud has (admin, member, reader), an admin
 * tenant and user holding admin on it and on the Default domain, and the identity service in the catalog.
 * It applies resources server-side, so running it again converges instead of failing.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { isTrue, type Condition, type KubeClient, type ResourceRef } from '@stratus/runtime';
import { DEFAULT_REGION } from './kinds.js';
import { ENDPOINTS, ROLES, ROLE_ASSIGNMENTS, SECRETS, SERVICES, SYSTEM_NAMESPACE, TENANTS, USERS } from './resources.js';

export interface BootstrapOptions {
  adminPassword: string;
  /** Where clients reach the Identity API, e.g. http://127.0.0.1:8000/identity/v3. */
  identityUrl: string;
  region?: string;
  adminUser?: string;
  adminTenant?: string;
}

const MANAGER = 'stratus-bootstrap';
const API = 'identity.stratus.io/v1alpha1';
export const ADMIN_PASSWORD_SECRET = 'admin-password';

export async function bootstrapIdentity(client: KubeClient, o: BootstrapOptions): Promise<void> {
  const user = o.adminUser ?? 'admin';
  const tenant = o.adminTenant ?? 'admin';
  for (const role of ['admin', 'member', 'reader']) await client.apply(ROLES, { apiVersion: API, kind: 'Role', metadata: { name: role }, spec: {} }, MANAGER);
  await client.apply(TENANTS, { apiVersion: API, kind: 'Tenant', metadata: { name: tenant }, spec: { description: 'Bootstrap project for initializing the cloud.' } }, MANAGER);
  await client.apply(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: ADMIN_PASSWORD_SECRET, namespace: SYSTEM_NAMESPACE }, type: 'Opaque', data: { password: Buffer.from(o.adminPassword).toString('base64') } } as never, MANAGER);
  await client.apply(USERS, { apiVersion: API, kind: 'User', metadata: { name: user }, spec: { defaultTenant: tenant, domainRoles: ['admin'], passwordSecretRef: { name: ADMIN_PASSWORD_SECRET, namespace: SYSTEM_NAMESPACE } } }, MANAGER);
  await registerCatalogService(client, { name: 'keystone', type: 'identity', description: 'Keystone Identity Service', url: o.identityUrl, region: o.region });
  // The admin grant lives in the tenant's namespace, which the operator creates.
  await untilReady(client, TENANTS, undefined, tenant);
  await client.apply(ROLE_ASSIGNMENTS, { apiVersion: API, kind: 'RoleAssignment', metadata: { name: `${user}.admin`, namespace: tenant }, spec: { user, role: 'admin' } }, MANAGER);
  await untilReady(client, USERS, undefined, user);
  await untilReady(client, ROLE_ASSIGNMENTS, tenant, `${user}.admin`);
}

/** A service in the catalog with its public, internal and admin endpoints at one URL; applying it again converges. */
export async function registerCatalogService(client: KubeClient, s: { name: string; type: string; description: string; url: string; region?: string }): Promise<void> {
  await client.apply(SERVICES, { apiVersion: API, kind: 'Service', metadata: { name: s.name }, spec: { type: s.type, description: s.description } }, MANAGER);
  for (const iface of ['public', 'internal', 'admin'])
    await client.apply(ENDPOINTS, { apiVersion: API, kind: 'Endpoint', metadata: { name: `${s.name}-${iface}` }, spec: { service: s.name, interface: iface, region: s.region ?? DEFAULT_REGION, url: s.url } }, MANAGER);
}

/** A bound for a busy machine: Keystone's process may itself take tens of seconds to start there. */
async function untilReady(client: KubeClient, ref: ResourceRef, namespace: string | undefined, name: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const o = await client.get<{ status?: { conditions?: Condition[] } } & KubernetesObject>(ref, namespace, name);
    if (o && isTrue(o.status?.conditions, 'Ready')) return;
    if (Date.now() > deadline) throw new Error(`${ref.plural} ${namespace ? `${namespace}/` : ''}${name} did not become Ready within ${timeoutMs / 1000} s; is the Keystone operator running?`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
