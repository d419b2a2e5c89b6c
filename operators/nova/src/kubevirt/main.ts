#!/usr/bin/env node
/**
 * nova-compute-kubevirt: the kubevirt compute driver for one KubeVirt cluster, until SIGTERM. Its kubeconfig
 * (KUBECONFIG, or in-cluster) is the cluster's; settings from the environment (kubevirtCompute.ts), and the
 * image store's S3_* as Glance's.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { ImageStore, storeConfigFromEnv } from '@stratus/glance';
import { createLogger, stopWithParent } from '@stratus/runtime';
import { kubevirtConfigFromEnv, startKubevirtCompute } from './kubevirtCompute.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const logger = createLogger('nova-compute-kubevirt');
// Snapshots are written to the image store, as Glance writes any image's data (S3_*).
const store = new ImageStore(storeConfigFromEnv(process.env));
const compute = await startKubevirtCompute({ config: kubevirtConfigFromEnv(process.env), kubeConfig, logger, store });
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    logger.info('signal received; shutting down (VirtualMachines keep running)', { signal });
    void compute.stop().then(() => {
      store.destroy();
      process.exit(0);
    });
  });
stopWithParent();
