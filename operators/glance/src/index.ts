/** Glance: the image service. */
export * from './store/imageStore.js';
export * from './store/embeddedS3.js';
