#!/usr/bin/env node
/**
 * keystone-manage for Stratus. `fernet-rotate [--max-active-keys N]` rotates the Fernet key ring in
 * stratus-system/keystone-fernet-keys: the staged key becomes primary, a new staged key is made, the oldest
 * keys beyond N go. Every API replica picks the new ring up from its watch.
 */
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, isConflict } from '@stratus/runtime';
import { SECRETS, SYSTEM_NAMESPACE, type Secret } from './resources.js';
import { DEFAULT_MAX_ACTIVE_KEYS, FERNET_KEYS_SECRET, keyRingFromSecretData, keyRingToSecretData, rotateKeyRing } from './tokens/keyRing.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { 'max-active-keys': { type: 'string', default: String(DEFAULT_MAX_ACTIVE_KEYS) } } });
const command = positionals[0];
if (command !== 'fernet-rotate') {
  process.stderr.write('usage: keystone-manage fernet-rotate [--max-active-keys N]\n');
  process.exit(2);
}

const kc = new KubeConfig();
kc.loadFromDefault();
const client = new KubeClient(kc);
for (let attempt = 0; ; attempt++) {
  const secret = await client.get<Secret>(SECRETS, SYSTEM_NAMESPACE, FERNET_KEYS_SECRET);
  if (!secret?.data) {
    process.stderr.write(`secret ${SYSTEM_NAMESPACE}/${FERNET_KEYS_SECRET} does not exist: start the Identity API once to create the key ring\n`);
    process.exit(1);
  }
  const rotated = rotateKeyRing(keyRingFromSecretData(secret.data), Number(values['max-active-keys']));
  try {
    // The resourceVersion makes this a compare-and-swap: two rotations at once cannot lose a key.
    await client.replace(SECRETS, { ...secret, data: keyRingToSecretData(rotated) }, 'keystone-manage');
    const indices = Object.keys(rotated).map(Number).sort((a, b) => a - b);
    process.stdout.write(`rotated: primary key is now ${indices.at(-1)}; keys ${indices.join(', ')}\n`);
    break;
  } catch (e) {
    if (!isConflict(e) || attempt >= 5) throw e;
  }
}
