#!/usr/bin/env node
/**
 * kubevirt-simulator as a process: a STAND-IN for KubeVirt's virt-api, virt-controller and virt-handler and
 * CDI's importer where KubeVirt cannot run (`stratus up --kubevirt` on a machine without a container runtime).
 * KUBEVIRT_SIMULATOR_NODE_MEMORY_MIB: the simulated node's memory; VIRT_API_PORT: the virt-api stand-in's port.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger, stopWithParent } from '@stratus/runtime';
import { startKubevirtSimulator } from './simulator.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const logger = createLogger('kubevirt-simulator');
const memoryMiB = Number(process.env.KUBEVIRT_SIMULATOR_NODE_MEMORY_MIB || 65_536);
const simulator = await startKubevirtSimulator({ kubeConfig, logger, node: { name: 'kubevirt-simulator-node-0', memoryMiB }, virtApiPort: Number(process.env.VIRT_API_PORT || 0) });
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void simulator.stop().then(() => process.exit(0)));
stopWithParent();
