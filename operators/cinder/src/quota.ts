/**
 * Block storage quotas (Cinder's volumes, gigabytes, snapshots, backups, backup_gigabytes, groups, and volumes,
 * gigabytes and snapshots of each volume type), pure: limits from the Tenant's spec.quota where it sets one,
 * else from the default quota class (absent from both: unlimited, -1); usage counted from the tenant's objects.
 * Snapshots count toward gigabytes, and toward their volume's type, as in Cinder.
 *
 * A quota is held flat, as the default class's ConfigMap keeps it: the Tenant's field names, and
 * `<volumes|gigabytes|snapshots>.<VolumeType object name>` for a type's own limits.
 */
export interface BlockUsage {
  volumes: number;
  gigabytes: number;
  snapshots: number;
  backups: number;
  backupGigabytes: number;
  groups: number;
}

/** Cinder's quota names, and the Tenant quota field each reads. */
export const BLOCK_QUOTAS: Array<[keyof BlockUsage, string]> = [
  ['volumes', 'volumes'],
  ['gigabytes', 'gigabytes'],
  ['snapshots', 'snapshots'],
  ['backups', 'backups'],
  ['backupGigabytes', 'backup_gigabytes'],
  ['groups', 'groups'],
];

export const limitsOf = (quota: Record<string, number> | undefined): Record<keyof BlockUsage, number> =>
  Object.fromEntries(BLOCK_QUOTAS.map(([k]) => [k, quota?.[k] ?? -1])) as Record<keyof BlockUsage, number>;

export const NO_USAGE: BlockUsage = { volumes: 0, gigabytes: 0, snapshots: 0, backups: 0, backupGigabytes: 0, groups: 0 };

/** What a volume type's own quota limits (Cinder's volumes_<type>, gigabytes_<type>, snapshots_<type>). */
export const TYPE_QUOTAS = ['volumes', 'gigabytes', 'snapshots'] as const;
export type TypeQuota = (typeof TYPE_QUOTAS)[number];

/** The flat key of a type's own limit or usage. */
export const typeQuotaKey = (quota: TypeQuota, type: string): string => `${quota}.${type}`;

/** The ConfigMap (in the release namespace) that holds the default quota class: flat keys, whole numbers. */
export const DEFAULT_QUOTAS_CONFIGMAP = 'block-storage-default-quotas';

/** The Tenant's spec.quota made flat: its numbers, and its volumeTypes' limits under their flat keys. */
export function flatTenantQuota(quota: Record<string, unknown> | undefined): Record<string, number> {
  const flat: Record<string, number> = {};
  for (const [k, v] of Object.entries(quota ?? {})) if (typeof v === 'number') flat[k] = v;
  const types = (quota?.volumeTypes ?? {}) as Record<string, Partial<Record<TypeQuota, number | null>> | null>;
  for (const [type, limits] of Object.entries(types))
    for (const q of TYPE_QUOTAS) if (typeof limits?.[q] === 'number') flat[typeQuotaKey(q, type)] = limits[q]!;
  return flat;
}

/** What a write asks of the quota: more usage, of a volume type's own too where it names one, and (a volume made or extended) the size that one volume gets. */
export interface QuotaAsk extends Partial<BlockUsage> {
  volumeGiB?: number;
  /** The VolumeType (object name) the volumes, gigabytes and snapshots asked count toward. */
  volumeType?: string;
  /** That type's name as Cinder shows it (its display name), for the refusal's words; the object name if unset. */
  volumeTypeName?: string;
  /** A retype: only the new type's own quota is asked; the tenant's whole usage does not change. */
  typeOnly?: boolean;
}

/** Usage with each volume type's own (flat keys, see typeQuotaKey). */
export interface TypedUsage extends BlockUsage {
  byType?: Record<string, number>;
}

/** Cinder's per_volume_gigabytes: the largest volume the tenant may make (-1: any), the Tenant's perVolumeGigabytes. */
export const perVolumeLimitOf = (quota: Record<string, number> | undefined): number => quota?.perVolumeGigabytes ?? -1;

/** Cinder's refusal (its exception name and message, for a 413) when `asked` on top of `used` goes past a limit. */
export function quotaRefusal(quota: Record<string, number> | undefined, used: TypedUsage, asked: QuotaAsk): { reason: string; message: string } | undefined {
  const perVolume = perVolumeLimitOf(quota);
  // Checked first, as Cinder's limit_check runs before its reservation.
  if (perVolume >= 0 && asked.volumeGiB !== undefined && asked.volumeGiB > perVolume)
    return { reason: 'VolumeSizeExceedsLimit', message: `Requested volume size ${asked.volumeGiB}G is larger than maximum allowed limit ${perVolume}G.` };
  const limits = limitsOf(quota);
  const over = (k: keyof BlockUsage) => !asked.typeOnly && limits[k] >= 0 && (asked[k] ?? 0) > 0 && used[k] + asked[k]! > limits[k];
  // A type's own limits are checked with the whole tenant's, each named as Cinder names it (gigabytes_<type>).
  const typed = (q: TypeQuota) => {
    if (!asked.volumeType || !asked[q]) return undefined;
    const key = typeQuotaKey(q, asked.volumeType);
    const limit = quota?.[key] ?? -1;
    const have = used.byType?.[key] ?? 0;
    return limit >= 0 && have + asked[q]! > limit ? { name: `${q}_${asked.volumeTypeName ?? asked.volumeType}`, limit, have } : undefined;
  };
  const gigabytesOver = over('gigabytes') ? { name: 'gigabytes', limit: limits.gigabytes, have: used.gigabytes } : typed('gigabytes');
  if (gigabytesOver)
    return { reason: 'VolumeSizeExceedsAvailableQuota', message: `Requested volume or snapshot exceeds allowed ${gigabytesOver.name} quota. Requested ${asked.gigabytes}G, quota is ${gigabytesOver.limit}G and ${gigabytesOver.have}G has been consumed.` };
  const volumesOver = over('volumes') ? { name: 'volumes', limit: limits.volumes } : typed('volumes');
  if (volumesOver) return { reason: 'VolumeLimitExceeded', message: `Maximum number of volumes allowed (${volumesOver.limit}) exceeded for quota '${volumesOver.name}'.` };
  const snapshotsOver = over('snapshots') ? { name: 'snapshots', limit: limits.snapshots } : typed('snapshots');
  if (snapshotsOver) return { reason: 'SnapshotLimitExceeded', message: `Maximum number of snapshots allowed (${snapshotsOver.limit}) exceeded${snapshotsOver.name === 'snapshots' ? '' : ` for quota '${snapshotsOver.name}'`}` };
  if (over('backups')) return { reason: 'BackupLimitExceeded', message: `Maximum number of backups allowed (${limits.backups}) exceeded` };
  if (over('backupGigabytes'))
    return { reason: 'VolumeBackupSizeExceedsAvailableQuota', message: `Requested backup exceeds allowed Backup gigabytes quota. Requested ${asked.backupGigabytes}G, quota is ${limits.backupGigabytes}G and ${used.backupGigabytes}G has been consumed.` };
  if (over('groups')) return { reason: 'GroupLimitExceeded', message: `Maximum number of groups allowed (${limits.groups}) exceeded` };
  return undefined;
}
