/**
 * What a schema says of a list, for the two ways writes combine with what is stored: server-side apply reads
 * `x-kubernetes-list-type` (atomic, set, map with `x-kubernetes-list-map-keys`); strategic merge patch reads
 * `x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key`. Custom resources bring their own schema;
 * the built-in kinds served here get the shapes Kubernetes' Go types declare (ObjectMeta's finalizers and
 * ownerReferences, pod templates' containers/env/volumes/ports, Service ports, webhooks).
 */

/** A JSON object (not an array, not null). Defined here, at the bottom of the merge modules; patch.ts re-exports it. */
export const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The parts of an OpenAPI schema node that shape merging. */
export type Shape = Record<string, any>;

export type ListMerge = { kind: 'atomic' } | { kind: 'set' } | { kind: 'map'; keys: string[] };

const ATOMIC: ListMerge = { kind: 'atomic' };

/** The schema of `key` inside an object of schema `s`. */
export function childShape(s: Shape | undefined, key: string): Shape | undefined {
  if (!s) return undefined;
  const p = s.properties?.[key];
  if (p) return p;
  return isPlainObject(s.additionalProperties) ? s.additionalProperties : undefined;
}

export const itemShape = (s: Shape | undefined): Shape | undefined => (isPlainObject(s?.items) ? s.items : undefined);

/** How server-side apply merges a list of schema `s`. */
export function applyListMerge(s: Shape | undefined): ListMerge {
  const type = s?.['x-kubernetes-list-type'];
  if (type === 'set') return { kind: 'set' };
  const keys = s?.['x-kubernetes-list-map-keys'];
  if (type === 'map' && Array.isArray(keys) && keys.length) return { kind: 'map', keys };
  return ATOMIC;
}

/** How strategic merge patch merges a list of schema `s`: by merge key, as a set of primitives, or replaced. */
export function patchListMerge(s: Shape | undefined): ListMerge {
  const strategy = String(s?.['x-kubernetes-patch-strategy'] ?? '');
  if (!strategy.split(',').includes('merge')) return ATOMIC;
  const key = s?.['x-kubernetes-patch-merge-key'];
  return typeof key === 'string' ? { kind: 'map', keys: [key] } : { kind: 'set' };
}

/**
 * Whether a list item can be merged by key: an object with at least one of the keys (a missing one, such as a
 * port's protocol that Kubernetes would have defaulted, counts as absent on both sides).
 */
export const hasKeys = (item: unknown, keys: string[]): item is Record<string, unknown> => isPlainObject(item) && keys.some((k) => item[k] !== undefined);

/** An item's key values, in the keys' sorted order, as managedFields write them after `k:`. */
export const keyJson = (item: Record<string, unknown>, keys: string[]) =>
  JSON.stringify(Object.fromEntries([...keys].sort().filter((k) => item[k] !== undefined).map((k) => [k, item[k]])));

/** The item of `list` with the same key values as `item`, by index; -1 if none. */
export const indexByKeys = (list: unknown[], item: Record<string, unknown>, keys: string[]) =>
  list.findIndex((x) => isPlainObject(x) && keys.every((k) => JSON.stringify(x[k]) === JSON.stringify(item[k])));

// Kubernetes' Go types, as their OpenAPI publishes them, reduced to the lists that merge.
const mapList = (key: string, keys: string[] = [key], items: Shape = {}): Shape => ({
  type: 'array',
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': keys,
  'x-kubernetes-patch-strategy': 'merge',
  'x-kubernetes-patch-merge-key': key,
  items: { type: 'object', ...items },
});

export const OBJECT_META_SHAPE: Shape = {
  type: 'object',
  properties: {
    finalizers: { type: 'array', 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge', items: { type: 'string' } },
    ownerReferences: mapList('uid'),
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

const container: Shape = {
  properties: {
    env: mapList('name'),
    ports: mapList('containerPort', ['containerPort', 'protocol']),
    volumeMounts: { type: 'array', 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'mountPath', items: { type: 'object' } },
  },
};
const podTemplate: Shape = {
  type: 'object',
  properties: {
    metadata: OBJECT_META_SHAPE,
    spec: {
      type: 'object',
      properties: {
        containers: mapList('name', ['name'], container),
        initContainers: mapList('name', ['name'], container),
        volumes: mapList('name'),
        imagePullSecrets: mapList('name'),
      },
    },
  },
};
const withPodTemplate: Shape = { type: 'object', properties: { spec: { type: 'object', properties: { template: podTemplate } } } };

/** The built-in kinds' shapes, by storage key (group/resource). */
const BUILTIN: Record<string, Shape> = {
  'apps/deployments': withPodTemplate,
  'apps/daemonsets': withPodTemplate,
  'batch/jobs': withPodTemplate,
  '/services': { type: 'object', properties: { spec: { type: 'object', properties: { ports: mapList('port', ['port', 'protocol']) } } } },
  'admissionregistration.k8s.io/validatingwebhookconfigurations': { type: 'object', properties: { webhooks: mapList('name') } },
};

/** The whole object's shape: its schema (a CRD's, or the built-in one), with ObjectMeta's for metadata. */
export function objectShape(storageKey: string, schema: Shape | undefined): Shape {
  const base = schema ?? BUILTIN[storageKey] ?? { type: 'object' };
  return { ...base, properties: { ...(base.properties ?? {}), metadata: OBJECT_META_SHAPE } };
}
