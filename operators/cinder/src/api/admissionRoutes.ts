/**
 * The Block Storage API's validating admission webhook (admission.k8s.io/v1): a Volume, VolumeSnapshot or
 * VolumeGroup a project member writes with kubectl is refused at once where the API would refuse it, with
 * Cinder's words (and a VolumeBackup that sets what only the API sets):
 * over the tenant's volumes, snapshots, gigabytes or groups quota (403, as Kubernetes' ResourceQuota answers), a volume
 * type the project may not use (422), a group that does not take the volume's type (422), or growing a volume
 * past the gigabytes left.
 */
import { admissionProjectId, type AdmissionDecider, type AdmissionRequest, type Refusal } from '@stratus/runtime';
import { quotaRefusal, type BlockUsage, type QuotaAsk } from '../quota.js';
import { encryptedTypeRefusal } from '../encryption.js';
import { BACKUP_RESERVED_ANNOTATIONS, RESERVED_ANNOTATIONS, volumeTypeOf, type Volume, type VolumeBackup, type VolumeGroup, type VolumeSnapshot } from '../resources.js';
import { reservedAnnotationChange } from '../transfers.js';
import { groupTypeRefusal } from '../groups.js';
import { quotaOf, usageOf } from '../volumes.js';
import type { VolApi } from './context.js';
import { mayUse } from './typeRoutes.js';

export const BLOCK_STORAGE_ADMISSION_PATH = '/v3/os-admission/volumes';

/** The webhook, by the path it is served at on the admission listener. */
export const admissionWebhooks = (api: VolApi): Record<string, AdmissionDecider<Volume | VolumeSnapshot | VolumeBackup | VolumeGroup>> => ({ [BLOCK_STORAGE_ADMISSION_PATH]: (r) => blockStorageRefusal(api, r) });

/** What a write asks of the quota: a new volume or snapshot and its GiB, the GiB an extend adds, or a new group. */
export function askedBy(r: AdmissionRequest<Volume | VolumeSnapshot | VolumeGroup>, volumeNamed: (name: string) => Volume | undefined): QuotaAsk | undefined {
  const o = r.object!;
  if (o.kind === 'VolumeGroup') return r.operation === 'CREATE' ? { groups: 1 } : undefined;
  if (o.kind === 'VolumeSnapshot') {
    const vol = volumeNamed(o.spec.volume);
    return r.operation === 'CREATE' ? { snapshots: 1, gigabytes: vol?.status?.sizeGiB ?? vol?.spec.sizeGiB ?? 0, ...(vol ? { volumeType: volumeTypeOf(vol) } : {}) } : undefined;
  }
  const v = o as Volume;
  if (r.operation === 'CREATE') return { volumes: 1, gigabytes: v.spec.sizeGiB, volumeGiB: v.spec.sizeGiB, volumeType: volumeTypeOf(v) };
  const old = r.oldObject as Volume | undefined;
  if (r.operation !== 'UPDATE' || !old) return undefined;
  const grown = v.spec.sizeGiB - old.spec.sizeGiB;
  // A retype asks the new type's own quota for the whole volume (not the tenant's, which does not change).
  if (volumeTypeOf(v) !== volumeTypeOf(old)) return { volumes: 1, gigabytes: Math.max(v.spec.sizeGiB, old.status?.sizeGiB ?? old.spec.sizeGiB), volumeType: volumeTypeOf(v), typeOnly: true };
  return grown > 0 ? { gigabytes: grown, volumeGiB: v.spec.sizeGiB, volumeType: volumeTypeOf(old) } : undefined;
}

/** Why Cinder would refuse this write, or nothing. */
export async function blockStorageRefusal(api: VolApi, r: AdmissionRequest<Volume | VolumeSnapshot | VolumeBackup | VolumeGroup>): Promise<Refusal | undefined> {
  const o = r.object!;
  const namespace = r.namespace ?? o.metadata?.namespace ?? '';
  // A volume's ID and its transfer, a backup's ID and imported data, are the API's to write: set by a tenant,
  // they would reach another's data.
  const reserved =
    o.kind === 'Volume' ? reservedAnnotationChange(RESERVED_ANNOTATIONS, o, r.oldObject) : o.kind === 'VolumeBackup' ? reservedAnnotationChange(BACKUP_RESERVED_ANNOTATIONS, o, r.oldObject, 'backup import') : undefined;
  if (reserved) return { code: 403, message: `${o.kind}.blockstorage.stratus.io "${o.metadata?.name ?? ''}" is forbidden: ${reserved}` };
  if (o.kind === 'VolumeBackup') return undefined; // its quota is the reconciler's to admit
  if (o.kind === 'Volume' && r.operation === 'CREATE' && (o as Volume).spec.volumeType) {
    const name = (o as Volume).spec.volumeType!;
    const type = api.dir.type(name);
    const projectId = admissionProjectId(r.userInfo) ?? api.dir.projectIdOf(namespace);
    if (!type || !mayUse(type, { admin: false, projectId }))
      return { code: 422, message: `Volume.blockstorage.stratus.io "${o.metadata?.name ?? ''}" is invalid: spec.volumeType: Volume type with name ${name} could not be found.` };
    const encrypted = encryptedTypeRefusal(type);
    if (encrypted) return { code: 422, message: `Volume.blockstorage.stratus.io "${o.metadata?.name ?? ''}" is invalid: spec.volumeType: ${encrypted}` };
  }
  if (o.kind === 'Volume') {
    const v = o as Volume;
    const why = groupTypeRefusal(v, r.oldObject as Volume | undefined, v.spec.group ? api.dir.groups.get(v.spec.group, namespace) : undefined);
    if (why) return { code: 422, message: `Volume.blockstorage.stratus.io "${o.metadata?.name ?? ''}" is invalid: spec.group: ${why}` };
  }
  const asked = askedBy(r as AdmissionRequest<Volume | VolumeSnapshot | VolumeGroup>, (volume) => api.dir.volumes.get(volume, namespace));
  if (!asked) return undefined;
  // Counted as the API counts: what is made and what is on its way (not failed), from the control plane.
  const refused = quotaRefusal(await quotaOf(api.client, namespace), await usageOf(api.client, namespace, undefined, true), asked);
  return refused ? { code: 403, message: `exceeded quota: ${refused.reason}: ${refused.message}` } : undefined;
}
