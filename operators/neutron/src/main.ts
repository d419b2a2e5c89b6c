#!/usr/bin/env node
/**
 * The networking operator process (Neutron's server with its ML2/OVN driver): the Networking API v2.0 (every
 * replica serves it) and the reconcilers (one leader at a time) writing OVN's northbound database, until SIGTERM. OVN's databases are
 * named in the environment: OVN_NB_REMOTE and OVN_SB_REMOTE (unix:/path or tcp:host:port).
 */
import { KubeConfig } from '@kubernetes/client-node';
import { admissionListenerFromEnv, releaseNamespace, createLogger, stopWithParent } from '@stratus/runtime';
import { neutronManager } from './operator.js';
import { startNetworkingApi } from './api/server.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const logger = createLogger('neutron');
const nbRemote = process.env.OVN_NB_REMOTE;
const sbRemote = process.env.OVN_SB_REMOTE;
if (!nbRemote || !sbRemote) {
  logger.error('OVN_NB_REMOTE and OVN_SB_REMOTE must name OVN northbound and southbound databases');
  process.exit(2);
}
const { manager } = neutronManager(
  { nbRemote, sbRemote, ...(process.env.OVN_REPAIR_SECONDS ? { repairEveryMs: 1000 * Number(process.env.OVN_REPAIR_SECONDS) } : {}) },
  { kubeConfig, logger, metricsPort: Number(process.env.METRICS_PORT ?? 0), leaderElection: { namespace: releaseNamespace() } },
);
const api = await startNetworkingApi({
  kubeConfig,
  logger,
  identityUrl: process.env.KEYSTONE_URL ?? 'http://127.0.0.1:5000/v3',
  host: process.env.NEUTRON_API_HOST ?? '127.0.0.1',
  port: Number(process.env.NEUTRON_API_PORT ?? 9696),
  ...(process.env.TOKEN_CACHE_SECONDS ? { tokenCacheSeconds: Number(process.env.TOKEN_CACHE_SECONDS) } : {}),
  // The webhook's own port (stratus up's, or the chart's with its certificate, whose CA is the caBundle).
  admission: admissionListenerFromEnv(process.env.NEUTRON_API_HOST ?? '127.0.0.1'),
  ovn: { nbRemote, sbRemote },
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void api.close());
manager.stopOnSignals();
stopWithParent();
await manager.start();
