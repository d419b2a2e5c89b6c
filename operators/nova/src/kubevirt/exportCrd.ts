/**
 * KubeVirt's VirtualMachineExport CRD (export.kubevirt.io/v1), derived from KubeVirt's own swagger.json
 * (vendor/kubevirt/kubevirt-swagger.json), pure: the CI's shared folder gives the other CRDs verbatim but not
 * this one, whose schema KubeVirt's swagger documents (v1.VirtualMachineExport and the definitions it refers
 * to). References are inlined; Swagger's `type: [T, "null"]` becomes `type: T, nullable: true`, as a
 * structural schema says it; metadata is left to ObjectMeta, as Kubernetes serves it; names, short names and
 * printer columns as KubeVirt's virt-operator sets them for this kind.
 */
interface Swagger {
  definitions: Record<string, Record<string, unknown>>;
}

type Schema = Record<string, unknown>;

const FORMATS: Record<string, Schema> = {
  'k8s.io.apimachinery.pkg.apis.meta.v1.Time': { type: 'string', format: 'date-time' },
  'k8s.io.apimachinery.pkg.apis.meta.v1.Duration': { type: 'string' },
};

function inline(swagger: Swagger, schema: Schema, path: string[] = []): Schema {
  const ref = schema.$ref as string | undefined;
  if (ref) {
    const name = ref.split('/').pop()!;
    if (FORMATS[name]) return { ...FORMATS[name] };
    if (path.includes(name)) throw new Error(`a cycle through ${name}`);
    const { $ref: _r, ...rest } = schema;
    const target = swagger.definitions[name];
    if (!target) throw new Error(`no definition ${name}`);
    return inline(swagger, { ...target, ...rest }, [...path, name]);
  }
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'type' && Array.isArray(v)) {
      const types = v.filter((t) => t !== 'null');
      out.type = types[0];
      if (types.length !== v.length) out.nullable = true;
    } else if (k === 'properties') out.properties = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([p, s]) => [p, inline(swagger, s, path)]));
    else if (k === 'items') out.items = inline(swagger, v as Schema, path);
    else if (k === 'additionalProperties' && typeof v === 'object') out.additionalProperties = inline(swagger, v as Schema, path);
    else out[k] = v;
  }
  return out;
}

export function virtualMachineExportCrd(swagger: Swagger): Record<string, unknown> {
  const root = inline(swagger, { $ref: '#/definitions/v1.VirtualMachineExport' });
  const properties = { ...(root.properties as Record<string, Schema>), metadata: { type: 'object' } };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'virtualmachineexports.export.kubevirt.io', labels: { 'app.kubernetes.io/component': 'kubevirt' }, annotations: { 'stratus.io/derived-from': 'kubevirt-swagger.json#/definitions/v1.VirtualMachineExport' } },
    spec: {
      group: 'export.kubevirt.io',
      scope: 'Namespaced',
      names: { kind: 'VirtualMachineExport', plural: 'virtualmachineexports', singular: 'virtualmachineexport', listKind: 'VirtualMachineExportList', shortNames: ['vmexport', 'vmexports'] },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: { openAPIV3Schema: { ...root, properties } },
          additionalPrinterColumns: [
            { name: 'SourceKind', type: 'string', jsonPath: '.spec.source.kind' },
            { name: 'SourceName', type: 'string', jsonPath: '.spec.source.name' },
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
          ],
        },
      ],
    },
  };
}
