/** What every Compute API route works with, and the steps several of them share. */
import type { KeyedLock } from '@stratus/runtime';
import type { KubernetesObject } from '@kubernetes/client-node';
import { idOf as volumeIdOf, type Volume } from '@stratus/cinder';
import { imageIdOf } from '@stratus/glance';
import { KubeApiError, MERGE_PATCH, NameTaken, displayNameOf, isConflict, type ApiRequest, type IndexedCache, type KubeClient, type Logger, type ResourceRef, type Router, type ServiceCatalog, type TokenAuth } from '@stratus/runtime';
import { ledgerUsage, quotaRefusal, type ComputeUsage } from '../quota.js';
import { flavorSnapshot, type Flavor, type FlavorSnapshot, type Hypervisor, type Instance } from '../resources.js';
import { isUp } from '../scheduler/hostStates.js';
import { instanceSecurityGroups } from '../nics.js';
import type { ComputeDirectory } from './directory.js';
import { NovaError, badRequest, conflict, forbidden, noServer, notFound } from './errors.js';
import type { Microversion } from './microversion.js';
import type { ServerExtras, ViewContext } from './views.js';

/** A volume's OpenStack ID (a transferred volume keeps its first one), or '' when it is not known. */
const volumeIdOrNone = (v: Volume | undefined) => (v ? volumeIdOf(v) : '');

export const API_FIELD_MANAGER = 'stratus-nova-api';

/** Who is asking, and at which microversion. */
export type ComputeAuth = TokenAuth & { version: Microversion };
export type ComputeRouter = Router<ComputeAuth>;
export type ComputeRequest = ApiRequest<ComputeAuth> & { auth: ComputeAuth };

export interface ComputeApiContext {
  dir: ComputeDirectory;
  client: KubeClient;
  log: Logger;
  /** Nova's enable_instance_password: whether create and rebuild answer with the admin password. */
  enableInstancePassword: boolean;
  /** The token node agents accept (for console logs). */
  agentToken(): Promise<string>;
  /** Server creates of one tenant, one at a time: the quota check and the servers it admits are one step. */
  admission: KeyedLock;
  /** Where console URLs point (nova-novncproxy's page) and how long their tokens live. */
  console: { baseUrl?: string; tokenTtlSeconds: number };
  /** Other services' endpoints as a caller's token sees them (the volume proxy calls Cinder's). */
  catalog: ServiceCatalog;
}

/** The caller's tenant: its namespace. Compute calls need a project-scoped token. */
export function tenantOf(auth: ComputeAuth): string {
  if (!auth.tenant) throw forbidden('A project-scoped token is required.');
  return auth.tenant;
}

export const requireAdmin = (auth: ComputeAuth, what = 'this action') => {
  if (!auth.admin) throw forbidden(`Policy doesn't allow ${what} to be performed.`);
};

export function viewContext(api: ComputeApiContext, req: ComputeRequest): ViewContext {
  return { base: req.base, version: req.auth.version, admin: req.auth.admin, projectIdOf: (ns) => api.dir.projectIdOf(ns) };
}

/** Whether the caller may use this flavor: public ones, private ones shared with its project, all for admins. */
export const canUseFlavor = (f: Flavor, auth: ComputeAuth) => auth.admin || (f.spec.isPublic ?? true) || (!!auth.projectId && !!f.spec.projects?.includes(auth.projectId));

/** Whether the caller may see this server: admins all, others their tenant's. */
export const canSeeServer = (inst: Instance, auth: ComputeAuth) => auth.admin || inst.metadata.namespace === auth.tenant;

/** Nova's check_instance_lock: a locked server refuses `action` unless an admin asks (409). */
export function checkLock(inst: Instance, auth: ComputeAuth, action: string): void {
  if (inst.spec.lock && !auth.admin) throw conflict(`Instance ${inst.metadata.uid} is locked: cannot '${action}' it.`);
}

/** The server with this ID if the caller may see it, else Nova's 404. */
export function serverFor(api: ComputeApiContext, id: string, auth: ComputeAuth): Instance {
  const inst = api.dir.instances.byId(id);
  if (!inst || !canSeeServer(inst, auth)) throw noServer(id);
  return inst;
}

/** What a server document needs beyond the Instance: its flavor, image, groups and host. */
export function serverExtras(api: ComputeApiContext, inst: Instance): ServerExtras {
  const { dir } = api;
  // Booted from a volume, a server has no image (Nova shows "").
  const image = inst.spec.image ? dir.images.get(inst.spec.image.name, inst.spec.image.namespace ?? inst.metadata.namespace!) : undefined;
  const imageId = !inst.spec.image ? undefined : inst.status?.image?.name === inst.spec.image.name && inst.status.image.id ? inst.status.image.id : image && imageIdOf(image);
  const group = inst.spec.serverGroup ? dir.groups.get(inst.spec.serverGroup, inst.metadata.namespace) : undefined;
  const hv = inst.status?.host ? dir.hypervisors.get(inst.status.host) : undefined;
  const keypair = inst.spec.keypair ? dir.keypairs.get(inst.spec.keypair, inst.metadata.namespace) : undefined;
  const keyName = keypair ? displayNameOf(keypair) : inst.spec.keypair;
  const volumes = dir.volumeAttachments
    .list(inst.metadata.namespace)
    .filter((a) => a.spec.instance === inst.metadata.name && a.status?.phase !== 'error' && !a.metadata.deletionTimestamp)
    .map((a) => ({ id: a.status?.volumeId ?? volumeIdOrNone(dir.volumes.get(a.spec.volume, inst.metadata.namespace)), deleteOnTermination: !!a.spec.deleteOnTermination }))
    .filter((v) => v.id);
  const securityGroups = instanceSecurityGroups(inst).map((name) => dir.securityGroups.get(name, inst.metadata.namespace)?.spec.displayName || name);
  return { flavor: runningFlavor(api, inst), imageId, groups: group ? [group.metadata.uid!] : [], zone: hv && api.dir.zoneOf(hv), hostStatus: hostStatusOf(hv, !!inst.status?.host), keyName, volumes, securityGroups };
}

/** The flavor the server runs with (as its agent reported), or will (its spec's, before it is built). */
export function runningFlavor(api: ComputeApiContext, inst: Instance): FlavorSnapshot | undefined {
  if (inst.status?.flavor) return inst.status.flavor;
  const flavor = api.dir.flavors.get(inst.spec.flavor);
  return flavor && flavorSnapshot(flavor);
}

/** What a tenant's instances hold (the ledgers), and what those still being scheduled will: what quotas count. */
export function tenantUsage(api: ComputeApiContext, namespace: string): ComputeUsage {
  const hypervisors = api.dir.hypervisors.list();
  const used = ledgerUsage(hypervisors, namespace);
  // The two caches move apart: an instance a ledger already holds counts there, whatever its own cached status says.
  const inLedger = new Set(hypervisors.flatMap((hv) => Object.keys(hv.status?.allocations ?? {})));
  for (const i of api.dir.instances.list(namespace)) {
    if (i.status?.allocation || inLedger.has(`${namespace}/${i.metadata.name}`) || i.status?.phase === 'ERROR' || i.metadata.deletionTimestamp) continue;
    const f = api.dir.flavors.get(i.spec.flavor);
    used.instances++;
    used.cores += f?.spec.vcpus ?? 0;
    used.ramMiB += f?.spec.ramMiB ?? 0;
  }
  return used;
}

/** Nova's quota check for `asked`, as a 403. */
export function checkQuota(api: ComputeApiContext, namespace: string, asked: ComputeUsage): void {
  const refusal = quotaRefusal(api.dir.quotaOf(namespace), tenantUsage(api, namespace), asked);
  if (refusal) throw forbidden(refusal);
}

/** Nova's host_status: UP, DOWN, MAINTENANCE (disabled), UNKNOWN; '' for a server on no host. */
export function hostStatusOf(hv: Hypervisor | undefined, bound: boolean): ServerExtras['hostStatus'] {
  if (!bound) return '';
  if (!hv) return 'UNKNOWN';
  if (hv.spec.disabled) return 'MAINTENANCE';
  return isUp(hv) ? 'UP' : 'DOWN';
}

/**
 * A GET to a compute node's agent API (console logs, host facts), as Nova asks its compute service. An
 * unreachable agent throws `unavailable` (Nova answers 409 or 400, depending on the call).
 */
export async function askAgent(api: ComputeApiContext, hv: Hypervisor, path: string, unavailable: (why: string) => NovaError): Promise<Response> {
  if (!hv.status?.agentUrl) throw unavailable(`the compute node ${hv.metadata.name} serves no agent API`);
  return fetch(`${hv.status.agentUrl}${path}`, { headers: { Authorization: `Bearer ${await api.agentToken()}` }, signal: AbortSignal.timeout(10_000) }).catch((e: Error) => {
    throw unavailable(`the compute node ${hv.metadata.name} is not answering: ${e.message}`);
  });
}

/** Kubernetes errors on the way out, as Nova would say them. */
export function fromKubernetes(e: unknown, what: string): never {
  if (e instanceof NameTaken) throw conflict(`${what} already exists.`);
  if (e instanceof KubeApiError) {
    if (e.code === 409 && e.reason === 'AlreadyExists') throw conflict(`${what} already exists.`);
    if (e.code === 409) throw conflict(`${what} was changed by someone else at the same time; try again.`);
    if (e.code === 422 || e.code === 400) throw badRequest(`Invalid ${what}: ${e.message}`);
    if (e.code === 404) throw notFound(`${what} could not be found.`);
  }
  throw e;
}

const CONFLICT_RETRIES = 5;

/**
 * Changes an object with a merge patch that `change` makes from its current state, carrying that state's
 * resourceVersion so nothing written meanwhile (an agent's status) is lost: on a conflict it is read again
 * and `change` decides anew (it may refuse by throwing). Returns once the cache holds the write.
 */
export async function updateObject<T extends KubernetesObject>(api: ComputeApiContext, cache: IndexedCache<T>, ref: ResourceRef, obj: T, change: (current: T) => Record<string, unknown>, what: string): Promise<T> {
  let current = obj;
  for (let attempt = 1; ; attempt++) {
    const patch = change(current);
    const body = { ...patch, metadata: { ...((patch.metadata as object) ?? {}), resourceVersion: current.metadata!.resourceVersion } };
    try {
      const written = await api.client.patch<T>(ref, current.metadata!.namespace, current.metadata!.name!, body, API_FIELD_MANAGER, MERGE_PATCH);
      await cache.seen(written);
      return written;
    } catch (e) {
      if (!isConflict(e) || attempt === CONFLICT_RETRIES) fromKubernetes(e, what);
      const fresh = await api.client.get<T>(ref, current.metadata!.namespace, current.metadata!.name!);
      if (!fresh || fresh.metadata?.deletionTimestamp || fresh.metadata?.uid !== obj.metadata?.uid) throw new NovaError(404, `${what} could not be found.`);
      current = fresh;
    }
  }
}

/** The request body's `key` object, or Nova's 400 naming what is missing. */
export function bodyObject(req: ComputeRequest, key: string): Record<string, any> {
  const v = req.body?.[key];
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(req.body ?? null)}. '${key}' is a required property`);
  return v;
}
