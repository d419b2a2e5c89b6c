/**
 * The Image a server's root disk is stored as (Nova's createImage, createBackup and shelve): what Nova records
 * of a snapshot, from the server and the image it was booted from. Pure, so the API and the node agent agree.
 */
import { imageIdOf, type Image } from '@stratus/glance';
import type { Instance } from './resources.js';

export interface SnapshotRequest {
  /** The Image's object name. */
  name: string;
  /** Its OpenStack name. */
  displayName: string;
  /** Properties asked for beyond what Nova records (they may say otherwise, as in Nova). */
  properties?: Record<string, string>;
  annotations?: Record<string, string>;
  /** It goes with the server (a shelved image, which the server's deletion deletes, as Nova's does). */
  ownedByServer?: boolean;
}

export function snapshotImageOf(inst: Instance, bootedFrom: Image | undefined, r: SnapshotRequest): Image {
  const owner = { apiVersion: inst.apiVersion, kind: inst.kind, name: inst.metadata.name, uid: inst.metadata.uid!, blockOwnerDeletion: false };
  return {
    apiVersion: 'image.stratus.io/v1alpha1',
    kind: 'Image',
    metadata: { name: r.name, namespace: inst.metadata.namespace!, ...(r.annotations ? { annotations: r.annotations } : {}), ...(r.ownedByServer ? { ownerReferences: [owner] } : {}) },
    spec: {
      displayName: r.displayName,
      diskFormat: 'qcow2',
      containerFormat: 'bare',
      visibility: 'private',
      minDisk: inst.status?.flavor?.diskGiB ?? 0,
      minRam: bootedFrom?.spec.minRam ?? 0,
      properties: { ...(bootedFrom?.spec.properties ?? {}), image_type: 'snapshot', instance_uuid: inst.metadata.uid!, ...(bootedFrom ? { base_image_ref: imageIdOf(bootedFrom) } : {}), ...(r.properties ?? {}) },
      source: { instance: { name: inst.metadata.name } },
    },
  };
}
