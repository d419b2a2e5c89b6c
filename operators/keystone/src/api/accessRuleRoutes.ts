/**
 * /v3/users/{id}/access_rules: a user's access rules, read by the user (or an admin) and deleted once no
 * application credential uses them (403 before, as Keystone answers).
 */
import type { KubeClient } from '@stratus/runtime';
import { CONFIGMAPS, SYSTEM_NAMESPACE, type User } from '../resources.js';
import { accessRuleObjectName, accessRulesOf, type StoredAccessRule } from './accessRules.js';
import { appCredentials } from './appCredentials.js';
import { credentialOwner } from './appCredentialRoutes.js';
import type { AuthContext } from './auth.js';
import { gone } from './common.js';
import type { IdentityDirectory } from './directory.js';
import { forbidden, notFound } from './errors.js';
import type { Router } from './router.js';

export function accessRuleRoutes(router: Router, dir: IdentityDirectory, client: KubeClient) {
  const owner = (id: string, auth: AuthContext) => credentialOwner(dir, id, auth, false, 'access rules');
  const find = (user: User, id: string): StoredAccessRule => {
    const rule = accessRulesOf(dir, user).find((r) => r.id === id);
    if (!rule) throw notFound('access rule', id);
    return rule;
  };
  const view = (r: StoredAccessRule, userId: string, base: string) => ({ id: r.id, service: r.service, method: r.method, path: r.path, links: { self: `${base}/users/${userId}/access_rules/${r.id}` } });

  router.on('GET', '/users/:user/access_rules', (req) => {
    const user = owner(req.params.user, req.auth);
    const q = req.query;
    const rules = accessRulesOf(dir, user).filter((r) => (['service', 'method', 'path'] as const).every((k) => q.get(k) === null || r[k] === q.get(k)));
    return { status: 200, body: { access_rules: rules.map((r) => view(r, req.params.user, req.base)), links: { self: `${req.base}/users/${req.params.user}/access_rules`, next: null, previous: null } } };
  });

  router.on('GET', '/users/:user/access_rules/:id', (req) => ({ status: 200, body: { access_rule: view(find(owner(req.params.user, req.auth), req.params.id), req.params.user, req.base) } }));

  router.on('DELETE', '/users/:user/access_rules/:id', async (req) => {
    const user = owner(req.params.user, req.auth);
    if (req.auth.appCred && !req.auth.appCred.unrestricted) throw forbidden('A restricted application credential cannot delete access rules.');
    const rule = find(user, req.params.id);
    const usedBy = appCredentials(dir, user).find((c) => c.accessRules.some((r) => r.id === rule.id));
    if (usedBy) throw forbidden(`Cannot delete access rule ${rule.id}: application credential ${usedBy.id} uses it.`);
    const name = accessRuleObjectName(rule.id);
    await client.delete(CONFIGMAPS, SYSTEM_NAMESPACE, name);
    await gone(dir.configMaps, name, SYSTEM_NAMESPACE);
    return { status: 204 };
  });
}
