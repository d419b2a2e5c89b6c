/**
 * /v3/policies: policy blobs kept for services to fetch, as Keystone keeps them (it stores them and nothing
 * more; enforcement is each service's own). Each is a ConfigMap in stratus-system; admins manage them.
 */
import { randomUUID } from 'node:crypto';
import type { KubeClient } from '@stratus/runtime';
import { CONFIGMAPS, SYSTEM_NAMESPACE } from '../resources.js';
import { API_FIELD_MANAGER, committed, entity, gone, matches, optionalString, requireAdmin } from './common.js';
import type { ConfigMap, IdentityDirectory } from './directory.js';
import { badRequest, notFound } from './errors.js';
import type { Router } from './router.js';

/** On a policy's ConfigMap: marks it as one, and selects them all. */
export const POLICY_LABEL = 'identity.stratus.io/policy';
const nameOf = (id: string) => `policy-${id}`;

export function policyRoutes(router: Router, dir: IdentityDirectory, client: KubeClient) {
  const all = () => dir.configMaps.all().filter((c) => c.metadata.labels?.[POLICY_LABEL] && c.data?.id);
  const view = (c: ConfigMap, base: string) => ({ id: c.data!.id, type: c.data!.type ?? '', blob: c.data!.blob ?? '', ...(c.data!.projectId ? { project_id: c.data!.projectId } : {}), links: { self: `${base}/policies/${c.data!.id}` } });
  const find = (id: string) => all().find((c) => c.data!.id === id) ?? notFoundPolicy(id);
  const fields = (p: Record<string, unknown>, required: boolean) => {
    const type = optionalString(p, 'type', 'policy');
    const blob = optionalString(p, 'blob', 'policy');
    if (required && (!type || blob === undefined)) throw badRequest("Invalid input for field 'policy': 'type' and 'blob' are required.");
    return { ...(type !== undefined ? { type } : {}), ...(blob !== undefined ? { blob } : {}) };
  };

  router.on('GET', '/policies', (req) => {
    requireAdmin(req.auth);
    const policies = all().map((c) => view(c, req.base)).filter((p) => matches(req.query, { type: p.type }));
    return { status: 200, body: { policies, links: { self: `${req.base}/policies`, next: null, previous: null } } };
  });
  router.on('GET', '/policies/:id', (req) => {
    requireAdmin(req.auth);
    return { status: 200, body: { policy: view(find(req.params.id), req.base) } };
  });
  router.on('POST', '/policies', async (req) => {
    requireAdmin(req.auth);
    const p = entity(req.body, 'policy');
    const id = randomUUID().replace(/-/g, '');
    const body: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: nameOf(id), namespace: SYSTEM_NAMESPACE, labels: { [POLICY_LABEL]: 'true' } }, data: { id, ...fields(p, true) } };
    const created = await committed(dir.configMaps, client.create(CONFIGMAPS, body, API_FIELD_MANAGER), 'policy');
    return { status: 201, body: { policy: view(created, req.base) } };
  });
  router.on('PATCH', '/policies/:id', async (req) => {
    requireAdmin(req.auth);
    const c = find(req.params.id);
    const updated = await committed(dir.configMaps, client.patch<ConfigMap>(CONFIGMAPS, SYSTEM_NAMESPACE, c.metadata.name, { data: fields(entity(req.body, 'policy'), false) }, API_FIELD_MANAGER), 'policy');
    return { status: 200, body: { policy: view(updated, req.base) } };
  });
  router.on('DELETE', '/policies/:id', async (req) => {
    requireAdmin(req.auth);
    const c = find(req.params.id);
    await client.delete(CONFIGMAPS, SYSTEM_NAMESPACE, c.metadata.name);
    await gone(dir.configMaps, c.metadata.name, SYSTEM_NAMESPACE);
    return { status: 204 };
  });
}

function notFoundPolicy(id: string): never {
  throw notFound('policy', id);
}
