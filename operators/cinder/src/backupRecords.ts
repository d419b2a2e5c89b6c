/**
 * Backup records (Cinder's backups/{id}/export_record and backups/import_record), the decisions, pure: an
 * available backup is exported as the service that holds its data and a base64 JSON record of its fields, so
 * that it can be imported again after its record is lost (Cinder's database, here its VolumeBackup object).
 * An import makes a VolumeBackup under the record's ID (VOLUME_ID_ANNOTATION) that names the same data
 * (IMPORTED_ANNOTATION): two backups may then share one set of objects, which goes with the last of them. An
 * incremental backup's record names its parent, whose chunks it partly uses: it imports only beside that parent
 * (in the same project, available), which it then holds as a dependent, as a backup made here would.
 */
import { IMPORTED_ANNOTATION, VOLUME_ID_ANNOTATION, idOf, type VolumeBackup } from './resources.js';

/** The backup service this cloud's backups are kept by (Cinder names its drivers by module and class). */
export const BACKUP_SERVICE = 'cinder.backup.drivers.s3.S3BackupDriver';

/** What an imported backup names: where its data is and what it was made of. */
export interface ImportedData {
  container: string;
  prefix: string;
  sizeGiB: number;
  objectCount: number;
  dataBytes: number;
  volumeId: string;
  snapshotId?: string;
  /** An incremental backup's parent, by ID: its chunks are partly the parent's, which must be here too. */
  parentId?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The fields Cinder's backup manager needs in a record it imports. */
const REQUIRED = ['display_name', 'display_description', 'container', 'size', 'service_metadata', 'object_count', 'id'];

/** An available backup's record: Cinder's field names, its data's place in service_metadata and container. */
export function exportRecord(b: VolumeBackup, projectId: string | undefined): { backup_service: string; backup_url: string } {
  const s = b.status ?? {};
  const record = {
    id: idOf(b),
    display_name: b.spec.displayName ?? null,
    display_description: b.spec.description ?? null,
    volume_id: s.volumeId ?? null,
    snapshot_id: s.snapshotId ?? null,
    parent_id: s.parentId ?? null,
    project_id: projectId ?? null,
    size: s.sizeGiB ?? 0,
    container: s.container ?? null,
    service_metadata: s.prefix ?? null,
    object_count: s.objectCount ?? 0,
    status: s.phase ?? null,
    created_at: b.metadata.creationTimestamp ?? null,
    driver_info: { data_bytes: s.dataBytes ?? 0, volume: b.spec.volume },
  };
  return { backup_service: BACKUP_SERVICE, backup_url: Buffer.from(JSON.stringify(record)).toString('base64') };
}

/** A record to import, checked as Cinder checks it; or why it cannot be imported, in Cinder's words. */
export type ParsedRecord = { ok: true; id: string; name: string | null; description: string | null; volume: string; data: ImportedData } | { ok: false; invalid: 'input' | 'backup'; message: string };

export function parseRecord(backupService: string, backupUrl: string): ParsedRecord {
  if (backupService !== BACKUP_SERVICE) return { ok: false, invalid: 'input', message: `Backup service ${backupService} is not the one this cloud keeps backups with (${BACKUP_SERVICE}).` };
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(Buffer.from(backupUrl, 'base64').toString('utf8')) as Record<string, unknown>;
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw new Error('not an object');
  } catch {
    return { ok: false, invalid: 'input', message: "Can't parse backup record." };
  }
  if (!('id' in r)) return { ok: false, invalid: 'input', message: 'Provided backup record is missing an id' };
  if (!('size' in r)) return { ok: false, invalid: 'input', message: 'Provided backup record is missing size attribute' };
  const missing = REQUIRED.filter((k) => !(k in r));
  if (missing.length) return { ok: false, invalid: 'backup', message: `Driver successfully decoded imported backup data, but there are missing fields (${missing.join(', ')}).` };
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const count = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
  const id = text(r.id);
  const sizeGiB = count(r.size);
  const objectCount = count(r.object_count);
  const container = text(r.container);
  const prefix = text(r.service_metadata);
  if (!id || !UUID.test(id)) return { ok: false, invalid: 'input', message: `The backup record's id must be a UUID, not ${JSON.stringify(r.id)}.` };
  if (sizeGiB === undefined || objectCount === undefined) return { ok: false, invalid: 'input', message: "The backup record's size and object_count must be whole numbers." };
  if (!container || !prefix) return { ok: false, invalid: 'input', message: "The backup record names no container or service_metadata: it says where the backup's data is." };
  const parentId = r.parent_id ?? null;
  if (parentId !== null && (typeof parentId !== 'string' || !UUID.test(parentId))) return { ok: false, invalid: 'input', message: `The backup record's parent_id must be a UUID or null, not ${JSON.stringify(parentId)}.` };
  const driver = (r.driver_info ?? {}) as Record<string, unknown>;
  const volumeId = text(r.volume_id) ?? '00000000-0000-0000-0000-000000000000';
  const data: ImportedData = { container, prefix, sizeGiB, objectCount, dataBytes: count(driver.data_bytes) ?? 0, volumeId, ...(text(r.snapshot_id) ? { snapshotId: text(r.snapshot_id)! } : {}), ...(parentId ? { parentId } : {}) };
  return { ok: true, id, name: text(r.display_name), description: text(r.display_description), volume: text(driver.volume) ?? volumeId, data };
}

/** The VolumeBackup an import makes in `namespace`: the record's ID, name and data; nothing is backed up again. */
export function importedBackup(p: Extract<ParsedRecord, { ok: true }>, namespace: string, name: string): VolumeBackup {
  return {
    apiVersion: 'blockstorage.stratus.io/v1alpha1',
    kind: 'VolumeBackup',
    metadata: { name, namespace, annotations: { [VOLUME_ID_ANNOTATION]: p.id, [IMPORTED_ANNOTATION]: JSON.stringify(p.data) } },
    spec: { ...(p.name !== null ? { displayName: p.name } : {}), ...(p.description !== null ? { description: p.description } : {}), volume: p.volume, ...(p.data.parentId ? { incremental: true } : {}) },
  };
}

/** The data an imported backup names, or undefined (not imported, or not an annotation this code wrote). */
export function importedOf(b: VolumeBackup): ImportedData | undefined {
  const raw = b.metadata.annotations?.[IMPORTED_ANNOTATION];
  if (!raw) return undefined;
  try {
    const d = JSON.parse(raw) as Partial<ImportedData>;
    return typeof d.container === 'string' && typeof d.prefix === 'string' && typeof d.sizeGiB === 'number' && typeof d.volumeId === 'string' ? { objectCount: 0, dataBytes: 0, ...d } as ImportedData : undefined;
  } catch {
    return undefined;
  }
}

/** The container a backup's objects are (or would be) in: as recorded, else as its record or its spec asks, else the default. */
export const storedIn = (b: VolumeBackup, fallback: string): string => b.status?.container ?? importedOf(b)?.container ?? b.spec.container ?? fallback;

/** Whether another backup (not being deleted) holds the same objects: then deleting `b` leaves them. */
export function dataShared(b: VolumeBackup, all: VolumeBackup[], container: string, prefix: string, fallback: string): boolean {
  return all.some((o) => o.metadata.uid !== b.metadata.uid && !o.metadata.deletionTimestamp && (o.status?.prefix ?? importedOf(o)?.prefix) === prefix && storedIn(o, fallback) === container);
}
