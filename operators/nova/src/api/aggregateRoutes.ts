/**
 * /os-aggregates: host aggregates, the Aggregate resources. Admins only, as in Nova. An aggregate's
 * availability zone is its hosts' zone, so adding a host or changing the zone refuses (409) to put a host in
 * two zones. The integer ID Nova shows is derived from the resource's UID.
 */
import { displayNameOf, objectNameFor } from '@stratus/runtime';
import { aggregateIdOf, aggregateMetadataOf, zoneConflict } from '../aggregates.js';
import { aggregateNameKey, nameClaims } from '../names.js';
import { AGGREGATES, type Aggregate } from '../resources.js';
import { API_FIELD_MANAGER, fromKubernetes, requireAdmin, updateObject, type ComputeApiContext, type ComputeRequest, type ComputeRouter } from './context.js';
import { NovaError, badRequest, conflict, notFound } from './errors.js';
import { aggregateShape, requireKnownFields } from './bodyFields.js';
import { novaTime } from './views.js';

const API = 'compute.stratus.io/v1alpha1';
/** When the API last changed an aggregate: Nova's updated_at (null until the first change). */
const UPDATED_AT = 'compute.stratus.io/updated-at';

/** A name or zone as Nova's schema takes it: a string of 1 to 255 characters, not only spaces. */
function checkName(v: unknown, field: string, nullable = false): string | undefined {
  if (v === null && nullable) return undefined;
  if (typeof v !== 'string' || !v.trim() || v.length > 255) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. It must be a string of 1 to 255 characters.`);
  return v;
}

export function aggregateRoutes(router: ComputeRouter, api: ComputeApiContext) {
  const { dir } = api;
  const claims = nameClaims(api.client, API_FIELD_MANAGER);

  const view = (req: ComputeRequest, a: Aggregate, created = false) => ({
    id: aggregateIdOf(a),
    name: displayNameOf(a),
    availability_zone: a.spec.availabilityZone ?? null,
    ...(created ? {} : { hosts: a.spec.hosts ?? [], metadata: aggregateMetadataOf(a) }),
    created_at: novaTime(a.metadata.creationTimestamp),
    updated_at: novaTime(a.metadata.annotations?.[UPDATED_AT]),
    deleted_at: null,
    deleted: false,
    ...(req.auth.version.atLeast('2.41') ? { uuid: a.metadata.uid } : {}),
  });
  const aggregateFor = (id: string): Aggregate => {
    const a = dir.aggregates.byId(id) ?? dir.aggregates.list().find((x) => x.metadata.uid === id);
    if (!a) throw notFound(`Aggregate ${id} could not be found.`);
    return a;
  };
  const others = (a: Aggregate) => dir.aggregates.list().filter((x) => x.metadata.uid !== a.metadata.uid);
  const change = (a: Aggregate, patch: (current: Aggregate) => Aggregate['spec']) =>
    updateObject(api, dir.aggregates, AGGREGATES, a, (current) => ({ metadata: { annotations: { [UPDATED_AT]: new Date().toISOString() } }, spec: patch(current) }), `Aggregate ${aggregateIdOf(a)}`);

  router.on('GET', '/os-aggregates', (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-aggregates:index');
    const all = dir.aggregates.list().sort((a, b) => aggregateIdOf(a) - aggregateIdOf(b));
    return { status: 200, body: { aggregates: all.map((a) => view(req, a)) } };
  });

  router.on('GET', '/os-aggregates/:id', (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-aggregates:show');
    return { status: 200, body: { aggregate: view(req, aggregateFor(req.params.id)) } };
  });

  router.on('POST', '/os-aggregates', async (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-aggregates:create');
    requireKnownFields(req.body, aggregateShape, req.auth.version);
    const body = req.body?.aggregate;
    if (!body || typeof body !== 'object') throw badRequest("Invalid input for field/attribute aggregate. 'aggregate' is a required property");
    const name = checkName(body.name, 'name')!;
    const zone = body.availability_zone === undefined ? undefined : checkName(body.availability_zone, 'availability_zone', true);
    const objectName = objectNameFor(name, (n) => !!dir.aggregates.get(n), 'aggregate');
    const spec = { displayName: name, ...(zone ? { availabilityZone: zone } : {}), hosts: [], metadata: {} };
    const create = (annotations: Record<string, string>) => api.client.create<Aggregate>(AGGREGATES, { apiVersion: API, kind: 'Aggregate', metadata: { name: objectName, annotations }, spec }, API_FIELD_MANAGER);
    const made = await claims.create(aggregateNameKey(name), { resource: AGGREGATES, apiVersion: API, kind: 'Aggregate', metadata: {} }, create).catch((e) => fromKubernetes(e, `Aggregate ${name}`));
    await dir.aggregates.seen(made);
    return { status: 200, body: { aggregate: view(req, made, true) } };
  });

  router.on('PUT', '/os-aggregates/:id', async (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-aggregates:update');
    requireKnownFields(req.body, aggregateShape, req.auth.version);
    const body = req.body?.aggregate;
    if (!body || typeof body !== 'object' || (body.name === undefined && body.availability_zone === undefined)) throw badRequest('Invalid input for field/attribute aggregate: name or availability_zone is required.');
    const a = aggregateFor(req.params.id);
    const name = body.name === undefined ? undefined : checkName(body.name, 'name');
    const zone = body.availability_zone === undefined ? a.spec.availabilityZone : checkName(body.availability_zone, 'availability_zone', true);
    const why = zoneConflict(a, a.spec.hosts ?? [], zone, others(a));
    if (why) throw conflict(`Cannot update aggregate ${aggregateIdOf(a)}: ${why}.`);
    const write = () => change(a, () => ({ ...(name ? { displayName: name } : {}), availabilityZone: zone ?? (null as unknown as undefined) }));
    const owner = { resource: AGGREGATES, apiVersion: API, kind: 'Aggregate', metadata: a.metadata };
    const written = name && name !== displayNameOf(a) ? await claims.rename(aggregateNameKey(name), owner, write).catch((e) => fromKubernetes(e, `Aggregate ${name}`)) : await write();
    return { status: 200, body: { aggregate: view(req, written) } };
  });

  router.on('DELETE', '/os-aggregates/:id', async (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-aggregates:delete');
    const a = aggregateFor(req.params.id);
    if (a.spec.hosts?.length) throw badRequest(`Cannot delete aggregate ${aggregateIdOf(a)}: it still has hosts (${a.spec.hosts.join(', ')}); remove them first.`);
    await api.client.delete(AGGREGATES, undefined, a.metadata.name);
    await dir.aggregates.until(a, (c) => !c);
    return { status: 200 };
  });

  router.on('POST', '/os-aggregates/:id/action', async (req) => {
    const body = req.body ?? {};
    const [action, ...rest] = Object.keys(body);
    if (!action || rest.length) throw badRequest('Exactly one action is expected: add_host, remove_host or set_metadata.');
    requireAdmin(req.auth, `os_compute_api:os-aggregates:${action}`);
    const a = aggregateFor(req.params.id);
    const id = aggregateIdOf(a);
    const args = body[action];
    if (action === 'add_host' || action === 'remove_host') {
      const host = checkName(args?.host, 'host')!;
      if (action === 'add_host') {
        if (!dir.hypervisors.get(host)) throw notFound(`Compute host ${host} could not be found.`);
        if (a.spec.hosts?.includes(host)) throw conflict(`Aggregate ${id} already has host ${host}.`);
        const why = zoneConflict(a, [host], a.spec.availabilityZone, others(a));
        if (why) throw conflict(`Cannot add host to aggregate ${id}. Reason: ${why}.`);
      } else if (!a.spec.hosts?.includes(host)) throw notFound(`Cannot remove host ${host} in aggregate ${id}: not found.`);
      const written = await change(a, (current) => {
        const hosts = new Set(current.spec.hosts ?? []);
        if (action === 'add_host') {
          if (hosts.has(host)) throw conflict(`Aggregate ${id} already has host ${host}.`);
          hosts.add(host);
        } else if (!hosts.delete(host)) throw notFound(`Cannot remove host ${host} in aggregate ${id}: not found.`);
        return { hosts: [...hosts] };
      });
      return { status: 200, body: { aggregate: view(req, written) } };
    }
    if (action === 'set_metadata') {
      const metadata = args?.metadata;
      if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) throw badRequest("Invalid input for field/attribute metadata. 'metadata' is a required property");
      for (const [k, v] of Object.entries(metadata)) {
        if (!k || k.length > 255) throw badRequest(`Invalid input for field/attribute metadata. Key ${JSON.stringify(k)} must be 1 to 255 characters.`);
        if (v !== null && (typeof v !== 'string' || v.length > 255)) throw badRequest(`Invalid input for field/attribute metadata. The value of ${k} must be a string of at most 255 characters, or null to remove it.`);
      }
      // availability_zone is the aggregate's zone, kept in its own field.
      const { availability_zone: zoneValue, ...rest } = metadata as Record<string, string | null>;
      const zone = 'availability_zone' in metadata ? (zoneValue ?? undefined) : a.spec.availabilityZone;
      const why = zoneConflict(a, a.spec.hosts ?? [], zone, others(a));
      if (why) throw conflict(`Cannot set metadata of aggregate ${id}: ${why}.`);
      const written = await change(a, () => ({ metadata: rest as Record<string, string>, ...('availability_zone' in metadata ? { availabilityZone: zone ?? (null as unknown as undefined) } : {}) }));
      return { status: 200, body: { aggregate: view(req, written) } };
    }
    throw new NovaError(400, `There is no such action: ${action}`);
  });
}
