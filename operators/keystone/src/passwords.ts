/**
 * Password hashing with scrypt, a memory-hard function in Node's crypto. The encoding carries its
 * parameters, so they can be raised later without invalidating stored hashes.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** N=2^15, r=8: 32 MiB and ~0.1 s per hash on these machines: slow for guessing, fine for sign-in. */
const DEFAULT = { N: 1 << 15, r: 8, p: 1, keyLength: 32 };

const derive = (password: string, salt: Buffer, N: number, r: number, p: number, keyLength: number) =>
  new Promise<Buffer>((resolve, reject) =>
    scrypt(password, salt, keyLength, { N, r, p, maxmem: 256 * N * r }, (err, key) => (err ? reject(err) : resolve(key))),
  );

/** `scrypt$N$r$p$salt$hash`, base64 salt and hash. */
export async function hashPassword(password: string): Promise<string> {
  const { N, r, p, keyLength } = DEFAULT;
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, r, p, keyLength);
  return ['scrypt', N, r, p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const [scheme, N, r, p, salt, hash] = encoded.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await derive(password, Buffer.from(salt, 'base64'), Number(N), Number(r), Number(p), expected.length);
  return timingSafeEqual(key, expected);
}
