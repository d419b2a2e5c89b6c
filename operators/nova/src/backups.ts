/** Server backups (Nova's createBackup) and their rotation: pure, so the API and the node agent agree. */
import type { Image } from '@stratus/glance';

/** On a backup Image: how many of its server's backups of its type to keep, the new one counted. */
export const BACKUP_ROTATION_ANNOTATION = 'compute.stratus.io/backup-rotation';

const isBackupOf = (i: Image, server: string, type: string) => i.spec.properties?.image_type === 'backup' && i.spec.properties?.backup_type === type && i.spec.properties?.instance_uuid === server && !i.metadata.deletionTimestamp;

/**
 * The backups rotated out once `made` is stored: of the same server's backups of the same type, all but the
 * `rotation` newest (`made` the newest of all), as Nova rotates them after the new backup is uploaded.
 */
export function backupsPastRotation(images: readonly Image[], made: Image): Image[] {
  const rotation = Number(made.metadata.annotations?.[BACKUP_ROTATION_ANNOTATION]);
  const server = made.spec.properties?.instance_uuid;
  const type = made.spec.properties?.backup_type;
  if (!Number.isInteger(rotation) || rotation < 0 || !server || !type) return [];
  const time = (i: Image) => Date.parse(String(i.metadata.creationTimestamp ?? 0));
  const newestFirst = images
    .filter((i) => i.metadata.uid !== made.metadata.uid && isBackupOf(i, server, type))
    .sort((a, b) => time(b) - time(a));
  return [made, ...newestFirst].slice(rotation).filter((i) => i !== made);
}
