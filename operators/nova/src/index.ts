/** Nova: the compute operator. */
export * from './kinds.js';
export * from './scheduler/types.js';
export * from './scheduler/filters.js';
export * from './scheduler/weighers.js';
export * from './scheduler/select.js';
export * from './resources.js';
export * from './scheduler/hostStates.js';
export * from './scheduler/book.js';
export { schedulingReconciler, ALLOCATION_FINALIZER } from './scheduling.js';
export { novaManager } from './operator.js';
export { sshFingerprint, reconcileFlavor, reconcileKeypair, reconcileServerGroup, reconcileHypervisor } from './catalog.js';
