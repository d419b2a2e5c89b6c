/** The embedded Kubernetes-compatible control plane. */
export { startServer, MAX_BODY_BYTES, type ServerOptions, type RunningServer } from './server.js';
export { generateProxyClientCert, generateServingCert, PROXY_CLIENT_NAME, type ServingCert } from './tls.js';
export { adminToken, writeKubeconfig, kubeconfigYaml } from './kubeconfig.js';
export { createLogger } from './logger.js';
export type { KObject, ObjectMeta, ResourceType } from './types.js';
export { startTestControlPlane, eventually, type TestControlPlane } from './testing.js';
export { webhookAuthenticator, ADMIN_USER, type TokenAuthenticator, type UserInfo } from './authn.js';
export { authorize, ruleAllows, type RbacObjects, type RequestAttributes, type PolicyRule } from './rbac.js';
