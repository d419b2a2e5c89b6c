/**
 * Fernet (github.com/fernet/spec): AES-128-CBC then HMAC-SHA256 over version, timestamp, IV and ciphertext.
 * The token carries its own issue time; a key is 32 bytes, base64url: signing half, then encryption half.
 * As Keystone does, the base64 padding is dropped from tokens.
 */
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

const VERSION = 0x80;
const HEADER = 1 + 8 + 16;
const MAC = 32;

export const newFernetKey = () => randomBytes(32).toString('base64url');

/**
 * The key's halves as KeyObjects, made once per key: Node 24 turns a Buffer key into a KeyObject on every
 * createHmac/createDecipheriv, which made token validation three times slower than on Node 20 (measured).
 * A key ring holds a handful of keys; the bound keeps keys rotated out over a long run from piling up.
 */
const halves = new Map<string, { signing: KeyObject; encryption: KeyObject }>();
function split(key: string) {
  const known = halves.get(key);
  if (known) return known;
  const raw = Buffer.from(key, 'base64url');
  if (raw.length !== 32) throw new Error(`a Fernet key is 32 bytes, this one is ${raw.length}`);
  const made = { signing: createSecretKey(raw.subarray(0, 16)), encryption: createSecretKey(raw.subarray(16)) };
  if (halves.size >= 64) halves.clear();
  halves.set(key, made);
  return made;
}

export function fernetEncrypt(key: string, plaintext: Buffer, issuedAtSeconds = Math.floor(Date.now() / 1000)): string {
  const { signing, encryption } = split(key);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', encryption, iv);
  const header = Buffer.alloc(HEADER);
  header[0] = VERSION;
  header.writeBigUInt64BE(BigInt(issuedAtSeconds), 1);
  iv.copy(header, 9);
  const body = Buffer.concat([header, cipher.update(plaintext), cipher.final()]);
  const mac = createHmac('sha256', signing).update(body).digest();
  return Buffer.concat([body, mac]).toString('base64url');
}

export interface Decrypted {
  plaintext: Buffer;
  issuedAtSeconds: number;
}

/** The plaintext, or undefined when this key did not make the token or the token was altered. */
export function fernetDecrypt(key: string, token: string): Decrypted | undefined {
  const raw = Buffer.from(token, 'base64url');
  if (raw.length < HEADER + 16 + MAC || raw[0] !== VERSION) return undefined;
  const { signing, encryption } = split(key);
  const body = raw.subarray(0, raw.length - MAC);
  const mac = createHmac('sha256', signing).update(body).digest();
  if (!timingSafeEqual(mac, raw.subarray(raw.length - MAC))) return undefined;
  const decipher = createDecipheriv('aes-128-cbc', encryption, raw.subarray(9, HEADER));
  try {
    const plaintext = Buffer.concat([decipher.update(raw.subarray(HEADER, raw.length - MAC)), decipher.final()]);
    return { plaintext, issuedAtSeconds: Number(raw.readBigUInt64BE(1)) };
  } catch {
    return undefined;
  }
}
