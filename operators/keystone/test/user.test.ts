/** Passwords and the User reconciler. */
import { strict as assert } from 'node:assert';
import { eventually } from '@stratus/apiserver';
import type { KubeClient } from '@stratus/runtime';
import { SECRETS, SYSTEM_NAMESPACE, USERS, credentialSecretName, hashPassword, verifyPassword, type Secret, type User } from '../src/index.js';
import { startKeystoneEnv, type KeystoneEnv } from './support.js';

describe('password hashing', () => {
  it('verifies the right password only, with a fresh salt each time', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    assert.match(a, /^scrypt\$32768\$8\$1\$/);
    assert.notEqual(a, b, 'salted');
    assert.equal(await verifyPassword('correct horse', a), true);
    assert.equal(await verifyPassword('correct horsf', a), false);
    assert.equal(await verifyPassword('correct horse', 'md5$whatever'), false);
  });
});

describe('Keystone User reconciler', function () {
  this.timeout(30_000);
  let env: KeystoneEnv;
  let client: KubeClient;
  const user = (name: string) => client.get<User>(USERS, undefined, name);
  const credential = () => client.get<Secret>(SECRETS, SYSTEM_NAMESPACE, credentialSecretName('alice'));
  const storedHash = async () => Buffer.from((await credential())!.data!.hash, 'base64').toString();
  const setPassword = (password: string) =>
    client.request('PUT', `/api/v1/namespaces/${SYSTEM_NAMESPACE}/secrets/alice-password`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'alice-password', namespace: SYSTEM_NAMESPACE }, stringData: undefined, data: { password: Buffer.from(password).toString('base64') } });

  before(async () => {
    env = await startKeystoneEnv();
    client = env.client;
  });
  after(() => env.stop());

  it('waits, Stalled with the reason, while the password Secret is missing', async () => {
    await client.create(USERS, { apiVersion: 'identity.stratus.io/v1alpha1', kind: 'User', metadata: { name: 'alice' }, spec: { passwordSecretRef: { name: 'alice-password' } } }, 'test');
    await eventually('Stalled', async () => (await user('alice'))?.status?.conditions?.some((c) => c.type === 'Stalled' && c.reason === 'PasswordSecretNotFound' && c.message.includes('stratus-system/alice-password')) ?? false);
    assert.equal((await user('alice'))!.status!.phase, 'Error');
  });

  it('stores only a hash of the password, owned by the user, and becomes Ready', async () => {
    await setPassword('s3cret-one');
    await eventually('Ready', async () => (await user('alice'))?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false, 15_000);
    const u = (await user('alice'))!;
    assert.equal(u.status!.phase, 'Active');
    assert.match(u.status!.userId!, /^[0-9a-f]{32}$/);
    const cred = (await credential())!;
    assert.equal(cred.metadata.ownerReferences![0].uid, u.metadata.uid);
    const hash = await storedHash();
    assert.ok(!hash.includes('s3cret-one'));
    assert.equal(await verifyPassword('s3cret-one', hash), true);
  });

  it('re-hashes when the password Secret changes, and not otherwise', async () => {
    const before = await storedHash();
    await client.patch(USERS, undefined, 'alice', { spec: { description: 'Alice' } }, 'test');
    await eventually('new generation observed', async () => (await user('alice'))?.status?.observedGeneration === 2);
    assert.equal(await storedHash(), before, 'an unrelated change keeps the hash');
    // The operator watches the Secret: the change alone is enough, and it is quick.
    await setPassword('s3cret-two');
    await eventually('re-hashed', async () => verifyPassword('s3cret-two', await storedHash()), 5_000);
  });

  it('deletes the hash with the user', async () => {
    await client.delete(USERS, undefined, 'alice');
    await eventually('credential collected', async () => !(await credential()));
  });
});
