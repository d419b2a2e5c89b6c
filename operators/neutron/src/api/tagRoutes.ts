/**
 * The Networking API's tags (`standard-attr-tag`): `/v2.0/<resources>/<id>/tags[/<tag>]` on the seven taggable
 * kinds. The tags live in each object's `spec.tags`, so kubectl sees and sets the same list; list filters
 * (`tags`, `tags-any`, `not-tags`, `not-tags-any`) are in context's listFilter.
 */
import type { IndexedCache, ResourceRef } from '@stratus/runtime';
import { FLOATING_IPS, NETWORKS, PORTS, ROUTERS, SECURITY_GROUPS, SUBNETS, SUBNET_POOLS, idOf } from '../resources.js';
import { TagError, parseTag, parseTagsBody, withTag } from '../tags.js';
import { API_FIELD_MANAGER, fromKubernetes, modifiable, type NetApi, type NetAuth, type NetRouter } from './context.js';
import { invalidInput, notFound } from './errors.js';
import { visibleFloatingIP } from './floatingIPRoutes.js';
import { visibleNetwork, visibleSubnet } from './networkRoutes.js';
import { visiblePort } from './portRoutes.js';
import { visibleRouter } from './routerRoutes.js';
import { visibleGroup } from './securityGroupRoutes.js';
import { visiblePool } from './subnetPoolRoutes.js';

type Tagged = { metadata: { name: string; namespace?: string; resourceVersion?: string }; spec: { tags?: string[] } };
interface Taggable {
  /** Neutron's word for one, in its messages. */
  what: string;
  ref: ResourceRef;
  cache: (api: NetApi) => IndexedCache<Tagged>;
  /** The object, or Neutron's 404 for this caller. */
  visible: (api: NetApi, auth: NetAuth, id: string) => Tagged;
}

const taggable = <T extends Tagged>(what: string, ref: ResourceRef, cache: (api: NetApi) => IndexedCache<T>, visible: (api: NetApi, auth: NetAuth, id: string) => T): Taggable => ({
  what,
  ref,
  cache: cache as unknown as (api: NetApi) => IndexedCache<Tagged>,
  visible,
});

/** The collections whose members take tags, by their path segment. */
const TAGGABLE: Record<string, Taggable> = {
  networks: taggable('network', NETWORKS, (a) => a.dir.networks, visibleNetwork),
  subnets: taggable('subnet', SUBNETS, (a) => a.dir.subnets, visibleSubnet),
  ports: taggable('port', PORTS, (a) => a.dir.ports, visiblePort),
  routers: taggable('router', ROUTERS, (a) => a.dir.routers, visibleRouter),
  floatingips: taggable('floatingip', FLOATING_IPS, (a) => a.dir.floatingIPs, visibleFloatingIP),
  'security-groups': taggable('security_group', SECURITY_GROUPS, (a) => a.dir.groups, visibleGroup),
  subnetpools: taggable('subnetpool', SUBNET_POOLS, (a) => a.dir.pools, visiblePool),
};

const checked = <T>(parse: () => T): T => {
  try {
    return parse();
  } catch (e) {
    if (e instanceof TagError) throw invalidInput(e.message);
    throw e;
  }
};

export function tagRoutes(r: NetRouter, api: NetApi): void {
  for (const [collection, kind] of Object.entries(TAGGABLE)) {
    const tagsOf = (o: Tagged) => o.spec.tags ?? [];
    /** The object for a change: the caller's own (an admin's any), else 403 as Neutron's policy answers. */
    const owned = (auth: NetAuth, id: string) => modifiable(auth, kind.visible(api, auth, id), kind.what, id);
    const write = async (o: Tagged, tags: string[]) => {
      const written = await api.client.patch<Tagged>(kind.ref, o.metadata.namespace, o.metadata.name, { spec: { tags } }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, kind.what));
      await kind.cache(api).seen(written);
      return tagsOf(written);
    };
    const tagNotFound = (tag: string, o: Tagged) => notFound('TagNotFound', `Tag ${tag} could not be found for ${kind.what} ${idOf(o as never)}.`);

    r.on('GET', `/v2.0/${collection}/:id/tags`, ({ auth, params }) => ({ status: 200, body: { tags: tagsOf(kind.visible(api, auth, params.id)) } }));
    r.on('GET', `/v2.0/${collection}/:id/tags/:tag`, ({ auth, params }) => {
      const o = kind.visible(api, auth, params.id);
      if (!tagsOf(o).includes(params.tag)) throw tagNotFound(params.tag, o);
      return { status: 204 };
    });
    r.on('PUT', `/v2.0/${collection}/:id/tags`, async ({ auth, params, body }) => {
      const tags = checked(() => parseTagsBody(body));
      return { status: 200, body: { tags: await write(owned(auth, params.id), tags) } };
    });
    r.on('PUT', `/v2.0/${collection}/:id/tags/:tag`, async ({ auth, params }) => {
      const tag = checked(() => parseTag(params.tag));
      const o = owned(auth, params.id);
      if (!tagsOf(o).includes(tag)) await write(o, withTag(tagsOf(o), tag));
      return { status: 201 };
    });
    r.on('DELETE', `/v2.0/${collection}/:id/tags`, async ({ auth, params }) => {
      const o = owned(auth, params.id);
      if (tagsOf(o).length) await write(o, []);
      return { status: 204 };
    });
    r.on('DELETE', `/v2.0/${collection}/:id/tags/:tag`, async ({ auth, params }) => {
      const o = owned(auth, params.id);
      if (!tagsOf(o).includes(params.tag)) throw tagNotFound(params.tag, o);
      await write(o, tagsOf(o).filter((t) => t !== params.tag));
      return { status: 204 };
    });
  }
}
