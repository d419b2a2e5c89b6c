#!/usr/bin/env node
/** The Keystone operator process: reconciles identity kinds until SIGTERM, one leader at a time. */
import { SYSTEM_NAMESPACE } from './kinds.js';
import { keystoneManager } from './operator.js';

const manager = keystoneManager({
  metricsPort: Number(process.env.METRICS_PORT ?? 0),
  leaderElection: { namespace: process.env.STRATUS_NAMESPACE ?? SYSTEM_NAMESPACE },
});
manager.stopOnSignals();
await manager.start();
