/** A control plane with the generated CRDs and a running Keystone operator, for one test suite. */
import { readdirSync, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startTestControlPlane, type TestControlPlane } from '@stratus/apiserver';
import { KubeClient, createLogger, type Manager, type ResourceRef } from '@stratus/runtime';
import { NAMESPACES, SYSTEM_NAMESPACE, keystoneManager } from '../src/index.js';

const CRDS: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };
const crdDir = new URL('../../../../crds/', import.meta.url);
const widgetCrd = new URL('../../../../e2e/fixtures/widget-crd.yaml', import.meta.url);

export interface KeystoneEnv {
  plane: TestControlPlane;
  client: KubeClient;
  manager: Manager;
  stop(): Promise<void>;
}

export async function startKeystoneEnv(): Promise<KeystoneEnv> {
  const plane = await startTestControlPlane();
  const kc = new KubeConfig();
  kc.loadFromString(plane.kubeconfig());
  const client = new KubeClient(kc);
  for (const f of readdirSync(crdDir).filter((f) => f.endsWith('.yaml'))) await client.create(CRDS, parse(readFileSync(new URL(f, crdDir), 'utf8')), 'test');
  // A namespaced kind in the `stratus` category, standing in for the instances and volumes later issues add.
  await client.create(CRDS, parse(readFileSync(widgetCrd, 'utf8')), 'test');
  await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NAMESPACE } }, 'test');
  await plane.server.controllers.idle();
  const manager = keystoneManager({ kubeConfig: kc, logger: createLogger('keystone-test', 'error') });
  await manager.start();
  return {
    plane,
    client,
    manager,
    async stop() {
      await manager.stop();
      await plane.stop();
    },
  };
}
