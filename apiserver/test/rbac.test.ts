/**
 * The RBAC authorizer against Kubernetes' documented rules (kubernetes.io/docs/reference/access-authn-authz/rbac):
 * a generated matrix of bindings and requests with the answer the documentation gives, and the cases the
 * documentation spells out one by one (subresources, resourceNames, non-resource URLs, service accounts, groups,
 * aggregated ClusterRoles).
 */
import { strict as assert } from 'node:assert';
import { authorize, forbiddenMessage, type ClusterRole, type PolicyRule, type RbacObjects, type RequestAttributes, type RoleBinding, type Subject } from '../src/rbac.js';

const none = (): RbacObjects => ({ roles: [], clusterRoles: [], roleBindings: [], clusterRoleBindings: [] });
const req = (o: Partial<RequestAttributes>): RequestAttributes => ({ user: 'alice', groups: ['system:authenticated'], verb: 'get', resourceRequest: true, apiGroup: 'compute.stratus.io', resource: 'instances', namespace: 'acme', ...o });
const binding = (name: string, roleKind: string, roleName: string, namespace?: string, subjects: Subject[] = [{ kind: 'User', name: 'alice' }]): RoleBinding => ({ metadata: { name, namespace }, subjects, roleRef: { kind: roleKind, name: roleName, apiGroup: 'rbac.authorization.k8s.io' } });

describe('the RBAC authorizer', () => {
  it('answers a generated matrix of bindings and requests as the documentation says', () => {
    const rule: PolicyRule = { apiGroups: ['compute.stratus.io'], resources: ['instances'], verbs: ['get', 'list'] };
    const kinds = ['RoleBinding→Role', 'RoleBinding→ClusterRole', 'ClusterRoleBinding→ClusterRole'] as const;
    let cases = 0;
    for (const kind of kinds)
      for (const namespace of ['acme', 'other', undefined])
        for (const verb of ['get', 'list', 'create', 'delete'])
          for (const resource of ['instances', 'images'])
            for (const subject of ['alice', 'bob']) {
              const rbac = none();
              if (kind === 'RoleBinding→Role') {
                rbac.roles.push({ metadata: { name: 'reader', namespace: 'acme' }, rules: [rule] });
                rbac.roleBindings.push(binding('b', 'Role', 'reader', 'acme', [{ kind: 'User', name: subject }]));
              } else {
                rbac.clusterRoles.push({ metadata: { name: 'reader' }, rules: [rule] });
                if (kind === 'RoleBinding→ClusterRole') rbac.roleBindings.push(binding('b', 'ClusterRole', 'reader', 'acme', [{ kind: 'User', name: subject }]));
                else rbac.clusterRoleBindings.push(binding('b', 'ClusterRole', 'reader', undefined, [{ kind: 'User', name: subject }]));
              }
              // The documentation: a rule grants its verbs on its resources to the binding's subjects; a
              // RoleBinding only within its namespace (cluster-scoped requests are outside every namespace),
              // a ClusterRoleBinding everywhere.
              const grantedHere = kind === 'ClusterRoleBinding→ClusterRole' || namespace === 'acme';
              const expected = subject === 'alice' && ['get', 'list'].includes(verb) && resource === 'instances' && grantedHere;
              const got = authorize(req({ verb, resource, namespace }), rbac).allowed;
              assert.equal(got, expected, `${kind} for ${subject}: ${verb} ${resource} in ${namespace ?? 'the cluster scope'}`);
              cases++;
            }
    assert.equal(cases, 144);
  });

  it('matches subresources only as named: resource/sub, resource/*, */sub; a bare resource is not its subresources', () => {
    const rbac = none();
    rbac.clusterRoles.push({ metadata: { name: 'r' }, rules: [{ apiGroups: ['compute.stratus.io'], resources: ['instances'], verbs: ['*'] }, { apiGroups: ['compute.stratus.io'], resources: ['hypervisors/status'], verbs: ['patch'] }, { apiGroups: ['*'], resources: ['*/scale'], verbs: ['get'] }] });
    rbac.clusterRoleBindings.push(binding('b', 'ClusterRole', 'r'));
    assert.equal(authorize(req({ verb: 'patch', subresource: 'status' }), rbac).allowed, false, 'instances does not cover instances/status');
    assert.equal(authorize(req({ verb: 'patch', resource: 'hypervisors', subresource: 'status', namespace: undefined }), rbac).allowed, true);
    assert.equal(authorize(req({ verb: 'patch', resource: 'hypervisors', namespace: undefined }), rbac).allowed, false, 'hypervisors/status does not cover hypervisors');
    assert.equal(authorize(req({ apiGroup: 'apps', resource: 'deployments', subresource: 'scale' }), rbac).allowed, true, '*/scale');
    const all = none();
    all.clusterRoles.push({ metadata: { name: 'r' }, rules: [{ apiGroups: ['compute.stratus.io'], resources: ['instances/*'], verbs: ['get'] }] });
    all.clusterRoleBindings.push(binding('b', 'ClusterRole', 'r'));
    assert.equal(authorize(req({ subresource: 'status' }), all).allowed, true, 'instances/* covers its subresources');
    assert.equal(authorize(req({}), all).allowed, false, 'but not instances itself');
  });

  it('limits a rule with resourceNames to those names (and so never to a create or a list, which name nothing)', () => {
    const rbac = none();
    rbac.roles.push({ metadata: { name: 'one', namespace: 'acme' }, rules: [{ apiGroups: ['compute.stratus.io'], resources: ['instances'], resourceNames: ['web-1'], verbs: ['get', 'create', 'list'] }] });
    rbac.roleBindings.push(binding('b', 'Role', 'one', 'acme'));
    assert.equal(authorize(req({ name: 'web-1' }), rbac).allowed, true);
    assert.equal(authorize(req({ name: 'web-2' }), rbac).allowed, false);
    assert.equal(authorize(req({ verb: 'create' }), rbac).allowed, false);
    assert.equal(authorize(req({ verb: 'list' }), rbac).allowed, false);
  });

  it('grants non-resource URLs through ClusterRoleBindings only, with trailing-* prefixes', () => {
    const rbac = none();
    rbac.clusterRoles.push({ metadata: { name: 'disc' }, rules: [{ nonResourceURLs: ['/healthz', '/apis/*'], verbs: ['get'] }] });
    rbac.clusterRoleBindings.push(binding('b', 'ClusterRole', 'disc', undefined, [{ kind: 'Group', name: 'system:authenticated' }]));
    const path = (p: string, verb = 'get') => authorize({ user: 'alice', groups: ['system:authenticated'], verb, resourceRequest: false, path: p }, rbac).allowed;
    assert.equal(path('/healthz'), true);
    assert.equal(path('/apis/compute.stratus.io/v1alpha1'), true);
    assert.equal(path('/metrics'), false);
    assert.equal(path('/healthz', 'post'), false);
    const viaRoleBinding = none();
    viaRoleBinding.clusterRoles.push(rbac.clusterRoles[0]);
    viaRoleBinding.roleBindings.push(binding('b', 'ClusterRole', 'disc', 'acme'));
    assert.equal(authorize({ user: 'alice', groups: [], verb: 'get', resourceRequest: false, path: '/healthz' }, viaRoleBinding).allowed, false);
  });

  it('binds users, groups and service accounts (system:serviceaccount:<namespace>:<name>)', () => {
    const rbac = none();
    rbac.clusterRoles.push({ metadata: { name: 'r' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['get'] }] });
    rbac.roleBindings.push(binding('g', 'ClusterRole', 'r', 'acme', [{ kind: 'Group', name: 'project:acme' }]));
    rbac.roleBindings.push(binding('sa', 'ClusterRole', 'r', 'acme', [{ kind: 'ServiceAccount', name: 'robot', namespace: 'acme' }]));
    assert.equal(authorize(req({ user: 'carol', groups: ['project:acme'] }), rbac).allowed, true);
    assert.equal(authorize(req({ user: 'carol', groups: ['project:other'] }), rbac).allowed, false);
    assert.equal(authorize(req({ user: 'system:serviceaccount:acme:robot', groups: [] }), rbac).allowed, true);
    assert.equal(authorize(req({ user: 'system:serviceaccount:other:robot', groups: [] }), rbac).allowed, false);
    assert.equal(authorize(req({ user: 'robot', groups: [] }), rbac).allowed, false, 'a user named like the account is not the account');
  });

  it("aggregates ClusterRoles by label, as the built-in admin, edit and view are made", () => {
    const aggregated = (name: string, label: string): ClusterRole => ({ metadata: { name }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [label]: 'true' } }] }, rules: [] });
    const rbac = none();
    rbac.clusterRoles.push(
      aggregated('view', 'rbac.authorization.k8s.io/aggregate-to-view'),
      { ...aggregated('edit', 'rbac.authorization.k8s.io/aggregate-to-edit'), metadata: { name: 'edit', labels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } } },
      aggregated('admin', 'rbac.authorization.k8s.io/aggregate-to-admin'),
      { metadata: { name: 'stratus-view', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true', 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' } }, rules: [{ apiGroups: ['compute.stratus.io'], resources: ['instances'], verbs: ['get', 'list', 'watch'] }] },
      { metadata: { name: 'stratus-edit', labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' } }, rules: [{ apiGroups: ['compute.stratus.io'], resources: ['instances'], verbs: ['create', 'delete'] }] },
    );
    const as = (role: string, verb: string) => {
      const r = { ...rbac, roleBindings: [binding('b', 'ClusterRole', role, 'acme')] };
      return authorize(req({ verb }), r).allowed;
    };
    assert.deepEqual(['get', 'create'].map((v) => as('view', v)), [true, false], 'view reads');
    assert.deepEqual(['get', 'create'].map((v) => as('edit', v)), [true, true], 'edit writes');
    assert.deepEqual(['get', 'create'].map((v) => as('admin', v)), [true, true], 'admin has what edit has, through edit');
  });

  it("says no as Kubernetes does", () => {
    assert.equal(authorize(req({}), none()).allowed, false);
    assert.equal(forbiddenMessage(req({ name: 'web-1' })), 'instances.compute.stratus.io "web-1" is forbidden: User "alice" cannot get resource "instances" in API group "compute.stratus.io" in the namespace "acme"');
    assert.equal(forbiddenMessage(req({ verb: 'list', resource: 'hypervisors', namespace: undefined })), 'hypervisors.compute.stratus.io is forbidden: User "alice" cannot list resource "hypervisors" in API group "compute.stratus.io" at the cluster scope');
  });
});
