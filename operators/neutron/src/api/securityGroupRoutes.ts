/** Security groups and their rules: /v2.0/security-groups and /v2.0/security-group-rules. */
import { randomUUID } from 'node:crypto';
import { isDeleting } from '@stratus/runtime';
import { changeSecurityGroupRules, dropRulesNaming } from '../groupRules.js';
import { ensureDefaultSecurityGroup } from '../reconcilers.js';
import { DEFAULT_SECURITY_GROUP, SECURITY_GROUPS, idOf, securityGroupsOf, type SecurityGroup, type SecurityGroupRule } from '../resources.js';
import { normalizedProtocol, ruleIdOf, ruleProblem } from '../securityGroups.js';
import { API_FIELD_MANAGER, createAndSettle, fromKubernetes, listFilter, newObjectName, onlyKnown, owns, refusal, resourceBody, str, targetNamespace, type NetApi, type NetAuth, type NetRouter } from './context.js';
import { withinQuota } from './quotaRoutes.js';
import { badRequest, conflict, notFound } from './errors.js';
import { pick, ruleView, securityGroupView } from './views.js';

export function visibleGroup(api: NetApi, auth: NetAuth, id: string): SecurityGroup {
  const g = api.dir.groups.byId(id);
  if (!g || !owns(auth, g)) throw notFound('SecurityGroupNotFound', `Security group ${id} does not exist`);
  return g;
}

/** Neutron keeps the name `default` (in any case) for the group it makes itself: no other may be given it. */
const namesDefault = (name: unknown) => typeof name === 'string' && name.toLowerCase() === 'default';

/** The caller's default group, made on first use as Neutron makes it. */
async function withDefaultGroup(api: NetApi, auth: NetAuth): Promise<void> {
  if (!auth.tenant || api.dir.groups.get(DEFAULT_SECURITY_GROUP, auth.tenant)) return;
  await ensureDefaultSecurityGroup(api.client, auth.tenant);
  await api.dir.groups.until({ metadata: { name: DEFAULT_SECURITY_GROUP, namespace: auth.tenant } } as SecurityGroup, (o) => !!o);
}

/** Every rule the caller may see, with its group. */
function rulesVisible(api: NetApi, auth: NetAuth): Array<{ group: SecurityGroup; rule: SecurityGroupRule }> {
  return api.dir.groups
    .list()
    .filter((g) => owns(auth, g))
    .flatMap((group) => (group.spec.rules ?? []).map((rule) => ({ group, rule })));
}

/** A rule from the API's body, checked as Neutron checks it. */
function ruleFrom(api: NetApi, group: SecurityGroup, r: Record<string, unknown>): SecurityGroupRule {
  if (r.direction !== 'ingress' && r.direction !== 'egress') throw badRequest(`Invalid input for direction. Reason: ${String(r.direction)} is not in valid_values.`);
  const ethertype = r.ethertype ?? 'IPv4';
  if (ethertype !== 'IPv4' && ethertype !== 'IPv6') throw badRequest(`Invalid input for ethertype. Reason: ${String(ethertype)} is not in valid_values.`);
  const port = (v: unknown, f: string) => {
    if (v === undefined || v === null) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw badRequest(`Invalid value for port ${String(v)} (${f})`);
    return n;
  };
  let remoteGroup: string | undefined;
  if (r.remote_group_id) {
    const g = api.dir.groups.byId(String(r.remote_group_id));
    if (!g || g.metadata.namespace !== group.metadata.namespace) throw notFound('SecurityGroupNotFound', `Security group ${String(r.remote_group_id)} does not exist`);
    remoteGroup = g.metadata.name;
  }
  const rule: SecurityGroupRule = {
    id: randomUUID(),
    direction: r.direction,
    ethertype,
    ...(r.protocol !== undefined && r.protocol !== null ? { protocol: String(r.protocol) } : {}),
    ...(port(r.port_range_min, 'port_range_min') !== undefined ? { portRangeMin: port(r.port_range_min, 'port_range_min') } : {}),
    ...(port(r.port_range_max, 'port_range_max') !== undefined ? { portRangeMax: port(r.port_range_max, 'port_range_max') } : {}),
    ...(r.remote_ip_prefix ? { remoteIPPrefix: String(r.remote_ip_prefix) } : {}),
    ...(remoteGroup ? { remoteGroup } : {}),
    ...(r.description ? { description: str(r.description, 'description') } : {}),
  };
  const names = api.dir.groups.list(group.metadata.namespace).map((g) => g.metadata.name);
  const problem = ruleProblem(rule, names);
  if (problem) throw badRequest(problem);
  return rule;
}

/** Two rules that do the same (Neutron refuses the second). */
const sameRule = (a: SecurityGroupRule, b: SecurityGroupRule) =>
  a.direction === b.direction &&
  (a.ethertype ?? 'IPv4') === (b.ethertype ?? 'IPv4') &&
  (normalizedProtocol(a.protocol) ?? '') === (normalizedProtocol(b.protocol) ?? '') &&
  a.portRangeMin === b.portRangeMin &&
  a.portRangeMax === b.portRangeMax &&
  (a.remoteIPPrefix ?? '') === (b.remoteIPPrefix ?? '') &&
  (a.remoteGroup ?? '') === (b.remoteGroup ?? '');

/** Changes a group's rules (see changeSecurityGroupRules), answered once the cache holds the write. */
async function changeRules(api: NetApi, group: SecurityGroup, change: (rules: SecurityGroupRule[]) => SecurityGroupRule[]): Promise<SecurityGroup> {
  const written = await changeSecurityGroupRules(api.client, group, change, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'security group'));
  await api.dir.groups.seen(written);
  return written;
}

export function securityGroupRoutes(r: NetRouter, api: NetApi): void {
  r.on('GET', '/v2.0/security-groups', async ({ auth, query }) => {
    await withDefaultGroup(api, auth);
    const { matches, fields } = listFilter(query);
    const views = api.dir.groups
      .list()
      .filter((g) => owns(auth, g))
      .map((g) => securityGroupView(g, api.dir));
    return { status: 200, body: { security_groups: views.filter(matches).map((v) => pick(v, fields)) } };
  });
  r.on('GET', '/v2.0/security-groups/:id', ({ auth, params, query }) => ({ status: 200, body: { security_group: pick(securityGroupView(visibleGroup(api, auth, params.id), api.dir), query.getAll('fields')) } }));

  r.on('POST', '/v2.0/security-groups', async ({ auth, body }) => {
    const g = resourceBody(body, 'security_group');
    onlyKnown(g, ['name', 'description', 'tenant_id', 'project_id', 'stateful', 'shared'], 'security_group');
    const ns = targetNamespace(api, auth, g);
    const name = str(g.name, 'name') ?? '';
    if (g.stateful === false) throw badRequest('Stateless security groups are not supported by this cloud.');
    await withDefaultGroup(api, auth);
    if (namesDefault(name)) throw conflict('SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
    // A new group lets everything out, as Neutron's do, and nothing in.
    const rules: SecurityGroupRule[] = (['IPv4', 'IPv6'] as const).map((ethertype) => ({ id: randomUUID(), direction: 'egress', ethertype }));
    const made = await withinQuota(api, ns, 'security_group', 1, () =>
      createAndSettle<SecurityGroup>(
        api,
        SECURITY_GROUPS,
        api.dir.groups,
        { apiVersion: 'network.stratus.io/v1alpha1', kind: 'SecurityGroup', metadata: { name: newObjectName(api.dir.groups, ns, name === 'default' ? undefined : name, 'secgroup'), namespace: ns }, spec: { displayName: name, description: str(g.description, 'description') ?? '', rules } } as SecurityGroup,
        (o) => (refusal(o) ? badRequest(refusal(o)!.message) : o.status?.phase === 'ACTIVE' ? 'ok' : undefined),
        'security group',
      ),
    );
    return { status: 201, body: { security_group: securityGroupView(made, api.dir) } };
  });

  r.on('PUT', '/v2.0/security-groups/:id', async ({ auth, params, body }) => {
    const g = visibleGroup(api, auth, params.id);
    const u = resourceBody(body, 'security_group');
    onlyKnown(u, ['name', 'description', 'stateful'], 'security_group');
    if (g.metadata.name === DEFAULT_SECURITY_GROUP && u.name !== undefined && u.name !== 'default') throw conflict('SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.');
    if (g.metadata.name !== DEFAULT_SECURITY_GROUP && namesDefault(u.name)) throw conflict('SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
    const spec: Record<string, unknown> = {};
    if (u.name !== undefined) spec.displayName = str(u.name, 'name') ?? '';
    if (u.description !== undefined) spec.description = str(u.description, 'description') ?? '';
    const written = await api.client.patch<SecurityGroup>(SECURITY_GROUPS, g.metadata.namespace, g.metadata.name, { spec }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'security group'));
    await api.dir.groups.seen(written);
    return { status: 200, body: { security_group: securityGroupView(api.dir.groups.get(g.metadata.name, g.metadata.namespace) ?? written, api.dir) } };
  });

  r.on('DELETE', '/v2.0/security-groups/:id', async ({ auth, params }) => {
    const g = visibleGroup(api, auth, params.id);
    if (g.metadata.name === DEFAULT_SECURITY_GROUP && !auth.admin) throw conflict('SecurityGroupCannotRemoveDefault', 'Insufficient rights for removing default security group.');
    const users = api.dir.ports.list(g.metadata.namespace).filter((p) => securityGroupsOf(p).includes(g.metadata.name));
    if (users.length) throw conflict('SecurityGroupInUse', `Security Group ${params.id} in use.`);
    await dropRulesNaming(api.client, g, API_FIELD_MANAGER);
    await api.client.delete(SECURITY_GROUPS, g.metadata.namespace, g.metadata.name).catch((e) => fromKubernetes(e, 'security group'));
    await api.dir.groups.until(g, (o) => !o || isDeleting(o));
    return { status: 204 };
  });

  r.on('GET', '/v2.0/security-group-rules', async ({ auth, query }) => {
    await withDefaultGroup(api, auth);
    const { matches, fields } = listFilter(query);
    const views = rulesVisible(api, auth).map(({ group, rule }) => ruleView(group, rule, api.dir));
    return { status: 200, body: { security_group_rules: views.filter(matches).map((v) => pick(v, fields)) } };
  });
  r.on('GET', '/v2.0/security-group-rules/:id', ({ auth, params, query }) => {
    const found = rulesVisible(api, auth).find(({ group, rule }) => ruleIdOf(idOf(group), rule) === params.id);
    if (!found) throw notFound('SecurityGroupRuleNotFound', `Security group rule ${params.id} does not exist`);
    return { status: 200, body: { security_group_rule: pick(ruleView(found.group, found.rule, api.dir), query.getAll('fields')) } };
  });

  r.on('POST', '/v2.0/security-group-rules', async ({ auth, body }) => {
    const r0 = resourceBody(body, 'security_group_rule');
    onlyKnown(r0, ['security_group_id', 'direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max', 'remote_ip_prefix', 'remote_group_id', 'remote_address_group_id', 'description', 'tenant_id', 'project_id'], 'security_group_rule');
    if (typeof r0.security_group_id !== 'string') throw badRequest("Failed to parse request. Required attribute 'security_group_id' not specified");
    const group = visibleGroup(api, auth, r0.security_group_id);
    const rule = ruleFrom(api, group, r0);
    const existing = (group.spec.rules ?? []).find((x) => sameRule(x, rule));
    if (existing) throw conflict('SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${ruleIdOf(idOf(group), existing)}.`);
    const written = await withinQuota(api, group.metadata.namespace!, 'security_group_rule', 1, () => changeRules(api, group, (rules) => {
      const dup = rules.find((x) => sameRule(x, rule));
      if (dup) throw conflict('SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${ruleIdOf(idOf(group), dup)}.`);
      return [...rules, rule];
    }));
    return { status: 201, body: { security_group_rule: ruleView(written, rule, api.dir) } };
  });

  r.on('DELETE', '/v2.0/security-group-rules/:id', async ({ auth, params }) => {
    const found = rulesVisible(api, auth).find(({ group, rule }) => ruleIdOf(idOf(group), rule) === params.id);
    if (!found) throw notFound('SecurityGroupRuleNotFound', `Security group rule ${params.id} does not exist`);
    await changeRules(api, found.group, (rules) => rules.filter((x) => ruleIdOf(idOf(found.group), x) !== params.id));
    return { status: 204 };
  });
}
