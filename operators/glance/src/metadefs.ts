/** The MetadefNamespace reconciler: a namespace only describes, so it holds its unique name and is Ready. */
import { holdUniqueName, markReady, patchStatus, type ReconcileContext, type Request, type Result } from '@stratus/runtime';
import { FIELD_MANAGER, METADEF_NAMESPACES, type MetadefNamespace } from './resources.js';

export const metadefNamespaceKey = (name: string) => ({ kind: 'metadef-namespace', scope: '', name });

export async function reconcileMetadefNamespace(req: Request, ctx: ReconcileContext<MetadefNamespace>): Promise<Result | void> {
  const ns = await ctx.client.get<MetadefNamespace>(METADEF_NAMESPACES, undefined, req.name);
  if (!ns) return;
  const taken = await holdUniqueName(ctx, ns, metadefNamespaceKey(ns.spec.namespace), { resource: METADEF_NAMESPACES, apiVersion: ns.apiVersion, kind: 'MetadefNamespace', metadata: ns.metadata }, FIELD_MANAGER);
  if (taken) return taken;
  const parts = `${Object.keys(ns.spec.properties ?? {}).length} properties, ${ns.spec.objects?.length ?? 0} objects, ${ns.spec.tags?.length ?? 0} tags`;
  await patchStatus(ctx.client, METADEF_NAMESPACES, ns, { phase: 'Active', conditions: markReady(ns.status?.conditions, ns.metadata.generation, 'Defined', parts) }, FIELD_MANAGER);
}
