/**
 * /v3/groups and group membership: Group resources (names unique within their domain), whose members are
 * Users; a grant to a group (a RoleAssignment naming it) is a grant to each member.
 */
import { displayNameOf, objectNameFor, type KubeClient } from '@stratus/runtime';
import { groupNameKey, nameClaims, ownerOf } from '../names.js';
import { GROUPS, type Group, type User } from '../resources.js';
import { isAdmin } from './auth.js';
import { API_FIELD_MANAGER, committed, createClaimed, deleteAssignments, entity, extraAttributes, freeName, fromKubernetes, gone, matches, optionalString, requireAdmin, writeRenaming } from './common.js';
import type { IdentityDirectory } from './directory.js';
import { forbidden, notFound } from './errors.js';
import type { Router } from './router.js';
import { DEFAULT_DOMAIN, domainRef, findDomain, userView } from './views.js';
import { openstackId } from '../resources.js';

/** What a group body may say that Keystone knows; anything else is kept as an extra attribute. */
const GROUP_ATTRIBUTES = ['id', 'name', 'description', 'domain_id', 'links'];

export function groupView(g: Group, dir: IdentityDirectory, base: string) {
  const id = openstackId(g.metadata.uid);
  return { ...(g.spec.extra ?? {}), id, name: displayNameOf(g), description: g.spec.description ?? '', domain_id: domainRef(dir, g.spec.domain).id, links: { self: `${base}/groups/${id}` } };
}

export function groupRoutes(router: Router, dir: IdentityDirectory, client: KubeClient) {
  const claims = nameClaims(client, API_FIELD_MANAGER);
  const find = (id: string) => dir.groups.require(id, 'group');
  const findUser = (id: string) => dir.users.require(id, 'user');
  const groupName = (value: unknown) => freeName(value, 'group', 64);
  const list = (base: string, path: string, key: string, items: unknown[]) => ({ status: 200, body: { [key]: items, links: { self: `${base}${path}`, next: null, previous: null } } });
  const setMembers = (g: Group, members: string[]) =>
    committed(dir.groups, client.patch<Group>(GROUPS, undefined, g.metadata.name, { spec: { members } }, API_FIELD_MANAGER), `group ${displayNameOf(g)}`);
  const live = () => dir.groups.all().filter((g) => !g.metadata.deletionTimestamp);

  router.on('GET', '/groups', (req) => {
    requireAdmin(req.auth);
    return list(req.base, '/groups', 'groups', live().map((g) => groupView(g, dir, req.base)).filter((g) => matches(req.query, { name: g.name, domain_id: g.domain_id })));
  });
  router.on('GET', '/groups/:id', (req) => {
    requireAdmin(req.auth);
    return { status: 200, body: { group: groupView(find(req.params.id), dir, req.base) } };
  });

  router.on('POST', '/groups', async (req) => {
    requireAdmin(req.auth);
    const g = entity(req.body, 'group');
    const display = groupName(g.name);
    const domain = g.domain_id === undefined || g.domain_id === null ? findDomain(dir, { id: DEFAULT_DOMAIN.id })! : findDomain(dir, { id: String(g.domain_id) });
    if (!domain) throw notFound('domain', String(g.domain_id));
    const body: Group = {
      apiVersion: 'identity.stratus.io/v1alpha1',
      kind: 'Group',
      metadata: { name: objectNameFor(display, (n) => !!dir.groups.named(n), 'group') },
      spec: { displayName: display, description: optionalString(g, 'description', 'group'), domain: domain.ref, members: [], extra: extraAttributes(g, GROUP_ATTRIBUTES) },
    };
    const created = await createClaimed(claims, client, groupNameKey(display, domain.ref), GROUPS, dir.groups, body, `group ${display}`).catch((e) => fromKubernetes(e, 'group'));
    return { status: 201, body: { group: groupView(created, dir, req.base) } };
  });

  router.on('PATCH', '/groups/:id', async (req) => {
    requireAdmin(req.auth);
    const group = find(req.params.id);
    const g = entity(req.body, 'group');
    const rename = g.name !== undefined && g.name !== displayNameOf(group) ? groupName(g.name) : undefined;
    const spec: Group['spec'] = rename === undefined ? {} : { displayName: rename };
    if (g.description !== undefined) spec.description = optionalString(g, 'description', 'group') ?? '';
    const extra = extraAttributes(g, GROUP_ATTRIBUTES);
    if (extra) spec.extra = extra;
    const write = () => committed(dir.groups, client.patch<Group>(GROUPS, undefined, group.metadata.name, { spec }, API_FIELD_MANAGER), `group ${displayNameOf(group)}`);
    const updated = await writeRenaming(claims, rename === undefined ? undefined : groupNameKey(rename, group.spec.domain), ownerOf(group), write).catch((e) => fromKubernetes(e, 'group'));
    return { status: 200, body: { group: groupView(updated, dir, req.base) } };
  });

  router.on('DELETE', '/groups/:id', async (req) => {
    requireAdmin(req.auth);
    const group = find(req.params.id);
    // As Keystone: the group's grants go with it.
    await deleteAssignments(client, dir, (a) => a.spec.group === group.metadata.name);
    await client.delete(GROUPS, undefined, group.metadata.name);
    await gone(dir.groups, group.metadata.name);
    return { status: 204 };
  });

  // Membership.
  router.on('GET', '/groups/:id/users', (req) => {
    requireAdmin(req.auth);
    const members = new Set(find(req.params.id).spec.members ?? []);
    const users = dir.users.all().filter((u) => members.has(u.metadata.name) && !u.metadata.deletionTimestamp);
    return list(req.base, `/groups/${req.params.id}/users`, 'users', users.map((u) => userView(u, dir, req.base)).filter((u) => matches(req.query, { name: u.name, enabled: u.enabled })));
  });
  const isMember = (g: Group, u: User) => (g.spec.members ?? []).includes(u.metadata.name);
  router.on('HEAD', '/groups/:id/users/:user', (req) => {
    requireAdmin(req.auth);
    const group = find(req.params.id);
    const user = findUser(req.params.user);
    if (!isMember(group, user)) throw notFound('user', `${req.params.user} in group ${req.params.id}`);
    return { status: 204 };
  });
  router.on('PUT', '/groups/:id/users/:user', async (req) => {
    requireAdmin(req.auth);
    const group = find(req.params.id);
    const user = findUser(req.params.user);
    if (!isMember(group, user)) await setMembers(group, [...(group.spec.members ?? []), user.metadata.name]);
    return { status: 204 };
  });
  router.on('DELETE', '/groups/:id/users/:user', async (req) => {
    requireAdmin(req.auth);
    const group = find(req.params.id);
    const user = findUser(req.params.user);
    if (!isMember(group, user)) throw notFound('user', `${req.params.user} in group ${req.params.id}`);
    await setMembers(group, (group.spec.members ?? []).filter((m) => m !== user.metadata.name));
    return { status: 204 };
  });
  router.on('GET', '/users/:id/groups', (req) => {
    const user = findUser(req.params.id);
    if (user.metadata.uid !== req.auth.user.metadata.uid && !isAdmin(req.auth)) throw forbidden();
    const groups = live().filter((g) => isMember(g, user));
    return list(req.base, `/users/${req.params.id}/groups`, 'groups', groups.map((g) => groupView(g, dir, req.base)));
  });
}
