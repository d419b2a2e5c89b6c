/**
 * kubevirt-simulator's virt-api: a STAND-IN for KubeVirt's extension API server, serving the actions of
 * subresources.kubevirt.io/v1 as KubeVirt documents them, registered the way virt-api registers itself (an
 * APIService, v1.subresources.kubevirt.io, and its Service), so clients call it through the API server:
 *
 * - PUT virtualmachines/{name}/restart: the VM's running VMI is stopped and a new one started; virt-api asks
 *   virt-controller through the VM's status.stateChangeRequests. 409 when the VM has no VMI.
 * - PUT virtualmachineinstances/{name}/pause | unpause: the VMI gets (or loses) its Paused condition
 *   (virt-handler's part). 409 when it is not running, already paused or not paused.
 * - PUT virtualmachines/{name}/addvolume | removevolume: a volume hot-plugged or unplugged (hotplug.ts).
 * - PUT virtualmachineinstances/{name}/softreboot: the guest is asked to reboot (ACPI); nothing in the API
 *   changes. 409 when it is not running or paused.
 * - GET virtualmachineinstances/{name}/vnc (a WebSocket, plain.kubevirt.io): the display, while the VMI runs; a
 *   blank screen speaking RFB (rfb.ts), since no guest runs.
 *
 * It believes the X-Remote-User the API server sends only over a connection whose client certificate is the
 * API server's front proxy's, as kube-system/extension-apiserver-authentication names it (requestHeader.ts):
 * anyone else gets 401, as from virt-api. The API server has already applied RBAC to the request.
 */
import { createServer, type Server } from 'node:https';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeApiError, MERGE_PATCH, now, type KubeClient, type Logger, type ResourceRef } from '@stratus/runtime';
import type { VirtualMachine, VirtualMachineInstance } from '../objects.js';
import { SUBRESOURCE_GROUP, VIRTUAL_MACHINES, VIRTUAL_MACHINE_INSTANCES } from '../refs.js';
import { SIMULATOR_FIELD_MANAGER } from './fieldManager.js';
import { requestVolumeChange } from './hotplug.js';
import { Refusal } from './refusal.js';
import { proxyRefusal, requestHeaderConfigOf } from './requestHeader.js';
import { serveBlankDisplay } from './rfb.js';

const NAMESPACES: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };
const CONFIG_MAPS: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', namespaced: true };
const SERVICES: ResourceRef = { group: '', version: 'v1', plural: 'services', namespaced: true };
const API_SERVICES: ResourceRef = { group: 'apiregistration.k8s.io', version: 'v1', plural: 'apiservices', namespaced: false };
export const VIRT_API_NAMESPACE = 'kubevirt';

const RESOURCE_LIST = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: `${SUBRESOURCE_GROUP}/v1`,
  resources: [
    ...['restart', 'start', 'stop', 'addvolume', 'removevolume'].map((a) => ({ name: `virtualmachines/${a}`, singularName: '', namespaced: true, kind: 'VirtualMachine', verbs: ['update'] })),
    ...['pause', 'unpause', 'softreboot'].map((a) => ({ name: `virtualmachineinstances/${a}`, singularName: '', namespaced: true, kind: 'VirtualMachineInstance', verbs: ['update'] })),
    { name: 'virtualmachineinstances/vnc', singularName: '', namespaced: true, kind: 'VirtualMachineInstance', verbs: ['get'] },
  ],
};

function send(res: ServerResponse, code: number, body?: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const status = (code: number, message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: code === 401 ? 'Unauthorized' : code === 404 ? 'NotFound' : code === 409 ? 'Conflict' : 'BadRequest', code });

async function getOr404<T>(client: KubeClient, ref: ResourceRef, ns: string, name: string, what: string): Promise<T> {
  const o = await client.get<KubernetesObject>(ref, ns, name);
  if (!o) throw new Refusal(404, `${what} "${name}" not found`);
  return o as unknown as T;
}

const isPaused = (vmi: VirtualMachineInstance) => vmi.status?.conditions?.some((c) => c.type === 'Paused' && c.status === 'True') ?? false;

async function act(client: KubeClient, ns: string, kind: string, name: string, action: string, body: unknown, log: Logger, user: string): Promise<void> {
  if (kind === 'virtualmachines' && (action === 'addvolume' || action === 'removevolume')) {
    await requestVolumeChange(client, ns, name, action, body);
  } else if (kind === 'virtualmachines' && action === 'restart') {
    const vm = await getOr404<VirtualMachine>(client, VIRTUAL_MACHINES, ns, name, 'virtualmachine.kubevirt.io');
    const vmi = await client.get<KubernetesObject>(VIRTUAL_MACHINE_INSTANCES, ns, name);
    if (!vmi || vmi.metadata?.deletionTimestamp) throw new Refusal(409, 'VM is not running');
    const requests = [{ action: 'Stop', uid: vmi.metadata!.uid }, ...(vm.spec.runStrategy === 'Manual' ? [{ action: 'Start' }] : [])];
    await client.patch(VIRTUAL_MACHINES, ns, name, { status: { stateChangeRequests: requests } }, SIMULATOR_FIELD_MANAGER, MERGE_PATCH, 'status');
  } else if (kind === 'virtualmachineinstances' && ['pause', 'unpause', 'softreboot'].includes(action)) {
    const vmi = await getOr404<VirtualMachineInstance>(client, VIRTUAL_MACHINE_INSTANCES, ns, name, 'virtualmachineinstance.kubevirt.io');
    if (vmi.status?.phase !== 'Running') throw new Refusal(409, 'VMI is not running');
    const paused = isPaused(vmi);
    if (action === 'pause' && paused) throw new Refusal(409, 'VMI is already paused');
    if (action === 'unpause' && !paused) throw new Refusal(409, 'VMI is not paused');
    if (action === 'softreboot' && paused) throw new Refusal(409, 'VMI is paused');
    if (action !== 'softreboot') {
      const others = (vmi.status?.conditions ?? []).filter((c) => c.type !== 'Paused');
      const conditions = action === 'pause' ? [...others, { type: 'Paused', status: 'True', reason: 'PausedByUser', message: 'VMI was paused by user', lastProbeTime: null, lastTransitionTime: now() }] : others;
      await client.patch(VIRTUAL_MACHINE_INSTANCES, ns, name, { status: { conditions } }, SIMULATOR_FIELD_MANAGER, MERGE_PATCH, 'status');
    }
  } else throw new Refusal(404, `the server could not find the requested resource (${kind}/${action})`);
  log.info('virt-api action', { namespace: ns, name, kind, action, user });
}

export interface VirtApi {
  url: string;
  close(): Promise<void>;
}

/** Serves the actions on 127.0.0.1:port and registers the APIService and Service the API server proxies by. */
export async function startVirtApi(o: { client: KubeClient; logger: Logger; port?: number }): Promise<VirtApi> {
  const { client, logger: log } = o;
  const { generateServingCert } = await import('@stratus/apiserver');
  const serving = await generateServingCert('127.0.0.1');
  /** The user the API server says is asking, once the connection's client certificate shows it is the API server. */
  const callerOf = async (req: IncomingMessage): Promise<string> => {
    const published = await client.get<KubernetesObject & { data?: Record<string, string> }>(CONFIG_MAPS, 'kube-system', 'extension-apiserver-authentication');
    const config = requestHeaderConfigOf(published?.data);
    const refused = proxyRefusal((req.socket as TLSSocket).getPeerX509Certificate(), config);
    if (refused) throw new Refusal(401, `Unauthorized: ${refused}`);
    const user = config!.usernameHeaders.map((h) => req.headers[h.toLowerCase()]).find((v) => typeof v === 'string' && v);
    if (!user) throw new Refusal(401, 'Unauthorized: the request names no user');
    return String(user);
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
    void (async () => {
      const user = await callerOf(req);
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'GET' && path.replace(/\/$/, '') === `/apis/${SUBRESOURCE_GROUP}/v1`) return send(res, 200, RESOURCE_LIST);
      // /apis/subresources.kubevirt.io/v1/namespaces/{ns}/{kind}/{name}/{action}
      if (segs.length !== 8 || segs[3] !== 'namespaces') throw new Refusal(404, 'the server could not find the requested resource');
      if (req.method !== 'PUT') throw new Refusal(405, `${req.method} is not allowed; the actions take PUT`);
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        throw new Refusal(400, 'the request body is not JSON');
      }
      await act(client, segs[4]!, segs[5]!, segs[6]!, segs[7]!, body, log, user);
      send(res, 202);
    })().catch((e: Error) => {
      if (e instanceof Refusal) return send(res, e.code, status(e.code, e.message));
      const code = e instanceof KubeApiError ? e.code : 500;
      send(res, code, status(code, e.message));
    });
  };
  // A client certificate is asked for and judged per request (callerOf), as the published CA may change.
  const server: Server = createServer({ cert: serving.cert, key: serving.key, requestCert: true, rejectUnauthorized: false }, onRequest);
  // GET virtualmachineinstances/{name}/vnc: the display as a WebSocket (subprotocol plain.kubevirt.io), while the VMI runs.
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has('plain.kubevirt.io') ? 'plain.kubevirt.io' : false) });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const segs = (req.url ?? '/').split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);
    const refuse = (code: number, message: string) => {
      const body = JSON.stringify(status(code, message));
      socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    if (segs.length !== 8 || segs[3] !== 'namespaces' || segs[5] !== 'virtualmachineinstances' || segs[7] !== 'vnc') return refuse(404, 'the server could not find the requested resource');
    const [ns, name] = [segs[4]!, segs[6]!];
    void (async () => {
      const user = await callerOf(req);
      const vmi = (await client.get<KubernetesObject>(VIRTUAL_MACHINE_INSTANCES, ns, name)) as unknown as VirtualMachineInstance | undefined;
      if (!vmi) return refuse(404, `virtualmachineinstance.kubevirt.io "${name}" not found`);
      if (vmi.status?.phase !== 'Running') return refuse(400, `Unable to connect to VirtualMachineInstance because phase is ${vmi.status?.phase ?? 'Pending'} instead of Running`);
      wss.handleUpgrade(req, socket, head, (ws) => serveBlankDisplay(ws, `kubevirt-simulator ${ns}/${name} (a stand-in: no guest runs)`));
      log.info('virt-api vnc opened', { namespace: ns, name, user });
    })().catch((e: Error) => (e instanceof Refusal ? refuse(e.code, e.message) : refuse(500, e.message)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const ignoreExists = (e: unknown) => {
    if (!(e instanceof KubeApiError && e.code === 409)) throw e;
  };
  await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: VIRT_API_NAMESPACE } }, SIMULATOR_FIELD_MANAGER).catch(ignoreExists);
  await client.apply(SERVICES, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'virt-api', namespace: VIRT_API_NAMESPACE }, spec: { type: 'ExternalName', externalName: '127.0.0.1' } } as KubernetesObject, SIMULATOR_FIELD_MANAGER);
  await client.apply(API_SERVICES, {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: `v1.${SUBRESOURCE_GROUP}` },
    spec: { group: SUBRESOURCE_GROUP, version: 'v1', groupPriorityMinimum: 1000, versionPriority: 15, service: { namespace: VIRT_API_NAMESPACE, name: 'virt-api', port }, caBundle: Buffer.from(serving.cert).toString('base64') },
  } as KubernetesObject, SIMULATOR_FIELD_MANAGER);
  const url = `https://127.0.0.1:${port}`;
  log.info('virt-api stand-in serving', { url, apiService: `v1.${SUBRESOURCE_GROUP}` });
  return {
    url,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
