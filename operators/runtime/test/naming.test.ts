/** The naming model: derived object names (pure), and unique names held by claims on a real API server. */
import { strict as assert } from 'node:assert';
import { KubeConfig } from '@kubernetes/client-node';
import { eventually, startTestControlPlane, type TestControlPlane } from '@stratus/apiserver';
import { DNS_LABEL, KubeClient, NameClaims, NameTaken, SYSTEM_NAMESPACE, claimNameOf, displayNameOf, objectNameFor, slugOf, type NameOwner, type ResourceRef } from '../src/index.js';

const NAMESPACES: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };
const CONFIGMAPS: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', namespaced: true };
/** Any cluster-scoped kind serves as an owner; Namespaces are built in. */
const ownerOf = (ns: { metadata: { name?: string; uid?: string } }): NameOwner => ({ resource: NAMESPACES, apiVersion: 'v1', kind: 'Namespace', metadata: ns.metadata });

describe('naming model', () => {
  describe('object names derived from OpenStack names', () => {
    it('keeps a free DNS label as it is, and derives a slug with a server-made suffix otherwise', () => {
      assert.equal(objectNameFor('web', () => false), 'web');
      assert.match(objectNameFor('web', (n) => n === 'web'), /^web-[b-z2-9]{5}$/);
      assert.match(objectNameFor('Marketing Team', () => false), /^marketing-team-[a-z0-9]{5}$/);
      assert.match(objectNameFor('Équipe Café', () => false), /^equipe-cafe-[a-z0-9]{5}$/);
      assert.match(objectNameFor('東京', () => false, 'project'), /^project-[a-z0-9]{5}$/);
      assert.match(objectNameFor('tempest-TokensV3Test-1234', () => false), /^tempest-tokensv3test-1234-[a-z0-9]{5}$/);
    });

    it('never derives a name the API server would refuse, whatever the text', () => {
      for (const text of ['x'.repeat(300), '--a--', '-', ' ', 'A.B_C', 'a'.repeat(63), 'ß', '😀 party', '9lives']) {
        const made = objectNameFor(text, () => false);
        assert.ok(made.length <= 63 && DNS_LABEL.test(made), `${JSON.stringify(text)} -> ${made}`);
      }
      assert.equal(slugOf('  Alice.Smith  '), 'alice-smith');
    });

    it('reads the OpenStack name from spec.displayName, else the object name', () => {
      assert.equal(displayNameOf({ metadata: { name: 'demo' }, spec: {} }), 'demo');
      assert.equal(displayNameOf({ metadata: { name: 'demo-x7k2q' }, spec: { displayName: 'Demo Team' } }), 'Demo Team');
    });

    it('names a claim by its whole key, so scopes and kinds do not collide', () => {
      const a = claimNameOf({ kind: 'keypair', scope: 'alice', name: 'laptop key' });
      assert.notEqual(a, claimNameOf({ kind: 'keypair', scope: 'bob', name: 'laptop key' }));
      assert.notEqual(a, claimNameOf({ kind: 'flavor', scope: 'alice', name: 'laptop key' }));
      assert.ok(DNS_LABEL.test(a) && a.length <= 63);
    });
  });

  describe('unique names held by claims', function () {
    this.timeout(60_000);
    let plane: TestControlPlane;
    let client: KubeClient;
    let claims: NameClaims;
    const owner = async (name: string) => ownerOf(await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, 'test'));
    const claimsOf = async (uid: string) => (await client.list<any>(CONFIGMAPS, SYSTEM_NAMESPACE, `stratus.io/claimed-by=${uid}`)).items;

    before(async () => {
      plane = await startTestControlPlane();
      const kc = new KubeConfig();
      kc.loadFromString(plane.kubeconfig());
      client = new KubeClient(kc);
      claims = new NameClaims(client, 'test');
      await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NAMESPACE } }, 'test');
    });
    after(() => plane.stop());

    it('gives a name to exactly one of many writers racing for it, and makes nothing for the others', async () => {
      const key = { kind: 'project', scope: 'default', name: 'Marketing Team' };
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) => claims.create(key, { resource: NAMESPACES, apiVersion: 'v1', kind: 'Namespace', metadata: {} }, () => client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `race-${i}` } }, 'test'))),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1, 'one writer holds the name');
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof NameTaken, String(r.reason));
      const made = (await client.list(NAMESPACES)).items.filter((n) => n.metadata?.name?.startsWith('race-'));
      assert.equal(made.length, 1, 'the losers made no object');
      const holder = (won[0] as PromiseFulfilledResult<any>).value;
      const [claim] = await claimsOf(holder.metadata.uid);
      assert.equal(claim?.data?.name, 'Marketing Team', 'the claim is bound to the object that was made');
    });

    it('frees the name when the object cannot be made, and when its owner is deleted', async () => {
      const key = { kind: 'project', scope: 'default', name: 'Short Lived' };
      const failing = claims.create(key, { resource: NAMESPACES, apiVersion: 'v1', kind: 'Namespace', metadata: {} }, () => client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Not A Label' } }, 'test'));
      await assert.rejects(failing, (e: any) => e.code === 422);
      const first = await owner('short-lived-1');
      assert.deepEqual(await claims.claim(key, first), { held: true }, 'the failed create left nothing behind');
      const second = await owner('short-lived-2');
      assert.equal((await claims.claim(key, second)).held, false);
      await client.delete(NAMESPACES, undefined, 'short-lived-1');
      await eventually('the deleted owner no longer holds the name', async () => (await claims.claim(key, second)).held);
    });

    it('renames: the new name is held and the old one freed; a taken new name changes nothing', async () => {
      const a = await owner('rename-a');
      const b = await owner('rename-b');
      const nameA = { kind: 'user', scope: 'default', name: 'Alice' };
      const nameB = { kind: 'user', scope: 'default', name: 'Bob' };
      assert.ok((await claims.claim(nameA, a)).held);
      assert.ok((await claims.claim(nameB, b)).held);
      let wrote = false;
      await assert.rejects(claims.rename(nameB, a, async () => (wrote = true)), NameTaken);
      assert.equal(wrote, false);
      const renamed = { kind: 'user', scope: 'default', name: 'Alice Smith' };
      await claims.rename(renamed, a, async () => undefined);
      assert.deepEqual((await claimsOf(a.metadata.uid!)).map((c: any) => c.data.name), ['Alice Smith']);
      assert.ok((await claims.claim(nameA, b)).held, 'the old name is free for others');
    });

    it('is idempotent for its holder (a reconciler claims on every pass)', async () => {
      const o = await owner('again');
      const key = { kind: 'flavor', scope: '', name: 'm1.tiny' };
      for (let i = 0; i < 3; i++) assert.deepEqual(await claims.ensure(key, o), { held: true });
      assert.equal((await claimsOf(o.metadata.uid!)).length, 1);
    });
  });
});
