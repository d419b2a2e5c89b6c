/** Steps every networking reconciler takes the same way: the finalizer on and off, a refusal recorded, the project ID. */
import { addFinalizerPatch, markStalled, patchStatusChanges, removeFinalizerPatch, type KubeClient, type ReconcileContext, type ResourceRef } from '@stratus/runtime';
import { TENANTS, type Tenant } from '@stratus/keystone';
import { FIELD_MANAGER, OVN_FINALIZER, type FloatingIP, type Network, type Port, type Router, type SecurityGroup, type Subnet, type SubnetPool } from './resources.js';

type Obj = Network | Subnet | Port | SecurityGroup | Router | FloatingIP | SubnetPool;

export async function projectIdOf(client: KubeClient, namespace: string): Promise<string | undefined> {
  return (await client.get<Tenant>(TENANTS, undefined, namespace))?.status?.projectId;
}

/** Adds the finalizer guarding the object's OVN rows; true when it wrote (the write brings the object back). */
export async function ensureFinalizer(client: KubeClient, ref: ResourceRef, o: Obj): Promise<boolean> {
  const patch = addFinalizerPatch(o, OVN_FINALIZER);
  if (!patch) return false;
  await client.patch(ref, o.metadata.namespace, o.metadata.name, patch, FIELD_MANAGER);
  return true;
}

export async function releaseFinalizer(client: KubeClient, ref: ResourceRef, o: Obj): Promise<void> {
  const patch = removeFinalizerPatch(o, OVN_FINALIZER);
  if (patch) await client.patch(ref, o.metadata.namespace, o.metadata.name, patch, FIELD_MANAGER);
}

/** Records a refusal once (event and Stalled, phase ERROR), so a user reading `kubectl describe` sees why. */
export async function stall<T extends Obj>(ctx: ReconcileContext<T>, ref: ResourceRef, o: T, reason: string, message: string, extra: object = {}): Promise<void> {
  await recordStall(ctx, ref, o, reason, message, extra);
}

/** `stall`, answering the object as written (for a mechanism that must see the refusal before it syncs). */
export async function recordStall<T extends Obj>(ctx: ReconcileContext<T>, ref: ResourceRef, o: T, reason: string, message: string, extra: object = {}): Promise<T> {
  const current = o.status?.conditions?.find((c) => c.type === 'Stalled');
  if (current?.reason !== reason || current.message !== message) await ctx.events.record(o, 'Warning', reason, message);
  return patchStatusChanges(ctx.client, ref, o as never, { phase: 'ERROR', conditions: markStalled(o.status?.conditions, o.metadata.generation, reason, message), ...extra } as never, FIELD_MANAGER, { precondition: false });
}

/** Whether `a` was made before `b` (by creation time, then name): the older wins a clash between equals. Pure. */
export function madeBefore(a: Obj, b: Obj): boolean {
  const [ta, tb] = [new Date(a.metadata.creationTimestamp ?? 0).getTime(), new Date(b.metadata.creationTimestamp ?? 0).getTime()];
  return ta < tb || (ta === tb && a.metadata.name < b.metadata.name);
}
