/**
 * What each kubectl access level lets a project member do, decided by the control plane's own RBAC authorizer
 * over the ClusterRole rules a Keystone role becomes, bound in the project's namespace.
 */
import { strict as assert } from 'node:assert';
import { authorize, type RbacObjects, type RequestAttributes } from '@stratus/apiserver';
import { rulesFor, type Access } from '../src/role.js';

function allowed(access: Access, verb: string, apiGroup: string, resource: string, extra: Partial<RequestAttributes> = {}): boolean {
  const rbac: RbacObjects = {
    roles: [],
    clusterRoles: [{ metadata: { name: 'stratus-role-x' }, rules: rulesFor(access) }],
    roleBindings: [{ metadata: { name: 'b', namespace: 'acme' }, subjects: [{ kind: 'User', name: 'alice' }], roleRef: { kind: 'ClusterRole', name: 'stratus-role-x', apiGroup: 'rbac.authorization.k8s.io' } }],
    clusterRoleBindings: [],
  };
  return authorize({ user: 'alice', groups: ['system:authenticated'], verb, resourceRequest: true, apiGroup, resource, namespace: 'acme', ...extra }, rbac).allowed;
}

describe("a Keystone role's kubectl access", () => {
  const levels: Access[] = ['view', 'edit', 'admin'];

  it("lets every level read what Nova's KubeVirt driver keeps for the project's servers, and none change it", () => {
    const kinds: Array<[string, string]> = [
      ['kubevirt.io', 'virtualmachines'],
      ['kubevirt.io', 'virtualmachineinstances'],
      ['cdi.kubevirt.io', 'datavolumes'],
      ['snapshot.kubevirt.io', 'virtualmachinesnapshots'],
      ['export.kubevirt.io', 'virtualmachineexports'],
      ['', 'persistentvolumeclaims'],
    ];
    for (const access of levels)
      for (const [group, resource] of kinds) {
        for (const verb of ['get', 'list', 'watch']) assert.ok(allowed(access, verb, group, resource), `${access} may ${verb} ${resource}`);
        for (const verb of ['create', 'update', 'patch', 'delete']) assert.ok(!allowed(access, verb, group, resource), `${access} may not ${verb} ${resource}`);
      }
  });

  it("keeps a VM's console and actions behind Nova's API, and Secrets out of reach, at every level", () => {
    for (const access of levels) {
      assert.ok(!allowed(access, 'get', 'subresources.kubevirt.io', 'virtualmachineinstances', { subresource: 'vnc' }), `${access}: no console`);
      assert.ok(!allowed(access, 'update', 'subresources.kubevirt.io', 'virtualmachines', { subresource: 'stop' }), `${access}: no stop`);
      assert.ok(!allowed(access, 'get', '', 'secrets'), `${access}: no Secrets`);
    }
  });

  it("writes the project's own kinds from edit up, and reads them only as view", () => {
    assert.ok(allowed('view', 'get', 'compute.stratus.io', 'instances'));
    assert.ok(!allowed('view', 'create', 'compute.stratus.io', 'instances'));
    assert.ok(allowed('edit', 'create', 'compute.stratus.io', 'instances'));
    assert.ok(!allowed('edit', 'create', 'identity.stratus.io', 'roleassignments'));
    assert.ok(allowed('admin', 'create', 'identity.stratus.io', 'roleassignments'));
  });
});
