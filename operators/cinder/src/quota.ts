/**
 * Block storage quotas (Cinder's volumes, gigabytes, snapshots, backups, backup_gigabytes), pure: limits from
 * the Tenant's spec.quota (absent: unlimited, -1), usage counted from the tenant's objects. Snapshots count
 * toward gigabytes, as in Cinder.
 */
export interface BlockUsage {
  volumes: number;
  gigabytes: number;
  snapshots: number;
  backups: number;
  backupGigabytes: number;
}

/** Cinder's quota names, and the Tenant quota field each reads. */
export const BLOCK_QUOTAS: Array<[keyof BlockUsage, string]> = [
  ['volumes', 'volumes'],
  ['gigabytes', 'gigabytes'],
  ['snapshots', 'snapshots'],
  ['backups', 'backups'],
  ['backupGigabytes', 'backup_gigabytes'],
];

export const limitsOf = (quota: Record<string, number> | undefined): Record<keyof BlockUsage, number> =>
  Object.fromEntries(BLOCK_QUOTAS.map(([k]) => [k, quota?.[k] ?? -1])) as Record<keyof BlockUsage, number>;

export const NO_USAGE: BlockUsage = { volumes: 0, gigabytes: 0, snapshots: 0, backups: 0, backupGigabytes: 0 };

/** What a write asks of the quota: more usage, and (a volume made or extended) the size that one volume gets. */
export interface QuotaAsk extends Partial<BlockUsage> {
  volumeGiB?: number;
}

/** Cinder's per_volume_gigabytes: the largest volume the tenant may make (-1: any), the Tenant's perVolumeGigabytes. */
export const perVolumeLimitOf = (quota: Record<string, number> | undefined): number => quota?.perVolumeGigabytes ?? -1;

/** Cinder's refusal (its exception name and message, for a 413) when `asked` on top of `used` goes past a limit. */
export function quotaRefusal(quota: Record<string, number> | undefined, used: BlockUsage, asked: QuotaAsk): { reason: string; message: string } | undefined {
  const perVolume = perVolumeLimitOf(quota);
  // Checked first, as Cinder's limit_check runs before its reservation.
  if (perVolume >= 0 && asked.volumeGiB !== undefined && asked.volumeGiB > perVolume)
    return { reason: 'VolumeSizeExceedsLimit', message: `Requested volume size ${asked.volumeGiB}G is larger than maximum allowed limit ${perVolume}G.` };
  const limits = limitsOf(quota);
  const over = (k: keyof BlockUsage) => limits[k] >= 0 && (asked[k] ?? 0) > 0 && used[k] + asked[k]! > limits[k];
  if (over('gigabytes'))
    return { reason: 'VolumeSizeExceedsAvailableQuota', message: `Requested volume or snapshot exceeds allowed gigabytes quota. Requested ${asked.gigabytes}G, quota is ${limits.gigabytes}G and ${used.gigabytes}G has been consumed.` };
  if (over('volumes')) return { reason: 'VolumeLimitExceeded', message: `Maximum number of volumes allowed (${limits.volumes}) exceeded for quota 'volumes'.` };
  if (over('snapshots')) return { reason: 'SnapshotLimitExceeded', message: `Maximum number of snapshots allowed (${limits.snapshots}) exceeded` };
  if (over('backups')) return { reason: 'BackupLimitExceeded', message: `Maximum number of backups allowed (${limits.backups}) exceeded` };
  if (over('backupGigabytes'))
    return { reason: 'VolumeBackupSizeExceedsAvailableQuota', message: `Requested backup exceeds allowed Backup gigabytes quota. Requested ${asked.backupGigabytes}G, quota is ${limits.backupGigabytes}G and ${used.backupGigabytes}G has been consumed.` };
  return undefined;
}
