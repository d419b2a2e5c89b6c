/** The Keystone operator: its controllers on one Manager. */
import { Manager, type ManagerOptions } from '@stratus/runtime';
import { FIELD_MANAGER, NAMESPACES, TENANTS, type Tenant } from './resources.js';
import { reconcileTenant } from './tenant.js';

export function keystoneManager(opts: Partial<ManagerOptions> = {}): Manager {
  const m = new Manager({ name: FIELD_MANAGER, ...opts });
  // A change to a tenant's namespace (say, someone deleting it) re-queues the tenant.
  m.add<Tenant>({ name: 'tenant', resource: TENANTS, reconcile: reconcileTenant, owns: [{ ...NAMESPACES, ownerKind: 'Tenant' }] });
  return m;
}
