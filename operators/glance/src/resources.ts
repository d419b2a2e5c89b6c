/** The Image type, its API reference, and the facts about an image that every part of Glance reads the same way. */
import { resourceOf, type Condition } from '@stratus/runtime';
import { ImageKind, MetadefNamespaceKind, type ImagePhase, type Visibility } from './kinds.js';

export const IMAGES = resourceOf(ImageKind);
export const METADEF_NAMESPACES = resourceOf(MetadefNamespaceKind);

/** A metadata definitions namespace; its parts are kept as Glance's API documents them (with times). */
export interface MetadefNamespace {
  apiVersion: string;
  kind: 'MetadefNamespace';
  metadata: { name: string; uid?: string; generation?: number; resourceVersion?: string; creationTimestamp?: Date; deletionTimestamp?: Date; annotations?: Record<string, string> };
  spec: {
    namespace: string;
    displayName?: string;
    description?: string;
    visibility?: 'public' | 'private';
    protected?: boolean;
    owner?: string;
    resourceTypeAssociations?: Array<Record<string, unknown> & { name: string }>;
    properties?: Record<string, Record<string, unknown>>;
    objects?: Array<Record<string, unknown> & { name: string }>;
    tags?: Array<Record<string, unknown> & { name: string }>;
  };
  status?: { observedGeneration?: number; phase?: string; conditions?: Condition[] };
}
/** Tenants are Keystone's: its resource reference and type. */
export { TENANTS, type Tenant } from '@stratus/keystone';
export const FIELD_MANAGER = 'stratus-glance';
/** Guards the image's data in S3: removed only once the object is gone. */
export const DATA_FINALIZER = 'image.stratus.io/stored-data';

export interface ImageSpec {
  displayName?: string;
  diskFormat?: string;
  containerFormat?: string;
  visibility?: Visibility;
  members?: string[];
  /** Glance's owner, where an admin named one other than the tenant whose namespace holds the image. */
  owner?: string;
  memberStatus?: Record<string, MemberAnswer>;
  minDisk?: number;
  minRam?: number;
  protected?: boolean;
  hidden?: boolean;
  deactivated?: boolean;
  tags?: string[];
  properties?: Record<string, string>;
  source?: { url?: string; copyFrom?: { namespace?: string; name: string }; checksum?: string; instance?: { name: string }; volume?: { name: string } };
}

export type MemberStatus = 'pending' | 'accepted' | 'rejected';
export interface MemberAnswer {
  status: MemberStatus;
  createdAt?: string;
  updatedAt?: string;
}

export interface ImageStatus {
  observedGeneration?: number;
  phase?: ImagePhase;
  conditions?: Condition[];
  imageId?: string;
  owner?: string;
  size?: number;
  virtualSize?: number;
  checksum?: string;
  osHashAlgo?: string;
  osHashValue?: string;
  location?: string;
  uploadStartedAt?: string;
  uploadHeartbeat?: string;
}

/** How often an uploading API process renews status.uploadHeartbeat, and after how long without it the upload counts as abandoned. */
export const UPLOAD_HEARTBEAT_MS = 20_000;
export const UPLOAD_STALE_MS = 90_000;

export interface Image {
  apiVersion: string;
  kind: 'Image';
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    /** Strings on the wire; typed as client-node types them. */
    creationTimestamp?: Date;
    deletionTimestamp?: Date;
    managedFields?: Array<{ time?: Date }>;
    finalizers?: string[];
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }>;
  };
  spec: ImageSpec;
  status?: ImageStatus;
}


const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The OpenStack image ID: the object's name when that is a UUID (images made through the Image API are
 * named by their ID), otherwise its Kubernetes UID (images named by people with kubectl).
 */
export const imageIdOf = (img: Pick<Image, 'metadata'>) => (UUID.test(img.metadata.name) ? img.metadata.name : (img.metadata.uid ?? ''));
export const isUuid = (s: string) => UUID.test(s);

/** The OpenStack name: spec.displayName, else the object's name. */
export const displayNameOf = (img: Image) => img.spec.displayName ?? img.metadata.name;

/** The S3 key of an image's data: by UID, so an image re-made under the same name never meets old data. */
export const storeKeyOf = (img: Pick<Image, 'metadata'>) => `images/${img.metadata.namespace}/${img.metadata.uid}`;

/** The data's key as recorded in status.location (s3://bucket/key), or where it would go. */
export function keyFromLocation(location: string | undefined): string | undefined {
  const m = location && /^s3:\/\/[^/]+\/(.+)$/.exec(location);
  return m ? m[1] : undefined;
}

/** Whether the data arrives by upload through the Image API (no URL, no copy, no snapshot). */
export const isUploadSource = (spec: ImageSpec) => !spec.source?.url && !spec.source?.copyFrom && !spec.source?.instance && !spec.source?.volume;
