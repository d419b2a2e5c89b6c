/** Keystone: the identity operator. */
export * from './kinds.js';
