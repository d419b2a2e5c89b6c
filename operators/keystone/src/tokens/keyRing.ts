/**
 * Fernet keys as Keystone keeps them: numbered, 0 is the staged key (next to become primary, already
 * accepted so that replicas that have not seen a rotation yet still validate), the highest number is the
 * primary that signs new tokens, and the rest are old primaries kept to validate tokens they signed.
 */
import { newFernetKey } from './fernet.js';

export type KeyRing = Record<string, string>;

export const FERNET_KEYS_SECRET = 'keystone-fernet-keys';
/** Keystone's default `max_active_keys`: staged, primary and one secondary. */
export const DEFAULT_MAX_ACTIVE_KEYS = 3;

const indices = (ring: KeyRing) => Object.keys(ring).map(Number).filter(Number.isInteger).sort((a, b) => a - b);

/** The ring from its Secret's `data` (each key base64-encoded once more, as Secret data is). */
export const keyRingFromSecretData = (data: Record<string, string>): KeyRing =>
  Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

export const keyRingToSecretData = (ring: KeyRing): Record<string, string> =>
  Object.fromEntries(Object.entries(ring).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));

/** A new ring as `keystone-manage fernet_setup` makes it: a staged key 0 and a primary key 1. */
export const initialKeyRing = (): KeyRing => ({ '0': newFernetKey(), '1': newFernetKey() });

export function primaryKey(ring: KeyRing): string {
  const top = indices(ring).at(-1);
  if (top === undefined || top === 0) throw new Error('the Fernet key ring has no primary key');
  return ring[String(top)];
}

/** Every key a token may have been made with, primary first. */
export const validationKeys = (ring: KeyRing): string[] => indices(ring).reverse().map((i) => ring[String(i)]);

/**
 * `keystone-manage fernet_rotate`: the staged key becomes the new primary, a new staged key is made, and
 * the oldest secondaries go until at most `maxActive` keys remain.
 */
export function rotateKeyRing(ring: KeyRing, maxActive = DEFAULT_MAX_ACTIVE_KEYS): KeyRing {
  if (maxActive < 2) throw new Error('max active keys must be at least 2 (staged and primary)');
  const present = indices(ring);
  if (!present.includes(0)) throw new Error('the Fernet key ring has no staged key 0');
  const next: KeyRing = { ...ring, [String((present.at(-1) ?? 0) + 1)]: ring['0'], '0': newFernetKey() };
  const secondaries = indices(next).filter((i) => i !== 0);
  while (secondaries.length + 1 > maxActive) delete next[String(secondaries.shift())];
  return next;
}
