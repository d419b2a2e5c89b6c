/**
 * Kubernetes' RBAC authorizer, as its documentation and its code (plugin/pkg/auth/authorizer/rbac) decide:
 * a request is allowed when some rule of some role bound to its user, one of its groups or its service account
 * allows it. ClusterRoleBindings grant everywhere (and alone grant cluster-scoped and non-resource requests);
 * RoleBindings grant in their own namespace, through a Role there or a ClusterRole. Aggregated ClusterRoles take
 * the rules of the ClusterRoles their selectors match. Pure: the caller gives it the RBAC objects.
 */

export interface RequestAttributes {
  user: string;
  groups: string[];
  verb: string;
  /** A request for a resource (else a non-resource URL). */
  resourceRequest: boolean;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** The path of a non-resource request (/healthz, /version, /api). */
  path?: string;
}

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

interface Meta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
}

export interface Role {
  metadata: Meta;
  rules?: PolicyRule[];
}

export interface ClusterRole extends Role {
  aggregationRule?: { clusterRoleSelectors?: Array<{ matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> }> };
}

export interface RoleBinding {
  metadata: Meta;
  subjects?: Subject[];
  roleRef: { kind: string; name: string; apiGroup?: string };
}

export interface RbacObjects {
  roles: Role[];
  clusterRoles: ClusterRole[];
  roleBindings: RoleBinding[];
  clusterRoleBindings: RoleBinding[];
}

export interface Decision {
  allowed: boolean;
  /** Which binding and role allowed it (as Kubernetes' audit reason says it), or why nothing did. */
  reason: string;
}

const has = (list: string[] | undefined, v: string) => !!list && (list.includes('*') || list.includes(v));

/** Whether a binding names this user, one of its groups, or its service account. */
export function subjectMatches(s: Subject, user: string, groups: string[], bindingNamespace?: string): boolean {
  if (s.kind === 'User') return s.name === user;
  if (s.kind === 'Group') return groups.includes(s.name);
  if (s.kind === 'ServiceAccount') return user === `system:serviceaccount:${s.namespace ?? bindingNamespace ?? ''}:${s.name}`;
  return false;
}

/** Whether one rule allows a request (resource or non-resource). */
export function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) {
    return !!rule.nonResourceURLs?.some((u) => u === '*' || u === a.path || (u.endsWith('*') && (a.path ?? '').startsWith(u.slice(0, -1))));
  }
  if (!has(rule.apiGroups, a.apiGroup ?? '')) return false;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : (a.resource ?? '');
  const resourceMatches = (rule.resources ?? []).some((r) => {
    if (r === '*' || r === resource) return true;
    // `*/scale` matches that subresource of anything; `pods/*` every subresource of pods (and not pods itself).
    if (a.subresource && r === `*/${a.subresource}`) return true;
    if (a.subresource && r === `${a.resource}/*`) return true;
    return false;
  });
  if (!resourceMatches) return false;
  if (!rule.resourceNames?.length) return true;
  return !!a.name && rule.resourceNames.includes(a.name);
}

function selectorMatches(sel: NonNullable<ClusterRole['aggregationRule']>['clusterRoleSelectors'] extends Array<infer S> | undefined ? S : never, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const v = labels[e.key];
    if (e.operator === 'In' && !(v !== undefined && e.values?.includes(v))) return false;
    if (e.operator === 'NotIn' && v !== undefined && e.values?.includes(v)) return false;
    if (e.operator === 'Exists' && v === undefined) return false;
    if (e.operator === 'DoesNotExist' && v !== undefined) return false;
  }
  return true;
}

/** A ClusterRole's rules, with those of the ClusterRoles its aggregation selectors match (transitively). */
export function clusterRoleRules(role: ClusterRole, all: ClusterRole[], seen = new Set<string>()): PolicyRule[] {
  const name = role.metadata.name ?? '';
  if (seen.has(name)) return [];
  seen.add(name);
  const selectors = role.aggregationRule?.clusterRoleSelectors;
  if (!selectors?.length) return role.rules ?? [];
  const members = all.filter((r) => r.metadata.name !== name && selectors.some((s) => selectorMatches(s, r.metadata.labels ?? {})));
  return [...(role.rules ?? []), ...members.flatMap((m) => clusterRoleRules(m, all, seen))];
}

/** The decision for a request, given every Role, ClusterRole and binding. */
export function authorize(a: RequestAttributes, rbac: RbacObjects): Decision {
  const clusterRole = (name: string) => rbac.clusterRoles.find((r) => r.metadata.name === name);
  const rulesOf = (ref: RoleBinding['roleRef'], namespace?: string): PolicyRule[] => {
    if (ref.kind === 'ClusterRole') {
      const r = clusterRole(ref.name);
      return r ? clusterRoleRules(r, rbac.clusterRoles) : [];
    }
    if (ref.kind === 'Role' && namespace) return rbac.roles.find((r) => r.metadata.name === ref.name && r.metadata.namespace === namespace)?.rules ?? [];
    return [];
  };
  for (const b of rbac.clusterRoleBindings) {
    if (!b.subjects?.some((s) => subjectMatches(s, a.user, a.groups))) continue;
    if (b.roleRef.kind !== 'ClusterRole') continue;
    if (rulesOf(b.roleRef).some((r) => ruleAllows(r, a))) return { allowed: true, reason: `RBAC: allowed by ClusterRoleBinding "${b.metadata.name}" of ClusterRole "${b.roleRef.name}"` };
  }
  // A RoleBinding grants only resource requests in its own namespace.
  if (a.resourceRequest && a.namespace) {
    for (const b of rbac.roleBindings) {
      if (b.metadata.namespace !== a.namespace) continue;
      if (!b.subjects?.some((s) => subjectMatches(s, a.user, a.groups, b.metadata.namespace))) continue;
      if (rulesOf(b.roleRef, b.metadata.namespace).some((r) => ruleAllows(r, a))) return { allowed: true, reason: `RBAC: allowed by RoleBinding "${b.metadata.name}/${a.namespace}" of ${b.roleRef.kind} "${b.roleRef.name}"` };
    }
  }
  return { allowed: false, reason: '' };
}

/** Kubernetes' 403 message for a refused request. */
export function forbiddenMessage(a: RequestAttributes): string {
  if (!a.resourceRequest) return `forbidden: User "${a.user}" cannot ${a.verb} path "${a.path}"`;
  const what = `${a.resource}${a.subresource ? `/${a.subresource}` : ''}`;
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const name = a.name ? ` "${a.name}"` : '';
  const group = `in API group "${a.apiGroup ?? ''}"`;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `${qualified}${name} is forbidden: User "${a.user}" cannot ${a.verb} resource "${what}" ${group} ${scope}`;
}
