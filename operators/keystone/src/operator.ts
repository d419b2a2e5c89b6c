/** The Keystone operator: its controllers on one Manager. */
import { Manager, type ManagerOptions } from '@stratus/runtime';
import { reconcileEndpoint, reconcileEndpointGroup, reconcileRegion, reconcileService } from './catalog.js';
import {
  CLUSTER_ROLES,
  DOMAINS,
  ENDPOINTS,
  ENDPOINT_GROUPS,
  FIELD_MANAGER,
  GROUPS,
  REGIONS,
  NAMESPACES,
  ROLES,
  ROLE_ASSIGNMENTS,
  ROLE_BINDINGS,
  SECRETS,
  SERVICES,
  TENANTS,
  USERS,
  type CatalogEndpoint,
  type CatalogService,
  type Domain,
  type EndpointGroup,
  type Group,
  type Region,
  type Role,
  type RoleAssignment,
  type Tenant,
  type User,
} from './resources.js';
import { reconcileDomain } from './domain.js';
import { reconcileGroup } from './group.js';
import { reconcileRole } from './role.js';
import { reconcileRoleAssignment } from './roleAssignment.js';
import { reconcileTenant } from './tenant.js';
import { userReconciler, usesSecret } from './user.js';
import type { SecurityCompliance } from './securityCompliance.js';

/** `compliance`: the cloud's account rules (the User reconciler keeps the password history they need). */
export function keystoneManager(opts: Partial<ManagerOptions> & { compliance?: SecurityCompliance } = {}): Manager {
  const { compliance, ...managerOpts } = opts;
  const m = new Manager({ name: FIELD_MANAGER, ...managerOpts });
  // A change to an owned object (say, someone deleting a tenant's namespace) re-queues its owner.
  m.add<Tenant>({ name: 'tenant', resource: TENANTS, reconcile: reconcileTenant, owns: [{ ...NAMESPACES, ownerKind: 'Tenant' }] });
  m.add<User>({
    name: 'user',
    resource: USERS,
    reconcile: userReconciler(compliance),
    // A changed password Secret re-queues the users that sign in with it.
    watches: [{ resource: SECRETS, map: (secret, users) => users.list().filter((u) => usesSecret(u, secret)).map((u) => ({ name: u.metadata.name })) }],
  });
  m.add<Role>({ name: 'role', resource: ROLES, reconcile: reconcileRole, owns: [{ ...CLUSTER_ROLES, ownerKind: 'Role' }] });
  m.add<RoleAssignment>({
    name: 'roleassignment',
    resource: ROLE_ASSIGNMENTS,
    reconcile: reconcileRoleAssignment,
    owns: [{ ...ROLE_BINDINGS, ownerKind: 'RoleAssignment' }],
    // An assignment waiting for its user, role or tenant namespace goes on as soon as that appears.
    watches: [
      { resource: USERS, map: (user, ras) => requests(ras.list().filter((ra) => ra.spec.user === user.metadata?.name)) },
      { resource: ROLES, map: (role, ras) => requests(ras.list().filter((ra) => ra.spec.role === role.metadata?.name)) },
      { resource: NAMESPACES, map: (ns, ras) => requests(ras.list().filter((ra) => ra.metadata.namespace === ns.metadata?.name)) },
    ],
  });
  m.add<CatalogService>({ name: 'service', resource: SERVICES, reconcile: reconcileService });
  m.add<Region>({ name: 'region', resource: REGIONS, reconcile: reconcileRegion });
  m.add<Domain>({ name: 'domain', resource: DOMAINS, reconcile: reconcileDomain });
  m.add<Group>({ name: 'group', resource: GROUPS, reconcile: reconcileGroup });
  m.add<EndpointGroup>({ name: 'endpointgroup', resource: ENDPOINT_GROUPS, reconcile: reconcileEndpointGroup });
  m.add<CatalogEndpoint>({
    name: 'endpoint',
    resource: ENDPOINTS,
    reconcile: reconcileEndpoint,
    watches: [{ resource: SERVICES, map: (svc, eps) => requests(eps.list().filter((ep) => ep.spec.service === svc.metadata?.name)) }],
  });
  return m;
}

const requests = (objs: Array<{ metadata: { name: string; namespace?: string } }>) => objs.map((o) => ({ name: o.metadata.name, namespace: o.metadata.namespace }));
