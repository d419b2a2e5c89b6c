#!/usr/bin/env node
/**
 * nova-compute-kubevirt: the kubevirt compute driver for one KubeVirt cluster, until SIGTERM. Its kubeconfig
 * (KUBECONFIG, or in-cluster) is the cluster's; settings from the environment (kubevirtCompute.ts).
 */
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger, stopWithParent } from '@stratus/runtime';
import { kubevirtConfigFromEnv, startKubevirtCompute } from './kubevirtCompute.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const logger = createLogger('nova-compute-kubevirt');
const compute = await startKubevirtCompute({ config: kubevirtConfigFromEnv(process.env), kubeConfig, logger });
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    logger.info('signal received; shutting down (VirtualMachines keep running)', { signal });
    void compute.stop().then(() => process.exit(0));
  });
stopWithParent();
