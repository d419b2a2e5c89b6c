/**
 * The Service, Region and Endpoint reconcilers: the catalog has no outside state, so reconciling it means
 * checking that each Endpoint names an existing Service, that region IDs are unique, and saying so in status.
 */
import { holdUniqueName, markReady, markStalled, patchStatus, type ReconcileContext, type Request, type Result } from '@stratus/runtime';
import { regionIdKey } from './names.js';
import { ENDPOINTS, ENDPOINT_GROUPS, FIELD_MANAGER, REGIONS, SERVICES, openstackId, type CatalogEndpoint, type CatalogService, type EndpointGroup, type Region } from './resources.js';

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

/** An endpoint group only describes: it is Ready with its ID. */
export async function reconcileEndpointGroup(req: Request, ctx: ReconcileContext<EndpointGroup>): Promise<void> {
  const group = await ctx.client.get<EndpointGroup>(ENDPOINT_GROUPS, undefined, req.name);
  if (!group) return;
  const projects = group.spec.projects?.length ?? 0;
  await patchStatus(ctx.client, ENDPOINT_GROUPS, group, { phase: 'Active', endpointGroupId: openstackId(group.metadata.uid), conditions: markReady(group.status?.conditions, group.metadata.generation, 'Defined', `the catalog of ${projects} project${projects === 1 ? '' : 's'}`) }, FIELD_MANAGER);
}

/** A region holds its ID (unique, as Keystone's primary key) and is Ready. */
export async function reconcileRegion(req: Request, ctx: ReconcileContext<Region>): Promise<Result | void> {
  const region = await ctx.client.get<Region>(REGIONS, undefined, req.name);
  if (!region) return;
  const owner = { resource: REGIONS, apiVersion: region.apiVersion, kind: 'Region', metadata: region.metadata };
  const taken = await holdUniqueName(ctx, region, regionIdKey(region.spec.regionId), owner, FIELD_MANAGER);
  if (taken) return taken;
  const parent = region.spec.parentRegionId ? ` in ${region.spec.parentRegionId}` : '';
  await patchStatus(ctx.client, REGIONS, region, { phase: 'Active', conditions: markReady(region.status?.conditions, region.metadata.generation, 'Defined', `region ${region.spec.regionId}${parent}`) }, FIELD_MANAGER);
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
