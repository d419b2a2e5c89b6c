/**
 * Glance's metadata definitions catalog (/v2/metadefs): namespaces (MetadefNamespace resources) with their
 * resource type associations, property schemas, objects and tags, and the schemas of those documents. Admins
 * write, as Glance's default policy has it; everyone reads public namespaces, owners and admins private ones.
 */
import { MERGE_PATCH, NameClaims, NameTaken, isConflict, objectNameFor } from '@stratus/runtime';
import { metadefNamespaceKey } from '../metadefs.js';
import { METADEF_NAMESPACES, type MetadefNamespace } from '../resources.js';
import { API_FIELD_MANAGER, type GlanceApi, type GlanceRouter } from './context.js';
import { badRequest, conflict, forbidden, notFound } from './errors.js';
import type { ImageAuth } from './tokens.js';

const text = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'string', description, ...extra });
const time = (what: string) => text(`Date and time of ${what}`, { format: 'date-time', readOnly: true });
const named = (name: string, properties: Record<string, unknown>, required: string[] = []) => ({ name, properties, ...(required.length ? { required } : {}), additionalProperties: false });
/** A list document: `items` of one kind, with Glance's paging links. */
const listOf = (name: string, key: string, item: object) => ({
  name,
  properties: { [key]: { type: 'array', items: item }, first: { type: 'string' }, next: { type: 'string' }, schema: { type: 'string' } },
  links: [{ rel: 'first', href: '{first}' }, { rel: 'next', href: '{next}' }, { rel: 'describedby', href: '{schema}' }],
});

const property = named(
  'property',
  { name: text('The property name', { maxLength: 255 }), title: text('A title for people'), description: text('What the property means'), type: { type: 'string', enum: ['array', 'boolean', 'integer', 'number', 'object', 'string'] }, default: {}, readonly: { type: 'boolean' } },
  ['type', 'title'],
);
const tag = named('tag', { name: text('The tag', { maxLength: 255 }), created_at: time('tag creation'), updated_at: time('the last change') }, ['name']);
const resourceType = named(
  'resource_type_association',
  { name: text('The resource type, e.g. OS::Glance::Image', { maxLength: 80 }), prefix: text('The prefix its properties take'), properties_target: text('Where on the resource the properties go'), created_at: time('association creation'), updated_at: time('the last change') },
  ['name'],
);
const object = named('object', { name: text('The object name', { maxLength: 255 }), description: text('What the object is'), required: { type: 'array', items: { type: 'string' } }, properties: { type: 'object', additionalProperties: property }, schema: { type: 'string', readOnly: true }, self: { type: 'string', readOnly: true }, created_at: time('object creation'), updated_at: time('the last change') }, ['name']);
const namespaceSchema = named(
  'namespace',
  {
    namespace: text('The unique namespace text', { maxLength: 80 }),
    display_name: text('The user-friendly name for the namespace', { maxLength: 80 }),
    description: text('Provides a user friendly description of the namespace', { maxLength: 500 }),
    visibility: { type: 'string', enum: ['public', 'private'], description: 'Scope of namespace accessibility' },
    protected: { type: 'boolean', description: 'If true, namespace will not be deletable' },
    owner: text('Owner of the namespace', { maxLength: 255 }),
    resource_type_associations: { type: 'array', items: resourceType },
    properties: { type: 'object', additionalProperties: property },
    objects: { type: 'array', items: object },
    tags: { type: 'array', items: tag },
    schema: { type: 'string', readOnly: true },
    self: { type: 'string', readOnly: true },
    created_at: time('namespace creation'),
    updated_at: time('the last change'),
  },
  ['namespace'],
);

export const METADEF_SCHEMAS: Record<string, object> = {
  namespace: namespaceSchema,
  namespaces: listOf('namespaces', 'namespaces', namespaceSchema),
  resource_type: resourceType,
  resource_types: listOf('resource_type_associations', 'resource_type_associations', resourceType),
  object,
  objects: listOf('objects', 'objects', object),
  property,
  properties: { name: 'properties', properties: { properties: { type: 'object', additionalProperties: property } } },
  tag,
  tags: listOf('tags', 'tags', tag),
};

/** The resource types Glance's catalog knows out of the box. */
const RESOURCE_TYPES = ['OS::Cinder::Volume', 'OS::Glance::Image', 'OS::Glance::Snapshot', 'OS::Nova::Aggregate', 'OS::Nova::Flavor', 'OS::Nova::Server', 'OS::Trove::Instance'];
const EPOCH = '2026-01-01T00:00:00Z';
const CONFLICT_RETRIES = 5;
const stamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
type Spec = MetadefNamespace['spec'];
type Part = Record<string, unknown> & { name: string };

export function metadefRoutes(router: GlanceRouter, api: GlanceApi) {
  const { dir } = api;
  const claims = new NameClaims(api.client, API_FIELD_MANAGER);
  const requireAdmin = (auth: ImageAuth) => {
    if (!auth.admin) throw forbidden('Only admins change the metadata definitions catalog.');
  };
  const readable = (ns: MetadefNamespace, auth: ImageAuth) => auth.admin || ns.spec.visibility === 'public' || (!!ns.spec.owner && ns.spec.owner === auth.projectId);
  const find = (name: string, auth: ImageAuth): MetadefNamespace => {
    const ns = dir.metadefs.byId(name);
    if (!ns || ns.metadata.deletionTimestamp || !readable(ns, auth)) throw notFound(`Metadata definition namespace ${name} was not found.`);
    return ns;
  };
  const self = (ns: string, tail = '') => `/v2/metadefs/namespaces/${encodeURIComponent(ns)}${tail}`;
  const created = (ns: MetadefNamespace) => new Date(ns.metadata.creationTimestamp ?? Date.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const view = (ns: MetadefNamespace, full: boolean) => ({
    namespace: ns.spec.namespace,
    display_name: ns.spec.displayName ?? ns.spec.namespace,
    description: ns.spec.description ?? '',
    visibility: ns.spec.visibility ?? 'private',
    protected: ns.spec.protected ?? false,
    owner: ns.spec.owner ?? null,
    ...(ns.spec.resourceTypeAssociations?.length ? { resource_type_associations: ns.spec.resourceTypeAssociations } : {}),
    ...(full && Object.keys(ns.spec.properties ?? {}).length ? { properties: ns.spec.properties } : {}),
    ...(full && ns.spec.objects?.length ? { objects: ns.spec.objects.map((o) => objectView(ns, o)) } : {}),
    ...(full && ns.spec.tags?.length ? { tags: ns.spec.tags.map((t) => ({ name: t.name })) } : {}),
    created_at: created(ns),
    updated_at: created(ns),
    schema: '/v2/schemas/metadefs/namespace',
    self: self(ns.spec.namespace),
  });
  const objectView = (ns: MetadefNamespace, o: Part) => ({ ...o, schema: '/v2/schemas/metadefs/object', self: self(ns.spec.namespace, `/objects/${encodeURIComponent(o.name)}`) });

  /** Changes a namespace from its current state, carrying its resourceVersion (a concurrent write is tried again). */
  const change = async (ns: MetadefNamespace, next: (spec: Spec) => Partial<Spec>): Promise<MetadefNamespace> => {
    let current = ns;
    for (let attempt = 1; ; attempt++) {
      try {
        const written = await api.client.patch<MetadefNamespace>(METADEF_NAMESPACES, undefined, current.metadata.name, { metadata: { resourceVersion: current.metadata.resourceVersion }, spec: next(current.spec) }, API_FIELD_MANAGER, MERGE_PATCH);
        await dir.metadefs.seen(written);
        return written;
      } catch (e) {
        if (!isConflict(e) || attempt >= CONFLICT_RETRIES) throw e;
        const fresh = await api.client.get<MetadefNamespace>(METADEF_NAMESPACES, undefined, current.metadata.name);
        if (!fresh) throw notFound(`Metadata definition namespace ${ns.spec.namespace} was not found.`);
        current = fresh;
      }
    }
  };
  /** Checks a namespace document's fields, naming the one that is wrong. */
  const fields = (b: Record<string, unknown>): Partial<Spec> => {
    const str = (k: string, max: number) => {
      const v = b[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string' || v.length > max) throw badRequest(`Invalid value for '${k}': a string of at most ${max} characters.`);
      return v;
    };
    if (b.visibility !== undefined && b.visibility !== 'public' && b.visibility !== 'private') throw badRequest("Invalid value for 'visibility': public or private.");
    if (b.protected !== undefined && typeof b.protected !== 'boolean') throw badRequest("Invalid value for 'protected': true or false.");
    return {
      ...(b.display_name !== undefined ? { displayName: str('display_name', 80) } : {}),
      ...(b.description !== undefined ? { description: str('description', 500) } : {}),
      ...(b.visibility !== undefined ? { visibility: b.visibility as Spec['visibility'] } : {}),
      ...(b.protected !== undefined ? { protected: b.protected as boolean } : {}),
    };
  };
  const partNamed = (b: unknown, what: string): Part => {
    const name = (b as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string' || !name || name.length > 255) throw badRequest(`Invalid value for '${what}.name': a string of 1 to 255 characters.`);
    return b as Part;
  };

  router.on('GET', '/schemas/metadefs/:kind', (req) => {
    const schema = METADEF_SCHEMAS[req.params.kind];
    if (!schema) throw notFound(`No metadef schema ${req.params.kind}.`);
    return { status: 200, body: schema };
  });
  router.on('GET', '/metadefs/resource_types', () => ({ status: 200, body: { resource_types: RESOURCE_TYPES.map((name) => ({ name, created_at: EPOCH, updated_at: EPOCH })) } }));

  // Namespaces.
  router.on('GET', '/metadefs/namespaces', (req) => {
    const namespaces = dir.metadefs
      .list()
      .filter((n) => !n.metadata.deletionTimestamp && readable(n, req.auth))
      .filter((n) => !req.query.has('visibility') || (n.spec.visibility ?? 'private') === req.query.get('visibility'))
      .filter((n) => !req.query.has('resource_types') || (n.spec.resourceTypeAssociations ?? []).some((r) => req.query.get('resource_types')!.split(',').includes(r.name)))
      .map((n) => view(n, false));
    return { status: 200, body: { namespaces, first: '/v2/metadefs/namespaces', schema: '/v2/schemas/metadefs/namespaces' } };
  });
  router.on('GET', '/metadefs/namespaces/:ns', (req) => ({ status: 200, body: view(find(req.params.ns, req.auth), true) }));
  router.on('POST', '/metadefs/namespaces', async (req) => {
    requireAdmin(req.auth);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const name = b.namespace;
    if (typeof name !== 'string' || !name || name.length > 80) throw badRequest("Invalid value for 'namespace': a string of 1 to 80 characters.");
    const at = stamp();
    const spec: Spec = {
      namespace: name,
      visibility: 'private',
      protected: false,
      owner: req.auth.projectId,
      ...fields(b),
      resourceTypeAssociations: ((b.resource_type_associations as unknown[]) ?? []).map((r) => ({ ...partNamed(r, 'resource_type_associations'), created_at: at, updated_at: at })),
      ...(b.properties && typeof b.properties === 'object' ? { properties: b.properties as Spec['properties'] } : {}),
      objects: ((b.objects as unknown[]) ?? []).map((o) => ({ required: [], properties: {}, ...partNamed(o, 'objects'), created_at: at, updated_at: at })),
      tags: ((b.tags as unknown[]) ?? []).map((t) => ({ name: partNamed(t, 'tags').name, created_at: at, updated_at: at })),
    };
    const body: MetadefNamespace = { apiVersion: 'image.stratus.io/v1alpha1', kind: 'MetadefNamespace', metadata: { name: objectNameFor(name, (n) => !!dir.metadefs.get(n), 'metadef') }, spec };
    const made = await claims
      .create(metadefNamespaceKey(name), { resource: METADEF_NAMESPACES, apiVersion: body.apiVersion, kind: 'MetadefNamespace', metadata: {} }, (annotations) => api.client.create<MetadefNamespace>(METADEF_NAMESPACES, { ...body, metadata: { ...body.metadata, annotations } }, API_FIELD_MANAGER))
      .catch((e) => {
        if (e instanceof NameTaken) throw conflict(`A metadata definition namespace with name ${name} already exists.`);
        throw e;
      });
    await dir.metadefs.seen(made);
    return { status: 201, body: view(made, true) };
  });
  router.on('PUT', '/metadefs/namespaces/:ns', async (req) => {
    requireAdmin(req.auth);
    const ns = find(req.params.ns, req.auth);
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (b.namespace !== undefined && b.namespace !== ns.spec.namespace) throw badRequest('A namespace keeps its name here; make a new one instead.');
    const written = await change(ns, () => fields(b));
    return { status: 200, body: view(written, true) };
  });
  router.on('DELETE', '/metadefs/namespaces/:ns', async (req) => {
    requireAdmin(req.auth);
    const ns = find(req.params.ns, req.auth);
    if (ns.spec.protected) throw forbidden(`Namespace ${ns.spec.namespace} is protected and cannot be deleted.`);
    await api.client.delete(METADEF_NAMESPACES, undefined, ns.metadata.name);
    await dir.metadefs.until(ns, (c) => !c || !!c.metadata.deletionTimestamp);
    return { status: 204 };
  });

  // Resource type associations.
  router.on('GET', '/metadefs/namespaces/:ns/resource_types', (req) => ({ status: 200, body: { resource_type_associations: find(req.params.ns, req.auth).spec.resourceTypeAssociations ?? [] } }));
  router.on('POST', '/metadefs/namespaces/:ns/resource_types', async (req) => {
    requireAdmin(req.auth);
    const ns = find(req.params.ns, req.auth);
    const at = stamp();
    const r = { ...partNamed(req.body, 'resource_type'), created_at: at, updated_at: at };
    if ((ns.spec.resourceTypeAssociations ?? []).some((x) => x.name === r.name)) throw conflict(`Resource type ${r.name} is associated with ${ns.spec.namespace} already.`);
    await change(ns, (s) => ({ resourceTypeAssociations: [...(s.resourceTypeAssociations ?? []), r] }));
    return { status: 201, body: r };
  });
  router.on('DELETE', '/metadefs/namespaces/:ns/resource_types/:name', async (req) => {
    requireAdmin(req.auth);
    const ns = find(req.params.ns, req.auth);
    if (!(ns.spec.resourceTypeAssociations ?? []).some((x) => x.name === req.params.name)) throw notFound(`Resource type ${req.params.name} is not associated with ${ns.spec.namespace}.`);
    await change(ns, (s) => ({ resourceTypeAssociations: (s.resourceTypeAssociations ?? []).filter((x) => x.name !== req.params.name) }));
    return { status: 204 };
  });

  // Properties (a map by name) and objects and tags (lists by name): the same five calls each.
  router.on('GET', '/metadefs/namespaces/:ns/properties', (req) => ({ status: 200, body: { properties: find(req.params.ns, req.auth).spec.properties ?? {} } }));
  router.on('GET', '/metadefs/namespaces/:ns/properties/:name', (req) => {
    const p = find(req.params.ns, req.auth).spec.properties?.[req.params.name];
    if (!p) throw notFound(`Property ${req.params.name} was not found in ${req.params.ns}.`);
    return { status: 200, body: { name: req.params.name, ...p } };
  });
  const putProperty = async (req: { params: Record<string, string>; body: unknown; auth: ImageAuth }, name: string, status: number, mustExist: boolean) => {
    requireAdmin(req.auth);
    const ns = find(req.params.ns, req.auth);
    const { name: _, ...def } = { ...(req.body as Record<string, unknown>) };
    if (typeof def.type !== 'string' || typeof def.title !== 'string') throw badRequest("A property needs a 'type' and a 'title'.");
    const exists = !!ns.spec.properties?.[name];
    if (mustExist && !exists) throw notFound(`Property ${name} was not found in ${ns.spec.namespace}.`);
    if (!mustExist && exists) throw conflict(`Property ${name} exists in ${ns.spec.namespace} already.`);
    const renamed = mustExist && req.params.name !== name ? { [req.params.name]: null } : {};
    await change(ns, () => ({ properties: { ...renamed, [name]: def } as Spec['properties'] }));
    return { status, body: { name, ...def } };
  };
  router.on('POST', '/metadefs/namespaces/:ns/properties', (req) => putProperty(req, partNamed(req.body, 'property').name, 201, false));
  router.on('PUT', '/metadefs/namespaces/:ns/properties/:name', (req) => putProperty(req, (req.body as Part | undefined)?.name ?? req.params.name, 200, true));
  router.on('DELETE', '/metadefs/namespaces/:ns/properties/:name', async (req) => {
    requireAdmin(req.auth);
    const ns = find(req.params.ns, req.auth);
    if (!ns.spec.properties?.[req.params.name]) throw notFound(`Property ${req.params.name} was not found in ${ns.spec.namespace}.`);
    await change(ns, () => ({ properties: { [req.params.name]: null } as unknown as Spec['properties'] }));
    return { status: 204 };
  });
  router.on('DELETE', '/metadefs/namespaces/:ns/properties', async (req) => {
    requireAdmin(req.auth);
    const ns = find(req.params.ns, req.auth);
    await change(ns, (s) => ({ properties: Object.fromEntries(Object.keys(s.properties ?? {}).map((k) => [k, null])) as unknown as Spec['properties'] }));
    return { status: 204 };
  });

  for (const [path, field, what] of [['objects', 'objects', 'object'], ['tags', 'tags', 'tag']] as const) {
    const shown = (ns: MetadefNamespace, p: Part) => (field === 'objects' ? objectView(ns, p) : { name: p.name, created_at: p.created_at, updated_at: p.updated_at });
    const partOf = (ns: MetadefNamespace, name: string) => (ns.spec[field] ?? []).find((x) => x.name === name) ?? notFoundPart(what, name, ns);
    router.on('GET', `/metadefs/namespaces/:ns/${path}`, (req) => {
      const ns = find(req.params.ns, req.auth);
      return { status: 200, body: { [path]: (ns.spec[field] ?? []).map((p) => shown(ns, p)), ...(field === 'objects' ? { schema: '/v2/schemas/metadefs/objects' } : {}) } };
    });
    router.on('GET', `/metadefs/namespaces/:ns/${path}/:name`, (req) => {
      const ns = find(req.params.ns, req.auth);
      return { status: 200, body: shown(ns, partOf(ns, req.params.name)) };
    });
    router.on('PUT', `/metadefs/namespaces/:ns/${path}/:name`, async (req) => {
      requireAdmin(req.auth);
      const ns = find(req.params.ns, req.auth);
      const old = partOf(ns, req.params.name);
      const next: Part = { ...(field === 'objects' ? old : {}), ...partNamed({ name: req.params.name, ...(req.body as object) }, what), created_at: old.created_at, updated_at: stamp() };
      if (next.name !== old.name && (ns.spec[field] ?? []).some((x) => x.name === next.name)) throw conflict(`A ${what} named ${next.name} exists in ${ns.spec.namespace} already.`);
      const written = await change(ns, (s) => ({ [field]: (s[field] ?? []).map((x) => (x.name === old.name ? next : x)) }));
      return { status: 200, body: shown(written, next) };
    });
    router.on('DELETE', `/metadefs/namespaces/:ns/${path}/:name`, async (req) => {
      requireAdmin(req.auth);
      const ns = find(req.params.ns, req.auth);
      partOf(ns, req.params.name);
      await change(ns, (s) => ({ [field]: (s[field] ?? []).filter((x) => x.name !== req.params.name) }));
      return { status: 204 };
    });
    router.on('DELETE', `/metadefs/namespaces/:ns/${path}`, async (req) => {
      requireAdmin(req.auth);
      await change(find(req.params.ns, req.auth), () => ({ [field]: [] }));
      return { status: 204 };
    });
  }
  /** Objects come one per POST; tags one by name in the path, or several in a body. */
  router.on('POST', '/metadefs/namespaces/:ns/objects', async (req) => {
    requireAdmin(req.auth);
    const ns = find(req.params.ns, req.auth);
    const at = stamp();
    const o: Part = { required: [], properties: {}, ...partNamed(req.body, 'object'), created_at: at, updated_at: at };
    if ((ns.spec.objects ?? []).some((x) => x.name === o.name)) throw conflict(`An object named ${o.name} exists in ${ns.spec.namespace} already.`);
    const written = await change(ns, (s) => ({ objects: [...(s.objects ?? []), o] }));
    return { status: 201, body: objectView(written, o) };
  });
  const addTags = async (ns: MetadefNamespace, names: string[], replace: boolean) => {
    const at = stamp();
    const tags = names.map((name) => ({ name, created_at: at, updated_at: at }));
    if (new Set(names).size !== names.length || (!replace && (ns.spec.tags ?? []).some((t) => names.includes(t.name)))) throw conflict(`A tag of ${names.join(', ')} exists in ${ns.spec.namespace} already.`);
    await change(ns, (s) => ({ tags: replace ? tags : [...(s.tags ?? []), ...tags] }));
    return tags;
  };
  router.on('POST', '/metadefs/namespaces/:ns/tags/:name', async (req) => {
    requireAdmin(req.auth);
    const [t] = await addTags(find(req.params.ns, req.auth), [partNamed({ name: req.params.name }, 'tag').name], false);
    return { status: 201, body: t };
  });
  router.on('POST', '/metadefs/namespaces/:ns/tags', async (req) => {
    requireAdmin(req.auth);
    const given = (req.body as { tags?: unknown[] } | undefined)?.tags;
    if (!Array.isArray(given)) throw badRequest("Invalid value for 'tags': a list of {name}.");
    // Glance replaces the namespace's tags with these (X-Openstack-Append: true adds them instead).
    const append = String(req.headers['x-openstack-append'] ?? '').toLowerCase() === 'true';
    const tags = await addTags(find(req.params.ns, req.auth), given.map((t) => partNamed(t, 'tags').name), !append);
    return { status: 201, body: { tags: tags.map((t) => ({ name: t.name })) } };
  });
}

function notFoundPart(what: string, name: string, ns: MetadefNamespace): never {
  throw notFound(`Metadata definition ${what} ${name} was not found in namespace ${ns.spec.namespace}.`);
}
