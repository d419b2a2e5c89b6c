/** Finalizer helpers: each returns the JSON merge patch that makes the change, or undefined when none is needed. */
import type { KubernetesObject } from '@kubernetes/client-node';

export const hasFinalizer = (obj: KubernetesObject, f: string) => (obj.metadata?.finalizers ?? []).includes(f);

export const isDeleting = (obj: KubernetesObject) => !!obj.metadata?.deletionTimestamp;

// The resourceVersion in each patch makes it a compare-and-swap: a concurrent change gets 409, not lost.
export function addFinalizerPatch(obj: KubernetesObject, f: string) {
  if (hasFinalizer(obj, f)) return undefined;
  return { metadata: { finalizers: [...(obj.metadata?.finalizers ?? []), f], resourceVersion: obj.metadata?.resourceVersion } };
}

export function removeFinalizerPatch(obj: KubernetesObject, f: string) {
  if (!hasFinalizer(obj, f)) return undefined;
  return { metadata: { finalizers: (obj.metadata?.finalizers ?? []).filter((x) => x !== f), resourceVersion: obj.metadata?.resourceVersion } };
}

/** One finalizer handed over to another in one write (`from` gone, `to` held), so that neither is ever missing between two writes. */
export function swapFinalizerPatch(obj: KubernetesObject, from: string, to: string) {
  if (!hasFinalizer(obj, from) && hasFinalizer(obj, to)) return undefined;
  const kept = (obj.metadata?.finalizers ?? []).filter((x) => x !== from && x !== to);
  return { metadata: { finalizers: [...kept, to], resourceVersion: obj.metadata?.resourceVersion } };
}
