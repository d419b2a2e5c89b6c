/**
 * /v3/domains: Keystone's built-in Default domain ("default", which cannot change) and Domain resources.
 * Project and user names are unique within their domain; deleting a domain (disabled first, as Keystone
 * asks) deletes its projects and users.
 */
import { displayNameOf, objectNameFor, type KubeClient } from '@stratus/runtime';
import { DEFAULT_DOMAIN_ID } from '../kinds.js';
import { domainNameKey, nameClaims, ownerOf } from '../names.js';
import { DOMAINS, GROUPS, TENANTS, USERS, type Domain } from '../resources.js';
import { API_FIELD_MANAGER, committed, createClaimed, deleteAssignments, entity, freeName, fromKubernetes, gone, matches, optionalBoolean, optionalString, requireAdmin, writeRenaming } from './common.js';
import type { IdentityDirectory } from './directory.js';
import { isAdmin } from './auth.js';
import { forbidden, notFound } from './errors.js';
import type { Router } from './router.js';
import { allDomains, domainInfo, domainView, findDomain, type DomainInfo } from './views.js';

/**
 * Writing domains, for /v3/domains and for /v3/projects (a project acting as a domain is one: Keystone keeps
 * every domain as a project with is_domain true).
 */
export function domainWrites(dir: IdentityDirectory, client: KubeClient) {
  const claims = nameClaims(client, API_FIELD_MANAGER);
  const domainName = (value: unknown) => freeName(value, 'domain', 64);
  const find = (id: string) => findDomain(dir, { id }) ?? notFoundDomain(id);
  return {
    find,
    /** The Domain resource behind an ID; the Default domain has none and cannot change. */
    resource(id: string): Domain {
      const d = find(id);
      if (d.ref === DEFAULT_DOMAIN_ID) throw forbidden('The Default domain is built in; it cannot be changed or deleted.');
      return dir.domains.named(d.ref)!;
    },
    info: (d: Domain): DomainInfo => domainInfo(dir, d.metadata.name) ?? { ref: d.metadata.name, id: '', name: displayNameOf(d), enabled: d.spec.enabled !== false, description: d.spec.description ?? '' },
    /** A new domain from a request's body (its name, description and enabled). */
    async create(d: Record<string, unknown>): Promise<Domain> {
      const display = domainName(d.name);
      // "default" is the Default domain's: no Domain resource takes it as its name.
      const name = objectNameFor(display, (n) => n === DEFAULT_DOMAIN_ID || !!dir.domains.named(n), 'domain');
      const body: Domain = { apiVersion: 'identity.stratus.io/v1alpha1', kind: 'Domain', metadata: { name }, spec: { displayName: display, description: optionalString(d, 'description', 'domain'), enabled: optionalBoolean(d, 'enabled', 'domain') ?? true } };
      return createClaimed(claims, client, domainNameKey(display), DOMAINS, dir.domains, body, `domain ${display}`).catch((e) => fromKubernetes(e, 'domain'));
    },
    async update(domain: Domain, d: Record<string, unknown>): Promise<Domain> {
      const rename = d.name !== undefined && d.name !== displayNameOf(domain) ? domainName(d.name) : undefined;
      const spec: Domain['spec'] = rename === undefined ? {} : { displayName: rename };
      if (d.description !== undefined) spec.description = optionalString(d, 'description', 'domain') ?? '';
      if (d.enabled !== undefined) spec.enabled = optionalBoolean(d, 'enabled', 'domain');
      const write = () => committed(dir.domains, client.patch<Domain>(DOMAINS, undefined, domain.metadata.name, { spec }, API_FIELD_MANAGER), `domain ${displayNameOf(domain)}`);
      return writeRenaming(claims, rename === undefined ? undefined : domainNameKey(rename), ownerOf(domain), write).catch((e) => fromKubernetes(e, 'domain'));
    },
    /** Deletes a disabled domain, and as Keystone its users and groups (with their grants) and projects. */
    async remove(domain: Domain): Promise<void> {
      if (domain.spec.enabled !== false) throw forbidden('Cannot delete a domain that is enabled, please disable it first.');
      const ref = domain.metadata.name;
      for (const u of dir.users.all().filter((u) => u.spec.domain === ref)) {
        await deleteAssignments(client, dir, (a) => a.spec.user === u.metadata.name);
        await client.delete(USERS, undefined, u.metadata.name);
      }
      for (const g of dir.groups.all().filter((g) => g.spec.domain === ref)) {
        await deleteAssignments(client, dir, (a) => a.spec.group === g.metadata.name);
        await client.delete(GROUPS, undefined, g.metadata.name);
      }
      for (const t of dir.tenants.all().filter((t) => t.spec.domain === ref)) await client.delete(TENANTS, undefined, t.metadata.name);
      await client.delete(DOMAINS, undefined, ref);
      await gone(dir.domains, ref);
    },
  };
}

export function domainRoutes(router: Router, dir: IdentityDirectory, client: KubeClient) {
  const domains = domainWrites(dir, client);
  const view = (d: Domain, base: string) => domainView(domains.info(d), base);

  router.on('GET', '/domains', (req) => {
    // An administrator's call in Keystone's policy; others read their own domain by ID (or GET /auth/domains).
    requireAdmin(req.auth);
    const list = allDomains(dir)
      .map((d) => domainView(d, req.base))
      .filter((d) => matches(req.query, { name: d.name, id: d.id, enabled: d.enabled }));
    return { status: 200, body: { domains: list, links: { self: `${req.base}/domains`, next: null, previous: null } } };
  });
  // Keystone's get_domain: admins, and tokens scoped to the domain or to a project in it.
  router.on('GET', '/domains/:id', (req) => {
    const d = domains.find(req.params.id);
    const projectDomain = req.auth.project ? (req.auth.project.spec.domain ?? DEFAULT_DOMAIN_ID) : undefined;
    if (!isAdmin(req.auth) && req.auth.domain?.id !== d.id && projectDomain !== d.ref) throw forbidden('You are not authorized to read this domain.');
    return { status: 200, body: { domain: domainView(d, req.base) } };
  });

  router.on('POST', '/domains', async (req) => {
    requireAdmin(req.auth);
    return { status: 201, body: { domain: view(await domains.create(entity(req.body, 'domain')), req.base) } };
  });

  router.on('PATCH', '/domains/:id', async (req) => {
    requireAdmin(req.auth);
    const updated = await domains.update(domains.resource(req.params.id), entity(req.body, 'domain'));
    return { status: 200, body: { domain: view(updated, req.base) } };
  });

  router.on('DELETE', '/domains/:id', async (req) => {
    requireAdmin(req.auth);
    await domains.remove(domains.resource(req.params.id));
    return { status: 204 };
  });
}

function notFoundDomain(id: string): never {
  throw notFound('domain', id);
}
