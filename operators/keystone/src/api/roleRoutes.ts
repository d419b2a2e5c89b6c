/**
 * /v3/roles and role assignments. A grant on a project is a RoleAssignment `<user>.<role>` in the tenant's
 * namespace (names are DNS labels, so the dot keeps it unique); a grant on the Default domain is a name in
 * the User's spec.domainRoles.
 */
import { displayNameOf, objectNameFor, type KubeClient } from '@stratus/runtime';
import { nameClaims, ownerOf, roleNameKey } from '../names.js';
import { ROLES, ROLE_ASSIGNMENTS, USERS, openstackId, type Role, type RoleAssignment, type Tenant, type User, GROUPS, type Group } from '../resources.js';
import { isAdmin } from './auth.js';
import { API_FIELD_MANAGER, committed, createClaimed, deleteAssignments, entity, freeName, fromKubernetes, gone, matches, optionalString, requireAdmin, writeRenaming } from './common.js';
import type { IdentityDirectory, Indexed } from './directory.js';
import { IdentityError, badRequest, forbidden, notFound } from './errors.js';
import type { Router } from './router.js';
import { DEFAULT_DOMAIN, allDomains, domainRef, findDomain, roleView } from './views.js';

export const assignmentName = (user: string, role: string) => `${user}.${role}`;
/** A group's grant: two dots, where a user's has one (object names of users and roles have none). */
export const groupAssignmentName = (group: string, role: string) => `group.${group}.${role}`;

export function roleRoutes(router: Router, dir: IdentityDirectory, client: KubeClient) {
  const findRole = (id: string) => dir.roles.require(id, 'role');
  const findUser = (id: string) => dir.users.require(id, 'user');
  const findProject = (id: string) => dir.tenants.require(id, 'project');
  const claims = nameClaims(client, API_FIELD_MANAGER);
  const roleName = (value: unknown) => freeName(value, 'role', 255);

  router.on('GET', '/roles', (req) => {
    // An administrator's call in Keystone's policy, as showing a role is.
    requireAdmin(req.auth);
    // Global roles, or a domain's own with ?domain_id=, as Keystone lists them.
    const domain = req.query.get('domain_id');
    const ref = domain === null ? undefined : findDomain(dir, { id: domain })?.ref;
    const roles = dir.roles
      .all()
      .filter((r) => !r.metadata.deletionTimestamp && (domain === null ? !r.spec.domain : !!ref && r.spec.domain === ref))
      .map((r) => roleView(r, req.base, dir))
      .filter((r) => matches(req.query, { name: r.name }));
    return { status: 200, body: { roles, links: { self: `${req.base}/roles`, next: null, previous: null } } };
  });
  // Keystone's get_role is an administrator's (a system reader's) call.
  router.on('GET', '/roles/:id', (req) => {
    requireAdmin(req.auth);
    return { status: 200, body: { role: roleView(findRole(req.params.id), req.base, dir) } };
  });

  router.on('POST', '/roles', async (req) => {
    requireAdmin(req.auth);
    const r = entity(req.body, 'role');
    const display = roleName(r.name);
    const domain = r.domain_id === undefined || r.domain_id === null ? undefined : (findDomain(dir, { id: String(r.domain_id) }) ?? missingDomain(String(r.domain_id)));
    const name = objectNameFor(display, (n) => !!dir.roles.named(n), 'role');
    const body: Role = { apiVersion: 'identity.stratus.io/v1alpha1', kind: 'Role', metadata: { name }, spec: { displayName: display, ...(domain ? { domain: domain.ref } : {}), description: optionalString(r, 'description', 'role') } };
    const created = await createClaimed(claims, client, roleNameKey(display, domain?.ref), ROLES, dir.roles, body, `role ${display}`).catch((e) => fromKubernetes(e, 'role'));
    return { status: 201, body: { role: roleView(created, req.base, dir) } };
  });

  router.on('PATCH', '/roles/:id', async (req) => {
    requireAdmin(req.auth);
    const role = findRole(req.params.id);
    const r = entity(req.body, 'role');
    const rename = r.name !== undefined && r.name !== displayNameOf(role) ? roleName(r.name) : undefined;
    const change = { spec: { ...(rename !== undefined ? { displayName: rename } : {}), ...(r.description !== undefined ? { description: optionalString(r, 'description', 'role') ?? '' } : {}) } };
    const write = () => committed(dir.roles, client.patch<Role>(ROLES, undefined, role.metadata.name, change, API_FIELD_MANAGER), `role ${displayNameOf(role)}`);
    const updated = await writeRenaming(claims, rename === undefined ? undefined : roleNameKey(rename, role.spec.domain), ownerOf(role), write).catch((e) => fromKubernetes(e, 'role'));
    return { status: 200, body: { role: roleView(updated, req.base, dir) } };
  });

  router.on('DELETE', '/roles/:id', async (req) => {
    requireAdmin(req.auth);
    const role = findRole(req.params.id);
    const name = role.metadata.name;
    await deleteAssignments(client, dir, (a) => a.spec.role === name);
    // As Keystone: the inference rules naming the role go with it.
    for (const prior of dir.roles.all().filter((r) => (r.spec.implies ?? []).includes(name)))
      await client.patch(ROLES, undefined, prior.metadata.name, { spec: { implies: (prior.spec.implies ?? []).filter((n) => n !== name) } }, API_FIELD_MANAGER);
    await client.delete(ROLES, undefined, name);
    await gone(dir.roles, name);
    return { status: 204 };
  });

  // Grants on a project, to a user or to a group (which grants to each member): RoleAssignments in the
  // tenant's namespace naming the actor. A user's own list is theirs to read; the rest is for admins.
  const actors = {
    users: { field: 'user' as const, find: (id: string) => findUser(id), nameOf: assignmentName },
    groups: { field: 'group' as const, find: (id: string) => dir.groups.require(id, 'group'), nameOf: groupAssignmentName },
  };
  // Each twice: as granted on the project, and (OS-INHERIT) as inherited to the projects below it.
  for (const [path, actor] of Object.entries(actors))
    for (const inherited of [false, true]) {
      const route = (tail: string) => (inherited ? `/OS-INHERIT/projects/:project/${path}/:actor/roles${tail}/inherited_to_projects` : `/projects/:project/${path}/:actor/roles${tail}`);
      const grantsOn = (project: Tenant, name: string) => dir.assignments.all().filter((a) => a.metadata.namespace === project.metadata.name && a.spec[actor.field] === name && !!a.spec.inherited === inherited);
      const grantOf = (req: { params: Record<string, string> }) => {
        const project = findProject(req.params.project);
        const who = actor.find(req.params.actor);
        const role = findRole(req.params.role);
        return { project, who, role, ra: grantsOn(project, who.metadata.name).find((a) => a.spec.role === role.metadata.name) };
      };
      router.on('GET', route(''), (req) => {
        const project = findProject(req.params.project);
        const who = actor.find(req.params.actor);
        if (!isAdmin(req.auth) && who.metadata.uid !== req.auth.user.metadata.uid) throw forbidden();
        const names = new Set(grantsOn(project, who.metadata.name).map((a) => a.spec.role));
        const roles = [...names].map((n) => dir.roles.named(n)).filter((r): r is Role => !!r);
        return { status: 200, body: { roles: roles.map((r) => roleView(r, req.base, dir)), links: { self: `${req.base}${req.path}`, next: null, previous: null } } };
      });
      router.on('HEAD', route('/:role'), (req) => {
        requireAdmin(req.auth);
        if (!grantOf(req).ra) throw notFound('role assignment', `${req.params.role} on ${req.params.project}`);
        return { status: 204 };
      });
      router.on('PUT', route('/:role'), async (req) => {
        requireAdmin(req.auth);
        const { project, who, role, ra } = grantOf(req);
        if (ra) return { status: 204 };
        const name = actor.nameOf(who.metadata.name, role.metadata.name);
        // A project made a moment ago may not have its namespace yet (its reconciler makes it): a grant waits for it,
        // as clients create a project and grant on it at once (Tempest's dynamic credentials do).
        if (!(await dir.tenants.until(project, (t) => !!t?.status?.namespace, 30_000))) throw new IdentityError(503, 'Service Unavailable', `The namespace of project ${req.params.project} is not ready yet; try again.`);
        const body: RoleAssignment = {
          apiVersion: 'identity.stratus.io/v1alpha1',
          kind: 'RoleAssignment',
          metadata: { name: inherited ? `inherited.${name}` : name, namespace: project.metadata.name },
          spec: { [actor.field]: who.metadata.name, role: role.metadata.name, ...(inherited ? { inherited } : {}) },
        };
        await committed(dir.assignments, client.create<RoleAssignment>(ROLE_ASSIGNMENTS, body, API_FIELD_MANAGER), 'role assignment');
        return { status: 204 };
      });
      router.on('DELETE', route('/:role'), async (req) => {
        requireAdmin(req.auth);
        const { ra } = grantOf(req);
        if (!ra) throw notFound('role assignment', `${req.params.role} on ${req.params.project}`);
        await client.delete(ROLE_ASSIGNMENTS, ra.metadata.namespace, ra.metadata.name);
        await gone(dir.assignments, ra.metadata.name, ra.metadata.namespace);
        return { status: 204 };
      });
    }

  // Grants on a domain, to a user or a group: kept on the actor, by domain (spec.domainGrants; a user's on the
  // Default domain in spec.domainRoles, where they always were).
  const findDomainOf = (id: string) => findDomain(dir, { id }) ?? missingDomain(id);
  const domainActors = {
    users: { ref: USERS, find: (id: string) => findUser(id) as User | Group, cache: dir.users as Indexed<User | Group> },
    groups: { ref: GROUPS, find: (id: string) => dir.groups.require(id, 'group') as User | Group, cache: dir.groups as Indexed<User | Group> },
  };
  const legacy = (actor: User | Group, domain: string) => actor.kind === 'User' && domain === DEFAULT_DOMAIN.id;
  // Each twice: as held on the domain itself, and (OS-INHERIT) as inherited to every project in it
  // (spec.inheritedDomainGrants).
  for (const [path, kind] of Object.entries(domainActors))
    for (const inherited of [false, true]) {
      const route = (tail: string) => (inherited ? `/OS-INHERIT/domains/:domain/${path}/:actor/roles${tail}/inherited_to_projects` : `/domains/:domain/${path}/:actor/roles${tail}`);
      const field = inherited ? 'inheritedDomainGrants' : 'domainGrants';
      const setRoles = (actor: User | Group, domain: string, roles: string[]) => {
        const spec = !inherited && legacy(actor, domain) ? { domainRoles: roles } : { [field]: { [domain]: roles.length ? roles : null } };
        return committed(kind.cache, client.patch<User | Group>(kind.ref, undefined, actor.metadata.name, { spec }, API_FIELD_MANAGER), `${actor.kind.toLowerCase()} ${displayNameOf(actor)}`);
      };
      const held = (actor: User | Group, domain: string) => (!inherited && legacy(actor, domain) ? ((actor as User).spec.domainRoles ?? []) : (actor.spec[field]?.[domain] ?? []));
      const grantOf = (req: { params: Record<string, string> }) => {
        const domain = findDomainOf(req.params.domain);
        const actor = kind.find(req.params.actor);
        const role = findRole(req.params.role);
        return { domain, actor, role, roles: held(actor, domain.ref) };
      };
      router.on('GET', route(''), (req) => {
        const domain = findDomainOf(req.params.domain);
        const actor = kind.find(req.params.actor);
        if (!isAdmin(req.auth) && actor.metadata.uid !== req.auth.user.metadata.uid) throw forbidden();
        const roles = held(actor, domain.ref).map((n) => dir.roles.named(n)).filter((r): r is Role => !!r);
        return { status: 200, body: { roles: roles.map((r) => roleView(r, req.base, dir)), links: { self: `${req.base}${req.path}`, next: null, previous: null } } };
      });
      router.on('HEAD', route('/:role'), (req) => {
        requireAdmin(req.auth);
        const { role, roles } = grantOf(req);
        if (!roles.includes(role.metadata.name)) throw notFound('role assignment', `${req.params.role} on domain ${req.params.domain}`);
        return { status: 204 };
      });
      router.on('PUT', route('/:role'), async (req) => {
        requireAdmin(req.auth);
        const { domain, actor, role, roles } = grantOf(req);
        if (!roles.includes(role.metadata.name)) await setRoles(actor, domain.ref, [...roles, role.metadata.name]);
        return { status: 204 };
      });
      router.on('DELETE', route('/:role'), async (req) => {
        requireAdmin(req.auth);
        const { domain, actor, role, roles } = grantOf(req);
        if (!roles.includes(role.metadata.name)) throw notFound('role assignment', `${req.params.role} on domain ${req.params.domain}`);
        await setRoles(actor, domain.ref, roles.filter((r) => r !== role.metadata.name));
        return { status: 204 };
      });
    }

  // Grants on the system (the whole deployment), to a user or a group: spec.systemRoles.
  for (const [path, kind] of Object.entries(domainActors)) {
    const setRoles = (actor: User | Group, roles: string[]) =>
      committed(kind.cache, client.patch<User | Group>(kind.ref, undefined, actor.metadata.name, { spec: { systemRoles: roles } }, API_FIELD_MANAGER), `${actor.kind.toLowerCase()} ${displayNameOf(actor)}`);
    const grantOf = (req: { params: Record<string, string> }) => {
      const actor = kind.find(req.params.actor);
      const role = findRole(req.params.role);
      return { actor, role, roles: actor.spec.systemRoles ?? [] };
    };
    router.on('GET', `/system/${path}/:actor/roles`, (req) => {
      const actor = kind.find(req.params.actor);
      if (!isAdmin(req.auth) && actor.metadata.uid !== req.auth.user.metadata.uid) throw forbidden();
      const roles = (actor.spec.systemRoles ?? []).map((n) => dir.roles.named(n)).filter((r): r is Role => !!r);
      return { status: 200, body: { roles: roles.map((r) => roleView(r, req.base, dir)), links: { self: `${req.base}${req.path}`, next: null, previous: null } } };
    });
    router.on('HEAD', `/system/${path}/:actor/roles/:role`, (req) => {
      requireAdmin(req.auth);
      const { role, roles } = grantOf(req);
      if (!roles.includes(role.metadata.name)) throw notFound('role assignment', `${req.params.role} on the system`);
      return { status: 204 };
    });
    router.on('PUT', `/system/${path}/:actor/roles/:role`, async (req) => {
      requireAdmin(req.auth);
      const { actor, role, roles } = grantOf(req);
      if (!roles.includes(role.metadata.name)) await setRoles(actor, [...roles, role.metadata.name]);
      return { status: 204 };
    });
    router.on('DELETE', `/system/${path}/:actor/roles/:role`, async (req) => {
      requireAdmin(req.auth);
      const { actor, role, roles } = grantOf(req);
      if (!roles.includes(role.metadata.name)) throw notFound('role assignment', `${req.params.role} on the system`);
      await setRoles(actor, roles.filter((r) => r !== role.metadata.name));
      return { status: 204 };
    });
  }

  // Implied roles: a prior role's spec.implies; holding the prior role means holding the implied ones.
  const ref = (r: Role, base: string) => ({ id: openstackId(r.metadata.uid), name: displayNameOf(r), links: { self: `${base}/roles/${openstackId(r.metadata.uid)}` } });
  const inference = (prior: Role, base: string) => ({ prior_role: ref(prior, base), implies: (prior.spec.implies ?? []).map((n) => dir.roles.named(n)).filter((r): r is Role => !!r).map((r) => ref(r, base)) });
  const rule = (req: { params: Record<string, string> }) => {
    const prior = findRole(req.params.prior);
    const implied = findRole(req.params.implied);
    return { prior, implied, exists: (prior.spec.implies ?? []).includes(implied.metadata.name) };
  };
  const setImplies = (prior: Role, implies: string[]) =>
    committed(dir.roles, client.patch<Role>(ROLES, undefined, prior.metadata.name, { spec: { implies } }, API_FIELD_MANAGER), `role ${displayNameOf(prior)}`);
  router.on('GET', '/roles/:prior/implies', (req) => {
    requireAdmin(req.auth);
    return { status: 200, body: { role_inference: inference(findRole(req.params.prior), req.base), links: { self: `${req.base}/roles/${req.params.prior}/implies` } } };
  });
  router.on('GET', '/roles/:prior/implies/:implied', (req) => {
    requireAdmin(req.auth);
    const { prior, implied, exists } = rule(req);
    if (!exists) throw notFound('implied role', `${req.params.prior} → ${req.params.implied}`);
    return { status: 200, body: { role_inference: { prior_role: ref(prior, req.base), implies: ref(implied, req.base) }, links: { self: `${req.base}/roles/${req.params.prior}/implies/${req.params.implied}` } } };
  });
  router.on('HEAD', '/roles/:prior/implies/:implied', (req) => {
    requireAdmin(req.auth);
    if (!rule(req).exists) throw notFound('implied role', `${req.params.prior} → ${req.params.implied}`);
    return { status: 204 };
  });
  router.on('PUT', '/roles/:prior/implies/:implied', async (req) => {
    requireAdmin(req.auth);
    const { prior, implied, exists } = rule(req);
    if (prior.metadata.name === implied.metadata.name) throw forbidden('A role cannot imply itself.');
    if (!prior.spec.domain && implied.spec.domain) throw forbidden('A global role cannot imply a domain-specific one.');
    // No loops: the implied role may not already imply the prior one.
    if (dir.withImplied([implied.metadata.name]).some((r) => r.metadata.name === prior.metadata.name)) throw forbidden(`Implying ${displayNameOf(implied)} from ${displayNameOf(prior)} would make a loop.`);
    if (!exists) await setImplies(prior, [...(prior.spec.implies ?? []), implied.metadata.name]);
    return { status: 201, body: { role_inference: { prior_role: ref(prior, req.base), implies: ref(implied, req.base) }, links: { self: `${req.base}/roles/${req.params.prior}/implies/${req.params.implied}` } } };
  });
  router.on('DELETE', '/roles/:prior/implies/:implied', async (req) => {
    requireAdmin(req.auth);
    const { prior, implied, exists } = rule(req);
    if (!exists) throw notFound('implied role', `${req.params.prior} → ${req.params.implied}`);
    await setImplies(prior, (prior.spec.implies ?? []).filter((n) => n !== implied.metadata.name));
    return { status: 204 };
  });
  router.on('GET', '/role_inferences', (req) => {
    requireAdmin(req.auth);
    const rules = dir.roles.all().filter((r) => (r.spec.implies ?? []).length).map((r) => inference(r, req.base));
    return { status: 200, body: { role_inferences: rules, links: { self: `${req.base}/role_inferences` } } };
  });

  router.on('GET', '/role_assignments', (req) => {
    const q = req.query;
    if (!isAdmin(req.auth) && q.get('user.id') !== openstackId(req.auth.user.metadata.uid)) throw forbidden('Listing role assignments needs the admin role, or user.id set to your own ID.');
    const names = q.has('include_names');
    // effective: grants to groups as grants to each member, and the roles each grant implies, as Keystone lists them.
    const effective = q.has('effective');
    const named = <T>(base: T, name: string, domain?: { id: string; name: string }) => (names ? { ...base, name, ...(domain ? { domain } : {}) } : base);
    const listed: Array<Record<string, any>> = [];
    const actorDoc = (a: User | Group) => {
      const id = openstackId(a.metadata.uid);
      return a.kind === 'User' ? { user: named({ id }, displayNameOf(a), domainRef(dir, a.spec.domain)) } : { group: named({ id }, displayNameOf(a), domainRef(dir, a.spec.domain)) };
    };
    const entry = (a: User | Group, r: Role, scope: Record<string, unknown>, link: string) =>
      listed.push({ role: named({ id: openstackId(r.metadata.uid) }, displayNameOf(r)), ...actorDoc(a), scope, links: { assignment: `${req.base}${link}/${a.kind === 'User' ? 'users' : 'groups'}/${openstackId(a.metadata.uid)}/roles/${openstackId(r.metadata.uid)}` } });
    const projectScope = (t: Tenant) => ({ project: named({ id: openstackId(t.metadata.uid) }, displayNameOf(t), domainRef(dir, t.spec.domain)) });
    const INHERITED = { 'OS-INHERIT:inherited_to': 'projects' };

    if (effective) {
      // What each user holds on each project, as tokens count it: through groups, inheritance and implied roles.
      const only = q.get('user.id');
      const users = dir.users.all().filter((u) => !u.metadata.deletionTimestamp && (!only || openstackId(u.metadata.uid) === only));
      const tenants = dir.tenants.all().filter((t) => !t.metadata.deletionTimestamp && (!q.has('scope.project.id') || openstackId(t.metadata.uid) === q.get('scope.project.id')));
      for (const u of users) for (const t of tenants) for (const r of dir.rolesOn(u, t.metadata.name)) entry(u, r, projectScope(t), `/projects/${openstackId(t.metadata.uid)}`);
      for (const d of allDomains(dir)) for (const u of users) for (const r of dir.domainRolesOf(u, d.ref)) entry(u, r, { domain: named({ id: d.id }, d.name) }, `/domains/${d.id}`);
      for (const u of users) for (const r of dir.systemRolesOf(u)) entry(u, r, { system: { all: true } }, '/system');
    } else {
      // The grants as made: on projects (inherited ones marked), and on domains (likewise).
      for (const ra of dir.assignments.all()) {
        const role = dir.roles.named(ra.spec.role);
        const tenant = dir.tenants.named(ra.metadata.namespace!);
        const actor = ra.spec.user ? dir.users.named(ra.spec.user) : ra.spec.group ? dir.groups.named(ra.spec.group) : undefined;
        if (!role || !tenant || !actor) continue; // a grant that does not stand yet
        entry(actor, role, { ...projectScope(tenant), ...(ra.spec.inherited ? INHERITED : {}) }, `${ra.spec.inherited ? '/OS-INHERIT' : ''}/projects/${openstackId(tenant.metadata.uid)}`);
      }
      for (const d of allDomains(dir))
        for (const actor of [...dir.users.all(), ...dir.groups.all()] as Array<User | Group>) {
          const roles = (names: string[]) => names.map((n) => dir.roles.named(n)).filter((r): r is Role => !!r);
          for (const r of roles(dir.directDomainRoles(actor, d.ref))) entry(actor, r, { domain: named({ id: d.id }, d.name) }, `/domains/${d.id}`);
          for (const r of roles(actor.spec.inheritedDomainGrants?.[d.ref] ?? [])) entry(actor, r, { domain: named({ id: d.id }, d.name), ...INHERITED }, `/OS-INHERIT/domains/${d.id}`);
        }
      for (const actor of [...dir.users.all(), ...dir.groups.all()] as Array<User | Group>)
        for (const n of actor.spec.systemRoles ?? []) {
          const r = dir.roles.named(n);
          if (r) entry(actor, r, { system: { all: true } }, '/system');
        }
    }
    const filtered = listed.filter(
      (a) =>
        (!q.has('user.id') || a.user?.id === q.get('user.id')) &&
        (!q.has('group.id') || a.group?.id === q.get('group.id')) &&
        (!q.has('role.id') || a.role.id === q.get('role.id')) &&
        (!q.has('scope.project.id') || a.scope.project?.id === q.get('scope.project.id')) &&
        (!q.has('scope.domain.id') || a.scope.domain?.id === q.get('scope.domain.id')) &&
        (!q.has('scope.system') || !!a.scope.system),
    );
    return { status: 200, body: { role_assignments: filtered, links: { self: `${req.base}/role_assignments`, next: null, previous: null } } };
  });
}

function missingDomain(id: string): never {
  throw notFound('domain', id);
}
