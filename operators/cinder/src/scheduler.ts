/**
 * The volume scheduler (cinder-scheduler), pure: a type filter (the type's backend), a capacity filter (room
 * for the size) and a weigher (the most free room wins) pick the pool a new volume goes to.
 */
import type { PoolCapacity } from './backend/types.js';
import type { VolumeType } from './resources.js';

export interface PoolState {
  backend: string;
  pool: string;
  capacity: PoolCapacity;
}

/** The backend a type asks for: spec.backend, else its volume_backend_name extra spec; undefined: any. */
export const backendOfType = (t: VolumeType | undefined) => t?.spec.backend ?? t?.spec.extraSpecs?.volume_backend_name;

/**
 * The backend a retype to `t` would move a volume on `onBackend` to, or undefined when it stays (the type names
 * no backend, or this one). Volumes are not migrated between backends here, so such a retype is refused.
 */
export function retypeMovesTo(t: VolumeType, onBackend: string | undefined): string | undefined {
  const wants = backendOfType(t);
  return wants && onBackend && wants !== onBackend ? wants : undefined;
}

export const typeFilter = (t: VolumeType | undefined) => (p: PoolState) => !backendOfType(t) || backendOfType(t) === p.backend;
export const capacityFilter = (sizeGiB: number) => (p: PoolState) => p.capacity.freeGiB >= sizeGiB;

/** The pool for a volume of `sizeGiB` and type `t`, or why there is none (Cinder's NoValidBackend). */
export function pickPool(pools: readonly PoolState[], t: VolumeType | undefined, sizeGiB: number): { pool: PoolState } | { refused: string } {
  const typed = pools.filter(typeFilter(t));
  if (!typed.length) return { refused: `No valid backend was found. No backend is named ${backendOfType(t)} (volume type ${t?.metadata.name})` };
  const roomy = typed.filter(capacityFilter(sizeGiB));
  if (!roomy.length) return { refused: `No valid backend was found. Insufficient free space for volume creation on ${typed.map((p) => `${p.pool} (${p.capacity.freeGiB} GiB free)`).join(', ')} (requested / avail): ${sizeGiB}/${Math.max(...typed.map((p) => p.capacity.freeGiB))}` };
  return { pool: roomy.reduce((best, p) => (p.capacity.freeGiB > best.capacity.freeGiB ? p : best)) };
}
