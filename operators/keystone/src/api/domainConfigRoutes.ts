/**
 * /v3/domains/{id}/config and /v3/domains/config/.../default: a domain's own identity and LDAP settings, as
 * Keystone keeps them (an administrator's calls). The shown options are the Domain's spec.config; the sensitive
 * ones (the LDAP bind password) a Secret of the release's system namespace owned by the Domain, never shown.
 * Stratus has no LDAP driver: the settings are kept and served, and take effect nowhere, as in a Keystone whose
 * domain_specific_drivers_enabled is off (its default). The built-in Default domain has no object to keep any.
 */
import type { KubeClient } from '@stratus/runtime';
import { DOMAINS, SECRETS, SYSTEM_NAMESPACE, controllerRef, type Domain, type Secret } from '../resources.js';
import { API_FIELD_MANAGER, committed, fromKubernetes, gone, requireAdmin } from './common.js';
import { domainWrites } from './domainRoutes.js';
import { checkedUpdate, defaultsOf, merged, replacingPatch, shownPart, splitSensitive, validConfig, withoutPart, type DomainConfig } from './domainConfig.js';
import type { IdentityDirectory } from './directory.js';
import type { Router } from './router.js';

const secretName = (domain: Domain) => `domain-config-${domain.metadata.name}`;

export function domainConfigRoutes(router: Router, dir: IdentityDirectory, client: KubeClient) {
  const domains = domainWrites(dir, client);
  const sensitiveOf = (domain: Domain): DomainConfig => {
    const data = dir.secrets.named(secretName(domain), SYSTEM_NAMESPACE)?.data ?? {};
    const out: DomainConfig = {};
    for (const [key, value] of Object.entries(data)) {
      const dot = key.indexOf('.');
      (out[key.slice(0, dot)] ??= {})[key.slice(dot + 1)] = JSON.parse(Buffer.from(value, 'base64').toString());
    }
    return out;
  };
  const shownOf = (domain: Domain): DomainConfig => (domain.spec as { config?: DomainConfig }).config ?? {};
  /** The whole config, sensitive options too. */
  const currentOf = (domain: Domain) => merged(shownOf(domain), sensitiveOf(domain));

  /** Keeps `next` as the domain's config: the shown part on the Domain, the sensitive part in its Secret (none: no Secret). */
  const keep = async (domain: Domain, next: DomainConfig): Promise<DomainConfig> => {
    const { shown, sensitive } = splitSensitive(next);
    const old = shownOf(domain);
    const config = Object.keys(shown).length ? replacingPatch(old, shown) : null;
    const written = await committed(dir.domains, client.patch<Domain>(DOMAINS, undefined, domain.metadata.name, { spec: { config } }, API_FIELD_MANAGER), 'domain config');
    const name = secretName(domain);
    const secret = dir.secrets.named(name, SYSTEM_NAMESPACE);
    if (Object.keys(sensitive).length) {
      const data = Object.fromEntries(Object.entries(sensitive).flatMap(([g, o]) => Object.entries(o).map(([k, v]) => [`${g}.${k}`, Buffer.from(JSON.stringify(v)).toString('base64')])));
      const body: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: SYSTEM_NAMESPACE, ownerReferences: [{ ...controllerRef(domain), controller: false }] }, data } as Secret;
      await committed(dir.secrets, client.createOrReplace(SECRETS, secret, body, API_FIELD_MANAGER), 'domain config');
    } else if (secret) {
      await client.delete(SECRETS, SYSTEM_NAMESPACE, name).catch((e) => fromKubernetes(e, 'domain config'));
      await gone(dir.secrets, name, SYSTEM_NAMESPACE);
    }
    return shownOf(written);
  };
  const bodyConfig = (body: unknown) => (body as { config?: unknown } | undefined)?.config;

  // keystone.conf's defaults (registered before the domain paths, which they would otherwise look like).
  router.on('GET', '/domains/config/default', (req) => (requireAdmin(req.auth), { status: 200, body: { config: defaultsOf() } }));
  router.on('GET', '/domains/config/:group/default', (req) => (requireAdmin(req.auth), { status: 200, body: { config: defaultsOf(req.params.group) } }));
  router.on('GET', '/domains/config/:group/:option/default', (req) => (requireAdmin(req.auth), { status: 200, body: { config: defaultsOf(req.params.group, req.params.option) } }));

  // A create replaces any config there was: 201, or 200 when there was one.
  router.on('PUT', '/domains/:id/config', async (req) => {
    requireAdmin(req.auth);
    const domain = domains.resource(req.params.id);
    const config = validConfig(bodyConfig(req.body));
    const had = Object.keys(currentOf(domain)).length > 0;
    return { status: had ? 200 : 201, body: { config: await keep(domain, config) } };
  });

  const show = (id: string, group?: string, option?: string) => {
    const d = domains.find(id);
    const domain = dir.domains.named(d.ref);
    return { status: 200, body: { config: shownPart(domain ? shownOf(domain) : {}, d.id, group, option) } };
  };
  router.on('GET', '/domains/:id/config', (req) => (requireAdmin(req.auth), show(req.params.id)));
  router.on('GET', '/domains/:id/config/:group', (req) => (requireAdmin(req.auth), show(req.params.id, req.params.group)));
  router.on('GET', '/domains/:id/config/:group/:option', (req) => (requireAdmin(req.auth), show(req.params.id, req.params.group, req.params.option)));

  // An update merges into what is there and answers the whole shown config.
  const update = async (id: string, body: unknown, group?: string, option?: string) => {
    const domain = domains.resource(id);
    const current = currentOf(domain);
    const change = checkedUpdate(bodyConfig(body), current, domains.find(id).id, group, option);
    const shown = await keep(domain, merged(current, change));
    return { status: 200, body: { config: shown } };
  };
  router.on('PATCH', '/domains/:id/config', (req) => (requireAdmin(req.auth), update(req.params.id, req.body)));
  router.on('PATCH', '/domains/:id/config/:group', (req) => (requireAdmin(req.auth), update(req.params.id, req.body, req.params.group)));
  router.on('PATCH', '/domains/:id/config/:group/:option', (req) => (requireAdmin(req.auth), update(req.params.id, req.body, req.params.group, req.params.option)));

  const remove = async (id: string, group?: string, option?: string) => {
    const domain = domains.resource(id);
    await keep(domain, withoutPart(currentOf(domain), domains.find(id).id, group, option));
    return { status: 204 };
  };
  router.on('DELETE', '/domains/:id/config', (req) => (requireAdmin(req.auth), remove(req.params.id)));
  router.on('DELETE', '/domains/:id/config/:group', (req) => (requireAdmin(req.auth), remove(req.params.id, req.params.group)));
  router.on('DELETE', '/domains/:id/config/:group/:option', (req) => (requireAdmin(req.auth), remove(req.params.id, req.params.group, req.params.option)));
}
