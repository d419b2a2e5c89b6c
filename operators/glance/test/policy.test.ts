/** Glance's pure rules, without I/O: visibility, the image document, JSON patches, list queries, headers. */
import { strict as assert } from 'node:assert';
import { canModify, canSee, listedByDefault, type Image } from '../src/index.js';
import { applyPatch, docOfSpec, specOfDoc, validateDoc } from '../src/api/documents.js';
import { md5FromHeader, parseRange } from '../src/api/fileRoutes.js';
import { matchesFilters, page, parseListQuery } from '../src/api/listing.js';
import { formatMatches } from '../src/inspect.js';

const image = (namespace: string, spec: Image['spec']): Image => ({ apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name: 'x', namespace }, spec });
const status = (e: unknown) => (e as { status: number }).status;

describe('Glance visibility', () => {
  const acme = { tenant: 'acme', admin: false };
  const other = { tenant: 'other', admin: false };
  const admin = { tenant: 'admin', admin: true };

  it('shows private and shared images to their owner, shared ones to members, all to admins', () => {
    const priv = image('acme', { visibility: 'private' });
    const shared = image('acme', { visibility: 'shared', members: ['other'] });
    assert.ok(canSee(priv, acme) && !canSee(priv, other) && canSee(priv, admin));
    assert.ok(canSee(shared, other) && !canSee(shared, { tenant: 'third', admin: false }));
    assert.ok(canModify(shared, acme) && !canModify(shared, other) && canModify(shared, admin));
  });

  it("lists a shared image to a member by the member's answer: accepted by default, others when asked", () => {
    const pending = image('acme', { visibility: 'shared', members: ['other'] });
    const accepted = image('acme', { visibility: 'shared', members: ['other'], memberStatus: { other: { status: 'accepted' } } });
    const rejected = image('acme', { visibility: 'shared', members: ['other'], memberStatus: { other: { status: 'rejected' } } });
    assert.ok(!listedByDefault(pending, other) && listedByDefault(pending, other, 'pending'));
    assert.ok(listedByDefault(accepted, other) && !listedByDefault(accepted, other, 'pending'));
    assert.ok(!listedByDefault(rejected, other) && listedByDefault(rejected, other, 'rejected') && listedByDefault(rejected, other, 'all'));
    assert.ok(canSee(rejected, other), 'a member may still use it by ID');
    assert.ok(listedByDefault(pending, acme) && listedByDefault(pending, admin), 'owners and admins see it whatever the answers');
  });

  it('lists community images only to their owner unless asked, while anyone may use them', () => {
    const community = image('acme', { visibility: 'community' });
    assert.ok(canSee(community, other));
    assert.ok(!listedByDefault(community, other));
    assert.ok(listedByDefault(community, acme));
    assert.ok(listedByDefault(image('acme', { visibility: 'public' }), other));
  });
});

describe('Glance image documents and patches', () => {
  it('maps core attributes to spec fields and everything else to properties, both ways', () => {
    const spec = specOfDoc({ name: 'cirros', disk_format: 'qcow2', container_format: 'bare', min_ram: 64, os_distro: 'cirros', tags: ['a', 'a', 'b'] });
    assert.deepEqual(spec, { displayName: 'cirros', diskFormat: 'qcow2', containerFormat: 'bare', minRam: 64, tags: ['a', 'b'], properties: { os_distro: 'cirros' } });
    assert.deepEqual(docOfSpec(spec), { name: 'cirros', disk_format: 'qcow2', container_format: 'bare', min_ram: 64, tags: ['a', 'b'], os_distro: 'cirros' });
  });

  it('refuses bad values naming the attribute, and read-only attributes with 403', () => {
    assert.throws(() => validateDoc({ disk_format: 'floppy' }), /'disk_format'/);
    assert.throws(() => validateDoc({ min_disk: -1 }), /'min_disk'/);
    assert.throws(() => validateDoc({ min_disk: 1e300 }), /'min_disk'.*2147483647/);
    assert.throws(() => validateDoc({ min_ram: 2 ** 31 }), /'min_ram'/);
    assert.throws(() => validateDoc({ hw_disk_bus: 5 }), /'hw_disk_bus'.*string/);
    assert.throws(() => validateDoc({ checksum: 'abc' }), (e) => status(e) === 403);
  });

  it('applies add, replace and remove as Glance does', () => {
    const doc = { name: 'a', os_distro: 'debian' };
    const out = applyPatch(doc, [{ op: 'replace', path: '/name', value: 'b' }, { op: 'add', path: '/hw_rng', value: 'true' }, { op: 'remove', path: '/os_distro' }], { hasData: false });
    assert.deepEqual(out, { name: 'b', hw_rng: 'true' });
    assert.deepEqual(doc, { name: 'a', os_distro: 'debian' }, 'the input is left alone');
    assert.throws(() => applyPatch(doc, [{ op: 'replace', path: '/missing', value: 'x' }], { hasData: false }), (e) => status(e) === 409);
    assert.throws(() => applyPatch(doc, [{ op: 'replace', path: '/status', value: 'active' }], { hasData: false }), (e) => status(e) === 403);
    assert.throws(() => applyPatch(doc, [{ op: 'replace', path: '/disk_format', value: 'raw' }], { hasData: true }), (e) => status(e) === 403);
    assert.throws(() => applyPatch(doc, [{ op: 'move', path: '/name' }], { hasData: false }), (e) => status(e) === 400);
    assert.throws(() => applyPatch(doc, { op: 'add' }, { hasData: false }), (e) => status(e) === 400);
  });
});

describe('Glance list queries', () => {
  const views = ['c', 'a', 'b', 'd'].map((name, i) => ({ id: `id-${name}`, name, size: i * 10, tags: i % 2 ? ['t'] : [], os_hidden: false, created_at: `2026-01-0${i + 1}T00:00:00Z`, disk_format: 'raw' }));

  it('sorts by created_at descending unless told, and pages with marker and limit', () => {
    const q = parseListQuery(new URLSearchParams('limit=3'));
    const first = page(views, q);
    assert.deepEqual(first.items.map((v) => v.name), ['d', 'b', 'a']);
    assert.equal(first.next, 'id-a');
    const second = page(views, parseListQuery(new URLSearchParams(`limit=3&marker=${first.next}`)));
    assert.deepEqual(second.items.map((v) => v.name), ['c']);
    assert.equal(second.next, undefined);
    assert.deepEqual(page(views, parseListQuery(new URLSearchParams('sort=name:asc'))).items.map((v) => v.name), ['a', 'b', 'c', 'd']);
    assert.deepEqual(page(views, parseListQuery(new URLSearchParams('sort_key=size&sort_dir=asc'))).items.map((v) => v.size), [0, 10, 20, 30]);
  });

  it('filters by attribute, tag and size, and refuses unknown sort keys and markers', () => {
    const pick = (qs: string) => views.filter((v) => matchesFilters(v, parseListQuery(new URLSearchParams(qs)))).map((v) => v.name);
    assert.deepEqual(pick('name=b'), ['b']);
    assert.deepEqual(pick('tag=t'), ['a', 'd']);
    assert.deepEqual(pick('size_min=10&size_max=20'), ['a', 'b']);
    assert.deepEqual(pick('name=in:a,c'), ['c', 'a']);
    assert.throws(() => parseListQuery(new URLSearchParams('sort_key=password')), /Invalid sort key/);
    assert.throws(() => page(views, parseListQuery(new URLSearchParams('marker=nope'))), /Invalid marker/);
  });
});

describe('Glance data headers and formats', () => {
  it('reads Content-MD5 as hex or base64', () => {
    assert.equal(md5FromHeader('XrY7u+Ae7tCTyyK7j1rNww=='), '5eb63bbbe01eeed093cb22bb8f5acdc3');
    assert.equal(md5FromHeader('5EB63BBBE01EEED093CB22BB8F5ACDC3'), '5eb63bbbe01eeed093cb22bb8f5acdc3');
    assert.throws(() => md5FromHeader('nope'), /Content-MD5/);
  });

  it('parses byte ranges and refuses ones outside the data', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
    assert.throws(() => parseRange('bytes=100-', 100), (e) => status(e) === 416);
  });

  it('matches detected formats to Glance disk formats', () => {
    assert.ok(formatMatches('qcow2', 'qcow2') && formatMatches('iso', 'raw') && formatMatches('vhd', 'vpc') && formatMatches('aki', 'raw'));
    assert.ok(!formatMatches('qcow2', 'raw') && !formatMatches('raw', 'qcow2'));
  });
});
