/** The dashboard's decisions, pure: who sees which object live, the sealed session and its CSRF token, YAML as kubectl prints it. */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { parse } from 'yaml';
import { LIVE_KINDS, SessionSealer, cookieValue, kubectlYaml, sessionCookie } from '../src/server/index.js';
import { LiveOrder } from '../src/shared/liveOrder.js';
import { parseSpecs } from '../src/shared/groupSpecs.js';
import { ruleText } from '../src/shared/securityRules.js';
import { portLabel } from '../src/shared/portLabel.js';
import { changedLimits } from '../src/shared/quotaEdits.js';

const obj = (namespace: string | undefined, spec: Record<string, unknown> = {}, name = 'x') => ({ metadata: { name, namespace, uid: '0f0e0d0c-0b0a-4909-8807-060504030201' }, spec });
const member = { namespace: 'acme', admin: false };
const admin = { namespace: 'admin', admin: true };

describe('dashboard decisions', () => {
  it("shows a member their tenant's servers, volumes, snapshots, backups, groups, group snapshots, subnets, routers, floating IPs and security groups only, as the APIs' policy does", () => {
    for (const kind of ['servers', 'volumes', 'snapshots', 'backups', 'groups', 'groupsnapshots', 'subnets', 'routers', 'floatingips', 'securitygroups'] as const) {
      assert.equal(LIVE_KINDS[kind].visible(obj('acme'), member), true, kind);
      assert.equal(LIVE_KINDS[kind].visible(obj('other'), member), false, kind);
      assert.equal(LIVE_KINDS[kind].visible(obj('other'), admin), true, kind);
    }
  });

  it('shows public images and shared networks to everyone, admin pages to admins only', () => {
    assert.equal(LIVE_KINDS.images.visible(obj('other', { visibility: 'public' }), member), true);
    assert.equal(LIVE_KINDS.images.visible(obj('other', { visibility: 'private' }), member), false);
    assert.equal(LIVE_KINDS.networks.visible(obj('other', { shared: true }), member), true);
    assert.equal(LIVE_KINDS.networks.visible(obj('other'), member), false);
    assert.equal(LIVE_KINDS.hypervisors.visible(obj(undefined), member), false);
    assert.equal(LIVE_KINDS.hypervisors.visible(obj(undefined), admin), true);
    assert.equal(LIVE_KINDS.projects.visible(obj(undefined, {}, 'acme'), member), true, 'their own project');
    assert.equal(LIVE_KINDS.projects.visible(obj(undefined, {}, 'other'), member), false);
    assert.equal(LIVE_KINDS.flavors.visible(obj(undefined, { isPublic: false }), member), false);
    assert.equal(LIVE_KINDS.grouptypes.visible(obj(undefined, {}), member), true, 'a group type is public unless it says otherwise');
    assert.equal(LIVE_KINDS.grouptypes.visible(obj(undefined, { isPublic: false }), member), false);
    assert.equal(LIVE_KINDS.grouptypes.visible(obj(undefined, { isPublic: false }), admin), true);
  });

  it("reads a group type's specs from the dialog's key=value lines, and names a line that is not one", () => {
    assert.deepEqual(parseSpecs('consistent_group_snapshot_enabled = <is> True\n\n tier=gold=1 '), { consistent_group_snapshot_enabled: '<is> True', tier: 'gold=1' });
    assert.deepEqual(parseSpecs(''), {});
    assert.throws(() => parseSpecs('tier=gold\nfast'), /"fast" is not/);
    assert.throws(() => parseSpecs('=gold'), /"=gold" is not/);
  });

  it('says a security group rule in a few words: ports for TCP and UDP, type and code for ICMP, where from or to', () => {
    assert.equal(ruleText({ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0' }), 'ingress tcp 22 from 0.0.0.0/0');
    assert.equal(ruleText({ direction: 'ingress', ethertype: 'IPv4', protocol: 'udp', port_range_min: 8000, port_range_max: 8080, remote_ip_prefix: '10.0.0.0/8' }), 'ingress udp 8000-8080 from 10.0.0.0/8');
    assert.equal(ruleText({ direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', port_range_min: 8, port_range_max: 0, remote_ip_prefix: null }), 'ingress icmp type 8 code 0 from any IPv4');
    assert.equal(ruleText({ direction: 'egress', ethertype: 'IPv6', protocol: null }), 'egress any to any IPv6');
    assert.equal(ruleText({ direction: 'ingress', ethertype: 'IPv4', protocol: null, remote_group_id: 'g1' }, (id) => (id === 'g1' ? 'default' : id)), 'ingress any from group default IPv4');
  });

  it("names a floating IP's target port by its server, else by its own name or ID, then its address", () => {
    const servers = (id: string) => (id === 's1' ? 'web-1' : undefined);
    assert.equal(portLabel({ id: 'p1', name: '', device_id: 's1', fixed_ips: [{ ip_address: '10.0.0.5' }] }, servers), 'web-1: 10.0.0.5');
    assert.equal(portLabel({ id: 'p2', name: 'lb-vip', device_id: '', fixed_ips: [{ ip_address: '10.0.0.9' }] }, servers), 'lb-vip: 10.0.0.9');
    assert.equal(portLabel({ id: 'p3', name: '', device_id: 'gone', fixed_ips: [{ ip_address: '10.0.0.7' }] }, servers), 'p3: 10.0.0.7', "a server the caller cannot see: the port's ID");
  });

  it("writes only the quota limits an admin changed, by service, and names a field that holds no limit", () => {
    const current = { 'compute.instances': 10, 'compute.cores': 20, 'network.port': 50 };
    assert.deepEqual(changedLimits(current, { 'compute.instances': '10', 'compute.cores': ' 40 ', 'network.port': '-1' }), { compute: { cores: 40 }, network: { port: -1 } });
    assert.deepEqual(changedLimits(current, {}), {});
    assert.throws(() => changedLimits(current, { 'compute.cores': 'lots' }), /vCPUs: "lots" is not a limit/);
    assert.throws(() => changedLimits(current, { 'compute.cores': '-2' }), /vCPUs: "-2" is not a limit/);
  });

  it('names objects by the IDs the APIs show', () => {
    assert.equal(LIVE_KINDS.servers.idOf(obj('acme')), '0f0e0d0c-0b0a-4909-8807-060504030201');
    assert.equal(LIVE_KINDS.projects.idOf(obj(undefined)), '0f0e0d0c0b0a49098807060504030201', "Keystone's IDs have no dashes");
    assert.equal(LIVE_KINDS.images.idOf(obj('acme', {}, '11111111-2222-4333-8444-555555555555')), '11111111-2222-4333-8444-555555555555', 'an image made with an ID is named by it');
    assert.equal(LIVE_KINDS.flavors.idOf(obj(undefined, {}, 'm1.tiny')), 'm1.tiny');
    const imported = { ...obj('acme'), metadata: { ...obj('acme').metadata, annotations: { 'blockstorage.stratus.io/id': '99999999-2222-4333-8444-555555555555' } } };
    assert.equal(LIVE_KINDS.backups.idOf(obj('acme')), '0f0e0d0c-0b0a-4909-8807-060504030201');
    assert.equal(LIVE_KINDS.backups.idOf(imported), '99999999-2222-4333-8444-555555555555', "an imported backup by its record's ID, as Cinder shows it");
    assert.equal(LIVE_KINDS.volumes.idOf(imported), '99999999-2222-4333-8444-555555555555', 'a transferred volume by the ID it had');
  });

  it('seals the token so the browser cannot read or change it, and binds the CSRF token to it', () => {
    const sealer = new SessionSealer(randomBytes(32));
    const sealed = sealer.seal('gAAAAAB-token');
    assert.ok(!sealed.includes('token'), 'the cookie does not show the token');
    assert.equal(sealer.open(sealed), 'gAAAAAB-token');
    const tampered = Buffer.from(sealed, 'base64url');
    tampered[tampered.length - 1] ^= 1;
    assert.equal(sealer.open(tampered.toString('base64url')), undefined, 'a changed cookie is no session');
    assert.equal(new SessionSealer(randomBytes(32)).open(sealed), undefined, "another key's cookie is no session");
    assert.equal(sealer.open('short'), undefined);
    const csrf = sealer.csrfFor('gAAAAAB-token');
    assert.equal(sealer.csrfValid('gAAAAAB-token', csrf), true);
    assert.equal(sealer.csrfValid('another-token', csrf), false, "one session's CSRF token is not another's");
    assert.equal(sealer.csrfValid('gAAAAAB-token', undefined), false);
  });

  it('writes an HttpOnly, SameSite=Strict cookie for the dashboard only, and ends it', () => {
    assert.equal(sessionCookie('abc', { path: '/dashboard', secure: true, maxAgeSeconds: 60 }), 'stratus_session=abc; Path=/dashboard; HttpOnly; SameSite=Strict; Secure; Max-Age=60');
    assert.match(sessionCookie('', { path: '/dashboard', secure: false }), /^stratus_session=; .*Max-Age=0$/);
    assert.equal(cookieValue('a=1; stratus_session=xyz; b=2', 'stratus_session'), 'xyz');
    assert.equal(cookieValue(undefined, 'stratus_session'), undefined);
  });

  it("prints YAML as kubectl does: no managedFields, keys in order, lists flush with their key, go-yaml's quoting", () => {
    const text = kubectlYaml({ kind: 'Instance', apiVersion: 'compute.stratus.io/v1alpha1', metadata: { name: 'web', creationTimestamp: '2026-11-29T02:15:49Z', finalizers: ['b', 'a'], managedFields: [{ manager: 'x' }], annotations: { flag: 'yes', count: '0' } }, spec: { flavor: 'm1.tiny' } } as never);
    assert.equal(text.split('\n')[0], 'apiVersion: compute.stratus.io/v1alpha1');
    assert.ok(!text.includes('managedFields'));
    assert.match(text, /creationTimestamp: "2026-11-29T02:15:49Z"/);
    assert.match(text, /flag: "yes"/);
    assert.match(text, /count: "0"/);
    assert.match(text, /finalizers:\n  - b\n  - a\n/);
    assert.deepEqual(parse(text).metadata.finalizers, ['b', 'a']);
    // go-yaml's quoting: double where the type would change, single where only the syntax needs it.
    const quoted = kubectlYaml({ metadata: { annotations: { a: 'ACTIVE: running', b: '', c: '&anchor', d: '0o17', e: 'plain words', f: 'null' } } } as never);
    assert.match(quoted, /a: 'ACTIVE: running'\n/);
    assert.match(quoted, /b: ""\n/);
    assert.match(quoted, /c: '&anchor'\n/);
    assert.match(quoted, /d: "0o17"\n/);
    assert.match(quoted, /e: plain words\n/);
    assert.match(quoted, /f: "null"\n/);
  });

  it('never lets a read answered after a deletion bring the deleted object back', () => {
    const order = new LiveOrder();
    const modified = order.changed('a', false);
    // The page asks for 'a' after its change; the deletion arrives before the answer.
    order.changed('a', true);
    assert.equal(order.current('a', modified), false, 'the late answer is not shown');
    const again = order.changed('b', false);
    assert.equal(order.current('b', again), true, "a read answering its object's latest change is shown");
    order.changed('b', false);
    assert.equal(order.current('b', again), false, 'and is not once a newer change came, whose own read is');
  });

  it('sets a whole list read against the changes that came while it was read', () => {
    const order = new LiveOrder();
    order.changed('kept', false);
    const since = order.now();
    order.changed('deleted', true);
    order.changed('changed', false);
    order.changed('added', false);
    const answer = [{ id: 'kept', v: 1 }, { id: 'deleted', v: 1 }, { id: 'changed', v: 1 }];
    const shown = [{ id: 'added', v: 2 }, { id: 'changed', v: 2 }, { id: 'deleted', v: 1 }];
    assert.deepEqual(order.mergeList(answer, since, shown), [{ id: 'added', v: 2 }, { id: 'kept', v: 1 }, { id: 'changed', v: 2 }]);
    assert.deepEqual(order.mergeList(answer, since, undefined), [{ id: 'kept', v: 1 }], 'a changed object not yet shown is left for its own read');
  });
});
