#!/usr/bin/env node
/**
 * The nova-compute process: the node agent for this host, until SIGTERM. Guests keep running when it stops;
 * started again, it finds them. Settings come from the environment (see config.ts); the image store's from
 * S3_* as Glance's do.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger, stopWithParent } from '@stratus/runtime';
import { ImageStore, storeConfigFromEnv } from '@stratus/glance';
import { startComputeAgent } from './computeAgent.js';
import { agentConfigFromEnv } from './config.js';
import { vifHostFromEnv } from './vifs.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const logger = createLogger('nova-compute');
const store = new ImageStore(storeConfigFromEnv(process.env));
const vifs = vifHostFromEnv(process.env, logger);
const agent = await startComputeAgent({ config: agentConfigFromEnv(process.env), kubeConfig, logger, store, vifs });
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    logger.info('signal received; shutting down (guests keep running)', { signal });
    void agent.stop().then(() => {
      store.destroy();
      vifs?.ovs.close();
      process.exit(0);
    });
  });
stopWithParent();
