/**
 * OpenAPI v3 documents, one per group-version, generated from the registry: `kubectl explain` reads the
 * schemas, and kubectl's query-parameter check reads the PATCH operations to learn that the server supports
 * `fieldValidation` and `dryRun`.
 */
import { createHash } from 'node:crypto';
import type { Registry } from './registry.js';
import type { ResourceType } from './types.js';

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

const objectMetaSchema = {
  description: 'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.',
  type: 'object',
  properties: {
    name: { type: 'string', description: 'Name must be unique within a namespace.' },
    generateName: { type: 'string', description: 'An optional prefix used by the server to generate a unique name.' },
    namespace: { type: 'string', description: 'Namespace defines the space within which each name must be unique.' },
    uid: { type: 'string', description: 'UID is the unique in time and space value for this object.' },
    resourceVersion: { type: 'string', description: 'An opaque value that represents the internal version of this object.' },
    generation: { type: 'integer', format: 'int64', description: 'A sequence number representing a specific generation of the desired state.' },
    creationTimestamp: { type: 'string', format: 'date-time', description: 'A timestamp representing the server time when this object was created.' },
    deletionTimestamp: { type: 'string', format: 'date-time', description: 'The time after which this resource will be deleted.' },
    labels: { type: 'object', additionalProperties: { type: 'string' }, description: 'Map of string keys and values that can be used to organize and categorize objects.' },
    annotations: { type: 'object', additionalProperties: { type: 'string' }, description: 'Unstructured key value map stored with a resource.' },
    finalizers: { type: 'array', items: { type: 'string' }, description: 'Must be empty before the object is deleted from the registry.' },
    ownerReferences: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, description: 'List of objects depended by this object.' },
  },
};

const schemaName = (t: ResourceType) => {
  const reversedGroup = t.group ? t.group.split('.').reverse().join('.') : 'io.k8s.api.core';
  return `${reversedGroup}.${t.version}.${t.kind}`;
};

const gvPath = (group: string, version: string) => (group ? `apis/${group}/${version}` : `api/${version}`);

function typeSchema(t: ResourceType): Record<string, unknown> {
  const gvk = [{ group: t.group, version: t.version, kind: t.kind }];
  if (!t.schema) return { type: 'object', description: `${t.kind} (${t.group || 'core'}/${t.version})`, 'x-kubernetes-preserve-unknown-fields': true, 'x-kubernetes-group-version-kind': gvk };
  const s = structuredClone(t.schema.openapi) as Record<string, any>;
  s.properties = { ...(s.properties ?? {}), metadata: { allOf: [{ $ref: `#/components/schemas/${OBJECT_META}` }], description: "Standard object's metadata." } };
  s['x-kubernetes-group-version-kind'] = gvk;
  return s;
}

function operations(t: ResourceType) {
  const gvk = { group: t.group, version: t.version, kind: t.kind };
  const query = (name: string) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } });
  const ref = { $ref: `#/components/schemas/${schemaName(t)}` };
  const body = { content: { 'application/json': { schema: ref } } };
  const ok = { '200': { description: 'OK', content: { 'application/json': { schema: ref } } } };
  const writeParams = [query('dryRun'), query('fieldManager'), query('fieldValidation')];
  const item = {
    get: { operationId: `read${t.kind}`, 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk, responses: ok },
    put: { operationId: `replace${t.kind}`, 'x-kubernetes-action': 'put', 'x-kubernetes-group-version-kind': gvk, parameters: writeParams, requestBody: body, responses: ok },
    patch: {
      operationId: `patch${t.kind}`,
      'x-kubernetes-action': 'patch',
      'x-kubernetes-group-version-kind': gvk,
      parameters: [...writeParams, query('force')],
      requestBody: { content: { 'application/json-patch+json': { schema: { type: 'object' } }, 'application/merge-patch+json': { schema: { type: 'object' } }, 'application/apply-patch+yaml': { schema: { type: 'object' } } } },
      responses: ok,
    },
    delete: { operationId: `delete${t.kind}`, 'x-kubernetes-action': 'delete', 'x-kubernetes-group-version-kind': gvk, parameters: [query('dryRun')], responses: ok },
    parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
  };
  const collection = {
    get: { operationId: `list${t.kind}`, 'x-kubernetes-action': 'list', 'x-kubernetes-group-version-kind': gvk, responses: { '200': { description: 'OK' } } },
    post: { operationId: `create${t.kind}`, 'x-kubernetes-action': 'post', 'x-kubernetes-group-version-kind': gvk, parameters: writeParams, requestBody: body, responses: ok },
  };
  const base = `/${gvPath(t.group, t.version)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.resource}`;
  return { [base]: collection, [`${base}/{name}`]: item };
}

export class OpenApiV3 {
  private cachedAt = -1;
  private docs = new Map<string, { json: string; hash: string }>();

  constructor(private readonly registry: Registry) {}

  /** GET /openapi/v3: where each group-version's document is, with a hash for caching. */
  index(): Record<string, unknown> {
    this.refresh();
    return {
      paths: Object.fromEntries([...this.docs].map(([p, d]) => [p, { serverRelativeURL: `/openapi/v3/${p}?hash=${d.hash}` }])),
    };
  }

  /** GET /openapi/v3/{apis/group/version | api/v1}, serialized. */
  document(path: string): string | undefined {
    this.refresh();
    return this.docs.get(path)?.json;
  }

  private refresh(): void {
    if (this.cachedAt === this.registry.generation) return;
    const byGv = new Map<string, ResourceType[]>();
    for (const t of this.registry.all()) {
      const key = gvPath(t.group, t.version);
      byGv.set(key, [...(byGv.get(key) ?? []), t]);
    }
    this.docs = new Map(
      [...byGv].map(([path, types]) => {
        const doc = {
          openapi: '3.0.0',
          info: { title: 'Stratus', version: path },
          paths: Object.assign({}, ...types.map(operations)),
          components: { schemas: { [OBJECT_META]: objectMetaSchema, ...Object.fromEntries(types.map((t) => [schemaName(t), typeSchema(t)])) } },
        };
        const json = JSON.stringify(doc);
        return [path, { json, hash: createHash('sha512').update(json).digest('hex').slice(0, 64).toUpperCase() }];
      }),
    );
    this.cachedAt = this.registry.generation;
  }
}
