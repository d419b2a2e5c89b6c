/** Which resources are served: the built-in kinds plus every version each established CRD defines. */
import { RuleCompileError } from './cel.js';
import { builtinTypes, DEFAULT_COLUMNS } from './builtin.js';
import { invalid, type StatusCause } from './errors.js';
import { compileSchema } from './schema.js';
import type { KObject, PrinterColumn, ResourceType } from './types.js';
import { storageKeyOf } from './types.js';

export interface CrdSpec {
  group: string;
  scope: 'Namespaced' | 'Cluster';
  names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[]; categories?: string[] };
  versions: Array<{
    name: string;
    served: boolean;
    storage: boolean;
    schema?: { openAPIV3Schema?: Record<string, any> };
    subresources?: { status?: object; scale?: object };
    additionalPrinterColumns?: PrinterColumn[];
  }>;
}

const CRD_SUBJECT = { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', kind: 'CustomResourceDefinition' };

/** Checks a CRD the way kube-apiserver's validation does for the fields this server relies on. */
export function validateCrd(crd: KObject): void {
  const spec = crd.spec as CrdSpec | undefined;
  const causes: StatusCause[] = [];
  const need = (ok: unknown, field: string, message = 'Required value', reason = 'FieldValueRequired') => {
    if (!ok) causes.push({ reason, message, field });
  };
  need(spec, 'spec');
  if (spec) {
    need(spec.group, 'spec.group');
    need(spec.names?.plural, 'spec.names.plural');
    need(spec.names?.kind, 'spec.names.kind');
    need(['Namespaced', 'Cluster'].includes(spec.scope), 'spec.scope', `Unsupported value: ${JSON.stringify(spec.scope)}: supported values: "Cluster", "Namespaced"`, 'FieldValueNotSupported');
    need(Array.isArray(spec.versions) && spec.versions.length > 0, 'spec.versions', 'Invalid value: must have exactly one version marked as storage version', 'FieldValueInvalid');
    if (Array.isArray(spec.versions)) {
      need(spec.versions.filter((v) => v.storage).length === 1, 'spec.versions', 'Invalid value: must have exactly one version marked as storage version', 'FieldValueInvalid');
      spec.versions.forEach((v, i) => {
        need(v.name, `spec.versions[${i}].name`);
        const s = v.schema?.openAPIV3Schema;
        need(s, `spec.versions[${i}].schema.openAPIV3Schema`);
        if (s) {
          try {
            compileSchema(s);
          } catch (e) {
            if (e instanceof RuleCompileError) for (const p of e.problems) need(false, `spec.versions[${i}].schema.${p.path}`, p.message, 'FieldValueInvalid');
            else need(false, `spec.versions[${i}].schema.openAPIV3Schema`, `Invalid value: ${(e as Error).message}`, 'FieldValueInvalid');
          }
        }
      });
    }
    if (spec.group && spec.names?.plural)
      need(crd.metadata.name === `${spec.names.plural}.${spec.group}`, 'metadata.name', `Invalid value: "${crd.metadata.name}": must be spec.names.plural+"."+spec.group`, 'FieldValueInvalid');
  }
  if (causes.length) throw invalid({ ...CRD_SUBJECT, name: crd.metadata.name }, causes);
}

/** The status a CRD gets once its names are accepted: what `kubectl wait --for=condition=Established` reads. */
export function establishedStatus(crd: KObject, now: string): Record<string, unknown> {
  const spec = crd.spec as CrdSpec;
  const previous = ((crd.status as any)?.conditions ?? []) as Array<Record<string, string>>;
  const since = (type: string) => previous.find((c) => c.type === type && c.status === 'True')?.lastTransitionTime ?? now;
  const storage = spec.versions.find((v) => v.storage)!.name;
  const stored = new Set<string>([...(((crd.status as any)?.storedVersions as string[]) ?? []), storage]);
  return {
    conditions: [
      { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: since('NamesAccepted') },
      { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: since('Established') },
    ],
    acceptedNames: acceptedNames(spec),
    storedVersions: [...stored],
  };
}

function acceptedNames(spec: CrdSpec) {
  const n = spec.names;
  return {
    plural: n.plural,
    singular: n.singular ?? n.kind.toLowerCase(),
    kind: n.kind,
    listKind: n.listKind ?? `${n.kind}List`,
    ...(n.shortNames?.length ? { shortNames: n.shortNames } : {}),
    ...(n.categories?.length ? { categories: n.categories } : {}),
  };
}

function crdTypes(crd: KObject): ResourceType[] {
  const spec = crd.spec as CrdSpec;
  const names = acceptedNames(spec);
  return spec.versions
    .filter((v) => v.served)
    .map((v) => ({
      group: spec.group,
      version: v.name,
      resource: names.plural,
      kind: names.kind,
      singular: names.singular,
      listKind: names.listKind,
      namespaced: spec.scope === 'Namespaced',
      shortNames: names.shortNames ?? [],
      categories: names.categories ?? [],
      verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
      hasStatus: v.subresources?.status !== undefined,
      storageKey: storageKeyOf(spec.group, names.plural),
      printerColumns: [
        DEFAULT_COLUMNS.NAME,
        ...(v.additionalPrinterColumns ?? []),
        ...((v.additionalPrinterColumns ?? []).some((c) => c.name === 'Age') ? [] : [DEFAULT_COLUMNS.AGE]),
      ],
      schema: compileSchema(v.schema?.openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }),
      storage: v.storage,
      crdName: crd.metadata.name,
    }));
}

export class Registry {
  private readonly builtins = builtinTypes();
  private readonly custom = new Map<string, ResourceType[]>();
  /** Bumped on every change, so discovery and OpenAPI caches know when to rebuild. */
  generation = 0;
  private cached: ResourceType[] = this.builtins;

  /** Every served type; rebuilt only when a CRD changes, since every request looks types up here. */
  all(): ResourceType[] {
    return this.cached;
  }

  private changed(): void {
    this.generation++;
    this.cached = [...this.builtins, ...[...this.custom.values()].flat()];
  }

  find(group: string, version: string, resource: string): ResourceType | undefined {
    return this.all().find((t) => t.group === group && t.version === version && t.resource === resource);
  }

  /** The type an ownerReference's or object's apiVersion and kind name. */
  findByKind(apiVersion: string, kind: string): ResourceType | undefined {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    return this.all().find((t) => t.group === group && t.version === version && t.kind === kind);
  }

  /** The version objects of a storage key are written in. */
  storageType(storageKey: string): ResourceType | undefined {
    return this.all().find((t) => t.storageKey === storageKey && t.storage);
  }

  /** Groups with their served versions, the preferred (first listed) first. */
  groups(): Array<{ group: string; versions: string[] }> {
    const out = new Map<string, string[]>();
    for (const t of this.all()) {
      const vs = out.get(t.group) ?? [];
      if (!vs.includes(t.version)) vs.push(t.version);
      out.set(t.group, vs);
    }
    return [...out].map(([group, versions]) => ({ group, versions }));
  }

  setCrd(crd: KObject): void {
    this.custom.set(crd.metadata.name!, crdTypes(crd));
    this.changed();
  }

  removeCrd(name: string): void {
    if (this.custom.delete(name)) this.changed();
  }
}
