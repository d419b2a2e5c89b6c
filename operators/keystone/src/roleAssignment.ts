/**
 * The RoleAssignment reconciler: a grant of a Role on the tenant whose namespace holds the assignment. It
 * produces the RBAC RoleBinding to the role's ClusterRole there, owned by the assignment so that deleting
 * the grant takes the binding away too. The binding's subject is the group of (this project, this role) that
 * Keystone's TokenReview puts a token holding that role in: kubectl is allowed what the token's roles allow.
 */
import { markReady, markStalled, patchStatus, type ReconcileContext, type Request } from '@stratus/runtime';
import { clusterRoleName } from './role.js';
import {
  FIELD_MANAGER,
  NAMESPACES,
  ROLES,
  ROLE_ASSIGNMENTS,
  ROLE_BINDINGS,
  TENANTS,
  TENANT_LABEL,
  USERS,
  controllerRef,
  openstackId,
  projectRoleGroup,
  type Meta,
  type Namespace,
  type Role,
  type RoleAssignment,
  type Tenant,
  type User,
} from './resources.js';

export const roleBindingName = (assignment: string) => `stratus-${assignment}`;

interface RoleBinding {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'RoleBinding';
  metadata: Meta;
  roleRef: { apiGroup: string; kind: string; name: string };
  subjects: Array<{ apiGroup: string; kind: string; name: string }>;
}

export async function reconcileRoleAssignment(req: Request, ctx: ReconcileContext<RoleAssignment>): Promise<void> {
  const { client } = ctx;
  const ra = await client.get<RoleAssignment>(ROLE_ASSIGNMENTS, req.namespace, req.name);
  if (!ra) return;
  const ns = ra.metadata.namespace!;
  const gen = ra.metadata.generation;
  const stall = async (reason: string, message: string) => {
    await patchStatus(client, ROLE_ASSIGNMENTS, ra, { phase: 'Error', conditions: markStalled(ra.status?.conditions, gen, reason, message) }, FIELD_MANAGER);
    return; // the operator watches what is missing: its creation brings this object back
  };

  const namespace = await client.get<Namespace>(NAMESPACES, undefined, ns);
  const tenant = namespace?.metadata.labels?.[TENANT_LABEL] ? await client.get<Tenant>(TENANTS, undefined, namespace.metadata.labels[TENANT_LABEL]) : undefined;
  if (!tenant) return stall('NotATenant', `namespace ${ns} does not belong to a Tenant; assign roles in a tenant's namespace`);
  const role = await client.get<Role>(ROLES, undefined, ra.spec.role);
  if (!role) return stall('RoleNotFound', `role ${ra.spec.role} does not exist`);
  if (ra.spec.user && !(await client.get<User>(USERS, undefined, ra.spec.user))) return stall('UserNotFound', `user ${ra.spec.user} does not exist`);

  const name = roleBindingName(ra.metadata.name);
  const who = ra.spec.user ? `user ${ra.spec.user}` : `group ${ra.spec.group}`;
  if (ra.spec.inherited) {
    // Granted on the projects below this tenant, not on it: no binding here. (The projects below are not
    // bound through inheritance yet: the OpenStack APIs count it, kubectl access does not.)
    await client.delete(ROLE_BINDINGS, ns, name);
    await patchStatus(client, ROLE_ASSIGNMENTS, ra, { phase: 'Active', conditions: markReady(ra.status?.conditions, gen, 'Inherited', `${who} holds role ${ra.spec.role} on the projects below tenant ${ns}`) }, FIELD_MANAGER);
    return;
  }
  const desired: RoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace: ns, labels: { 'identity.stratus.io/role': role.metadata.name }, ownerReferences: [controllerRef(ra)] },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRoleName(role.metadata.name) },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: projectRoleGroup(openstackId(tenant.metadata.uid), role.metadata.name) }],
  };
  const current = await client.get<RoleBinding>(ROLE_BINDINGS, ns, name);
  if (current && JSON.stringify(current.roleRef) !== JSON.stringify(desired.roleRef)) {
    // roleRef cannot change on a RoleBinding: replace the binding.
    await client.delete(ROLE_BINDINGS, ns, name);
    await client.create(ROLE_BINDINGS, desired, FIELD_MANAGER);
  } else if (!current) {
    await client.create(ROLE_BINDINGS, desired, FIELD_MANAGER);
    await ctx.events.record(ra, 'Normal', 'RoleBindingCreated', `Bound ${desired.subjects[0].kind} ${desired.subjects[0].name} to ClusterRole ${desired.roleRef.name}`);
  } else if (JSON.stringify(current.subjects) !== JSON.stringify(desired.subjects)) {
    await client.createOrReplace(ROLE_BINDINGS, current, desired, FIELD_MANAGER);
  }
  await patchStatus(client, ROLE_ASSIGNMENTS, ra, {
    phase: 'Active',
    roleBinding: name,
    conditions: markReady(ra.status?.conditions, gen, 'RoleBindingReady', `${who} holds role ${ra.spec.role} on tenant ${ns}`),
  }, FIELD_MANAGER);
}
