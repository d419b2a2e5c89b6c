/**
 * A server's interfaces (Nova's os-interface): list and show its ports; attach one (a port of the tenant's,
 * or a new one made on a network) and detach one, as a change to the Instance's spec.networks that the node
 * agent carries out by hot-plugging; the call answers once the agent has done it.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { waitUntil } from '@stratus/runtime';
import { NETWORKS, PORTS, type Network, type Port } from '@stratus/neutron';
import { INSTANCES, type Instance } from '../resources.js';
import { NIC_OWNER, wantedPortNames } from '../nics.js';
import { API_FIELD_MANAGER, checkLock, serverFor, updateObject, type ComputeApiContext, type ComputeRequest, type ComputeRouter } from './context.js';
import { badRequest, conflict, notFound } from './errors.js';

/** How long attach and detach wait for the node agent to have done it. */
const HOTPLUG_MS = 120_000;

async function portsOf(api: ComputeApiContext, inst: Instance): Promise<Port[]> {
  const ns = inst.metadata.namespace!;
  const all = (await api.client.list<Port>(PORTS, ns)).items;
  return wantedPortNames(inst)
    .map((name) => all.find((p) => p.metadata.name === name))
    .filter((p): p is Port => !!p && !p.metadata.deletionTimestamp);
}

const attachmentOf = (p: Port) => ({
  port_state: p.status?.phase === 'ACTIVE' ? 'ACTIVE' : 'DOWN',
  fixed_ips: (p.status?.fixedIPs ?? []).map((f) => ({ subnet_id: f.subnetId, ip_address: f.ipAddress })),
  port_id: p.metadata.uid,
  net_id: p.status?.networkId ?? '',
  mac_addr: p.status?.macAddress ?? '',
});

/** spec.networks as explicit port names, so that removing one entry leaves the names of the others as they are. */
const explicitNetworks = (inst: Instance) => wantedPortNames(inst).map((port) => ({ port }));

export function interfaceRoutes(router: ComputeRouter, api: ComputeApiContext) {
  const attachable = (req: ComputeRequest) => {
    const inst = serverFor(api, req.params.id, req.auth);
    checkLock(inst, req.auth, 'attach_interface');
    if (!['ACTIVE', 'SHUTOFF', 'PAUSED'].includes(inst.status?.phase ?? '') || inst.status?.taskState) throw conflict(`Cannot 'attach_interface' instance ${req.params.id} while it is in vm_state ${(inst.status?.phase ?? 'building').toLowerCase()}`);
    return inst;
  };
  const hasPort = (name: string) => (i: Instance | undefined) => !!i?.status?.addresses?.some((a) => a.port === name);

  router.on('GET', '/servers/:id/os-interface', async (req) => {
    const inst = serverFor(api, req.params.id, req.auth);
    return { status: 200, body: { interfaceAttachments: (await portsOf(api, inst)).map(attachmentOf) } };
  });
  router.on('GET', '/servers/:id/os-interface/:port', async (req) => {
    const inst = serverFor(api, req.params.id, req.auth);
    const port = (await portsOf(api, inst)).find((p) => p.metadata.uid === req.params.port);
    if (!port) throw notFound(`Port ${req.params.port} is not attached`);
    return { status: 200, body: { interfaceAttachment: attachmentOf(port) } };
  });

  router.on('POST', '/servers/:id/os-interface', async (req) => {
    const inst = attachable(req);
    const ns = inst.metadata.namespace!;
    const a = (req.body?.interfaceAttachment ?? {}) as { net_id?: string; port_id?: string; fixed_ips?: Array<{ ip_address?: string }> };
    if (a.port_id && a.net_id) throw badRequest('Only one of net_id and port_id may be given.');
    let name: string;
    if (a.port_id) {
      const port = (await api.client.list<Port>(PORTS, ns)).items.find((p) => p.metadata.uid === a.port_id && !p.metadata.deletionTimestamp);
      if (!port) throw notFound(`Port ${a.port_id} could not be found.`);
      if (port.spec.deviceId) throw conflict(`Port ${a.port_id} is still in use.`);
      name = port.metadata.name;
    } else {
      const nets = (await api.client.list<Network>(NETWORKS)).items.filter((n) => !n.metadata.deletionTimestamp && (n.metadata.namespace === ns || n.spec.shared));
      const net = a.net_id ? nets.find((n) => n.metadata.uid === a.net_id) : nets.length === 1 ? nets[0] : undefined;
      if (!net) throw a.net_id ? notFound(`Network ${a.net_id} could not be found.`) : badRequest('Multiple possible networks found, use a Network ID to be more specific.');
      const fixed = a.fixed_ips?.[0]?.ip_address;
      if (fixed !== undefined && !isIP(String(fixed))) throw badRequest(`Invalid input for field/attribute fixed_ips. '${String(fixed)}' is not a valid IP address`);
      name = `${inst.metadata.name}-if-${randomBytes(3).toString('hex')}`.slice(0, 253);
      // Made for the server, it goes with it (and when detached), as Nova's own ports do.
      await api.client.create(
        PORTS,
        {
          apiVersion: 'network.stratus.io/v1alpha1',
          kind: 'Port',
          metadata: { name, namespace: ns, ownerReferences: [{ apiVersion: 'compute.stratus.io/v1alpha1', kind: 'Instance', name: inst.metadata.name, uid: inst.metadata.uid!, controller: true }] },
          spec: { network: net.metadata.name, ...(net.metadata.namespace !== ns ? { networkNamespace: net.metadata.namespace } : {}), ...(fixed ? { fixedIPs: [{ ipAddress: String(fixed) }] } : {}), deviceOwner: NIC_OWNER, deviceId: inst.metadata.uid!, ...(inst.status?.host ? { bindingHost: inst.status.host } : {}) },
        } as Port,
        API_FIELD_MANAGER,
      );
    }
    await updateObject(api, api.dir.instances, INSTANCES, inst, (cur) => ({ spec: { networks: [...explicitNetworks(cur), { port: name }] } }), `Instance ${req.params.id}`);
    const attached = await waitUntil(() => hasPort(name)(api.dir.instances.get(inst.metadata.name, ns)), HOTPLUG_MS);
    const port = await api.client.get<Port>(PORTS, ns, name);
    const refused = port?.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
    if (!attached && refused) {
      // Nothing half-made: the entry goes, and a port made here with it.
      await updateObject(api, api.dir.instances, INSTANCES, api.dir.instances.get(inst.metadata.name, ns) ?? inst, (cur) => ({ spec: { networks: explicitNetworks(cur).filter((n) => n.port !== name) } }), `Instance ${req.params.id}`);
      if (!a.port_id) await api.client.delete(PORTS, ns, name).catch(() => {});
      throw badRequest(`Failed to attach an interface: ${refused.message}`);
    }
    return { status: 200, body: { interfaceAttachment: port ? attachmentOf(port) : {} } };
  });

  router.on('DELETE', '/servers/:id/os-interface/:port', async (req) => {
    const inst = attachable(req);
    const port = (await portsOf(api, inst)).find((p) => p.metadata.uid === req.params.port);
    if (!port) throw notFound(`Port ${req.params.port} is not attached`);
    await updateObject(api, api.dir.instances, INSTANCES, inst, (cur) => ({ spec: { networks: explicitNetworks(cur).filter((n) => n.port !== port.metadata.name) } }), `Instance ${req.params.id}`);
    await waitUntil(() => !hasPort(port.metadata.name)(api.dir.instances.get(inst.metadata.name, inst.metadata.namespace)), HOTPLUG_MS);
    return { status: 202 };
  });
}

