/**
 * Glance's metadata definitions catalog, read-only: the schemas of its documents, the resource types it
 * knows, and no namespaces (Stratus loads none; writing them is refused). Clients that read metadefs to
 * build forms (Horizon's image properties) find a well-formed, empty catalog.
 */
import type { GlanceRouter } from './context.js';
import { forbidden, notFound } from './errors.js';

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
const namespace = named(
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
  namespace,
  namespaces: listOf('namespaces', 'namespaces', namespace),
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

export function metadefRoutes(router: GlanceRouter) {
  router.on('GET', '/schemas/metadefs/:kind', (req) => {
    const schema = METADEF_SCHEMAS[req.params.kind];
    if (!schema) throw notFound(`No metadef schema ${req.params.kind}.`);
    return { status: 200, body: schema };
  });
  router.on('GET', '/metadefs/resource_types', () => ({ status: 200, body: { resource_types: RESOURCE_TYPES.map((name) => ({ name, created_at: EPOCH, updated_at: EPOCH })) } }));
  router.on('GET', '/metadefs/namespaces', () => ({ status: 200, body: { namespaces: [], first: '/v2/metadefs/namespaces', schema: '/v2/schemas/metadefs/namespaces' } }));
  router.on('GET', '/metadefs/namespaces/:namespace', (req) => {
    throw notFound(`Metadata definition namespace ${req.params.namespace} was not found.`);
  });
  const readOnly = () => {
    throw forbidden('The metadata definitions catalog is read-only in Stratus.');
  };
  router.on('POST', '/metadefs/namespaces', readOnly);
  for (const method of ['PUT', 'POST', 'DELETE']) router.on(method, '/metadefs/namespaces/:namespace', readOnly);
}
