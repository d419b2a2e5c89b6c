/** Status writes through the status subresource, made only when something changed. */
import { MERGE_PATCH, isNotFound, type KubeClient, type ResourceRef } from './client.js';

interface WithStatus<S> {
  metadata?: { name?: string; namespace?: string; generation?: number };
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
