/**
 * Access rules of application credentials: a user's list of allowed calls (service, method, path), made when
 * a credential names them and kept after it goes, as Keystone keeps them, until the user deletes them. Each
 * is a ConfigMap in stratus-system owned by its User, named by a digest of (user, service, method, path): the
 * same rule asked for twice is one rule, with one ID, and the API server's atomic create settles races.
 */
import { createHash } from 'node:crypto';
import type { AccessRule } from '@stratus/runtime';
import type { V1OwnerReference } from '@kubernetes/client-node';
import { SYSTEM_NAMESPACE, controllerRef, type User } from '../resources.js';
import type { ConfigMap, IdentityDirectory } from './directory.js';
import { badRequest } from './errors.js';

/** On an access rule's ConfigMap: the object name of its User. */
export const ACCESS_RULE_LABEL = 'identity.stratus.io/access-rule-of';

export interface StoredAccessRule extends AccessRule {
  id: string;
}

const METHODS = new Set(['POST', 'GET', 'HEAD', 'PATCH', 'PUT', 'DELETE']);
const SERVICE = /^[a-zA-Z0-9-]{1,64}$/;

export const accessRuleId = (user: User, r: AccessRule) => createHash('sha256').update(`${user.metadata.uid}\0${r.service}\0${r.method}\0${r.path}`).digest('hex').slice(0, 32);
export const accessRuleObjectName = (id: string) => `accessrule-${id}`;

/** What a request asks for in `access_rules`, checked as Keystone's schema checks it: a new rule, or one of the user's by ID. */
export function requestedAccessRules(value: unknown): Array<AccessRule | { id: string }> {
  const field = "Invalid input for field 'application_credential.access_rules'";
  if (!Array.isArray(value)) throw badRequest(`${field}: expected a list of rules.`);
  return value.map((r, i) => {
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw badRequest(`${field}: item ${i} is not an object.`);
    const extra = Object.keys(r).filter((k) => !['id', 'service', 'method', 'path'].includes(k));
    if (extra.length) throw badRequest(`${field}: item ${i} has unknown properties ${extra.join(', ')}.`);
    if (r.id !== undefined && r.service === undefined && r.method === undefined && r.path === undefined) {
      if (typeof r.id !== 'string' || !r.id) throw badRequest(`${field}: item ${i}'s id must be a string.`);
      return { id: r.id };
    }
    if (typeof r.service !== 'string' || !SERVICE.test(r.service)) throw badRequest(`${field}: item ${i}'s service must be a service type (letters, digits and '-').`);
    if (typeof r.method !== 'string' || !METHODS.has(r.method)) throw badRequest(`${field}: item ${i}'s method must be one of ${[...METHODS].join(', ')}.`);
    if (typeof r.path !== 'string' || !r.path.startsWith('/') || r.path.length > 225) throw badRequest(`${field}: item ${i}'s path must start with '/' and be at most 225 characters.`);
    return { service: r.service, method: r.method, path: r.path };
  });
}

/** The rule's ConfigMap, owned (not controlled) by its User, so it goes with the user. */
export function accessRuleConfigMap(user: User, rule: StoredAccessRule): ConfigMap & { metadata: { ownerReferences: V1OwnerReference[] } } {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: accessRuleObjectName(rule.id), namespace: SYSTEM_NAMESPACE, labels: { [ACCESS_RULE_LABEL]: user.metadata.name }, ownerReferences: [{ ...controllerRef(user), controller: false }] },
    data: { id: rule.id, service: rule.service, method: rule.method, path: rule.path },
  };
}

/** The user's access rules, from the stratus-system ConfigMaps cache. */
export function accessRulesOf(dir: IdentityDirectory, user: User): StoredAccessRule[] {
  return dir.configMaps
    .all()
    .filter((c) => c.metadata.labels?.[ACCESS_RULE_LABEL] === user.metadata.name && !(c.metadata as { deletionTimestamp?: string }).deletionTimestamp && c.data?.id)
    .map((c) => ({ id: c.data!.id, service: c.data!.service, method: c.data!.method, path: c.data!.path }));
}
