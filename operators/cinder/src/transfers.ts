/**
 * Volume transfers (Cinder's os-volume-transfer, and volume-transfers since 3.55), the decisions, pure: an
 * offer is kept on the volume (TRANSFER_ANNOTATION) with its auth key's salted hash, never the key; accepting
 * it moves the volume to the accepting project's namespace as a new object that keeps the volume's ID and takes
 * over its data (TAKEN_OVER_ANNOTATION), while the first object, marked handed over, goes without deleting it.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { HANDED_OVER_ANNOTATION, TAKEN_OVER_ANNOTATION, TRANSFER_ANNOTATION, USER_ID_ANNOTATION, VOLUME_ID_ANNOTATION, idOf, type Volume } from './resources.js';

export interface TransferRecord {
  id: string;
  name: string | null;
  createdAt: string;
  salt: string;
  /** sha256 of salt and auth key, hex. */
  hash: string;
  noSnapshots: boolean;
}

/** What the new object takes over from the first: where the data is and what was made of it. */
export interface TakenOver {
  backend: string;
  pool: string;
  sizeGiB: number;
  bootable: boolean;
  madeFrom: string;
  imageMetadata?: Record<string, string>;
  /** The first object, namespace/name. */
  from: string;
}

const hashOf = (salt: string, key: string) => createHash('sha256').update(salt).update(key).digest('hex');

/** A new offer and its auth key (shown once, as Cinder's: 16 characters). */
export function newTransfer(name: string | null, noSnapshots: boolean, now = new Date()): { record: TransferRecord; authKey: string } {
  const authKey = randomBytes(8).toString('hex');
  const salt = randomBytes(8).toString('hex');
  return { record: { id: randomUUID(), name, createdAt: now.toISOString(), salt, hash: hashOf(salt, authKey), noSnapshots }, authKey };
}

/** Whether `key` is the offer's auth key (compared in constant time). */
export function keyMatches(t: TransferRecord, key: string): boolean {
  const want = Buffer.from(t.hash, 'hex');
  const got = Buffer.from(hashOf(t.salt, key), 'hex');
  return want.length === got.length && timingSafeEqual(want, got);
}

/** The offer a volume carries, or undefined (none, or not one this code wrote). */
export function transferOf(v: Volume): TransferRecord | undefined {
  const raw = v.metadata.annotations?.[TRANSFER_ANNOTATION];
  if (!raw) return undefined;
  try {
    const t = JSON.parse(raw) as Partial<TransferRecord>;
    return typeof t.id === 'string' && typeof t.salt === 'string' && typeof t.hash === 'string' ? { id: t.id, name: t.name ?? null, createdAt: t.createdAt ?? '', salt: t.salt, hash: t.hash, noSnapshots: t.noSnapshots === true } : undefined;
  } catch {
    return undefined;
  }
}

export const handedOver = (v: Volume): boolean => !!v.metadata.annotations?.[HANDED_OVER_ANNOTATION];

export function takenOverOf(v: Volume): TakenOver | undefined {
  const raw = v.metadata.annotations?.[TAKEN_OVER_ANNOTATION];
  if (!raw) return undefined;
  try {
    const t = JSON.parse(raw) as Partial<TakenOver>;
    return typeof t.backend === 'string' && typeof t.pool === 'string' && typeof t.sizeGiB === 'number' ? (t as TakenOver) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The Volume that carries `v` into namespace `to` for the accepting user: the same OpenStack ID, name, size,
 * type and metadata, and what was made (its data stays where it is). Undefined when `v` is not yet made.
 */
export function movedVolume(v: Volume, to: string, name: string, userId: string): Volume | undefined {
  const s = v.status;
  if (!s?.backend || !s.pool || !s.madeFrom) return undefined;
  const taken: TakenOver = { backend: s.backend, pool: s.pool, sizeGiB: s.sizeGiB ?? v.spec.sizeGiB, bootable: s.bootable ?? false, madeFrom: s.madeFrom, ...(s.imageMetadata ? { imageMetadata: s.imageMetadata } : {}), from: `${v.metadata.namespace}/${v.metadata.name}` };
  const { source: _source, restoreFromBackup: _restore, ...spec } = v.spec;
  return {
    apiVersion: v.apiVersion ?? 'blockstorage.stratus.io/v1alpha1',
    kind: 'Volume',
    metadata: {
      name,
      namespace: to,
      annotations: { [VOLUME_ID_ANNOTATION]: idOf(v), [USER_ID_ANNOTATION]: userId, [TAKEN_OVER_ANNOTATION]: JSON.stringify(taken) },
    },
    spec: { ...spec, sizeGiB: taken.sizeGiB, ...(s.volumeType ? { volumeType: s.volumeType } : {}) },
  };
}

/** Why a tenant's write of a Volume or VolumeBackup touches what only the Block Storage API writes (an ID, a transfer, an import), or undefined. */
export function reservedAnnotationChange(reserved: readonly string[], now: { metadata: Volume['metadata'] }, before: { metadata: Volume['metadata'] } | undefined, what = 'volume transfers'): string | undefined {
  const changed = reserved.filter((k) => now.metadata.annotations?.[k] !== before?.metadata.annotations?.[k]);
  return changed.length ? `metadata.annotations[${changed.join(', ')}]: set by the Block Storage API only (${what})` : undefined;
}
