/** A control plane with the generated CRDs and a running Keystone operator, for one test suite. */
import { readdirSync, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startTestControlPlane, type TestControlPlane } from '@stratus/apiserver';
import { KubeClient, createLogger, type Manager, type ResourceRef } from '@stratus/runtime';
import { NAMESPACES, SYSTEM_NAMESPACE, bootstrapIdentity, keystoneManager, startIdentityApi, type IdentityApi, type SecurityCompliance } from '../src/index.js';

const CRDS: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };
const crdDir = new URL('../../../../crds/', import.meta.url);
const widgetCrd = new URL('../../../../e2e/fixtures/widget-crd.yaml', import.meta.url);

export interface KeystoneEnv {
  plane: TestControlPlane;
  /** The kubeconfig the operator and the API use. */
  kubeConfig: KubeConfig;
  client: KubeClient;
  manager: Manager;
  stop(): Promise<void>;
}

export interface IdentityEnv extends KeystoneEnv {
  api: IdentityApi;
  /** The Identity API base, `http://127.0.0.1:port/v3`. */
  v3: string;
  adminPassword: string;
}

/** The operator plus the Identity API, bootstrapped with an admin user and tenant. */
export async function startIdentityEnv(opts: { tokenExpirationSeconds?: number; compliance?: SecurityCompliance } = {}): Promise<IdentityEnv> {
  const env = await startKeystoneEnv(opts.compliance);
  const api = await startIdentityApi({ kubeConfig: env.kubeConfig, logger: createLogger('identity-test', 'error'), port: 0, ...opts });
  const v3 = `${api.url}/v3`;
  const adminPassword = 'admin-secret-pw';
  await bootstrapIdentity(env.client, { adminPassword, identityUrl: v3 });
  return {
    ...env,
    api,
    v3,
    adminPassword,
    async stop() {
      await api.close();
      await env.stop();
    },
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

/** One Identity API call, as a client would make it. */
export async function call(base: string, method: string, path: string, opts: { token?: string; subject?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers['X-Auth-Token'] = opts.token;
  if (opts.subject) headers['X-Subject-Token'] = opts.subject;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(base + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** A password sign-in body, scoped to a project by name (or unscoped). */
export const passwordAuth = (user: string, password: string, project?: string) => ({
  auth: {
    identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } },
    ...(project ? { scope: { project: { name: project, domain: { id: 'default' } } } } : {}),
  },
});

export async function startKeystoneEnv(compliance?: SecurityCompliance): Promise<KeystoneEnv> {
  const plane = await startTestControlPlane();
  const kc = new KubeConfig();
  kc.loadFromString(plane.kubeconfig());
  const client = new KubeClient(kc);
  for (const f of readdirSync(crdDir).filter((f) => f.endsWith('.yaml'))) await client.create(CRDS, parse(readFileSync(new URL(f, crdDir), 'utf8')), 'test');
  // A namespaced kind in the `stratus` category, standing in for the instances and volumes later issues add.
  await client.create(CRDS, parse(readFileSync(widgetCrd, 'utf8')), 'test');
  await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NAMESPACE } }, 'test');
  await plane.server.controllers.idle();
  const manager = keystoneManager({ kubeConfig: kc, logger: createLogger('keystone-test', 'error'), compliance });
  await manager.start();
  return {
    plane,
    kubeConfig: kc,
    client,
    manager,
    async stop() {
      await manager.stop();
      await plane.stop();
    },
  };
}
