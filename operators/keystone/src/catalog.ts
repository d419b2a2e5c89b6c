/**
 * The Service and Endpoint reconcilers: the catalog has no outside state, so reconciling it means checking
 * that each Endpoint names an existing Service and saying so in status.
 */
import { markReady, markStalled, patchStatus, type ReconcileContext, type Request } from '@stratus/runtime';
import { ENDPOINTS, FIELD_MANAGER, SERVICES, openstackId, type CatalogEndpoint, type CatalogService } from './resources.js';

export async function reconcileService(req: Request, ctx: ReconcileContext<CatalogService>): Promise<void> {
  const svc = await ctx.client.get<CatalogService>(SERVICES, undefined, req.name);
  if (!svc) return;
  const enabled = svc.spec.enabled !== false;
  await patchStatus(ctx.client, SERVICES, svc, {
    phase: enabled ? 'Active' : 'Disabled',
    serviceId: openstackId(svc.metadata.uid),
    conditions: markReady(svc.status?.conditions, svc.metadata.generation, enabled ? 'InCatalog' : 'Disabled', enabled ? `${svc.spec.type} is in the catalog` : 'the service is disabled'),
  }, FIELD_MANAGER);
}

export async function reconcileEndpoint(req: Request, ctx: ReconcileContext<CatalogEndpoint>): Promise<void> {
  const ep = await ctx.client.get<CatalogEndpoint>(ENDPOINTS, undefined, req.name);
  if (!ep) return;
  const gen = ep.metadata.generation;
  const svc = await ctx.client.get<CatalogService>(SERVICES, undefined, ep.spec.service);
  if (!svc) {
    await patchStatus(ctx.client, ENDPOINTS, ep, {
      phase: 'Error',
      endpointId: openstackId(ep.metadata.uid),
      conditions: markStalled(ep.status?.conditions, gen, 'ServiceNotFound', `service ${ep.spec.service} does not exist`),
    }, FIELD_MANAGER);
    return; // the operator watches what is missing: its creation brings this object back
  }
  const enabled = ep.spec.enabled !== false;
  await patchStatus(ctx.client, ENDPOINTS, ep, {
    phase: enabled ? 'Active' : 'Disabled',
    endpointId: openstackId(ep.metadata.uid),
    conditions: markReady(ep.status?.conditions, gen, enabled ? 'InCatalog' : 'Disabled', `${ep.spec.interface} ${svc.spec.type} endpoint ${ep.spec.url}`),
  }, FIELD_MANAGER);
}
