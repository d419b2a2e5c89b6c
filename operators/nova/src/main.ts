#!/usr/bin/env node
/** The Nova process: the scheduling and catalog controllers (one leader at a time), until SIGTERM. */
import { KubeConfig } from '@kubernetes/client-node';
import { SYSTEM_NAMESPACE, createLogger } from '@stratus/runtime';
import { novaManager } from './operator.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const logger = createLogger('nova');
const manager = novaManager({ kubeConfig, logger, metricsPort: Number(process.env.METRICS_PORT ?? 0), leaderElection: { namespace: process.env.STRATUS_NAMESPACE ?? SYSTEM_NAMESPACE } });
manager.stopOnSignals();
await manager.start();
