/**
 * The kinds the dashboard shows live, as the OpenStack APIs name them: where each lives, the ID its API shows,
 * and who may see one (the policy the APIs apply, so a page is never told about what its user cannot read).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ResourceRef } from '@stratus/runtime';

export type LiveKind = 'servers' | 'images' | 'volumes' | 'snapshots' | 'backups' | 'groups' | 'groupsnapshots' | 'grouptypes' | 'networks' | 'subnets' | 'routers' | 'floatingips' | 'securitygroups' | 'flavors' | 'hypervisors' | 'projects';

export interface Viewer {
  /** The tenant's namespace the session is scoped to. */
  namespace?: string;
  admin: boolean;
}

type Obj = KubernetesObject & { spec?: Record<string, any> };

export interface LiveKindDef {
  ref: ResourceRef;
  /** The ID the service's API shows. */
  idOf(o: Obj): string;
  /** Whether a viewer may read it through the API (pure). */
  visible(o: Obj, v: Viewer): boolean;
}

const ref = (group: string, plural: string, namespaced: boolean): ResourceRef => ({ group, version: 'v1alpha1', plural, namespaced });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const uid = (o: Obj) => o.metadata?.uid ?? '';
/**
 * A volume's or a backup's OpenStack ID: the annotation (Cinder's VOLUME_ID_ANNOTATION) a volume transferred from
 * another project keeps its first UID in, and an imported backup its record's ID; else its UID.
 */
const blockStorageId = (o: Obj) => o.metadata?.annotations?.['blockstorage.stratus.io/id'] ?? uid(o);
const ownTenant = (o: Obj, v: Viewer) => v.admin || (!!v.namespace && o.metadata?.namespace === v.namespace);
/** Flavors and group types: public ones are everyone's to list, private ones an admin's (Nova's and Cinder's policies). */
const publicOrAdmin = (o: Obj, v: Viewer) => v.admin || o.spec?.isPublic !== false;

export const LIVE_KINDS: Record<LiveKind, LiveKindDef> = {
  servers: { ref: ref('compute.stratus.io', 'instances', true), idOf: uid, visible: ownTenant },
  images: {
    ref: ref('image.stratus.io', 'images', true),
    // Glance's ID: the object name when it is a UUID (images made with an ID), else the UID.
    idOf: (o) => (UUID.test(o.metadata?.name ?? '') ? o.metadata!.name! : uid(o)),
    // Public and community images are everyone's; shared ones are left to the API to decide when the page asks.
    visible: (o, v) => ownTenant(o, v) || ['public', 'community', 'shared'].includes(o.spec?.visibility),
  },
  volumes: { ref: ref('blockstorage.stratus.io', 'volumes', true), idOf: blockStorageId, visible: ownTenant },
  snapshots: { ref: ref('blockstorage.stratus.io', 'volumesnapshots', true), idOf: uid, visible: ownTenant },
  backups: { ref: ref('blockstorage.stratus.io', 'volumebackups', true), idOf: blockStorageId, visible: ownTenant },
  groups: { ref: ref('blockstorage.stratus.io', 'volumegroups', true), idOf: uid, visible: ownTenant },
  groupsnapshots: { ref: ref('blockstorage.stratus.io', 'volumegroupsnapshots', true), idOf: uid, visible: ownTenant },
  grouptypes: { ref: ref('blockstorage.stratus.io', 'volumegrouptypes', false), idOf: uid, visible: publicOrAdmin },
  networks: { ref: ref('network.stratus.io', 'networks', true), idOf: uid, visible: (o, v) => ownTenant(o, v) || !!o.spec?.shared || !!o.spec?.external },
  // Only the project's own: a shared network's subnets are listed when the page loads, not streamed (the object does not say its network is shared).
  subnets: { ref: ref('network.stratus.io', 'subnets', true), idOf: uid, visible: ownTenant },
  routers: { ref: ref('network.stratus.io', 'routers', true), idOf: uid, visible: ownTenant },
  floatingips: { ref: ref('network.stratus.io', 'floatingips', true), idOf: uid, visible: ownTenant },
  securitygroups: { ref: ref('network.stratus.io', 'securitygroups', true), idOf: uid, visible: ownTenant },
  flavors: { ref: ref('compute.stratus.io', 'flavors', false), idOf: (o) => o.metadata?.name ?? '', visible: publicOrAdmin },
  hypervisors: { ref: ref('compute.stratus.io', 'hypervisors', false), idOf: uid, visible: (_o, v) => v.admin },
  projects: { ref: ref('identity.stratus.io', 'tenants', false), idOf: (o) => uid(o).replace(/-/g, ''), visible: (o, v) => v.admin || o.metadata?.name === v.namespace },
};

export const isLiveKind = (k: string): k is LiveKind => Object.hasOwn(LIVE_KINDS, k);
