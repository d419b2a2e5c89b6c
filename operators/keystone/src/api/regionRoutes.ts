/**
 * /v3/regions: Region resources, whose IDs their makers choose (held unique by a claim, as Keystone's primary
 * key). A region an Endpoint names without a Region resource (one applied with kubectl) is listed too, as
 * Keystone would have had to know it.
 */
import { randomUUID } from 'node:crypto';
import { NameTaken, objectNameFor, type KubeClient } from '@stratus/runtime';
import { nameClaims, regionIdKey } from '../names.js';
import { REGIONS, type Region } from '../resources.js';
import { API_FIELD_MANAGER, committed, createClaimed, entity, fromKubernetes, gone, matches, optionalString, requireAdmin } from './common.js';
import type { IdentityDirectory } from './directory.js';
import { badRequest, forbidden, notFound } from './errors.js';
import type { Router } from './router.js';
import { regionOf } from './views.js';

interface RegionDoc {
  id: string;
  description: string;
  parent_region_id: string | null;
}

type Lister = (base: string, key: string, items: unknown[]) => { status: number; body: unknown };

/** Makes the Region `id` unless it exists: Keystone does so for an endpoint naming a new region the old way. */
export async function ensureRegion(dir: IdentityDirectory, client: KubeClient, id: string): Promise<void> {
  if (dir.regions.all().some((r) => r.spec.regionId === id && !r.metadata.deletionTimestamp)) return;
  const body: Region = { apiVersion: 'identity.stratus.io/v1alpha1', kind: 'Region', metadata: { name: objectNameFor(id, (n) => !!dir.regions.named(n), 'region') }, spec: { regionId: id } };
  await createClaimed(nameClaims(client, API_FIELD_MANAGER), client, regionIdKey(id), REGIONS, dir.regions, body, `region ${id}`).catch((e) => {
      if (!(e instanceof NameTaken)) fromKubernetes(e, 'region'); // made meanwhile by another request: fine
    });
}

export function regionRoutes(router: Router, dir: IdentityDirectory, client: KubeClient, list: Lister) {
  const claims = nameClaims(client, API_FIELD_MANAGER);
  const stored = (id: string) => dir.regions.all().find((r) => r.spec.regionId === id && !r.metadata.deletionTimestamp);
  /** Every region: the Region resources, and the regions endpoints name that have none. */
  const all = (): RegionDoc[] => {
    const docs = new Map<string, RegionDoc>();
    for (const r of dir.regions.all()) if (!r.metadata.deletionTimestamp) docs.set(r.spec.regionId, { id: r.spec.regionId, description: r.spec.description ?? '', parent_region_id: r.spec.parentRegionId ?? null });
    for (const e of dir.endpoints.all()) if (!docs.has(regionOf(e))) docs.set(regionOf(e), { id: regionOf(e), description: '', parent_region_id: null });
    return [...docs.values()];
  };
  const find = (id: string) => all().find((r) => r.id === id) ?? notFoundRegion(id);
  const view = (r: RegionDoc, base: string) => ({ ...r, links: { self: `${base}/regions/${encodeURIComponent(r.id)}` } });
  /** A parent must exist, and a region may not become its own ancestor. */
  const parentOf = (r: Record<string, unknown>, self?: string): string | undefined => {
    const parent = optionalString(r, 'parent_region_id', 'region');
    if (!parent) return undefined;
    if (!all().some((x) => x.id === parent)) throw notFound('region', parent);
    for (let at: string | null | undefined = parent; at; at = all().find((x) => x.id === at)?.parent_region_id)
      if (at === self) throw badRequest(`Invalid input for field 'region.parent_region_id': region ${self} cannot be its own ancestor.`);
    return parent;
  };

  router.on('GET', '/regions', (req) => list(req.base, 'regions', all().filter((r) => matches(req.query, { parent_region_id: r.parent_region_id ?? '' })).map((r) => view(r, req.base))));
  router.on('GET', '/regions/:id', (req) => ({ status: 200, body: { region: view(find(req.params.id), req.base) } }));

  const create = async (req: { auth: Parameters<typeof requireAdmin>[0]; body: unknown; base: string }, askedId?: string) => {
    requireAdmin(req.auth);
    const r = entity(req.body, 'region');
    const id = askedId ?? optionalString(r, 'id', 'region') ?? randomUUID().replace(/-/g, '');
    if (id.length > 255) throw badRequest("Invalid input for field 'region.id': at most 255 characters.");
    const body: Region = {
      apiVersion: 'identity.stratus.io/v1alpha1',
      kind: 'Region',
      metadata: { name: objectNameFor(id, (n) => !!dir.regions.named(n), 'region') },
      spec: { regionId: id, description: optionalString(r, 'description', 'region'), parentRegionId: parentOf(r) },
    };
    const created = await createClaimed(claims, client, regionIdKey(id), REGIONS, dir.regions, body, `region ${id}`).catch((e) => fromKubernetes(e, 'region'));
    return { status: 201, body: { region: view({ id, description: created.spec.description ?? '', parent_region_id: created.spec.parentRegionId ?? null }, req.base) } };
  };
  router.on('POST', '/regions', (req) => create(req));
  router.on('PUT', '/regions/:id', (req) => create(req, req.params.id));

  router.on('PATCH', '/regions/:id', async (req) => {
    requireAdmin(req.auth);
    const region = stored(req.params.id) ?? notFoundRegion(req.params.id);
    const r = entity(req.body, 'region');
    if (r.id !== undefined && r.id !== region.spec.regionId) throw badRequest("Invalid input for field 'region.id': a region's ID cannot change.");
    const spec: Partial<Region['spec']> = {};
    if (r.description !== undefined) spec.description = optionalString(r, 'description', 'region') ?? '';
    if (r.parent_region_id !== undefined) spec.parentRegionId = parentOf(r, region.spec.regionId) ?? (null as unknown as undefined);
    const updated = await committed(dir.regions, client.patch<Region>(REGIONS, undefined, region.metadata.name, { spec }, API_FIELD_MANAGER), `region ${region.spec.regionId}`);
    return { status: 200, body: { region: view({ id: updated.spec.regionId, description: updated.spec.description ?? '', parent_region_id: updated.spec.parentRegionId ?? null }, req.base) } };
  });

  // As Keystone: a region goes with its child regions, unless one of them still has endpoints.
  router.on('DELETE', '/regions/:id', async (req) => {
    requireAdmin(req.auth);
    const region = stored(req.params.id) ?? notFoundRegion(req.params.id);
    const tree = [region];
    for (let i = 0; i < tree.length; i++) tree.push(...dir.regions.all().filter((c) => c.spec.parentRegionId === tree[i].spec.regionId && !tree.includes(c)));
    const ids = new Set(tree.map((r) => r.spec.regionId));
    if (dir.endpoints.all().some((e) => ids.has(regionOf(e)))) throw forbidden(`Unable to delete region ${region.spec.regionId} because it or its child regions have associated endpoints.`);
    for (const r of tree.reverse()) await client.delete(REGIONS, undefined, r.metadata.name);
    await gone(dir.regions, region.metadata.name);
    return { status: 204 };
  });
}

function notFoundRegion(id: string): never {
  throw notFound('region', id);
}
