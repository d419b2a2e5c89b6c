/**
 * An admin's os-reset_status. Cinder writes the word into its database, where it stays until the object's own
 * state next changes; it fixes records that disagree with the backend. Here every status word is computed from
 * what is true, so the reset is a request (two annotations: the word, and when it was asked, so that asking
 * again for the same word is a new request) that the reconciler records in status with the word it covers.
 * The reset word is shown while the computed word and the spec stay as they were; then the computed word
 * returns, and the same request is not applied again; so it does when the request is taken back (its
 * annotations removed). Cinder's older attach protocol reserves a volume the same way (os-reserve shows
 * attaching; os-unreserve takes it back). Annotations, not spec: a reset changes nothing the
 * reconciler makes, so it must not look like a spec change (a failed object would be tried again).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { READY, STALLED, findCondition, isTrue, type Condition } from '@stratus/runtime';

export const RESET_STATUS_ANNOTATION = 'blockstorage.stratus.io/reset-status';
export const RESET_AT_ANNOTATION = 'blockstorage.stratus.io/reset-at';

/** The words Cinder's admin actions accept, per kind (its admin_actions' valid_status). */
export const RESETTABLE = {
  volume: ['available', 'error', 'in-use', 'creating', 'deleting', 'attaching', 'detaching', 'error_deleting', 'error_extending', 'extending', 'maintenance', 'reserved'],
  snapshot: ['creating', 'available', 'deleting', 'error', 'error_deleting', 'backing-up', 'restoring'],
  backup: ['available', 'error'],
  group: ['creating', 'available', 'updating', 'in-use', 'deleting', 'error', 'error_deleting'],
  groupSnapshot: ['creating', 'available', 'deleting', 'error', 'error_deleting'],
} as const;

/** What the reconciler recorded of the reset it applied. */
export interface ResetMark {
  /** The request's time (its annotation): a new request has another. */
  at: string;
  status: string;
  /** The computed word the reset covers: once the computed word differs, the reset is over. */
  over: string;
  /** The generation when it was applied: a spec change ends it too. */
  generation: number;
  /** Over: the computed word shows again, even should it come back to `over` later. */
  ended?: boolean;
}

export interface ResetRequest {
  status: string;
  at: string;
}

/** A snapshot's progress, as os-update_snapshot_status gave it with its word ("80%"). */
export const PROGRESS_ANNOTATION = 'blockstorage.stratus.io/progress';

/**
 * The annotations that ask for a reset (the API writes them; so may `kubectl annotate`), with the progress an
 * update of a snapshot's status gives.
 */
export const resetAnnotations = (status: string, at = new Date().toISOString(), progress?: string): Record<string, string> => ({ [RESET_STATUS_ANNOTATION]: status, [RESET_AT_ANNOTATION]: at, ...(progress ? { [PROGRESS_ANNOTATION]: progress } : {}) });

/** The annotations that take a request back (a merge patch's nulls). */
export const withdrawnReset = (): Record<string, null> => ({ [RESET_STATUS_ANNOTATION]: null, [RESET_AT_ANNOTATION]: null, [PROGRESS_ANNOTATION]: null });

/**
 * Cinder's os-update_snapshot_status (how Nova's assisted snapshots report on a snapshot being made or
 * deleted): which word may follow which, and a progress that is a whole percentage. The error message Cinder
 * answers with, or undefined when the update stands. Pure.
 */
export function snapshotUpdateRefusal(current: string, asked: string, progress: string | undefined): string | undefined {
  const next: Record<string, string[]> = { creating: ['creating', 'available', 'error'], deleting: ['deleting', 'error_deleting'] };
  if (!next[current]) return `Snapshot status ${current} not allowed for update_snapshot_status`;
  if (!next[current].includes(asked)) return `Provided snapshot status ${asked} not allowed for snapshot with status ${current}.`;
  if (progress !== undefined && !/^(100|[1-9]?[0-9])%$/.test(progress)) return 'progress must be an integer percentage';
  return undefined;
}

/** The progress a snapshot shows: the one its standing status update gave while that word shows, else what its word says. Pure. */
export function snapshotProgress(o: KubernetesObject, shown: string): string {
  const given = o.metadata?.annotations?.[PROGRESS_ANNOTATION];
  if (given && resetRequestOf(o)?.status === shown) return given;
  return shown === 'available' ? '100%' : '0%';
}

/**
 * Reserved by os-reserve: showing attaching because an attaching request stands (the older attach protocol's
 * first step), which os-attach may take and os-unreserve take back. `shown` is the word the API shows.
 */
export const isReserved = (o: KubernetesObject, shown: string): boolean => shown === 'attaching' && resetRequestOf(o)?.status === 'attaching';

export function resetRequestOf(o: KubernetesObject): ResetRequest | undefined {
  const status = o.metadata?.annotations?.[RESET_STATUS_ANNOTATION];
  const at = o.metadata?.annotations?.[RESET_AT_ANNOTATION];
  return status && at ? { status, at } : undefined;
}

/**
 * The word to show, and the mark to keep, given the computed word, the object's reset request and the mark of
 * the last reset applied. Pure.
 */
export function shownStatus(computed: string, request: ResetRequest | undefined, mark: ResetMark | undefined, generation: number): { phase: string; mark: ResetMark | undefined } {
  // `ended: false` is written out: status is merge-patched, and the last mark's `ended: true` must not stay.
  if (request && request.at !== mark?.at) return { phase: request.status, mark: { at: request.at, status: request.status, over: computed, generation, ended: false } };
  if (!mark || mark.ended) return { phase: computed, mark };
  if (!request) return { phase: computed, mark: { ...mark, ended: true } }; // taken back (os-unreserve, or the annotations removed)
  if (mark.over === computed && mark.generation === generation) return { phase: mark.status, mark };
  return { phase: computed, mark: { ...mark, ended: true } };
}

interface Settling extends KubernetesObject {
  status?: { phase?: string; reset?: ResetMark; conditions?: Condition[] };
}

/**
 * The computed word of a snapshot or backup with nothing more to make: `made` once made (Ready), error when
 * refused until its spec changes (Stalled at this generation); undefined while it is being made.
 */
export function settledWord(o: Settling, made = 'available'): string | undefined {
  if (isTrue(o.status?.conditions, READY)) return made;
  const stalled = findCondition(o.status?.conditions, STALLED);
  if (stalled?.status === 'True' && stalled.observedGeneration === o.metadata?.generation) return 'error';
  return undefined;
}

/** Writes the word a settled object shows (its computed word, or an admin's reset of it). */
export async function showSettled(o: Settling, computed: string, write: (change: object) => Promise<void>): Promise<void> {
  const { phase, mark } = shownStatus(computed, resetRequestOf(o), o.status?.reset, o.metadata?.generation ?? 0);
  await write({ phase, reset: mark ?? null });
}

/**
 * The word the API shows before the reconciler has taken a request in: the one asked for (Cinder's API writes
 * it at once, and callers read it back at once, as os-reserve's do), or, once the request is taken back, the
 * computed word it covered. Undefined when status already says it.
 */
export function pendingStatus(o: Settling): string | undefined {
  const request = resetRequestOf(o);
  const mark = o.status?.reset;
  if (request && request.at !== mark?.at) return request.status;
  if (!request && mark && !mark.ended && o.status?.phase === mark.status) return mark.over;
  return undefined;
}
