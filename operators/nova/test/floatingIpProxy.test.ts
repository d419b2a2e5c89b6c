/** Nova's floating IP proxy, pure: Neutron's floating IPs in Nova's shape, and the pool a create names. */
import { strict as assert } from 'node:assert';
import { NovaError } from '../src/api/errors.js';
import { novaFloatingIp, poolFor } from '../src/api/floatingIpProxyRoutes.js';

describe("Nova's floating IP proxy", () => {
  const publicNet = { id: 'net-1', name: 'public' };
  const unnamed = { id: 'net-2', name: '' };

  it("shows a floating IP with its network's name as its pool and its port's server as its instance", () => {
    const fip = { id: 'f1', floating_ip_address: '172.24.4.10', floating_network_id: 'net-1', fixed_ip_address: '10.0.0.5', port_id: 'p1' };
    assert.deepEqual(novaFloatingIp(fip, [publicNet], [{ id: 'p1', device_id: 'server-1', fixed_ips: [] }]), { id: 'f1', ip: '172.24.4.10', pool: 'public', fixed_ip: '10.0.0.5', instance_id: 'server-1' });
    assert.deepEqual(novaFloatingIp({ ...fip, floating_network_id: 'net-2', port_id: null }, [unnamed], []), { id: 'f1', ip: '172.24.4.10', pool: 'net-2', fixed_ip: null, instance_id: null }, 'an unnamed network by its ID; no port, no fixed IP');
  });

  it('finds the pool by name, then by ID; without one, the only external network', () => {
    assert.equal(poolFor('public', [publicNet, unnamed]), publicNet);
    assert.equal(poolFor('net-2', [publicNet, unnamed]), unnamed);
    assert.equal(poolFor(undefined, [publicNet]), publicNet);
  });

  it("refuses a pool that is not there (404), one name for two (409), and no name among several (404)", () => {
    assert.throws(() => poolFor('nowhere', [publicNet]), (e) => e instanceof NovaError && e.status === 404);
    assert.throws(() => poolFor('public', [publicNet, { id: 'net-3', name: 'public' }]), (e) => e instanceof NovaError && e.status === 409);
    assert.throws(() => poolFor(undefined, [publicNet, unnamed]), (e) => e instanceof NovaError && e.status === 404);
    assert.throws(() => poolFor(undefined, []), (e) => e instanceof NovaError && e.status === 404);
  });
});
