/** A control plane with every generated CRD, the `demo` and system namespaces, and the Nova operator, for one test suite. */
import { readdirSync, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startTestControlPlane, type TestControlPlane } from '@stratus/apiserver';
import { KubeClient, SYSTEM_NAMESPACE, createLogger, type Manager, type ResourceRef } from '@stratus/runtime';
import { novaManager } from '../src/index.js';

const CRDS: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };
const NAMESPACES: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };
const crdDir = new URL('../../../../crds/', import.meta.url);

export interface ComputeEnv {
  plane: TestControlPlane;
  kubeConfig: KubeConfig;
  client: KubeClient;
  /** Starts the Nova operator (after the suite has made what it needs first). */
  startNova(opts?: { workers?: number }): Promise<Manager>;
  stop(): Promise<void>;
}

export async function startComputeEnv(): Promise<ComputeEnv> {
  const plane = await startTestControlPlane();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(plane.kubeconfig());
  const client = new KubeClient(kubeConfig);
  for (const f of readdirSync(crdDir).filter((f) => f.endsWith('.yaml'))) await client.create(CRDS, parse(readFileSync(new URL(f, crdDir), 'utf8')), 'test');
  await plane.server.controllers.idle();
  for (const name of ['demo', SYSTEM_NAMESPACE]) await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, 'test');
  let manager: Manager | undefined;
  return {
    plane,
    kubeConfig,
    client,
    async startNova(opts = {}) {
      manager = novaManager({ kubeConfig, logger: createLogger('nova-test', 'error'), workers: opts.workers });
      await manager.start();
      return manager;
    },
    async stop() {
      await manager?.stop();
      await plane.stop();
    },
  };
}
