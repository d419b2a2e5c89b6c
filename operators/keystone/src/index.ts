/** Keystone: the identity operator. */
export * from './kinds.js';
export * from './resources.js';
export * from './operator.js';
export { reconcileTenant } from './tenant.js';
export { reconcileUser } from './user.js';
export { hashPassword, verifyPassword } from './passwords.js';
