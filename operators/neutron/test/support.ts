/** A control plane with every generated CRD and the `demo`/`other` namespaces, OVN's central daemons, and the networking operator, for one test suite. */
import { readdirSync, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startTestControlPlane, type TestControlPlane } from '@stratus/apiserver';
import { KubeClient, SYSTEM_NAMESPACE, createLogger, type Manager, type ResourceRef } from '@stratus/runtime';
import { neutronManager, type OvnMechanismHandle } from '../src/index.js';
import { startOvnCentral, type OvnCentral } from './ovnSupport.js';

const CRDS: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };
const NAMESPACES: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };
const crdDir = new URL('../../../../crds/', import.meta.url);

export interface NetworkingEnv {
  plane: TestControlPlane;
  ovn: OvnCentral;
  client: KubeClient;
  manager: Manager;
  mechanism: OvnMechanismHandle;
  /** Stops the operator and starts a new one (as after a crash). */
  restartOperator(): Promise<void>;
  stop(): Promise<void>;
}

export async function startNetworkingEnv(opts: { repairEveryMs?: number } = {}): Promise<NetworkingEnv> {
  const plane = await startTestControlPlane();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(plane.kubeconfig());
  const client = new KubeClient(kubeConfig);
  for (const f of readdirSync(crdDir).filter((f) => f.endsWith('.yaml'))) await client.create(CRDS, parse(readFileSync(new URL(f, crdDir), 'utf8')), 'test');
  await plane.server.controllers.idle();
  for (const name of ['demo', 'other', SYSTEM_NAMESPACE]) await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, 'test');
  const ovn = await startOvnCentral();
  const start = async () => {
    const made = neutronManager({ nbRemote: ovn.layout.nbRemote, sbRemote: ovn.layout.sbRemote, repairEveryMs: opts.repairEveryMs }, { kubeConfig, logger: createLogger('neutron-test', process.env.TEST_LOG_LEVEL ?? 'error') });
    await made.manager.start();
    return made;
  };
  let made = await start();
  const env: NetworkingEnv = {
    plane,
    ovn,
    client,
    manager: made.manager,
    mechanism: made.ovn,
    async restartOperator() {
      await made.manager.stop();
      made = await start();
      env.manager = made.manager;
      env.mechanism = made.ovn;
    },
    async stop() {
      await made.manager.stop();
      await ovn.stop();
      await plane.stop();
    },
  };
  return env;
}
