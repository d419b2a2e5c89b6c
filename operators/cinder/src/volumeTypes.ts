/** The volume types a cloud starts with. */
import { isConflict, type KubeClient } from '@stratus/runtime';
import { DEFAULT_VOLUME_TYPE, FIELD_MANAGER, VOLUME_TYPES, type VolumeType } from './resources.js';

/** The volume type every cloud has (Cinder's __DEFAULT__), which volumes naming none get. */
export async function ensureDefaultVolumeType(client: KubeClient): Promise<void> {
  if (await client.get<VolumeType>(VOLUME_TYPES, undefined, DEFAULT_VOLUME_TYPE)) return;
  const t: VolumeType = {
    apiVersion: 'blockstorage.stratus.io/v1alpha1',
    kind: 'VolumeType',
    metadata: { name: DEFAULT_VOLUME_TYPE },
    spec: { displayName: '__DEFAULT__', description: 'Default Volume Type', isPublic: true },
  };
  await client.create(VOLUME_TYPES, t, FIELD_MANAGER).catch((e) => {
    if (!isConflict(e)) throw e;
  });
}

/** A public type sending its volumes to one backend (volume_backend_name), as an operator makes one per backend. */
export async function ensureBackendVolumeType(client: KubeClient, name: string, backend: string, description: string): Promise<void> {
  if (await client.get<VolumeType>(VOLUME_TYPES, undefined, name)) return;
  const t: VolumeType = {
    apiVersion: 'blockstorage.stratus.io/v1alpha1',
    kind: 'VolumeType',
    metadata: { name },
    spec: { displayName: name, description, isPublic: true, extraSpecs: { volume_backend_name: backend } },
  };
  await client.create(VOLUME_TYPES, t, FIELD_MANAGER).catch((e) => {
    if (!isConflict(e)) throw e;
  });
}
