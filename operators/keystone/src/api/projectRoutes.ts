/**
 * /v3/projects: projects are Tenants. A domain is also a project acting as one (is_domain), as Keystone keeps
 * them: listed with is_domain=true, made, read, changed and deleted here too.
 */
import { DNS_LABEL, displayNameOf, objectNameFor, tagsMatch, type KubeClient } from '@stratus/runtime';
import { nameClaims, ownerOf, projectNameKey } from '../names.js';
import { NAMESPACES, TENANTS, type Tenant } from '../resources.js';
import { isAdmin, type AuthContext } from './auth.js';
import { API_FIELD_MANAGER, committed, createClaimed, entity, extraAttributes, freeName, fromKubernetes, gone, matches, optionalBoolean, optionalString, requireAdmin, writeRenaming } from './common.js';
import type { IdentityDirectory } from './directory.js';
import { badRequest, forbidden, notFound } from './errors.js';
import type { Router } from './router.js';
import { DEFAULT_DOMAIN, allDomains, domainProjectView, domainRef, findDomain, projectView, type DomainInfo } from './views.js';
import { domainWrites } from './domainRoutes.js';

export function projectRoutes(router: Router, dir: IdentityDirectory, client: KubeClient) {
  const find = (id: string) => dir.tenants.require(id, 'project');
  const claims = nameClaims(client, API_FIELD_MANAGER);
  /** Keystone's project names: free text of at most 64 characters. */
  const projectName = (value: unknown) => freeName(value, 'project', 64);
  /** The Tenant's object name, which is also its namespace's: never one some namespace already has. */
  const objectNameOf = async (display: string) => {
    const namespaceTaken = DNS_LABEL.test(display) && display.length <= 63 && !!(await client.get(NAMESPACES, undefined, display));
    return objectNameFor(display, (n) => !!dir.tenants.named(n) || (n === display && namespaceTaken), 'project');
  };
  const live = () => dir.tenants.all().filter((t) => !t.metadata.deletionTimestamp);
  const domains = domainWrites(dir, client);
  /** The domain a project ID names, when no project has it: a project acting as a domain. */
  const domainAsProject = (id: string) => (dir.tenants.byOpenstackId(id) ? undefined : findDomain(dir, { id }));
  /** The domain a new project or user goes in: the one named by ID (404 if there is none), else Default. */
  const domainFor = (id: unknown): DomainInfo => {
    if (id === undefined || id === null) return findDomain(dir, { id: DEFAULT_DOMAIN.id })!;
    return findDomain(dir, { id: String(id) }) ?? notFoundDomain(String(id));
  };

  // Listing every project is an administrator's call, as Keystone's policy has it; members list their own
  // with /users/{id}/projects or /auth/projects (openstack project list --my-projects).
  router.on('GET', '/projects', (req) => {
    requireAdmin(req.auth);
    const q = req.query;
    // Keystone lists the projects acting as domains when is_domain is true, and only the others otherwise.
    if (q.has('is_domain') && matches(q, { is_domain: true })) {
      const asProjects = allDomains(dir)
        .map((d) => domainProjectView(d, req.base))
        .filter((p) => matches(q, { name: p.name, enabled: p.enabled, id: p.id }));
      return { status: 200, body: { projects: asProjects, links: { self: `${req.base}/projects`, next: null, previous: null } } };
    }
    const projects = live()
      .filter((t) => tagsMatch(q, t.spec.tags ?? []))
      .map((t) => projectView(t, req.base, dir))
      .filter((p) => matches(q, { name: p.name, enabled: p.enabled, id: p.id, domain_id: p.domain_id, parent_id: p.parent_id, is_domain: p.is_domain }));
    return { status: 200, body: { projects, links: { self: `${req.base}/projects`, next: null, previous: null } } };
  });

  router.on('GET', '/projects/:id', (req) => {
    const domain = domainAsProject(req.params.id);
    if (domain) {
      requireAdmin(req.auth);
      return { status: 200, body: { project: domainProjectView(domain, req.base) } };
    }
    const t = find(req.params.id);
    if (!isAdmin(req.auth) && !dir.rolesOn(req.auth.user, t.metadata.name).length) throw forbidden();
    return { status: 200, body: { project: projectView(t, req.base, dir) } };
  });

  router.on('POST', '/projects', async (req) => {
    requireAdmin(req.auth);
    const p = entity(req.body, 'project');
    if (p.is_domain === true) {
      // A project acting as a domain is a root: in no domain, under no parent (Keystone's words).
      if (p.parent_id !== undefined && p.parent_id !== null) throw badRequest('Only root projects are allowed to act as domains.');
      if (p.domain_id !== undefined && p.domain_id !== null) throw badRequest('A project acting as a domain cannot be in a domain: domain_id must be null.');
      const made = await domains.create({ name: p.name, description: p.description, enabled: p.enabled });
      return { status: 201, body: { project: domainProjectView(domains.info(made), req.base) } };
    }
    if (p.is_domain !== undefined && p.is_domain !== false && p.is_domain !== null) throw badRequest("Invalid input for field 'is_domain': it must be a boolean.");
    const display = projectName(p.name);
    // A parent project, in Keystone's project tree, is in the same domain (which it implies when none is named).
    const parent = p.parent_id !== undefined && p.parent_id !== null ? dir.tenants.byOpenstackId(String(p.parent_id)) : undefined;
    const domain = domainFor(p.domain_id ?? (parent ? domainRef(dir, parent.spec.domain).id : undefined));
    if (p.parent_id !== undefined && p.parent_id !== null && p.parent_id !== domain.id) {
      if (!parent || parent.metadata.deletionTimestamp) throw notFound('project', String(p.parent_id));
      if ((parent.spec.domain ?? DEFAULT_DOMAIN.id) !== domain.ref) throw badRequest('A project\'s parent must be in the same domain.');
    }
    const spec: Tenant['spec'] = {
      displayName: display,
      domain: domain.ref,
      ...(parent && p.parent_id !== domain.id ? { parent: parent.metadata.name } : {}),
      description: optionalString(p, 'description', 'project'),
      enabled: optionalBoolean(p, 'enabled', 'project') ?? true,
      ...(p.tags !== undefined ? { tags: validTags(p.tags) } : {}),
      extra: extraAttributes(p, PROJECT_ATTRIBUTES),
    };
    const body: Tenant = { apiVersion: 'identity.stratus.io/v1alpha1', kind: 'Tenant', metadata: { name: await objectNameOf(display) }, spec };
    const created = await createClaimed(claims, client, projectNameKey(display, domain.ref), TENANTS, dir.tenants, body, `project ${display}`).catch((e) => fromKubernetes(e, 'project'));
    return { status: 201, body: { project: projectView(created, req.base, dir) } };
  });

  router.on('PATCH', '/projects/:id', async (req) => {
    requireAdmin(req.auth);
    const p = entity(req.body, 'project');
    if (domainAsProject(req.params.id)) {
      const updated = await domains.update(domains.resource(req.params.id), { name: p.name, description: p.description, enabled: p.enabled });
      return { status: 200, body: { project: domainProjectView(domains.info(updated), req.base) } };
    }
    const t = find(req.params.id);
    // A rename changes the OpenStack name only: the Tenant's object and namespace keep theirs.
    const rename = p.name !== undefined && p.name !== displayNameOf(t) ? projectName(p.name) : undefined;
    const patch: Tenant['spec'] = rename === undefined ? {} : { displayName: rename };
    if (p.description !== undefined) patch.description = optionalString(p, 'description', 'project') ?? '';
    if (p.enabled !== undefined) patch.enabled = optionalBoolean(p, 'enabled', 'project');
    if (p.tags !== undefined) patch.tags = validTags(p.tags);
    const extra = extraAttributes(p, PROJECT_ATTRIBUTES);
    if (extra) patch.extra = extra;
    // A merge of the named spec fields: no resourceVersion precondition, which the cache (a moment behind the
    // operator's own writes) would turn into needless 409s; a rename is guarded by its name claim.
    const change = { spec: patch };
    const write = () => committed(dir.tenants, client.patch<Tenant>(TENANTS, undefined, t.metadata.name, change, API_FIELD_MANAGER), `project ${displayNameOf(t)}`);
    const updated = await writeRenaming(claims, rename === undefined ? undefined : projectNameKey(rename, t.spec.domain), ownerOf(t), write).catch((e) => fromKubernetes(e, 'project'));
    return { status: 200, body: { project: projectView(updated, req.base, dir) } };
  });

  // Project tags: /projects/{id}/tags and /projects/{id}/tags/{tag}.
  const setTags = async (t: Tenant, tags: string[]) =>
    committed(dir.tenants, client.patch<Tenant>(TENANTS, undefined, t.metadata.name, { spec: { tags } }, API_FIELD_MANAGER), `project ${displayNameOf(t)}`);
  const readable = (req: { params: Record<string, string>; auth: AuthContext }) => {
    const t = find(req.params.id);
    if (!isAdmin(req.auth) && !dir.rolesOn(req.auth.user, t.metadata.name).length) throw forbidden();
    return t;
  };
  router.on('GET', '/projects/:id/tags', (req) => ({ status: 200, body: { tags: readable(req).spec.tags ?? [] } }));
  router.on('PUT', '/projects/:id/tags', async (req) => {
    requireAdmin(req.auth);
    const updated = await setTags(find(req.params.id), validTags(req.body?.tags));
    return { status: 200, body: { tags: updated.spec.tags ?? [] } };
  });
  router.on('DELETE', '/projects/:id/tags', async (req) => {
    requireAdmin(req.auth);
    await setTags(find(req.params.id), []);
    return { status: 204 };
  });
  router.on('GET', '/projects/:id/tags/:tag', (req) => {
    if (!(readable(req).spec.tags ?? []).includes(req.params.tag)) throw notFound('tag', req.params.tag);
    return { status: 204 };
  });
  router.on('PUT', '/projects/:id/tags/:tag', async (req) => {
    requireAdmin(req.auth);
    const t = find(req.params.id);
    const tags = t.spec.tags ?? [];
    if (!tags.includes(req.params.tag)) await setTags(t, validTags([...tags, req.params.tag]));
    return { status: 201, headers: { Location: `${req.base}/projects/${req.params.id}/tags/${encodeURIComponent(req.params.tag)}` } };
  });
  router.on('DELETE', '/projects/:id/tags/:tag', async (req) => {
    requireAdmin(req.auth);
    const t = find(req.params.id);
    if (!(t.spec.tags ?? []).includes(req.params.tag)) throw notFound('tag', req.params.tag);
    await setTags(t, (t.spec.tags ?? []).filter((x) => x !== req.params.tag));
    return { status: 204 };
  });

  router.on('DELETE', '/projects/:id', async (req) => {
    requireAdmin(req.auth);
    if (domainAsProject(req.params.id)) {
      await domains.remove(domains.resource(req.params.id));
      return { status: 204 };
    }
    const t = find(req.params.id);
    if (live().some((c) => c.spec.parent === t.metadata.name)) throw forbidden(`Cannot delete project ${req.params.id}: it is not a leaf in the project tree; delete its children first.`);
    // The Tenant's finalizer keeps its namespace until the Stratus resources in it are gone.
    await client.delete(TENANTS, undefined, t.metadata.name);
    await gone(dir.tenants, t.metadata.name);
    return { status: 204 };
  });

  router.on('GET', '/users/:id/projects', (req) => {
    const user = dir.users.require(req.params.id, 'user');
    if (user.metadata.uid !== req.auth.user.metadata.uid && !isAdmin(req.auth)) throw forbidden();
    return { status: 200, body: { projects: dir.tenantsOf(user).map((t) => projectView(t, req.base, dir)), links: { self: `${req.base}/users/${req.params.id}/projects`, next: null, previous: null } } };
  });
}

/** What a project body may say that Keystone knows; anything else is kept as an extra attribute. */
const PROJECT_ATTRIBUTES = ['id', 'name', 'description', 'enabled', 'domain_id', 'parent_id', 'is_domain', 'tags', 'options', 'links'];
const MAX_TAGS = 80;

/** Keystone's project tags: at most 80 distinct strings of 1 to 255 characters, without '/' or ','. */
export function validTags(tags: unknown): string[] {
  if (!Array.isArray(tags)) throw badRequest("Invalid input for field 'tags': expected a list of strings.");
  if (tags.length > MAX_TAGS) throw badRequest(`Invalid input for field 'tags': at most ${MAX_TAGS} tags.`);
  for (const t of tags)
    if (typeof t !== 'string' || t.length < 1 || t.length > 255 || /[/,]/.test(t)) throw badRequest(`Invalid input for field 'tags': ${JSON.stringify(t)} must be 1 to 255 characters without '/' or ','.`);
  if (new Set(tags).size !== tags.length) throw badRequest("Invalid input for field 'tags': tags must be unique.");
  return tags as string[];
}

const notFoundDomain = (id: string): never => {
  throw notFound('domain', id);
};
