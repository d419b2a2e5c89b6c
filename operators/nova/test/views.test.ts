/** The Compute API's server views, pure: what each answer shows of a server's addresses. */
import { strict as assert } from 'node:assert';
import { serverUpdateView, serverView } from '../src/api/views.js';
import { Microversion } from '../src/api/microversion.js';
import type { Instance } from '../src/resources.js';

describe('Compute API server views', () => {
  const inst = {
    apiVersion: 'compute.stratus.io/v1alpha1',
    kind: 'Instance',
    metadata: { name: 'web-1', namespace: 'demo', uid: '6f1ac3e8-5a5e-4b8e-9d1b-0c3f4e5a6b7c', creationTimestamp: '2026-11-30T20:00:00Z' },
    spec: { flavor: 'm1.tiny', image: { name: 'cirros' } },
    status: { phase: 'ACTIVE', addresses: [{ port: 'web-1-nic0', network: 'net-1', networkName: 'private', mac: 'fa:16:3e:00:00:01', ips: ['10.0.0.5'] }] },
  } as unknown as Instance;
  const ctx = { base: 'http://127.0.0.1/compute/v2.1', version: Microversion.parse('2.1')!, admin: false, projectIdOf: () => 'p1' };
  const extras = { groups: [], securityGroups: ['default'] };

  it('shows a server’s addresses with their MAC and type, and an update’s or rebuild’s answer without them, as Nova (extend_address=False)', () => {
    assert.deepEqual(serverView(inst, extras, ctx).addresses, { private: [{ version: 4, addr: '10.0.0.5', 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:01' }] });
    assert.deepEqual(serverUpdateView(inst, extras, ctx).addresses, { private: [{ version: 4, addr: '10.0.0.5' }] });
  });
});
