/** The volume types a cloud starts with. */
import { isConflict, type KubeClient } from '@stratus/runtime';
import { DEFAULT_VOLUME_TYPE, FIELD_MANAGER, VOLUME_TYPES, type VolumeType } from './resources.js';

/** Makes a public volume type unless one of its name exists (an admin's edits to it stay). */
async function ensureVolumeType(client: KubeClient, name: string, spec: VolumeType['spec']): Promise<void> {
  if (await client.get<VolumeType>(VOLUME_TYPES, undefined, name)) return;
  const t: VolumeType = { apiVersion: 'blockstorage.stratus.io/v1alpha1', kind: 'VolumeType', metadata: { name }, spec };
  await client.create(VOLUME_TYPES, t, FIELD_MANAGER).catch((e) => {
    if (!isConflict(e)) throw e;
  });
}

/** The volume type every cloud has (Cinder's __DEFAULT__), which volumes naming none get. */
export function ensureDefaultVolumeType(client: KubeClient): Promise<void> {
  return ensureVolumeType(client, DEFAULT_VOLUME_TYPE, { displayName: '__DEFAULT__', description: 'Default Volume Type', isPublic: true });
}

/** A public type sending its volumes to one backend (volume_backend_name), as an operator makes one per backend. */
export function ensureBackendVolumeType(client: KubeClient, name: string, backend: string, description: string): Promise<void> {
  return ensureVolumeType(client, name, { displayName: name, description, isPublic: true, extraSpecs: { volume_backend_name: backend } });
}
