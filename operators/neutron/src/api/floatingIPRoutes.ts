/** Floating IPs: /v2.0/floatingips. */
import { isDeleting } from '@stratus/runtime';
import { FLOATING_IPS, idOf, type FloatingIP, type Network, type Port } from '../resources.js';
import { API_FIELD_MANAGER, createAndSettle, fromKubernetes, listFilter, newObjectName, onlyKnown, owns, refusal, resourceBody, str, targetNamespace, type NetApi, type NetAuth, type NetRouter } from './context.js';
import { withinQuota } from './quotaRoutes.js';
import { NeutronError, badRequest, conflict, notFound } from './errors.js';
import { visibleNetwork } from './networkRoutes.js';
import { visiblePort } from './portRoutes.js';
import { PORT_ALREADY_ASSOCIATED, alreadyAssociatedMessage, asksForFixedIP, fixedIPReached } from '../floatingIPs.js';
import { common, pick } from './views.js';

export function visibleFloatingIP(api: NetApi, auth: NetAuth, id: string): FloatingIP {
  const f = api.dir.floatingIPs.byId(id);
  if (!f || !owns(auth, f)) throw notFound('FloatingIPNotFound', `Floating IP ${id} could not be found`);
  return f;
}

export function floatingIPView(f: FloatingIP, api: NetApi) {
  const net = api.dir.networkOfFloatingIP(f);
  // A port being deleted leaves its floating IP at once, as in Neutron, though its finalizers still hold it.
  const port = f.spec.port ? api.dir.ports.get(f.spec.port, f.metadata.namespace) : undefined;
  const associated = port && !isDeleting(port) ? port : undefined;
  return {
    id: idOf(f),
    floating_ip_address: f.status?.floatingIPAddress ?? null,
    floating_network_id: net ? idOf(net) : '',
    router_id: associated ? (f.status?.routerId ?? null) : null,
    port_id: associated ? idOf(associated) : null,
    fixed_ip_address: associated ? (f.status?.fixedIPAddress ?? null) : null,
    // Its port gone, it is disassociated (DOWN), as Neutron's port delete leaves it.
    status: f.spec.port && !associated ? 'DOWN' : f.status?.phase === 'ACTIVE' ? 'ACTIVE' : f.status?.phase === 'ERROR' ? 'ERROR' : 'DOWN',
    description: f.spec.description ?? '',
    dns_domain: '',
    dns_name: '',
    port_details: null,
    qos_policy_id: null,
    port_forwardings: [],
    ...common(f, api.dir),
  };
}

/** The address of the port's fixed IP a floating IP reaches (as its reconciler chooses it). */
const reachedIP = (port: Port, asked: string | undefined): string | undefined => fixedIPReached(port, asked)?.ipAddress;

/**
 * Neutron's FloatingIPPortAlreadyAssociated: another floating IP of the same external network already asks for
 * that fixed IP of the port. Pure. (Two asking at once both pass here: the reconciler refuses the later.)
 */
export function fixedIPHolder(all: FloatingIP[], fip: { id?: string; network: Network }, port: Port, fixedIP: string | undefined, networkOf: (f: FloatingIP) => Network | undefined): FloatingIP | undefined {
  if (!fixedIP) return undefined;
  return all.find((o) => idOf(o) !== fip.id && asksForFixedIP(o, port, fixedIP, (x) => networkOf(x)?.metadata.uid === fip.network.metadata.uid));
}

function refuseSecondOnFixedIP(api: NetApi, fip: { id?: string; address?: string; network: Network }, port: Port, askedFixed: string | undefined): void {
  const fixed = reachedIP(port, askedFixed);
  if (fixedIPHolder(api.dir.floatingIPs.list(), fip, port, fixed, (o) => api.dir.networkOfFloatingIP(o)))
    throw conflict(PORT_ALREADY_ASSOCIATED, alreadyAssociatedMessage(fip, idOf(port), fixed, idOf(fip.network)));
}

/** A floating IP's reconciler refusal as Neutron's error. */
function fipRefusal(f: FloatingIP): NeutronError | undefined {
  const r = refusal(f);
  if (!r) return undefined;
  if (r.reason === 'ExternalGatewayForFloatingIPNotFound') return notFound(r.reason, r.message);
  if (r.reason === 'AddressInUse') return conflict('FloatingIPSetupException', r.message);
  if (r.reason === PORT_ALREADY_ASSOCIATED) return conflict(r.reason, r.message);
  if (r.reason === 'SubnetFull') return conflict('IpAddressGenerationFailure', `No more IP addresses available on network ${f.spec.network}.`);
  return badRequest(r.message);
}

const settledFor = (wantsPort: boolean) => (f: FloatingIP) =>
  fipRefusal(f) ?? (f.status?.observedGeneration === f.metadata.generation && f.status?.floatingIPAddress && (wantsPort ? f.status.phase === 'ACTIVE' : f.status.phase === 'DOWN') ? ('ok' as const) : undefined);

export function floatingIPRoutes(r: NetRouter, api: NetApi): void {
  r.on('GET', '/v2.0/floatingips', ({ auth, query }) => {
    const { matches, fields } = listFilter(query);
    const views = api.dir.floatingIPs
      .list()
      .filter((f) => owns(auth, f))
      .map((f) => floatingIPView(f, api));
    return { status: 200, body: { floatingips: views.filter(matches).map((v) => pick(v, fields)) } };
  });
  r.on('GET', '/v2.0/floatingips/:id', ({ auth, params, query }) => ({ status: 200, body: { floatingip: pick(floatingIPView(visibleFloatingIP(api, auth, params.id), api), query.getAll('fields')) } }));

  r.on('POST', '/v2.0/floatingips', async ({ auth, body }) => {
    const f = resourceBody(body, 'floatingip');
    onlyKnown(f, ['floating_network_id', 'floating_ip_address', 'port_id', 'fixed_ip_address', 'subnet_id', 'description', 'tenant_id', 'project_id', 'dns_domain', 'dns_name', 'qos_policy_id'], 'floatingip');
    if (typeof f.floating_network_id !== 'string') throw badRequest("Failed to parse request. Required attribute 'floating_network_id' not specified");
    const net = visibleNetwork(api, auth, f.floating_network_id);
    if (!net.spec.external) throw badRequest(`Bad floatingip request: Network ${f.floating_network_id} is not a valid external network.`);
    const ns = targetNamespace(api, auth, f);
    const port = typeof f.port_id === 'string' ? visiblePort(api, auth, f.port_id) : undefined;
    if (port) refuseSecondOnFixedIP(api, { network: net, ...(f.floating_ip_address ? { address: String(f.floating_ip_address) } : {}) }, port, f.fixed_ip_address ? String(f.fixed_ip_address) : undefined);
    const made = await withinQuota(api, ns, 'floatingip', 1, () =>
      createAndSettle<FloatingIP>(
        api,
        FLOATING_IPS,
        api.dir.floatingIPs,
        {
          apiVersion: 'network.stratus.io/v1alpha1',
          kind: 'FloatingIP',
          metadata: { name: newObjectName(api.dir.floatingIPs, ns, undefined, 'fip'), namespace: ns },
          spec: {
            network: net.metadata.name,
            ...(net.metadata.namespace !== ns ? { networkNamespace: net.metadata.namespace } : {}),
            ...(f.floating_ip_address ? { floatingIPAddress: String(f.floating_ip_address) } : {}),
            ...(port ? { port: port.metadata.name } : {}),
            ...(f.fixed_ip_address ? { fixedIPAddress: String(f.fixed_ip_address) } : {}),
            ...(f.description !== undefined ? { description: str(f.description, 'description') } : {}),
          },
        } as FloatingIP,
        settledFor(!!port),
        'floating IP',
      ),
    );
    return { status: 201, body: { floatingip: floatingIPView(made, api) } };
  });

  r.on('PUT', '/v2.0/floatingips/:id', async ({ auth, params, body }) => {
    const fip = visibleFloatingIP(api, auth, params.id);
    const u = resourceBody(body, 'floatingip');
    onlyKnown(u, ['port_id', 'fixed_ip_address', 'description', 'qos_policy_id'], 'floatingip');
    const spec: Record<string, unknown> = {};
    if (u.description !== undefined) spec.description = str(u.description, 'description') ?? '';
    if (u.port_id !== undefined && u.port_id !== null) {
      const port = visiblePort(api, auth, String(u.port_id));
      const net = api.dir.networkOfFloatingIP(fip);
      if (net) refuseSecondOnFixedIP(api, { id: idOf(fip), address: fip.status?.floatingIPAddress, network: net }, port, u.fixed_ip_address ? String(u.fixed_ip_address) : undefined);
      spec.port = port.metadata.name;
    } else if (u.port_id === null) spec.port = null;
    if (u.fixed_ip_address !== undefined) spec.fixedIPAddress = u.fixed_ip_address === null ? null : String(u.fixed_ip_address);
    const written = await api.client.patch<FloatingIP>(FLOATING_IPS, fip.metadata.namespace, fip.metadata.name, { spec }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'floating IP'));
    let latest = written;
    const settled = settledFor(spec.port !== undefined ? spec.port !== null : !!fip.spec.port);
    let outcome: ReturnType<typeof settled>;
    // The cache may still hold the object as it was before this write, settled on the old port.
    await api.dir.floatingIPs.untilWritten(written, (o) => {
      latest = o;
      return (outcome = settled(o)) !== undefined;
    }, 30_000);
    if (outcome instanceof NeutronError) {
      await api.client.patch(FLOATING_IPS, fip.metadata.namespace, fip.metadata.name, { spec: { port: fip.spec.port ?? null, fixedIPAddress: fip.spec.fixedIPAddress ?? null } }, API_FIELD_MANAGER).catch(() => {});
      throw outcome;
    }
    return { status: 200, body: { floatingip: floatingIPView(latest, api) } };
  });

  r.on('DELETE', '/v2.0/floatingips/:id', async ({ auth, params }) => {
    const fip = visibleFloatingIP(api, auth, params.id);
    await api.client.delete(FLOATING_IPS, fip.metadata.namespace, fip.metadata.name).catch((e) => fromKubernetes(e, 'floating IP'));
    await api.dir.floatingIPs.until(fip, (o) => !o || isDeleting(o));
    return { status: 204 };
  });
}
