/**
 * The control plane's access decisions per request: the attributes RBAC judges (verb, group, resource,
 * subresource, namespace, name, or a non-resource path), the RBAC objects it judges them by (read from the
 * store, rebuilt only when the store moved), the default policy Kubernetes bootstraps (cluster-admin; admin,
 * edit and view by aggregation; discovery and self-review for every authenticated user), and the
 * SelfSubjectAccessReview and SelfSubjectReview answers kubectl's `auth can-i` and `auth whoami` read.
 */
import { MASTERS, type UserInfo } from './authn.js';
import { authorize, type ClusterRole, type Decision, type RbacObjects, type RequestAttributes, type Role, type RoleBinding } from './rbac.js';
import type { Registry } from './registry.js';
import type { Resources } from './resources.js';
import type { Store } from './store.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const AGGREGATE = (to: string) => `${RBAC_GROUP}/aggregate-to-${to}`;
const READ = ['get', 'list', 'watch'];
const WRITE = [...READ, 'create', 'update', 'patch', 'delete', 'deletecollection'];

/** The default policy, as Kubernetes bootstraps it (the parts that concern the kinds served here). */
export const BOOTSTRAP_CLUSTER_ROLES: ClusterRole[] = [
  { metadata: { name: 'cluster-admin' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }] },
  { metadata: { name: 'admin' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [AGGREGATE('admin')]: 'true' } }] }, rules: [] },
  { metadata: { name: 'edit', labels: { [AGGREGATE('admin')]: 'true' } }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [AGGREGATE('edit')]: 'true' } }] }, rules: [] },
  { metadata: { name: 'view', labels: { [AGGREGATE('edit')]: 'true' } }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [AGGREGATE('view')]: 'true' } }] }, rules: [] },
  { metadata: { name: 'system:aggregate-to-admin', labels: { [AGGREGATE('admin')]: 'true' } }, rules: [{ apiGroups: [RBAC_GROUP], resources: ['roles', 'rolebindings'], verbs: WRITE }] },
  { metadata: { name: 'system:aggregate-to-edit', labels: { [AGGREGATE('edit')]: 'true' } }, rules: [{ apiGroups: [''], resources: ['configmaps', 'secrets', 'services', 'serviceaccounts', 'persistentvolumeclaims'], verbs: WRITE }, { apiGroups: ['apps'], resources: ['deployments', 'daemonsets'], verbs: WRITE }, { apiGroups: ['batch'], resources: ['jobs'], verbs: WRITE }] },
  { metadata: { name: 'system:aggregate-to-view', labels: { [AGGREGATE('view')]: 'true' } }, rules: [{ apiGroups: [''], resources: ['configmaps', 'services', 'serviceaccounts', 'events', 'namespaces', 'persistentvolumeclaims'], verbs: READ }, { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: READ }, { apiGroups: ['apps'], resources: ['deployments', 'daemonsets'], verbs: READ }, { apiGroups: ['batch'], resources: ['jobs'], verbs: READ }] },
  { metadata: { name: 'system:discovery' }, rules: [{ nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*', '/version', '/version/', '/healthz', '/livez', '/readyz'], verbs: ['get'] }] },
  { metadata: { name: 'system:basic-user' }, rules: [{ apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] }, { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] }] },
];
export const BOOTSTRAP_CLUSTER_ROLE_BINDINGS: RoleBinding[] = [
  { metadata: { name: 'cluster-admin' }, roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'Group', name: MASTERS }] },
  { metadata: { name: 'system:discovery' }, roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: 'system:discovery' }, subjects: [{ kind: 'Group', name: 'system:authenticated' }] },
  { metadata: { name: 'system:basic-user' }, roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: 'system:basic-user' }, subjects: [{ kind: 'Group', name: 'system:authenticated' }] },
];

const VERBS: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch' };

/** The RBAC verb of a request (pure). */
export function verbOf(method: string, named: boolean, watch: boolean): string {
  if (method === 'GET' || method === 'HEAD') return watch ? 'watch' : named ? 'get' : 'list';
  if (method === 'DELETE') return named ? 'delete' : 'deletecollection';
  return VERBS[method] ?? method.toLowerCase();
}

export class AccessControl {
  private cached?: RbacObjects;

  constructor(
    store: Store,
    private readonly registry: Registry,
    private readonly resources: Resources,
  ) {
    // Read again only after an RBAC object changed: other writes leave the policy as it was.
    for (const plural of ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings']) {
      const type = registry.find(RBAC_GROUP, 'v1', plural);
      if (type) store.subscribe(type.storageKey, () => (this.cached = undefined));
    }
  }

  /** Every Role, ClusterRole and binding, as stored. */
  rbac(): RbacObjects {
    if (this.cached) return this.cached;
    const all = <T>(plural: string) => {
      const type = this.registry.find(RBAC_GROUP, 'v1', plural);
      return type ? (this.resources.list(type, undefined, { labelSelector: null, fieldSelector: null, limit: 0, continueToken: null }).items.map((s) => s.obj) as unknown as T[]) : [];
    };
    this.cached = { roles: all<Role>('roles'), clusterRoles: all<ClusterRole>('clusterroles'), roleBindings: all<RoleBinding>('rolebindings'), clusterRoleBindings: all<RoleBinding>('clusterrolebindings') };
    return this.cached;
  }

  /** system:masters may do anything (as in Kubernetes, without asking RBAC); everyone else as RBAC says. */
  decide(user: UserInfo, a: Omit<RequestAttributes, 'user' | 'groups'>): Decision {
    if (user.groups.includes(MASTERS)) return { allowed: true, reason: 'system:masters' };
    return authorize({ ...a, user: user.username, groups: user.groups }, this.rbac());
  }
}
