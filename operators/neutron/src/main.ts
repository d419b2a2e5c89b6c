#!/usr/bin/env node
/**
 * The networking operator process (Neutron's server with its ML2/OVN driver): the Network, Subnet and Port
 * reconcilers (one leader at a time) writing OVN's northbound database, until SIGTERM. OVN's databases are
 * named in the environment: OVN_NB_REMOTE and OVN_SB_REMOTE (unix:/path or tcp:host:port).
 */
import { KubeConfig } from '@kubernetes/client-node';
import { SYSTEM_NAMESPACE, createLogger, stopWithParent } from '@stratus/runtime';
import { neutronManager } from './operator.js';

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
  { kubeConfig, logger, metricsPort: Number(process.env.METRICS_PORT ?? 0), leaderElection: { namespace: process.env.STRATUS_NAMESPACE ?? SYSTEM_NAMESPACE } },
);
manager.stopOnSignals();
stopWithParent();
await manager.start();
