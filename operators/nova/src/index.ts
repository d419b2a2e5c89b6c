/** Nova: the compute operator. */
export * from './kinds.js';
export * from './scheduler/types.js';
export * from './scheduler/filters.js';
export * from './scheduler/weighers.js';
export * from './scheduler/select.js';
