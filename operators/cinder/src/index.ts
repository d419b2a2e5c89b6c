/** Cinder: block storage. */
export * from './kinds.js';
export * from './resources.js';
export * from './backend/types.js';
export { FilePoolBackend, type FilePoolOptions } from './backend/filePool.js';
export { RbdPoolBackend, monitorsOf, monHostOf, rbdRoom, type RbdPoolOptions } from './backend/rbdPool.js';
export { RbdIo, RbdError, type RbdAccess } from './backend/rbdIo.js';
export { BackupChunkStore, CHUNK_BYTES, chunkPlan, overlaps, ownKeysOf, type BackupManifest } from './backupChunks.js';
export * from './operator.js';
export * from './quota.js';
export * from './scheduler.js';
export { volumePhase, holdsVolume, attachmentRecords } from './volumeState.js';
export { backupPrefixOf, containerOf, parentOf } from './backups.js';
export { startBlockStorageApi, type BlockStorageApi, type BlockStorageApiOptions } from './api/server.js';
export { BLOCK_STORAGE_ADMISSION_PATH } from './api/admissionRoutes.js';
export { ensureDefaultVolumeType, ensureBackendVolumeType } from './volumeTypes.js';
export * from './transfers.js';
export * from './backupRecords.js';
