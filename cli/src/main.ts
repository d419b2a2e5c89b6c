#!/usr/bin/env node
/**
 * `stratus up`: the whole cloud on one machine. Starts the embedded control plane and the embedded S3 server,
 * applies the CRDs under crds/ and the Helm chart's RBAC, starts every operator as a child process with its own kubeconfig (its chart ServiceAccount's), puts their OpenStack APIs behind
 * one gateway port, bootstraps the admin user and the catalog, writes clouds.yaml and openrc, prints where
 * everything is, and on SIGINT/SIGTERM stops the operators (letting reconciles finish) before the control plane.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { adminToken, createLogger, startServer, webhookAuthenticator, writeKubeconfig, type TokenAuthenticator } from '@stratus/apiserver';
import { KubeClient, isConflict, APPLY_PATCH } from '@stratus/runtime';
import { SYSTEM_NAMESPACE, TOKEN_REVIEW_PATH } from '@stratus/keystone';
import { DEFAULT_IMAGE_BUCKET, EMBEDDED_S3_PROCESS, endpointsOf, importFilterToEnv, storeConfigToEnv, type Endpoint } from '@stratus/glance';
import { HYPERVISORS, isUp, kubevirtCrds, type Hypervisor } from '@stratus/nova';
import { S3_SERVER_MAIN, s3CredentialsIn, startS3Process } from './s3.js';
import { adminPassword, writeOpenStackCredentials } from './credentials.js';
import type { GatewayRoute } from './gateway.js';
import { freePort } from './ports.js';
import { startFrontDoor } from './frontDoor.js';
import { OPERATORS } from './operators.js';
import { bootstrapCloud } from './bootstrap.js';
import { Supervisor } from './supervisor.js';
import { startOvn } from './ovn.js';
import { ProcessTokens, applyRbac, renderChartRbac } from './operatorAccess.js';
import { CEPH_CSI_SECRET, cephCsiOf, startLocalCeph, type CloudCeph } from './ceph.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const GATEWAY_MAIN = 'cli/dist/src/gatewayMain.js';
const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: '.stratus' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '6443' },
    'api-port': { type: 'string', default: '8000' },
    /** The embedded S3 server's port (image data); 0 picks a free one. */
    's3-port': { type: 'string', default: '9000' },
    /**
     * The operators' own API ports, behind the gateway: `free` (the default) picks free ones, so several
     * clouds share a machine; `fixed` uses OpenStack's usual ones (5000, 9292, 8774, 8790).
     */
    'service-ports': { type: 'string', default: 'free' },
    /**
     * Web servers image imports may reach although their addresses are not public (host, host:port,
     * comma-separated), e.g. a file server on this machine: by default imports reach public addresses only.
     */
    'image-import-allow': { type: 'string', default: '' },
    /**
     * Also a KubeVirt compute back end: KubeVirt's and CDI's CRDs (vendor/kubevirt/), the kubevirt driver as
     * the Hypervisor "kubevirt" (availability zone "kubevirt"), and kubevirt-simulator standing in for KubeVirt.
     */
    kubevirt: { type: 'boolean', default: false },
    /** Image data and backups on a local single-node Ceph's RADOS Gateway (hack/ceph-up.sh, in DATA/ceph) instead of the embedded S3 server, volumes as RBD images in it instead of files. */
    ceph: { type: 'boolean', default: false },
    /** --ceph on a share (hack/ceph-share.sh) of the running cluster hack/ceph-up.sh made in this folder, not a cluster of the cloud's own. */
    'ceph-cluster': { type: 'string' },
  },
});
if (values['ceph-cluster']) values.ceph = true;
const operators = OPERATORS.filter((op) => !op.only || (op.only === 'kubevirt' && values.kubevirt));

const log = createLogger('stratus-up');
const dataDir = resolve(values['data-dir']!);
mkdirSync(dataDir, { recursive: true });
const token = adminToken(dataDir);
// Ctrl-C stops what has started so far, during start-up too; a start-up that fails stops it all as well.
const supervisor = new Supervisor(log, undefined, 1000 * Number(process.env.STRATUS_RESTART_BACKOFF_MAX_SECONDS || 30));
supervisor.handleSignals();
try {
  await up();
} catch (e) {
  log.error('start-up failed; stopping what started', { error: (e as Error).message });
  await supervisor.stopAll();
  process.exit(1);
}

async function up(): Promise<void> {
  // Keystone tokens are users of the control plane too: Keystone answers the TokenReview webhook (once it runs).
  let keystoneReview: TokenAuthenticator | undefined;
  // Each process is its chart ServiceAccount, by a token of its own (see operatorAccess.ts).
  const processTokens = new ProcessTokens();
  const authenticator: TokenAuthenticator = { authenticate: async (t) => (await processTokens.authenticate(t)) ?? keystoneReview?.authenticate(t) };
  const server = await startServer({ host: values.host, port: Number(values.port), dataDir: join(dataDir, 'apiserver'), token, logger: log, authenticator });
  supervisor.onStop('control plane', () => server.close());
  const kubeconfig = join(dataDir, 'kubeconfig');
  writeKubeconfig(kubeconfig, server.url, token, server.caCert);
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const client = new KubeClient(kc);

  // CRDs are applied server-side, so a newer definition in crds/ replaces what an older run stored.
  const crdDir = join(ROOT, 'crds');
  const crds = readdirSync(crdDir).filter((f) => f.endsWith('.yaml')).map((file) => parse(readFileSync(join(crdDir, file), 'utf8')));
  // KubeVirt's and CDI's own, as a cluster with KubeVirt installed has them.
  if (values.kubevirt) crds.push(...kubevirtCrds(join(ROOT, 'vendor', 'kubevirt')));
  for (const crd of crds)
    await client.request('PATCH', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}?fieldManager=stratus-up&force=true`, crd, APPLY_PATCH);
await server.controllers.idle();
try {
  await client.create({ group: '', version: 'v1', plural: 'namespaces', namespaced: false }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NAMESPACE } }, 'stratus-up');
} catch (e) {
  if (!isConflict(e)) throw e;
}

// The chart's ServiceAccounts and RBAC, as a Helm install grants them: every process but KubeVirt's stand-in runs under them.
const chartRbac = await renderChartRbac(ROOT, { kubevirt: !!values.kubevirt });
await applyRbac(client, chartRbac, 'stratus-up');
processTokens.useChart(chartRbac);

// Image data lives in S3; on one machine that is the embedded S3 server on loopback in its own process, with objects as
// files in the state folder.
// With --ceph, on the RADOS Gateway of a local Ceph in the cloud's folder instead.
const s3 = values.ceph ? await startCephStore() : await startS3Process(join(ROOT, S3_SERVER_MAIN), { directory: join(dataDir, 's3'), host: values.host!, port: Number(values['s3-port']), credentials: s3CredentialsIn(dataDir) });
supervisor.onStop(values.ceph ? 'Ceph' : 'S3 server', () => s3.stop());
// KubeVirt on Ceph: ceph-csi's node-stage Secret, as installing ceph-csi for Cinder's pool would make it.
if (values.kubevirt && 'ceph' in s3) await applyCephCsiSecret(client, s3.ceph);
// Networking's dataplane: OVN's daemons, and this machine's node switch in its own network namespace.
const ovn = await startOvn(supervisor, dataDir, log);

const routes: GatewayRoute[] = [];
const ports = new Map<string, number>();
/** A service's fixed port, or a free one when several clouds run at once (tests). */
const port = async (fixed: number) => (values['service-ports'] === 'free' ? freePort(values.host!) : fixed);
for (const op of operators)
  if (op.api) ports.set(op.name, await port(op.api.defaultPort));
// What every operator may need: the control plane, Keystone (to validate tokens) and the image store.
const sharedEnv: NodeJS.ProcessEnv = {
  ...process.env,
  KUBECONFIG: kubeconfig,
  KEYSTONE_URL: `http://${values.host}:${ports.get('keystone')}/v3`,
  ...storeConfigToEnv({ endpoint: s3.endpoint, bucket: DEFAULT_IMAGE_BUCKET, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }),
  // With --ceph: Cinder's RBD pool and user, and the node's keyring for the libvirt secret.
  ...('rbdEnv' in s3 ? s3.rbdEnv : {}),
};
// The gateway's port is chosen now, so that every port this cloud listens on is known before any operator starts.
keystoneReview = webhookAuthenticator(`${sharedEnv.KEYSTONE_URL}${TOKEN_REVIEW_PATH}`);
const gatewayPort = values['api-port'] === '0' ? await freePort(values.host!) : Number(values['api-port']);
// The gateway process proxies what the front door (on gatewayPort) gives no API process itself; it listens here.
const proxyPort = await freePort(values.host!);
const proxyUrl = `http://${values.host}:${proxyPort}`;
// kubectl writes of Instances, Images, networking kinds, Volumes, VolumeSnapshots and VolumeBackups are asked of their OpenStack
// API first (its flavor, image, type and quota checks), as ValidatingWebhookConfigurations. Each API serves its
// webhook on a port of its own that only the control plane is told (never behind the gateway: the answers speak
// of the project's usage). Ignore while that API is down: its reconciler still refuses later then. Which
// operator serves which is its `admission` in operators.ts.
const envs = new Map<string, NodeJS.ProcessEnv>();
const admissionPorts: number[] = [];
for (const op of operators) {
  const env: NodeJS.ProcessEnv = { ...sharedEnv, ...(await op.env?.({ dataDir, port, ceph: !!values.ceph })) };
  if (op.api) {
    const apiPort = ports.get(op.name)!;
    env[op.api.portEnv] = String(apiPort);
    routes.push({ prefix: op.api.prefix, target: `http://${values.host}:${apiPort}` });
    if (op.takesConnections) Object.assign(env, { STRATUS_HANDOFF: '1', STRATUS_FRONT_DOOR_PREFIX: op.api.prefix, STRATUS_GATEWAY_URL: proxyUrl });
  }
  const hook = op.admission;
  if (hook) {
    const admissionPort = await freePort(values.host!);
    admissionPorts.push(admissionPort);
    env.ADMISSION_PORT = String(admissionPort);
    await client.apply(
      { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingwebhookconfigurations', namespaced: false },
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: `stratus-${hook.config}` },
        webhooks: [{ name: hook.name, clientConfig: { url: `http://${values.host}:${admissionPort}${hook.path}` }, rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: [hook.group], apiVersions: ['*'], resources: hook.resources }], failurePolicy: 'Ignore', sideEffects: 'None', timeoutSeconds: 5, admissionReviewVersions: ['v1'] }],
      } as never,
      'stratus-up',
    );
  }
  envs.set(op.name, env);
}
// Image downloads: Glance hands a large one's connection to the embedded S3 server, which writes the data itself.
if ('takeResponse' in s3) {
  envs.get('glance')!.STRATUS_RESPONSE_TAKERS = EMBEDDED_S3_PROCESS;
  supervisor.takeResponses(EMBEDDED_S3_PROCESS, (message, socket) => s3.takeResponse(message, socket));
}
// Every API process passes another API's request on a connection it was handed straight to that API's port.
for (const op of operators) if (op.takesConnections) envs.get(op.name)!.STRATUS_GATEWAY_ROUTES = JSON.stringify(routes);
// Image imports fetch from inside the cloud: never from its own listeners (the S3 server, above all).
const ownPorts = [new URL(server.url).port, new URL(s3.endpoint).port, String(gatewayPort), String(proxyPort), ...ports.values(), ...admissionPorts, ...[...envs.values()].map((e) => e.NOVA_AGENT_PORT ?? '')].filter(Boolean).map(Number);
const importEnv = importFilterToEnv({ allowed: endpointsOf(values['image-import-allow']), denied: ownEndpoints(values.host!, ownPorts) });
for (const op of operators) {
  const own = processTokens.kubeconfigFor(op.name, join(dataDir, 'kubeconfigs'), server.url, server.caCert);
  supervisor.run({ name: op.name, args: [...(op.nodeArgs ?? []), join(ROOT, op.main)], env: { ...envs.get(op.name)!, ...importEnv, ...(own ? { KUBECONFIG: own } : {}) } });
}

// The gateway in its own process (cli/src/gatewayMain.ts): proxying never waits on the control plane.
supervisor.run({ name: 'gateway', args: [join(ROOT, GATEWAY_MAIN)], env: { ...process.env, STRATUS_HANDOFF: '1', STRATUS_GATEWAY_HOST: values.host!, STRATUS_GATEWAY_PORT: String(proxyPort), STRATUS_GATEWAY_ROUTES: JSON.stringify(routes) } });
// The one port: each connection handed to the process of the API it asks for (cli/src/frontDoor.ts), the rest to the gateway.
const frontDoor = await startFrontDoor({
  host: values.host!,
  port: gatewayPort,
  routes: operators.filter((op) => op.api && op.takesConnections).map((op) => ({ prefix: op.api!.prefix, process: op.name })),
  fallback: 'gateway',
  handOff: (name, message, socket, done) => supervisor.send(name, message, socket, done),
  log,
});
supervisor.onStop('front door', () => frontDoor.close());
const gateway = { url: frontDoor.url };
const identityUrl = `${gateway.url}/identity/v3`;
const password = adminPassword(dataDir);
await bootstrapCloud(client, {
  adminPassword: password,
  urls: { identity: identityUrl, ...Object.fromEntries(operators.filter((op) => op.api && op.catalog).map((op) => [op.catalog!.type, `${gateway.url}${op.api!.prefix}${op.catalog!.path ?? ''}`])) },
});
await untilAnswering(`${identityUrl}/`);
for (const op of operators) if (op.api && op.catalog) await untilAnswering(`${gateway.url}${op.api.prefix}/`, undefined, [300]);
await untilAnswering(`${gateway.url}/dashboard/healthz`);
// Up means instances can be placed: the compute node has registered and heartbeats.
await untilComputeNodeUp(client);
const { cloudsYaml, openrc } = writeOpenStackCredentials(dataDir, identityUrl, password);

process.stdout.write(
  [
    '',
    `Stratus is up. Control plane: ${server.url}`,
    `  operators: ${operators.map((o) => o.name).join(', ')}`,
    `  OpenStack APIs: ${gateway.url} (identity: ${identityUrl}, image: ${gateway.url}/image, compute: ${gateway.url}/compute/v2.1, network: ${gateway.url}/networking)`,
    `  Dashboard: ${gateway.url}/dashboard/ (sign in as admin or any Keystone user)`,
    `  S3 (image data): ${s3.endpoint}, bucket ${DEFAULT_IMAGE_BUCKET}${'ceph' in s3 ? ` (Ceph's RADOS Gateway; ceph -c ${join(s3.ceph.cluster, 'ceph.conf')} status; volumes in RBD pool ${s3.ceph.pool})` : ''}`,
    `  OVN: northbound ${ovn.nbRemote}; the node's switch in network namespace ${ovn.netns}; the provider network (floating IPs) in ${ovn.externalNetns}`,
    `  export KUBECONFIG=${kubeconfig}`,
    '  kubectl get stratus                 # every Stratus resource',
    `  export OS_CLIENT_CONFIG_FILE=${cloudsYaml} OS_CLOUD=stratus   # or: source ${openrc}`,
    '  openstack token issue               # the admin password is in the files above',
    `State is kept in ${dataDir}; Ctrl-C stops (twice: at once), \`make up\` resumes where it stopped.`,
    '',
  ].join('\n') + '\n',
);
}

/** ceph-csi's node-stage Secret for Cinder's cephx user, and its namespace, as installing ceph-csi would make them. */
async function applyCephCsiSecret(client: KubeClient, ceph: CloudCeph): Promise<void> {
  const { secret } = cephCsiOf(ceph);
  await client.apply({ group: '', version: 'v1', plural: 'namespaces', namespaced: false }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: CEPH_CSI_SECRET.namespace } }, 'stratus-up');
  await client.apply({ group: '', version: 'v1', plural: 'secrets', namespaced: true }, { apiVersion: 'v1', kind: 'Secret', metadata: CEPH_CSI_SECRET, type: 'Opaque', stringData: secret } as never, 'stratus-up');
}

/** The cloud's Ceph (started or resumed), its gateway as the image store. Fixed ports or free ones, as the services'. */
async function startCephStore(): Promise<{ endpoint: string; accessKeyId: string; secretAccessKey: string; rbdEnv: Record<string, string>; ceph: CloudCeph; stop(): Promise<void> }> {
  const free = values['service-ports'] === 'free';
  const pick = async (fixed: number) => (free ? freePort(values.host!) : fixed);
  const ceph = await startLocalCeph(dataDir, { mon: await pick(6789), monV2: await pick(3300), rgw: values['s3-port'] === '0' || free ? await pick(7480) : Number(values['s3-port']) }, values['ceph-cluster'] ? resolve(values['ceph-cluster']) : undefined);
  return { ...ceph.s3, rbdEnv: ceph.rbdEnv, ceph: ceph.ceph, stop: () => ceph.stop() };
}

/** This cloud's listeners as import denials: on its host, and on every loopback name when it listens on all of them or on loopback. */
function ownEndpoints(host: string, ownPorts: number[]): Endpoint[] {
  const hosts = host === '0.0.0.0' || host === '::' ? ['*'] : [...new Set([host, '127.0.0.1', '::1', 'localhost'])];
  return hosts.flatMap((h) => ownPorts.map((port) => ({ host: h, port })));
}

/** Waits until a Hypervisor is registered and up (its agent probes KVM first, which takes a moment). */
async function untilComputeNodeUp(c: KubeClient, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await c.list<Hypervisor>(HYPERVISORS)).items.some((hv) => isUp(hv))) {
    if (Date.now() > deadline) throw new Error(`no compute node registered within ${timeoutMs / 1000} s (is libvirtd running? hack/start-libvirt.sh starts it)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The APIs start in their own processes; wait until the gateway reaches this one. */
async function untilAnswering(url: string, timeoutMs = 120_000, alsoFine: number[] = []): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { redirect: 'manual' });
      if (res.ok || alsoFine.includes(res.status)) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
