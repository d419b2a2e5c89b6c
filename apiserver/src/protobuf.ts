/**
 * Protobuf request bodies. kubectl's imperative commands (`create namespace|configmap|secret|serviceaccount|
 * role|rolebinding|clusterrole|clusterrolebinding`, `auth can-i`) send built-in kinds as application/vnd.kubernetes.protobuf,
 * and client-go programs (Helm) send DeleteOptions so:
 * the 4-byte magic "k8s\0" and a runtime.Unknown envelope around the object. The messages below are the
 * subset of Kubernetes' generated.proto (same field numbers) for the kinds this server serves.
 */
import protobuf from 'protobufjs';
import { badRequest, unsupportedMediaType } from './errors.js';

const PROTO = `
syntax = "proto2";
package k8s;
message TypeMeta { optional string apiVersion = 1; optional string kind = 2; }
message Unknown { optional TypeMeta typeMeta = 1; optional bytes raw = 2; optional string contentEncoding = 3; optional string contentType = 4; }
message Time { optional int64 seconds = 1; optional int32 nanos = 2; }
message OwnerReference { optional string kind = 1; optional string name = 3; optional string uid = 4; optional string apiVersion = 5; optional bool controller = 6; optional bool blockOwnerDeletion = 7; }
message ObjectMeta {
  optional string name = 1; optional string generateName = 2; optional string namespace = 3; optional string selfLink = 4;
  optional string uid = 5; optional string resourceVersion = 6; optional int64 generation = 7;
  optional Time creationTimestamp = 8; optional Time deletionTimestamp = 9; optional int64 deletionGracePeriodSeconds = 10;
  map<string, string> labels = 11; map<string, string> annotations = 12;
  repeated OwnerReference ownerReferences = 13; repeated string finalizers = 14;
}
message NamespaceSpec { repeated string finalizers = 1; }
message NamespaceStatus { optional string phase = 1; }
message Namespace { optional ObjectMeta metadata = 1; optional NamespaceSpec spec = 2; optional NamespaceStatus status = 3; }
message ConfigMap { optional ObjectMeta metadata = 1; map<string, string> data = 2; map<string, bytes> binaryData = 3; optional bool immutable = 4; }
message Secret { optional ObjectMeta metadata = 1; map<string, bytes> data = 2; optional string type = 3; map<string, string> stringData = 4; optional bool immutable = 5; }
message ObjectReference { optional string kind = 1; optional string namespace = 2; optional string name = 3; optional string uid = 4; optional string apiVersion = 5; optional string resourceVersion = 6; optional string fieldPath = 7; }
message LocalObjectReference { optional string name = 1; }
message ServiceAccount { optional ObjectMeta metadata = 1; repeated ObjectReference secrets = 2; repeated LocalObjectReference imagePullSecrets = 3; optional bool automountServiceAccountToken = 4; }
message PolicyRule { repeated string verbs = 1; repeated string apiGroups = 2; repeated string resources = 3; repeated string resourceNames = 4; repeated string nonResourceURLs = 5; }
message LabelSelector { map<string, string> matchLabels = 1; }
message AggregationRule { repeated LabelSelector clusterRoleSelectors = 1; }
message Subject { optional string kind = 1; optional string apiGroup = 2; optional string name = 3; optional string namespace = 4; }
message RoleRef { optional string apiGroup = 1; optional string kind = 2; optional string name = 3; }
message Role { optional ObjectMeta metadata = 1; repeated PolicyRule rules = 2; }
message ClusterRole { optional ObjectMeta metadata = 1; repeated PolicyRule rules = 2; optional AggregationRule aggregationRule = 3; }
message RoleBinding { optional ObjectMeta metadata = 1; repeated Subject subjects = 2; optional RoleRef roleRef = 3; }
message ClusterRoleBinding { optional ObjectMeta metadata = 1; repeated Subject subjects = 2; optional RoleRef roleRef = 3; }
message Lease { optional ObjectMeta metadata = 1; }
message ResourceAttributes { optional string namespace = 1; optional string verb = 2; optional string group = 3; optional string version = 4; optional string resource = 5; optional string subresource = 6; optional string name = 7; }
message NonResourceAttributes { optional string path = 1; optional string verb = 2; }
message SelfSubjectAccessReviewSpec { optional ResourceAttributes resourceAttributes = 1; optional NonResourceAttributes nonResourceAttributes = 2; }
message SelfSubjectAccessReview { optional ObjectMeta metadata = 1; optional SelfSubjectAccessReviewSpec spec = 2; }
message SelfSubjectReview { optional ObjectMeta metadata = 1; }
message Preconditions { optional string uid = 1; optional string resourceVersion = 2; }
message DeleteOptions { optional int64 gracePeriodSeconds = 1; optional Preconditions preconditions = 2; optional bool orphanDependents = 3; optional string propagationPolicy = 4; repeated string dryRun = 5; }
`;

const root = protobuf.parse(PROTO, { keepCase: true }).root;
const type = (name: string) => root.lookupType(`k8s.${name}`);
const UNKNOWN = type('Unknown');
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Kinds whose protobuf form this server decodes, by apiVersion/kind. */
const KINDS: Record<string, string> = {
  'v1/Namespace': 'Namespace',
  'v1/ConfigMap': 'ConfigMap',
  'v1/Secret': 'Secret',
  'v1/ServiceAccount': 'ServiceAccount',
  'rbac.authorization.k8s.io/v1/Role': 'Role',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'ClusterRole',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'ClusterRoleBinding',
  // kubectl auth can-i and auth whoami.
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'SelfSubjectAccessReview',
  'authentication.k8s.io/v1/SelfSubjectReview': 'SelfSubjectReview',
  // The body of a DELETE (client-go sends it as protobuf too: Helm deleting its release records, say).
  'v1/DeleteOptions': 'DeleteOptions',
  'meta.k8s.io/v1/DeleteOptions': 'DeleteOptions',
};

const toTime = (t: { seconds?: number; nanos?: number } | undefined) =>
  t && t.seconds !== undefined ? new Date(t.seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined;

/** Decodes a protobuf-encoded object into the JSON form the rest of the server works with. */
export function decodeProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw badRequest('protobuf body does not start with the Kubernetes magic number');
  let envelope: { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array; contentEncoding?: string };
  try {
    envelope = UNKNOWN.toObject(UNKNOWN.decode(body.subarray(4)), { defaults: false }) as typeof envelope;
  } catch (e) {
    throw badRequest(`error decoding protobuf request body: ${(e as Error).message}`);
  }
  const apiVersion = envelope.typeMeta?.apiVersion ?? '';
  const kind = envelope.typeMeta?.kind ?? '';
  const messageName = KINDS[`${apiVersion}/${kind}`];
  if (!messageName || envelope.contentEncoding) throw unsupportedMediaType(`application/vnd.kubernetes.protobuf (${apiVersion} ${kind})`);
  const message = type(messageName);
  let obj: Record<string, any>;
  try {
    // Kubernetes encodes []byte as base64 strings in JSON; protobufjs does the same with bytes: String.
    obj = message.toObject(message.decode(envelope.raw ?? new Uint8Array()), { longs: Number, bytes: String, defaults: false, arrays: false, objects: false }) as Record<string, any>;
  } catch (e) {
    throw badRequest(`error decoding protobuf ${kind}: ${(e as Error).message}`);
  }
  const meta = (dropEmptyStrings(obj.metadata ?? {}) as Record<string, any>);
  for (const f of ['creationTimestamp', 'deletionTimestamp']) {
    const t = toTime(meta[f]);
    if (t) meta[f] = t;
    else delete meta[f];
  }
  return { apiVersion, kind, ...(dropEmptyStrings(obj) as object), metadata: meta };
}

/** Maps whose empty values are real values (a label may be ""); everywhere else "" means unset. */
const MAP_FIELDS = new Set(['labels', 'annotations', 'data', 'stringData', 'binaryData', 'matchLabels']);

/** Go's JSON `omitempty` drops empty strings that protobuf carries explicitly; do the same. */
function dropEmptyStrings(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? dropEmptyStrings(x) : x));
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== '')
      .map(([k, x]) => [k, MAP_FIELDS.has(k) ? x : dropEmptyStrings(x)]),
  );
}
