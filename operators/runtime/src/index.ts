/** The shared reconcile runtime for the Stratus operators. */
export * from './client.js';
export * from './conditions.js';
export * from './controller.js';
export * from './events.js';
export * from './finalizers.js';
export * from './leader.js';
export * from './logger.js';
export * from './manager.js';
export * from './metrics.js';
export * from './workqueue.js';
export * from './crd.js';
export * from './status.js';
export * from './informer.js';
export * from './router.js';
export * from './waiting.js';
export * from './apiServer.js';
export * from './keystoneTokens.js';
