/**
 * The Role reconciler. Each Role gets a ClusterRole that RoleAssignments bind in tenant namespaces, so what a
 * role lets a user do through kubectl matches what it lets them do through the OpenStack APIs.
 */
import { markReady, patchStatus, type ReconcileContext, type Request, type Result } from '@stratus/runtime';
import { holdName } from './names.js';
import { CLUSTER_ROLES, FIELD_MANAGER, ROLES, controllerRef, openstackId, type Meta, type Role } from './resources.js';

export type Access = 'admin' | 'edit' | 'view';

/** The API groups whose resources live in tenant namespaces. */
const TENANT_GROUPS = ['compute.stratus.io', 'image.stratus.io', 'blockstorage.stratus.io', 'network.stratus.io'];
const READ = ['get', 'list', 'watch'];
const WRITE = [...READ, 'create', 'update', 'patch', 'delete', 'deletecollection'];

/**
 * What Nova's KubeVirt driver keeps in a project's namespace for its servers: members see them, as KubeVirt's own
 * kubevirt.io:view role shows them (a VM running, its disks), at every access level; only Nova changes them, so
 * no role writes them, nor reaches their console or actions (Nova's API does that, with its policies and quota).
 */
const BACKEND_READ = [
  { apiGroups: ['kubevirt.io'], resources: ['virtualmachines', 'virtualmachineinstances'], verbs: READ },
  { apiGroups: ['cdi.kubevirt.io'], resources: ['datavolumes'], verbs: READ },
  { apiGroups: ['snapshot.kubevirt.io'], resources: ['virtualmachinesnapshots'], verbs: READ },
  { apiGroups: ['export.kubevirt.io'], resources: ['virtualmachineexports'], verbs: READ },
  { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: READ },
];

export const clusterRoleName = (role: string) => `stratus-role-${role}`;

/** The kubectl access a role grants: stated on the role, or read from its well-known name. */
export function accessOf(role: Role): Access {
  if (role.spec.kubernetesAccess) return role.spec.kubernetesAccess;
  if (role.metadata.name === 'admin') return 'admin';
  if (role.metadata.name === 'member') return 'edit';
  return 'view';
}

export function rulesFor(access: Access) {
  const verbs = access === 'view' ? READ : WRITE;
  const rules = [
    { apiGroups: TENANT_GROUPS, resources: ['*'], verbs },
    { apiGroups: ['identity.stratus.io'], resources: ['roleassignments'], verbs: access === 'admin' ? WRITE : READ },
    { apiGroups: [''], resources: ['events'], verbs: READ },
    ...BACKEND_READ,
  ];
  if (access === 'admin') rules.push({ apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: READ });
  return rules;
}

interface ClusterRole {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'ClusterRole';
  metadata: Meta;
  rules: ReturnType<typeof rulesFor>;
}

export async function reconcileRole(req: Request, ctx: ReconcileContext<Role>): Promise<Result | void> {
  const { client } = ctx;
  const role = await client.get<Role>(ROLES, undefined, req.name);
  if (!role) return; // its ClusterRole is owned by it and goes with it
  const nameTaken = await holdName(role, ctx);
  if (nameTaken) return nameTaken;
  const access = accessOf(role);
  const name = clusterRoleName(role.metadata.name);
  const desired: ClusterRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name, labels: { 'identity.stratus.io/role': role.metadata.name }, ownerReferences: [controllerRef(role)] },
    rules: rulesFor(access),
  };
  const current = await client.get<ClusterRole>(CLUSTER_ROLES, undefined, name);
  if (!current || JSON.stringify(current.rules) !== JSON.stringify(desired.rules)) await client.createOrReplace(CLUSTER_ROLES, current, desired, FIELD_MANAGER);
  await patchStatus(client, ROLES, role, {
    phase: 'Active',
    roleId: openstackId(role.metadata.uid),
    clusterRole: name,
    access,
    conditions: markReady(role.status?.conditions, role.metadata.generation, 'ClusterRoleReady', `ClusterRole ${name} grants ${access} access`),
  }, FIELD_MANAGER);
}
