/** The Keystone operator: its controllers on one Manager. */
import { Manager, type ManagerOptions } from '@stratus/runtime';
import { FIELD_MANAGER, NAMESPACES, TENANTS, USERS, type Tenant, type User } from './resources.js';
import { reconcileTenant } from './tenant.js';
import { reconcileUser } from './user.js';

export function keystoneManager(opts: Partial<ManagerOptions> = {}): Manager {
  const m = new Manager({ name: FIELD_MANAGER, ...opts });
  // A change to a tenant's namespace (say, someone deleting it) re-queues the tenant.
  m.add<Tenant>({ name: 'tenant', resource: TENANTS, reconcile: reconcileTenant, owns: [{ ...NAMESPACES, ownerKind: 'Tenant' }] });
  m.add<User>({ name: 'user', resource: USERS, reconcile: reconcileUser });
  return m;
}
