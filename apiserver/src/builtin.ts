/** The built-in kinds the embedded control plane serves besides custom resources. */
import type { PrinterColumn, ResourceType } from './types.js';
import { storageKeyOf } from './types.js';

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const NAME: PrinterColumn = { name: 'Name', type: 'string', format: 'name', jsonPath: '.metadata.name', description: 'Name must be unique within a namespace.' };
const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'CreationTimestamp is when the object was created.' };

interface BuiltinSpec {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  hasStatus?: boolean;
  columns?: PrinterColumn[];
}

const specs: BuiltinSpec[] = [
  {
    group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'], hasStatus: true,
    columns: [{ name: 'Status', type: 'string', jsonPath: '.status.phase' }],
  },
  {
    group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true,
    columns: [{ name: 'Type', type: 'string', jsonPath: '.type' }],
  },
  { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] },
  { group: '', version: 'v1', resource: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'] },
  {
    group: '', version: 'v1', resource: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'],
    columns: [
      { name: 'Type', type: 'string', jsonPath: '.type' },
      { name: 'Reason', type: 'string', jsonPath: '.reason' },
      { name: 'Object', type: 'string', jsonPath: '.involvedObject.name' },
      { name: 'Message', type: 'string', jsonPath: '.message' },
    ],
  },
  {
    group: 'events.k8s.io', version: 'v1', resource: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'],
    columns: [
      { name: 'Type', type: 'string', jsonPath: '.type' },
      { name: 'Reason', type: 'string', jsonPath: '.reason' },
      { name: 'Object', type: 'string', jsonPath: '.regarding.name' },
      { name: 'Note', type: 'string', jsonPath: '.note' },
    ],
  },
  {
    group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease', namespaced: true,
    columns: [{ name: 'Holder', type: 'string', jsonPath: '.spec.holderIdentity' }],
  },
  // Storage as Kubernetes has it: a claim binds a volume (KubeVirt's hot-plugged Cinder volumes are these).
  {
    group: '', version: 'v1', resource: 'persistentvolumes', kind: 'PersistentVolume', namespaced: false, shortNames: ['pv'], hasStatus: true,
    columns: [
      { name: 'Capacity', type: 'string', jsonPath: '.spec.capacity.storage' },
      { name: 'Access Modes', type: 'string', jsonPath: '.spec.accessModes' },
      { name: 'Reclaim Policy', type: 'string', jsonPath: '.spec.persistentVolumeReclaimPolicy' },
      { name: 'Status', type: 'string', jsonPath: '.status.phase' },
      { name: 'Claim', type: 'string', jsonPath: '.spec.claimRef.name' },
      { name: 'StorageClass', type: 'string', jsonPath: '.spec.storageClassName' },
    ],
  },
  {
    group: '', version: 'v1', resource: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', namespaced: true, shortNames: ['pvc'], hasStatus: true,
    columns: [
      { name: 'Status', type: 'string', jsonPath: '.status.phase' },
      { name: 'Volume', type: 'string', jsonPath: '.spec.volumeName' },
      { name: 'Capacity', type: 'string', jsonPath: '.status.capacity.storage' },
      { name: 'Access Modes', type: 'string', jsonPath: '.status.accessModes' },
      { name: 'StorageClass', type: 'string', jsonPath: '.spec.storageClassName' },
    ],
  },
  // Workloads, stored as a chart installs them but never run: this control plane has no kubelet.
  {
    group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true, shortNames: ['svc'], categories: ['all'], hasStatus: true,
    columns: [{ name: 'Type', type: 'string', jsonPath: '.spec.type' }, { name: 'Cluster-IP', type: 'string', jsonPath: '.spec.clusterIP' }],
  },
  {
    group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true, shortNames: ['deploy'], categories: ['all'], hasStatus: true,
    columns: [{ name: 'Ready', type: 'string', jsonPath: '.status.readyReplicas' }, { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' }],
  },
  {
    group: 'apps', version: 'v1', resource: 'daemonsets', kind: 'DaemonSet', namespaced: true, shortNames: ['ds'], categories: ['all'], hasStatus: true,
    columns: [{ name: 'Ready', type: 'integer', jsonPath: '.status.numberReady' }, { name: 'Node Selector', type: 'string', jsonPath: '.spec.template.spec.nodeSelector' }],
  },
  {
    group: 'batch', version: 'v1', resource: 'jobs', kind: 'Job', namespaced: true, categories: ['all'], hasStatus: true,
    columns: [{ name: 'Completions', type: 'integer', jsonPath: '.status.succeeded' }],
  },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', kind: 'Role', namespaced: true },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'rolebindings', kind: 'RoleBinding', namespaced: true },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', kind: 'ClusterRole', namespaced: false },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false },
  // Extension API servers (apiserver/src/aggregation.ts), as virt-api registers subresources.kubevirt.io.
  {
    group: 'apiregistration.k8s.io', version: 'v1', resource: 'apiservices', kind: 'APIService', namespaced: false, hasStatus: true,
    columns: [{ name: 'Service', type: 'string', jsonPath: '.spec.service.name' }],
  },
  // Validating admission webhooks, called before an object is stored (apiserver/src/admission.ts).
  { group: 'admissionregistration.k8s.io', version: 'v1', resource: 'validatingwebhookconfigurations', kind: 'ValidatingWebhookConfiguration', namespaced: false },
  {
    group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', kind: 'CustomResourceDefinition',
    namespaced: false, shortNames: ['crd', 'crds'], hasStatus: true,
    columns: [{ name: 'Created At', type: 'string', format: 'date-time', jsonPath: '.metadata.creationTimestamp' }],
  },
];

export const CRD_STORAGE_KEY = storageKeyOf('apiextensions.k8s.io', 'customresourcedefinitions');
export const NAMESPACE_STORAGE_KEY = storageKeyOf('', 'namespaces');
export const SECRET_STORAGE_KEY = storageKeyOf('', 'secrets');

export function builtinTypes(): ResourceType[] {
  return specs.map((s) => ({
    group: s.group,
    version: s.version,
    resource: s.resource,
    kind: s.kind,
    singular: s.kind.toLowerCase(),
    listKind: `${s.kind}List`,
    namespaced: s.namespaced,
    shortNames: s.shortNames ?? [],
    categories: s.categories ?? [],
    verbs: ALL_VERBS,
    hasStatus: s.hasStatus ?? false,
    storageKey: storageKeyOf(s.group, s.resource),
    // The CRD table shows Name and Created At, not Age, as kube-apiserver does.
    printerColumns: s.kind === 'CustomResourceDefinition' ? [NAME, ...(s.columns ?? [])] : [NAME, ...(s.columns ?? []), AGE],
    storage: true,
  }));
}

export const DEFAULT_COLUMNS = { NAME, AGE };
