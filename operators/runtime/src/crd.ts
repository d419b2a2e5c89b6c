/**
 * Kind definitions, the one source of truth for each custom resource: the CRD YAML under crds/ (and the
 * chart's copy) is generated from these by `make generate`. What every Stratus kind shares is stated here
 * once: the `stratus` category, status.observedGeneration, status.conditions, status.phase, and the
 * Ready/Phase/Age printer columns.
 */

export type Schema = Record<string, unknown>;

/** The namespace Stratus's own objects live in: operator Secrets, leases, the Fernet keys. */
export const SYSTEM_NAMESPACE = 'stratus-system';

/**
 * The namespace this process was installed into (the chart's release namespace, given as STRATUS_NAMESPACE),
 * where its leases, ServiceAccounts and service state live; SYSTEM_NAMESPACE when run outside the chart.
 */
export const releaseNamespace = (): string => process.env.STRATUS_NAMESPACE ?? SYSTEM_NAMESPACE;

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface KindDefinition {
  group: string;
  version: string;
  kind: string;
  plural: string;
  scope: 'Namespaced' | 'Cluster';
  shortNames?: string[];
  description: string;
  spec: Schema;
  /** Status fields beyond the shared observedGeneration, conditions and phase. */
  status?: Record<string, Schema>;
  /** The OpenStack status words status.phase may take. */
  phases?: string[];
  /** Columns between NAME and the shared PHASE/READY/AGE. */
  columns?: PrinterColumn[];
  /** Fields clients may select on (`--field-selector`), as JSON paths such as `.status.host`. */
  selectableFields?: string[];
}

const conditionSchema: Schema = {
  type: 'object',
  required: ['type', 'status'],
  properties: {
    type: { type: 'string', description: 'Ready, Reconciling or Stalled.' },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string', description: 'A CamelCase word for why the condition has this status.' },
    message: { type: 'string', description: 'What a person needs to know about the condition.' },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    observedGeneration: { type: 'integer', format: 'int64' },
  },
};

export function crdFor(def: KindDefinition): Record<string, unknown> {
  const status: Schema = {
    type: 'object',
    description: 'The observed state, written by the operator.',
    // Until the operator first writes status, observedGeneration 0 (never observed) tells kstatus readers
    // (kpt, Flux, Argo CD) that the object is still in progress, rather than Current for want of a status.
    default: { observedGeneration: 0 },
    properties: {
      observedGeneration: { type: 'integer', format: 'int64', description: 'The metadata.generation this status describes.' },
      phase: { type: 'string', description: 'The OpenStack status word.', ...(def.phases ? { enum: def.phases } : {}) },
      conditions: {
        type: 'array',
        items: conditionSchema,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      },
      ...(def.status ?? {}),
    },
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${def.group}` },
    spec: {
      group: def.group,
      scope: def.scope,
      names: {
        plural: def.plural,
        singular: def.kind.toLowerCase(),
        kind: def.kind,
        listKind: `${def.kind}List`,
        ...(def.shortNames?.length ? { shortNames: def.shortNames } : {}),
        categories: ['stratus'],
      },
      versions: [
        {
          name: def.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          ...(def.selectableFields?.length ? { selectableFields: def.selectableFields.map((jsonPath) => ({ jsonPath })) } : {}),
          additionalPrinterColumns: [
            ...(def.columns ?? []),
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: def.description,
              required: ['spec'],
              properties: { spec: { type: 'object', ...def.spec }, status },
            },
          },
        },
      ],
    },
  };
}

/** The ResourceRef a controller watches for a kind. */
export const resourceOf = (def: KindDefinition) => ({ group: def.group, version: def.version, plural: def.plural, namespaced: def.scope === 'Namespaced' });
