/** What every Block Storage API route works with, and the steps several of them share. */
import type { KubernetesObject } from '@kubernetes/client-node';
import { KeyedLock, KubeApiError, objectNameFor, type IndexedCache, type KubeClient, type Logger, type ResourceRef, type Router, type TokenAuth } from '@stratus/runtime';
import { FIELD_MANAGER } from '../resources.js';
import { quotaRefusal, type BlockUsage, type QuotaAsk } from '../quota.js';
import { RESETTABLE, resetAnnotations, withdrawnReset } from '../statusReset.js';
import { quotaOf, usageOf } from '../volumes.js';
import { FROZEN_BACKEND, backendFrozen } from '../serviceState.js';
import type { VolumeBackend } from '../backend/types.js';
import type { BlockStorageDirectory } from './directory.js';
import { badRequest, conflict, forbidden, invalidInput, notFound, overLimit } from './errors.js';

export const API_FIELD_MANAGER = `${FIELD_MANAGER}-api`;
export type VolAuth = TokenAuth;
export type VolRouter = Router<VolAuth>;

export interface VolApi {
  dir: BlockStorageDirectory;
  client: KubeClient;
  log: Logger;
  /** The backends this process serves (their pools' capabilities decide a retype). */
  backends?: VolumeBackend[];
}

/**
 * Registers a route under /v3 with and without the project ID in the path (Cinder's endpoint may carry it:
 * /v3/{project_id}/volumes), both answering the same.
 */
export function on(router: VolRouter, method: string, path: string, handler: Parameters<VolRouter['on']>[2]): void {
  router.on(method, `/v3${path}`, handler);
  router.on(method, `/v3/:project_id${path}`, handler);
}

/** The namespace the caller works in: its project's. */
export function callerNamespace(auth: VolAuth): string {
  if (!auth.tenant) throw forbidden('The token is not scoped to a project.');
  return auth.tenant;
}

/** Whether the caller may see an object (its project's; admins see all). */
export const owns = (auth: VolAuth, o: KubernetesObject) => auth.admin || o.metadata?.namespace === auth.tenant;

/** The objects a list shows: the caller's project's; an admin's all_tenants=1 (or project_id=…) widens it. */
export function visible<T extends KubernetesObject>(api: VolApi, auth: VolAuth, cache: IndexedCache<T>, query: URLSearchParams): T[] {
  const all = ['1', 'true', 'True'].includes(query.get('all_tenants') ?? '');
  const project = query.get('project_id');
  if (auth.admin && project) {
    const t = api.dir.tenantByProjectId(project);
    return t ? cache.list(t.metadata.name) : [];
  }
  if (auth.admin && all) return cache.list();
  return auth.tenant ? cache.list(auth.tenant) : [];
}

/** The body's resource object (`{"volume": {…}}`), or 400 naming what is missing. */
export function resourceBody(body: unknown, key: string): Record<string, unknown> {
  const r = (body as Record<string, unknown> | undefined)?.[key];
  if (!r || typeof r !== 'object' || Array.isArray(r)) throw badRequest(`Missing required element '${key}' in request body.`);
  return r as Record<string, unknown>;
}

export const str = (v: unknown, field: string, max = 255): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidInput(`${field} must be a string`);
  if (v.length > max) throw invalidInput(`${field} has more than ${max} characters.`);
  return v;
};

export const bool = (v: unknown, field: string): boolean | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  if (['true', '1', 'yes', 'on', 't', 'y'].includes(s)) return true;
  if (['false', '0', 'no', 'off', 'f', 'n'].includes(s)) return false;
  throw invalidInput(`Invalid value '${String(v)}' for ${field}: must be a boolean.`);
};

/** A size in GiB: a whole number above 0 (Cinder takes digit strings too). */
export function sizeOf(v: unknown, field = 'size'): number {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) throw invalidInput(`'${String(v)}' is not a valid integer for ${field}: must be an integer greater than 0.`);
  if (n > 2147483647) throw invalidInput(`'${String(v)}' is too large for ${field}.`);
  return n;
}

export function metadataOf(v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidInput('Invalid metadata: must be a dictionary.');
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (!k || k.length > 255) throw invalidInput('Invalid metadata: keys must be 1 to 255 characters.');
    if (typeof x !== 'string') throw invalidInput(`Invalid metadata: the value of ${k} must be a string.`);
    if (x.length > 255) throw invalidInput(`Invalid metadata: the value of ${k} has more than 255 characters.`);
  }
  return v as Record<string, string>;
}

/** Specs (a QoS spec's, a group type's): keys of 1 to 255 characters, values strings (numbers taken as Cinder stores them). */
export function specsOf(body: Record<string, unknown>, what: string): Record<string, string> {
  const specs: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (!k || k.length > 255) throw badRequest(`Invalid input received: ${what} keys must be 1 to 255 characters.`);
    if (typeof v !== 'string' && typeof v !== 'number') throw badRequest(`Invalid input received: the value of ${what} ${k} must be a string.`);
    if (String(v).length > 255) throw badRequest(`Invalid input received: the value of ${what} ${k} has more than 255 characters.`);
    specs[k] = String(v);
  }
  return specs;
}

/** A name for the new object: the OpenStack name where it is a free DNS label, else its slug and a suffix. */
export const newObjectName = <T extends KubernetesObject>(cache: IndexedCache<T>, namespace: string, display: string | undefined, fallback: string) =>
  objectNameFor(display || fallback, (n) => !!cache.get(n, namespace), fallback);

/** Kubernetes errors on the way out, as Cinder would say them. */
export function fromKubernetes(e: unknown, what: string): never {
  if (e instanceof KubeApiError) {
    if (e.code === 409) throw conflict(`${what} was changed by someone else at the same time; try again.`);
    if (e.code === 422 || e.code === 400) throw badRequest(`Invalid input received: ${what}: ${e.message}`);
    if (e.code === 404) throw notFound(`${what} could not be found.`);
  }
  throw e;
}

const admission = new KeyedLock();

/**
 * Makes `create` if `asked` fits the tenant's quota beside everything it has (made or on its way), under the
 * tenant's lock in this process, until the cache holds the write: 413 with Cinder's words otherwise. The
 * reconciler admits exactly again, across processes.
 */
export async function withinQuota<T>(api: VolApi, ns: string, asked: QuotaAsk, create: () => Promise<T>): Promise<T> {
  const release = await admission.acquire(ns);
  try {
    const used = await usageOf(api.client, ns, undefined, true);
    const refusal = quotaRefusal(await quotaOf(api.client, ns), used, asked);
    if (refusal) throw overLimit(`${refusal.reason}: ${refusal.message}`);
    return await create();
  } finally {
    release();
  }
}

/** Creates `body` within the tenant's quota (see withinQuota) and waits until the cache holds it, so the next check counts it. */
export function createCounted<T extends KubernetesObject>(api: VolApi, ns: string, asked: QuotaAsk, ref: ResourceRef, cache: IndexedCache<T>, body: T, what: string): Promise<T> {
  return withinQuota(api, ns, asked, async () => {
    let made: T;
    try {
      made = await api.client.create<T>(ref, body, API_FIELD_MANAGER);
    } catch (e) {
      fromKubernetes(e, what);
    }
    await cache.seen(made);
    return made;
  });
}

/**
 * An admin's os-reset_status of a volume, snapshot or backup: 403 for others, 400 for a word Cinder does not
 * accept for the kind; else the request is written as annotations for the reconciler (statusReset.ts).
 */
export async function resetStatus(api: VolApi, auth: VolAuth, ref: ResourceRef, o: KubernetesObject, kind: keyof typeof RESETTABLE, args: Record<string, unknown>, what: string): Promise<{ status: 202 }> {
  if (!auth.admin) throw forbidden();
  const to = str(args.status, 'status');
  if (!to) throw badRequest("Invalid input received: 'status' is a required property");
  if (!(RESETTABLE[kind] as readonly string[]).includes(to)) throw badRequest(`Invalid input received: Must specify a valid status: ${to} is not one of ${RESETTABLE[kind].join(', ')}`);
  await requestStatus(api, ref, o, to, what);
  return { status: 202 };
}

/** Writes a status request (`to`, with a snapshot's progress) on the object, or takes its request back (`undefined`): statusReset.ts. */
export async function requestStatus(api: VolApi, ref: ResourceRef, o: KubernetesObject, to: string | undefined, what: string, progress?: string): Promise<void> {
  // A merge patch: the nulls drop what an earlier request wrote and this one does not (its progress).
  const annotations = { ...withdrawnReset(), ...(to === undefined ? {} : resetAnnotations(to, undefined, progress)) };
  await api.client.patch(ref, o.metadata!.namespace, o.metadata!.name!, { metadata: { annotations } }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, what));
}

/** Cinder's 400 for a change to a volume or snapshot whose backend an admin froze (its assert_not_frozen). */
export async function refuseIfFrozen(api: VolApi, backend: string | undefined): Promise<void> {
  if (await backendFrozen(api.client, backend)) throw badRequest(`Invalid input received: ${FROZEN_BACKEND}`);
}
