/** Keystone: the identity operator. */
export * from './kinds.js';
export * from './resources.js';
export * from './operator.js';
export { reconcileTenant } from './tenant.js';
export { reconcileUser } from './user.js';
export { hashPassword, verifyPassword } from './passwords.js';
export { securityComplianceFromEnv, type SecurityCompliance } from './securityCompliance.js';
export { startIdentityApi, type IdentityApi, type IdentityApiOptions } from './api/server.js';
export { TOKEN_REVIEW_PATH } from './api/tokenReviewRoutes.js';
export { bootstrapIdentity, registerCatalogService, ADMIN_PASSWORD_SECRET, type BootstrapOptions } from './bootstrap.js';
export { rotateKeyRing, initialKeyRing, FERNET_KEYS_SECRET, type KeyRing } from './tokens/keyRing.js';
