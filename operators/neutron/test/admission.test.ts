/** The Networking API's admission decisions, on a directory holding what Neutron's caches would. */
import { strict as assert } from 'node:assert';
import type { AdmissionRequest } from '@stratus/runtime';
import { networkingRefusal } from '../src/api/admissionRoutes.js';
import type { NetApi } from '../src/api/context.js';

type Obj = { kind: string; metadata: { name: string; namespace: string }; spec: Record<string, unknown> };
const obj = (kind: string, name: string, namespace: string, spec: Record<string, unknown> = {}): Obj => ({ kind, metadata: { name, namespace }, spec });

/** A directory over fixed lists, as the API's caches would hold them. */
function apiWith(objects: Obj[], quota: Record<string, number>): NetApi {
  const cache = (kind: string) => ({
    list: (ns?: string) => objects.filter((o) => o.kind === kind && (!ns || o.metadata.namespace === ns)),
    get: (name: string, ns?: string) => objects.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === ns),
  });
  return {
    dir: {
      networks: cache('Network'),
      subnets: cache('Subnet'),
      ports: cache('Port'),
      routers: cache('Router'),
      floatingIPs: cache('FloatingIP'),
      groups: cache('SecurityGroup'),
      tenant: () => ({ spec: { quota } }),
      projectIdOf: () => 'p-demo',
    },
  } as unknown as NetApi;
}
const create = (o: Obj): AdmissionRequest<never> => ({ uid: 'u', operation: 'CREATE', namespace: o.metadata.namespace, object: o as never });
const update = (o: Obj, old: Obj): AdmissionRequest<never> => ({ uid: 'u', operation: 'UPDATE', namespace: o.metadata.namespace, object: o as never, oldObject: old as never });

describe('networking admission', () => {
  const world = [obj('Network', 'public', 'admin', { external: true }), obj('Network', 'theirs', 'other'), obj('Network', 'common', 'other', { shared: true }), obj('Network', 'mine', 'demo'), obj('SecurityGroup', 'default', 'demo', { rules: [{}, {}] })];

  it('keeps shared and external networks and shared subnet pools for admins, as Neutron’s policy does', () => {
    const api = apiWith(world, {});
    assert.deepEqual(networkingRefusal(api, create(obj('Network', 'n', 'demo', { shared: true }))), { code: 403, message: '(rule:create_network:shared) is disallowed by policy' });
    assert.deepEqual(networkingRefusal(api, create(obj('Network', 'n', 'demo', { external: true }))), { code: 403, message: '(rule:create_network:router:external) is disallowed by policy' });
    assert.equal(networkingRefusal(api, update(obj('Network', 'mine', 'demo', { shared: true }), obj('Network', 'mine', 'demo')))?.code, 403, 'nor may an update share it');
    assert.equal(networkingRefusal(api, create(obj('SubnetPool', 'sp', 'demo', { prefixes: ['10.0.0.0/8'], shared: true })))?.code, 403);
    assert.equal(networkingRefusal(api, create(obj('Network', 'n', 'demo'))), undefined);
  });

  it("refuses a port on an external or another project's unshared network, not on a shared one or its own", () => {
    const api = apiWith(world, {});
    const port = (network: string, networkNamespace?: string) => create(obj('Port', 'p', 'demo', { network, ...(networkNamespace ? { networkNamespace } : {}) }));
    assert.deepEqual(networkingRefusal(api, port('public', 'admin')), { code: 403, message: 'Tenant p-demo not allowed to create port on this network' });
    assert.equal(networkingRefusal(api, port('theirs', 'other'))?.code, 403);
    assert.equal(networkingRefusal(api, port('common', 'other')), undefined);
    assert.equal(networkingRefusal(api, port('mine')), undefined);
  });

  it('keeps a router gateway’s SNAT and chosen addresses for admins, as Neutron’s policy does', () => {
    const api = apiWith(world, {});
    const gw = (extra: Record<string, unknown> = {}) => ({ externalGateway: { network: 'public', networkNamespace: 'admin', ...extra } });
    assert.equal(networkingRefusal(api, create(obj('Router', 'r', 'demo', gw()))), undefined, 'a plain gateway is the owner’s to set');
    assert.deepEqual(networkingRefusal(api, create(obj('Router', 'r', 'demo', gw({ enableSNAT: false })))), { code: 403, message: '(rule:create_router:external_gateway_info:enable_snat) is disallowed by policy' });
    assert.deepEqual(networkingRefusal(api, create(obj('Router', 'r', 'demo', gw({ fixedIPs: [{ ipAddress: '172.24.4.50' }] })))), { code: 403, message: '(rule:create_router:external_gateway_info:external_fixed_ips) is disallowed by policy' });
    const chosen = obj('Router', 'r', 'demo', gw({ enableSNAT: false, fixedIPs: [{ ipAddress: '172.24.4.50' }] }));
    assert.equal(networkingRefusal(api, update(obj('Router', 'r', 'demo', { ...chosen.spec, displayName: 'renamed' }), chosen)), undefined, 'what an admin chose may stay');
    const withSubnet = obj('Router', 'r', 'demo', gw({ enableSNAT: false, fixedIPs: [{ subnet: 'public-v4', ipAddress: '172.24.4.50' }] }));
    const reordered = obj('Router', 'r', 'demo', gw({ enableSNAT: false, fixedIPs: [{ ipAddress: '172.24.4.50', subnet: 'public-v4' }] }));
    assert.equal(networkingRefusal(api, update(reordered, withSubnet)), undefined, 'the same addresses written with their keys in another order (a re-applied manifest) ask nothing');
    assert.deepEqual(networkingRefusal(api, update(obj('Router', 'r', 'demo', gw({ fixedIPs: [{ ipAddress: '172.24.4.50' }] })), chosen))?.message, '(rule:update_router:external_gateway_info:enable_snat) is disallowed by policy');
    assert.deepEqual(networkingRefusal(api, update(obj('Router', 'r', 'demo', gw({ enableSNAT: false, fixedIPs: [{ ipAddress: '172.24.4.51' }] })), chosen))?.message, '(rule:update_router:external_gateway_info:external_fixed_ips) is disallowed by policy');
    assert.equal(networkingRefusal(api, update(obj('Router', 'r', 'demo'), chosen)), undefined, 'the owner may drop the gateway');
  });

  it('counts each kind against its quota, and security group rules as a group gains them', () => {
    const api = apiWith(world, { networks: 1, securityGroupRules: 3 });
    assert.deepEqual(networkingRefusal(api, create(obj('Network', 'n', 'demo'))), { code: 403, message: "exceeded quota: Quota exceeded for resources: ['network']." });
    const grown = obj('SecurityGroup', 'default', 'demo', { rules: [{}, {}, {}, {}] });
    assert.deepEqual(networkingRefusal(api, update(grown, world[4])), { code: 403, message: "exceeded quota: Quota exceeded for resources: ['security_group_rule']." });
    assert.equal(networkingRefusal(api, update(obj('SecurityGroup', 'default', 'demo', { rules: [{}] }), world[4])), undefined, 'removing rules asks nothing');
  });
});
