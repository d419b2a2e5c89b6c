/**
 * Nova's proxies to the networking service (deprecated at microversion 2.36 and gone after, as in Nova):
 * security groups and their rules (os-security-groups, os-security-group-rules, a server's groups and the
 * addSecurityGroup/removeSecurityGroup actions) and networks (os-networks, os-tenant-networks), in Nova's
 * formats, over the same SecurityGroup, Network and Port resources the Networking API serves.
 */
import { randomUUID } from 'node:crypto';
import { MERGE_PATCH, objectNameFor, type KubeClient } from '@stratus/runtime';
import { DEFAULT_SECURITY_GROUP, NETWORKS, PORTS, SECURITY_GROUPS, SUBNETS, changeSecurityGroupRules, dropRulesNaming, ensureDefaultSecurityGroup, ruleIdOf, securityGroupsOf, type Network, type Port, type SecurityGroup, type SecurityGroupRule, type Subnet } from '@stratus/neutron';
import { INSTANCES, type Instance } from '../resources.js';
import { instanceSecurityGroups, wantedPortNames } from '../nics.js';
import { API_FIELD_MANAGER, serverFor, tenantOf, type ComputeApiContext, type ComputeAuth, type ComputeRequest, type ComputeRouter } from './context.js';
import { NovaError, badRequest, notFound } from './errors.js';
import { emptyIdNotFound } from './serviceProxy.js';

const gone = (req: ComputeRequest) => {
  if (req.auth.version.atLeast('2.36')) throw new NovaError(404, 'The resource could not be found.');
};

async function groupsOf(client: KubeClient, ns: string): Promise<SecurityGroup[]> {
  return (await client.list<SecurityGroup>(SECURITY_GROUPS, ns)).items.filter((g) => !g.metadata.deletionTimestamp);
}

/** The project a group is of, by its namespace. */
type ProjectOf = (namespace: string) => string;

/** A rule as Nova shows it (ingress rules only: Nova's proxy speaks of what may come in). */
function novaRule(g: SecurityGroup, r: SecurityGroupRule, all: SecurityGroup[], projectOf: ProjectOf) {
  const remote = r.remoteGroup ? all.find((x) => x.metadata.name === r.remoteGroup) : undefined;
  const proto = r.protocol && r.protocol !== 'any' ? r.protocol : null;
  return {
    id: ruleIdOf(g.metadata.uid!, r),
    parent_group_id: g.metadata.uid,
    ip_protocol: proto,
    from_port: proto === 'icmp' ? (r.portRangeMin ?? -1) : (r.portRangeMin ?? (proto ? 1 : null)),
    to_port: proto === 'icmp' ? (r.portRangeMax ?? -1) : (r.portRangeMax ?? (proto ? 65535 : null)),
    ip_range: r.remoteIPPrefix ? { cidr: r.remoteIPPrefix } : remote ? {} : { cidr: (r.ethertype ?? 'IPv4') === 'IPv6' ? '::/0' : '0.0.0.0/0' },
    group: remote ? { name: remote.spec.displayName || remote.metadata.name, tenant_id: projectOf(remote.metadata.namespace!) } : {},
  };
}

function novaGroup(g: SecurityGroup, all: SecurityGroup[], projectOf: ProjectOf) {
  return {
    id: g.metadata.uid,
    name: g.spec.displayName || g.metadata.name,
    description: g.spec.description ?? '',
    tenant_id: projectOf(g.metadata.namespace!),
    rules: (g.spec.rules ?? []).filter((r) => r.direction === 'ingress').map((r) => novaRule(g, r, all, projectOf)),
  };
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
/** A security group ID as Nova with Neutron takes it: a UUID, else 400 (before any lookup). */
const groupIdOf = (v: unknown): string => {
  const id = String(v ?? '');
  if (!UUID.test(id)) throw badRequest('Security group id should be uuid');
  return id;
};

const groupText = (v: unknown, field: string) => {
  if (typeof v !== 'string' || !v.trim() || v.length > 255) throw badRequest(`Invalid input for field/attribute ${field}. Security group ${field} must be a string of 1 to 255 characters.`);
  return v;
};

const changeRules = (client: KubeClient, g: SecurityGroup, change: (rules: SecurityGroupRule[]) => SecurityGroupRule[]) => changeSecurityGroupRules(client, g, change, API_FIELD_MANAGER);

/** The server's ports, and each one's groups changed by `change` (addSecurityGroup, removeSecurityGroup). */
export async function changeServerGroups(api: ComputeApiContext, inst: Instance, change: (groups: string[]) => string[]): Promise<void> {
  const ns = inst.metadata.namespace!;
  const next = change(instanceSecurityGroups(inst));
  const written = await api.client.patch<Instance>(INSTANCES, ns, inst.metadata.name, { spec: { securityGroups: next } }, API_FIELD_MANAGER, MERGE_PATCH);
  for (const name of wantedPortNames(inst)) {
    const port = await api.client.get<Port>(PORTS, ns, name);
    if (!port || port.spec.portSecurityEnabled === false) continue;
    await api.client.patch(PORTS, ns, name, { spec: { securityGroups: change(port.spec.securityGroups ?? [DEFAULT_SECURITY_GROUP]) } }, API_FIELD_MANAGER, MERGE_PATCH);
  }
  // The server's next read (its groups, a remove after this add) is answered from the cache: it must have the write.
  await api.dir.instances.seen(written);
}

/** The tenant's group named (or with the ID) `wanted`; 404 as Nova says it. */
export async function groupNamed(api: ComputeApiContext, auth: ComputeAuth, wanted: string): Promise<SecurityGroup> {
  const g = (await groupsOf(api.client, tenantOf(auth))).find((x) => x.metadata.uid === wanted || (x.spec.displayName || x.metadata.name) === wanted);
  if (!g) throw notFound(`Security group ${wanted} not found for project ${auth.projectId ?? ''}.`);
  return g;
}

export function networkProxyRoutes(router: ComputeRouter, api: ComputeApiContext) {
  const projectOf: ProjectOf = (ns) => api.dir.projectIdOf(ns);
  const groupById = async (req: ComputeRequest, raw: string) => {
    const id = groupIdOf(raw);
    const all = await groupsOf(api.client, tenantOf(req.auth));
    const g = all.find((x) => x.metadata.uid === id);
    if (!g) throw notFound(`Security group ${id} not found.`);
    return { g, all };
  };

  router.on('GET', '/os-security-groups', async (req) => {
    gone(req);
    // The tenant's default group exists from its first look, as with Neutron behind Nova.
    await ensureDefaultSecurityGroup(api.client, tenantOf(req.auth));
    // all_tenants: an admin's list is every project's groups; anyone else's stays their project's, as Nova's.
    const flag = req.query.get('all_tenants');
    const everyone = req.auth.admin && flag !== null && !['0', 'false', 'False'].includes(flag);
    const all = everyone ? (await api.client.list<SecurityGroup>(SECURITY_GROUPS)).items.filter((g) => !g.metadata.deletionTimestamp) : await groupsOf(api.client, tenantOf(req.auth));
    return { status: 200, body: { security_groups: all.map((g) => novaGroup(g, all.filter((x) => x.metadata.namespace === g.metadata.namespace), projectOf)) } };
  });
  router.on('GET', '/os-security-groups/:id', async (req) => {
    gone(req);
    const { g, all } = await groupById(req, req.params.id);
    return { status: 200, body: { security_group: novaGroup(g, all, projectOf) } };
  });
  router.on('POST', '/os-security-groups', async (req) => {
    gone(req);
    const b = req.body?.security_group ?? {};
    const name = groupText(b.name, 'name');
    const description = typeof b.description === 'string' ? b.description : groupText(b.description, 'description');
    const ns = tenantOf(req.auth);
    const all = await groupsOf(api.client, ns);
    if (all.some((g) => (g.spec.displayName || g.metadata.name) === name)) throw badRequest(`Security group ${name} already exists`);
    const made = await api.client.create<SecurityGroup>(
      SECURITY_GROUPS,
      {
        apiVersion: 'network.stratus.io/v1alpha1',
        kind: 'SecurityGroup',
        metadata: { name: objectNameFor(name, (n) => all.some((g) => g.metadata.name === n), 'secgroup'), namespace: ns },
        // Everything out, as a new group lets through; nothing in.
        spec: { displayName: name, description, rules: (['IPv4', 'IPv6'] as const).map((ethertype) => ({ id: randomUUID(), direction: 'egress' as const, ethertype })) },
      } as SecurityGroup,
      API_FIELD_MANAGER,
    );
    await api.dir.securityGroups.seen(made); // the servers' views name it from the cache
    return { status: 200, body: { security_group: novaGroup(made, [...all, made], projectOf) } };
  });
  router.on('PUT', '/os-security-groups/:id', async (req) => {
    gone(req);
    const { g, all } = await groupById(req, req.params.id);
    const b = req.body?.security_group ?? {};
    const written = await api.client.patch<SecurityGroup>(SECURITY_GROUPS, g.metadata.namespace, g.metadata.name, { spec: { displayName: groupText(b.name, 'name'), description: typeof b.description === 'string' ? b.description : groupText(b.description, 'description') } }, API_FIELD_MANAGER, MERGE_PATCH);
    await api.dir.securityGroups.seen(written);
    return { status: 200, body: { security_group: novaGroup(written, all, projectOf) } };
  });
  emptyIdNotFound(router, ['/os-security-groups/'], ['PUT', 'DELETE']);
  router.on('DELETE', '/os-security-groups/:id', async (req) => {
    gone(req);
    const { g } = await groupById(req, req.params.id);
    if (g.metadata.name === 'default') throw badRequest('Removing default security group not allowed.');
    const users = (await api.client.list<Port>(PORTS, g.metadata.namespace)).items.filter((p) => securityGroupsOf(p).includes(g.metadata.name));
    if (users.length) throw badRequest(`Security group ${req.params.id} is in use.`);
    await dropRulesNaming(api.client, g, API_FIELD_MANAGER);
    await api.client.delete(SECURITY_GROUPS, g.metadata.namespace, g.metadata.name);
    return { status: 202 };
  });

  router.on('POST', '/os-security-group-rules', async (req) => {
    gone(req);
    const b = req.body?.security_group_rule ?? {};
    if (!b.parent_group_id) throw badRequest('Invalid input for field/attribute parent_group_id.');
    const { g, all } = await groupById(req, String(b.parent_group_id));
    const proto = b.ip_protocol === undefined || b.ip_protocol === null ? undefined : String(b.ip_protocol).toLowerCase();
    if (proto !== undefined && !['tcp', 'udp', 'icmp'].includes(proto)) throw badRequest(`Invalid IP protocol ${String(b.ip_protocol)}.`);
    const port = (v: unknown, f: string) => {
      if (v === undefined || v === null || v === '') return undefined;
      const n = Number(v);
      if (!Number.isInteger(n)) throw badRequest(`Invalid port range: ${f} is not an integer.`);
      return n;
    };
    const from = port(b.from_port, 'from_port');
    const to = port(b.to_port, 'to_port');
    if (proto === 'icmp') {
      if ((from !== undefined && (from < -1 || from > 255)) || (to !== undefined && (to < -1 || to > 255))) throw badRequest('Type and Code must be integers for ICMP protocol type');
    } else if (proto) {
      if (from === undefined || to === undefined || from < 1 || to > 65535 || from > to) throw badRequest('Invalid port range 1:65535. Valid TCP ports should be between 1-65535');
    }
    let remoteGroup: string | undefined;
    if (b.group_id) {
      const rg = all.find((x) => x.metadata.uid === groupIdOf(b.group_id));
      if (!rg) throw notFound(`Security group ${String(b.group_id)} not found.`);
      remoteGroup = rg.metadata.name;
    }
    const cidr = b.cidr ? String(b.cidr) : undefined;
    if (cidr && !/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(cidr)) throw badRequest(`Invalid CIDR ${cidr}.`);
    const rule: SecurityGroupRule = {
      id: randomUUID(),
      direction: 'ingress',
      ethertype: cidr?.includes(':') ? 'IPv6' : 'IPv4',
      ...(proto ? { protocol: proto } : {}),
      ...(proto === 'icmp' ? { ...(from !== undefined && from !== -1 ? { portRangeMin: from } : {}), ...(to !== undefined && to !== -1 && from !== -1 ? { portRangeMax: to } : {}) } : proto ? { portRangeMin: from, portRangeMax: to } : {}),
      ...(remoteGroup ? { remoteGroup } : cidr ? { remoteIPPrefix: cidr } : {}),
    };
    const same = (g.spec.rules ?? []).some((x) => x.direction === 'ingress' && x.protocol === rule.protocol && x.portRangeMin === rule.portRangeMin && x.portRangeMax === rule.portRangeMax && x.remoteIPPrefix === rule.remoteIPPrefix && x.remoteGroup === rule.remoteGroup);
    if (same) throw badRequest('This rule already exists in group');
    await changeRules(api.client, g, (rules) => [...rules, rule]);
    return { status: 200, body: { security_group_rule: novaRule(g, rule, all, projectOf) } };
  });
  router.on('DELETE', '/os-security-group-rules/:id', async (req) => {
    gone(req);
    const all = await groupsOf(api.client, tenantOf(req.auth));
    const g = all.find((x) => (x.spec.rules ?? []).some((r) => ruleIdOf(x.metadata.uid!, r) === req.params.id));
    if (!g) throw notFound(`Security group rule ${req.params.id} not found.`);
    await changeRules(api.client, g, (rules) => rules.filter((r) => ruleIdOf(g.metadata.uid!, r) !== req.params.id));
    return { status: 202 };
  });
  router.on('GET', '/servers/:id/os-security-groups', async (req) => {
    gone(req);
    const inst = serverFor(api, req.params.id, req.auth);
    const all = await groupsOf(api.client, inst.metadata.namespace!);
    const names = instanceSecurityGroups(inst);
    return { status: 200, body: { security_groups: all.filter((g) => names.includes(g.metadata.name)).map((g) => novaGroup(g, all, projectOf)) } };
  });

  // Networks as Nova's os-networks and os-tenant-networks show them.
  const visibleNetworks = async (auth: ComputeAuth) => (await api.client.list<Network>(NETWORKS)).items.filter((n) => !n.metadata.deletionTimestamp && (auth.admin || n.metadata.namespace === auth.tenant || n.spec.shared));
  const cidrOf = async (n: Network) => (await api.client.list<Subnet>(SUBNETS, n.metadata.namespace)).items.find((s) => s.spec.network === n.metadata.name)?.spec.cidr ?? null;
  const networkView = async (n: Network) => ({ id: n.metadata.uid, label: n.spec.displayName || n.metadata.name, cidr: await cidrOf(n) });
  for (const path of ['/os-networks', '/os-tenant-networks']) {
    router.on('GET', path, async (req) => {
      gone(req);
      return { status: 200, body: { networks: await Promise.all((await visibleNetworks(req.auth)).map(networkView)) } };
    });
    router.on('GET', `${path}/:id`, async (req) => {
      gone(req);
      const n = (await visibleNetworks(req.auth)).find((x) => x.metadata.uid === req.params.id);
      if (!n) throw notFound(`Network ${req.params.id} could not be found.`);
      return { status: 200, body: { network: await networkView(n) } };
    });
  }
}
