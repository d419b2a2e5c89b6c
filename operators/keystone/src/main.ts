#!/usr/bin/env node
/**
 * The Keystone process: the Identity API v3 (every replica serves it) and the identity reconcilers (one
 * leader at a time), until SIGTERM.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger, releaseNamespace, stopWithParent } from '@stratus/runtime';
import { startIdentityApi } from './api/server.js';
import { keystoneManager } from './operator.js';
import { securityComplianceFromEnv } from './securityCompliance.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const logger = createLogger('keystone');
// Keystone's [security_compliance] account rules (off unless set): KEYSTONE_LOCKOUT_*, KEYSTONE_UNIQUE_LAST_PASSWORD_COUNT.
const compliance = securityComplianceFromEnv(process.env);
const manager = keystoneManager({
  compliance,
  kubeConfig,
  logger,
  metricsPort: Number(process.env.METRICS_PORT ?? 0),
  leaderElection: { namespace: releaseNamespace() },
});
const api = await startIdentityApi({
  kubeConfig,
  logger,
  host: process.env.KEYSTONE_API_HOST ?? '127.0.0.1',
  port: Number(process.env.KEYSTONE_API_PORT ?? 5000),
  tokenExpirationSeconds: process.env.TOKEN_EXPIRATION_SECONDS ? Number(process.env.TOKEN_EXPIRATION_SECONDS) : undefined,
  compliance,
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void api.close());
manager.stopOnSignals();
stopWithParent();
await manager.start();
