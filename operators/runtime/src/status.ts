/** Status writes through the status subresource, made only when something changed. */
import type { KubernetesObject } from '@kubernetes/client-node';
import { MERGE_PATCH, isNotFound, type KubeClient, type ResourceRef } from './client.js';

interface WithStatus<S> {
  metadata?: { name?: string; namespace?: string; generation?: number; resourceVersion?: string };
  status?: S;
}

/**
 * Merges `change` into the object's status, stamps observedGeneration, and writes it unless nothing changed:
 * a needless write would only trigger another reconcile. Returns whether it wrote. An object deleted
 * meanwhile has no status left to write: that is not an error.
 */
export async function patchStatus<S extends object>(client: KubeClient, ref: ResourceRef, obj: WithStatus<S>, change: Partial<S>, fieldManager: string): Promise<boolean> {
  const next = { ...obj.status, ...change, observedGeneration: obj.metadata?.generation };
  if (JSON.stringify(next) === JSON.stringify(obj.status)) return false;
  try {
    await client.patch(ref, obj.metadata?.namespace, obj.metadata!.name!, { status: next }, fieldManager, MERGE_PATCH, 'status');
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
  return true;
}

/**
 * For a status several writers share (an Instance's: the scheduler binds it, its node agent runs it): writes
 * only the fields in `change` that differ from `obj`'s, with obj's resourceVersion, so another writer's fields
 * are never overwritten with a stale copy, and a concurrent change makes this a 409 (the reconcile retries on
 * fresh state; `precondition: false` drops that check, for a writer that alone writes these fields at the
 * time). `null` removes a field. Stamps observedGeneration unless told not to. Returns the object as
 * written (`obj` itself when nothing needed writing, or it was deleted meanwhile), for the next write to build on.
 */
export async function patchStatusChanges<T extends WithStatus<object>>(
  client: KubeClient,
  ref: ResourceRef,
  obj: T,
  change: { [K in keyof NonNullable<T['status']>]?: NonNullable<T['status']>[K] | null },
  fieldManager: string,
  opts: { observedGeneration?: boolean; precondition?: boolean } = {},
): Promise<T> {
  const current = (obj.status ?? {}) as Record<string, unknown>;
  const stamped: Record<string, unknown> = { ...change, ...(opts.observedGeneration === false ? {} : { observedGeneration: obj.metadata?.generation }) };
  const diff = Object.fromEntries(Object.entries(stamped).filter(([k, v]) => JSON.stringify(v ?? undefined) !== JSON.stringify(current[k])));
  if (!Object.keys(diff).length) return obj;
  try {
    const precondition = opts.precondition === false ? {} : { metadata: { resourceVersion: obj.metadata?.resourceVersion } };
    return await client.patch<T & KubernetesObject>(ref, obj.metadata?.namespace, obj.metadata!.name!, { ...precondition, status: diff }, fieldManager, MERGE_PATCH, 'status');
  } catch (e) {
    if (isNotFound(e)) return obj;
    throw e;
  }
}
