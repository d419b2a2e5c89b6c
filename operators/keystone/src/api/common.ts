/** What the Identity API's write routes share: policy, body and name checks, and read-your-writes. */
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeApiError, NameTaken, isAtLeast, type KubeClient, type NameClaims, type NameKey, type NameOwner, type ResourceRef } from '@stratus/runtime';
import { ROLE_ASSIGNMENTS, type RoleAssignment } from '../resources.js';
import { isAdmin, type AuthContext } from './auth.js';
import { waitUntil, type IdentityDirectory, type Indexed } from './directory.js';
import { badRequest, conflict, forbidden } from './errors.js';

export const API_FIELD_MANAGER = 'stratus-keystone-api';

export function requireAdmin(ctx: AuthContext): void {
  if (!isAdmin(ctx)) throw forbidden('You are not authorized to perform the requested action: this needs the admin role.');
}

/** The `{"project": {...}}` object of a request body, or a Keystone-style 400. */
export function entity(body: any, key: string): Record<string, any> {
  const e = body?.[key];
  if (!e || typeof e !== 'object' || Array.isArray(e)) throw badRequest(`Expecting to find ${key} in request body.`);
  return e;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * A name as Keystone's schema takes it: a string of 1 to `max` characters, not only white space. It is
 * free text; the object's Kubernetes name is derived from it (the runtime's naming model).
 */
export function freeName(value: unknown, what: string, max: number): string {
  if (typeof value !== 'string') throw badRequest(`Invalid input for field '${what}.name': ${value === undefined ? "'name' is a required property" : `${JSON.stringify(value)} is not of type 'string'`}.`);
  if (value.length < 1 || value.length > max) throw badRequest(`Invalid input for field '${what}.name': '${value}' must be 1 to ${max} characters long.`);
  if (!/\S/.test(value)) throw badRequest(`Invalid input for field '${what}.name': '${value}' does not match '[\\S]+'.`);
  return value;
}

/**
 * Names that still become object names as they are (catalog services), so they follow DNS-1123 label
 * rules: say so plainly rather than invent a mangled name the user did not choose.
 */
export function kubernetesName(value: unknown, what: string): string {
  if (typeof value !== 'string' || !value) throw badRequest(`Invalid input for field '${what}.name': a name is required.`);
  if (value.length > 63 || !DNS_LABEL.test(value))
    throw badRequest(`Invalid input for field '${what}.name': '${value}' must be lower case letters, digits and '-', start and end with a letter or digit, at most 63 characters (it names a Kubernetes object).`);
  return value;
}

export function optionalString(e: Record<string, any>, field: string, what: string): string | undefined {
  const v = e[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`Invalid input for field '${what}.${field}': expected a string.`);
  return v;
}

export function optionalBoolean(e: Record<string, any>, field: string, what: string): boolean | undefined {
  const v = e[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw badRequest(`Invalid input for field '${what}.${field}': expected a boolean.`);
  return v;
}

/** Kubernetes errors (and taken names) on the way out, as Keystone would say them. */
export function fromKubernetes(e: unknown, what: string): never {
  if (e instanceof NameTaken) throw conflict(`Conflict occurred attempting to store ${e.key.kind} - Duplicate entry found with name ${e.key.name}${e.key.scope ? ` at domain ID ${e.key.scope}` : ''}.`);
  if (e instanceof KubeApiError) {
    if (e.code === 409 && e.reason === 'AlreadyExists') throw conflict(`Conflict occurred attempting to store ${what} - Duplicate entry.`);
    if (e.code === 409) throw conflict(`Conflict occurred attempting to update ${what}; try again.`);
    if (e.code === 422 || e.code === 400) throw badRequest(`Invalid ${what}: ${e.message}`);
  }
  throw e;
}

const newer = (cached: KubernetesObject | undefined, written: KubernetesObject) => isAtLeast(cached?.metadata?.resourceVersion, written.metadata?.resourceVersion);

/** Waits until this process's cache holds the write, so the client's next call sees what it just did. */
export const seen = <T extends KubernetesObject>(index: Indexed<T>, written: T) =>
  waitUntil(() => newer(index.named(written.metadata!.name!, written.metadata!.namespace), written));

/** Awaits a write, says a failure as Keystone would, and waits until this process's cache shows the result. */
export async function committed<T extends KubernetesObject>(index: Indexed<T>, write: Promise<T>, what: string): Promise<T> {
  const written = await write.catch((e) => fromKubernetes(e, what));
  await seen(index, written);
  return written;
}

/** Claims `key` for `body`, then creates it carrying the claim's token, and waits until the cache shows it. */
export function createClaimed<T extends KubernetesObject>(claims: NameClaims, client: KubeClient, key: NameKey, resource: ResourceRef, index: Indexed<T>, body: T, what: string): Promise<T> {
  const owner = { resource, apiVersion: body.apiVersion!, kind: body.kind!, metadata: {} };
  return claims.create(key, owner, (annotations) => committed(index, client.create(resource, { ...body, metadata: { ...body.metadata, annotations } }, API_FIELD_MANAGER), what));
}

/** Runs `write`; when it renames (`newKey` given), under the new name's claim, which frees the old one after. */
export function writeRenaming<T>(claims: NameClaims, newKey: NameKey | undefined, owner: NameOwner, write: () => Promise<T>): Promise<T> {
  return newKey === undefined ? write() : claims.rename(newKey, owner, write);
}

export const gone = <T extends KubernetesObject>(index: Indexed<T>, name: string, namespace?: string) =>
  waitUntil(() => {
    const o = index.named(name, namespace);
    return !o || !!o.metadata?.deletionTimestamp;
  });

/** Deletes the role assignments `which` picks (those of a user or a role being deleted). */
export async function deleteAssignments(client: KubeClient, dir: IdentityDirectory, which: (ra: RoleAssignment) => boolean): Promise<void> {
  for (const ra of dir.assignments.all().filter(which)) await client.delete(ROLE_ASSIGNMENTS, ra.metadata.namespace, ra.metadata.name);
}

/** `?name=` and friends on list calls; a boolean filter takes true/false in any case, and 1/0, as Keystone's. */
export const matches = (query: URLSearchParams, fields: Record<string, unknown>) =>
  Object.entries(fields).every(([k, v]) => !query.has(k) || (typeof v === 'boolean' ? v === truthy(query.get(k)!) : String(v) === query.get(k)));

const truthy = (s: string) => !['false', '0', 'no', 'off', ''].includes(s.toLowerCase());

/** The attributes of a body Keystone does not know, which it keeps and shows as given ("extra"). */
export function extraAttributes(e: Record<string, unknown>, known: string[]): Record<string, unknown> | undefined {
  const extra = Object.fromEntries(Object.entries(e).filter(([k]) => !known.includes(k)));
  return Object.keys(extra).length ? extra : undefined;
}
