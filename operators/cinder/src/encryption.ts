/**
 * A volume type's encryption (Cinder's volume type encryption): how its volumes would be encrypted (provider,
 * cipher, key size, and whether the hypervisor or the backend does it). Cinder gets each volume's key from a
 * key manager (Barbican); this cloud has none, so volumes of an encrypted type are refused, saying why, rather
 * than made in the clear. Pure.
 */
import { createHash } from 'node:crypto';
import type { VolumeType } from './resources.js';

export const CONTROL_LOCATIONS = ['front-end', 'back-end'] as const;

export interface TypeEncryption {
  provider: string;
  controlLocation: (typeof CONTROL_LOCATIONS)[number];
  cipher?: string | null;
  keySize?: number | null;
}

/** The ID Cinder gives an encryption (a row of its own): derived from the type's, so it is stable and needs no store. */
export function encryptionIdOf(typeUid: string): string {
  const h = createHash('sha1').update(`${typeUid}/encryption`).digest('hex');
  // A name-based UUID (version 5, RFC 4122 variant).
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * An encryption as a create (`partial` false: provider and control_location required) or an update (every field
 * optional) asks for it, in Cinder's field names; or the message Cinder's schema refuses it with.
 */
export function encryptionAsked(body: unknown, partial: boolean): Partial<TypeEncryption> | { refused: string } {
  const e = (body as { encryption?: unknown } | undefined)?.encryption;
  if (!e || typeof e !== 'object' || Array.isArray(e)) return { refused: "'encryption' is a required property" };
  const r = e as Record<string, unknown>;
  const extra = Object.keys(r).filter((k) => !['provider', 'control_location', 'cipher', 'key_size'].includes(k));
  if (extra.length) return { refused: `Additional properties are not allowed ('${extra.join("', '")}' ${extra.length > 1 ? 'were' : 'was'} unexpected)` };
  if (!partial) for (const k of ['provider', 'control_location']) if (r[k] === undefined) return { refused: `'${k}' is a required property` };
  const out: Partial<TypeEncryption> = {};
  if (r.provider !== undefined) {
    if (typeof r.provider !== 'string' || r.provider.length > 255) return { refused: 'provider must be a string of at most 255 characters' };
    out.provider = r.provider;
  }
  if (r.control_location !== undefined) {
    if (!CONTROL_LOCATIONS.includes(r.control_location as TypeEncryption['controlLocation'])) return { refused: `control_location must be one of ${CONTROL_LOCATIONS.join(', ')}` };
    out.controlLocation = r.control_location as TypeEncryption['controlLocation'];
  }
  if (r.cipher !== undefined) {
    if (r.cipher !== null && (typeof r.cipher !== 'string' || r.cipher.length > 255)) return { refused: 'cipher must be a string of at most 255 characters, or null' };
    out.cipher = r.cipher as string | null;
  }
  if (r.key_size !== undefined) {
    const n = typeof r.key_size === 'string' && /^[0-9]+$/.test(r.key_size) ? Number(r.key_size) : r.key_size;
    if (n !== null && (typeof n !== 'number' || !Number.isInteger(n) || n < 0)) return { refused: 'key_size must be a whole number of bits, or null' };
    out.keySize = n as number | null;
  }
  return out;
}

/** An encryption as Cinder's API shows it, for a type. */
export function encryptionView(t: VolumeType, e: TypeEncryption) {
  return { volume_type_id: t.metadata.uid!, encryption_id: encryptionIdOf(t.metadata.uid!), provider: e.provider, control_location: e.controlLocation, cipher: e.cipher ?? null, key_size: e.keySize ?? null };
}

/** Why volumes of this type cannot be made here, or undefined. */
export function encryptedTypeRefusal(t: VolumeType): string | undefined {
  if (!t.spec.encryption) return undefined;
  return `Volume type ${t.spec.displayName ?? t.metadata.name} is encrypted (${t.spec.encryption.provider}): its volumes need a key from a key manager, and this cloud has none.`;
}
