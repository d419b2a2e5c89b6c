/** A fixed IP reached by one floating IP per external network (Neutron's FloatingIPPortAlreadyAssociated), pure. */
import { strict as assert } from 'node:assert';
import { fixedIPHolder } from '../src/api/floatingIPRoutes.js';
import { PORT_ALREADY_ASSOCIATED, keepsFixedIPBefore, lostFixedIPClash } from '../src/floatingIPs.js';
import type { FloatingIP, Network, Port } from '../src/resources.js';

describe('fixedIPHolder', () => {
  const net = (uid: string) => ({ metadata: { name: uid, namespace: 'admin', uid } }) as Network;
  const publicNet = net('public-uid');
  const otherNet = net('other-uid');
  const port = { metadata: { name: 'web-nic', namespace: 'demo', uid: 'port-uid' }, spec: { network: 'private' }, status: { fixedIPs: [{ ipAddress: 'fd00::5' }, { ipAddress: '10.0.0.5' }, { ipAddress: '10.0.0.6' }] } } as unknown as Port;
  const fip = (uid: string, network: Network, extra: Partial<FloatingIP['spec']> = {}, deleting = false) =>
    ({ metadata: { name: uid, namespace: 'demo', uid, ...(deleting ? { deletionTimestamp: '2026-11-30T00:00:00Z' } : {}) }, spec: { network: network.metadata.name, ...extra }, status: { id: uid } }) as unknown as FloatingIP;
  const networkOf = (f: FloatingIP) => [publicNet, otherNet].find((n) => n.metadata.name === f.spec.network);
  const holder = (all: FloatingIP[], fixed: string, id?: string) => fixedIPHolder(all, { id, network: publicNet }, port, fixed, networkOf)?.metadata.uid;

  it('finds the floating IP of the same external network that already reaches the fixed IP (the first IPv4 one when unnamed)', () => {
    assert.equal(holder([fip('a', publicNet, { port: 'web-nic' })], '10.0.0.5'), 'a');
    assert.equal(holder([fip('a', publicNet, { port: 'web-nic', fixedIPAddress: '10.0.0.6' })], '10.0.0.6'), 'a');
  });

  it('lets the port take one per fixed IP and per external network, and lets a floating IP be set again where it is', () => {
    assert.equal(holder([fip('a', publicNet, { port: 'web-nic' })], '10.0.0.6'), undefined, 'another fixed IP');
    assert.equal(holder([fip('a', otherNet, { port: 'web-nic' })], '10.0.0.5'), undefined, 'another external network');
    assert.equal(holder([fip('a', publicNet, { port: 'web-nic' })], '10.0.0.5', 'a'), undefined, 'itself');
    assert.equal(holder([fip('a', publicNet, { port: 'web-nic' }, true)], '10.0.0.5'), undefined, 'one being deleted');
    assert.equal(holder([fip('a', publicNet)], '10.0.0.5'), undefined, 'one on no port');
  });
});

describe('keepsFixedIPBefore: which of two floating IPs asking for one fixed IP keeps it', () => {
  const fip = (name: string, created: string, status: Partial<NonNullable<FloatingIP['status']>> = {}) =>
    ({ metadata: { name, namespace: 'demo', uid: name, creationTimestamp: created }, spec: { network: 'public', port: 'web-nic' }, status }) as unknown as FloatingIP;
  const translating = { phase: 'ACTIVE', portId: 'port-uid', fixedIPAddress: '10.0.0.5' } as const;
  const keeps = (o: FloatingIP, f: FloatingIP) => keepsFixedIPBefore(o, f, 'port-uid', '10.0.0.5');
  const older = '2026-12-01T10:00:00Z';
  const newer = '2026-12-01T10:00:05Z';

  it('the one translating it already, however young, and of two translating it (a race), the older', () => {
    assert.ok(keeps(fip('young', newer, translating), fip('old', older)));
    assert.ok(!keeps(fip('old', older), fip('young', newer, translating)));
    assert.ok(keeps(fip('old', older, translating), fip('young', newer, translating)));
    assert.ok(!keeps(fip('young', newer, translating), fip('old', older, translating)));
  });

  it('else the older, by creation time and then by name, so that exactly one of the two keeps it', () => {
    for (const [a, b] of [[fip('a', older), fip('b', newer)], [fip('a', older), fip('b', older)]]) {
      assert.ok(keeps(a, b));
      assert.ok(!keeps(b, a));
    }
  });

  it('not one that is refused: the younger takes the address an older one could not', () => {
    assert.ok(!keeps(fip('old', older, { phase: 'ERROR' }), fip('young', newer)));
    assert.ok(keeps(fip('old', older, { ...translating, portId: 'another-port' }), fip('young', newer, { phase: 'ERROR' })), 'one being moved here from another port: older, and not refused');
    assert.ok(!keeps(fip('young', newer, { ...translating, portId: 'another-port' }), fip('old', older)), 'translating elsewhere is no claim here');
  });
});

describe('lostFixedIPClash: a floating IP waiting for the holder of its fixed IP to go', () => {
  const withStalled = (status: string, reason: string) =>
    ({ metadata: { name: 'f', namespace: 'demo' }, spec: { network: 'public', port: 'web-nic' }, status: { conditions: [{ type: 'Stalled', status, reason, message: '' }] } }) as unknown as FloatingIP;

  it('is one Stalled for the clash, not one stalled for another reason, nor one that stalled once and recovered', () => {
    assert.ok(lostFixedIPClash(withStalled('True', PORT_ALREADY_ASSOCIATED)));
    assert.ok(!lostFixedIPClash(withStalled('True', 'PortNotFound')));
    assert.ok(!lostFixedIPClash(withStalled('False', PORT_ALREADY_ASSOCIATED)));
    assert.ok(!lostFixedIPClash({ metadata: { name: 'f' }, spec: { network: 'public' } } as unknown as FloatingIP));
  });
});
