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

/** Cinder's refusal (its exception name and message, for a 413) when `asked` on top of `used` goes past a limit. */
export function quotaRefusal(quota: Record<string, number> | undefined, used: BlockUsage, asked: Partial<BlockUsage>): { reason: string; message: string } | undefined {
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
