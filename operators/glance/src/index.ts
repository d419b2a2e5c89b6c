/** Glance: the image service. */
export * from './store/imageStore.js';
export * from './store/embeddedS3.js';
export { ObjectReader } from './store/objectReader.js';
export { sigV4Refusal, type S3Credentials } from './store/sigv4.js';
export * from './kinds.js';
export * from './resources.js';
export * from './visibility.js';
export * from './operator.js';
export { DEFAULT_IMAGE_BUCKET, storeConfigFromEnv, storeConfigToEnv } from './config.js';
export { startImageApi, type ImageApi, type ImageApiOptions } from './api/server.js';
export { IMAGE_ADMISSION_PATH } from './api/admissionRoutes.js';
export { storeImageData, recordStoredData, killedStatus, failureOf, DEFAULT_SIZE_CAP, type Failure } from './imageData.js';
export { DEFAULT_IMPORT_FILTER, endpointsOf, importFilterFromEnv, importFilterToEnv, type Endpoint, type ImportFilter } from './importFilter.js';
