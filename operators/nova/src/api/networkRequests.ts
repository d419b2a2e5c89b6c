/**
 * The NICs a server create asks for (Nova's `networks`: 'auto', 'none', or network UUIDs, fixed IPs and port
 * IDs) and its security groups, turned into the Instance's spec and checked as Nova checks them with Neutron
 * before anything is made.
 */
import type { KubeClient } from '@stratus/runtime';
import { NETWORKS, PORTS, SECURITY_GROUPS, type Network, type Port, type SecurityGroup } from '@stratus/neutron';
import type { InstanceNetwork } from '../resources.js';
import { badRequest, conflict } from './errors.js';
import { isIP } from 'node:net';

const display = (o: { metadata: { name: string }; spec: { displayName?: string } }) => o.spec.displayName || o.metadata.name;

/** The networks a tenant may attach to: its own and shared ones (not external: servers reach those through routers). */
async function usableNetworks(client: KubeClient, ns: string): Promise<Network[]> {
  const all = (await client.list<Network>(NETWORKS)).items.filter((n) => !n.metadata.deletionTimestamp);
  return all.filter((n) => n.metadata.namespace === ns || n.spec.shared);
}

/** The Instance's spec.networks for a create body's `networks`, or 400/409 with Nova's words. */
export async function requestedNetworks(client: KubeClient, ns: string, networks: unknown, count: number): Promise<InstanceNetwork[]> {
  if (networks === 'none') return [];
  const usable = () => usableNetworks(client, ns);
  if (networks === undefined || networks === 'auto') {
    const candidates = (await usable()).filter((n) => !n.spec.external);
    if (candidates.length > 1) throw conflict('Multiple possible networks found, use a Network ID to be more specific.');
    return candidates.map((n) => ({ network: n.metadata.name, ...(n.metadata.namespace !== ns ? { networkNamespace: n.metadata.namespace } : {}) }));
  }
  if (!Array.isArray(networks)) throw badRequest("Invalid input for field/attribute networks. It must be 'auto', 'none' or a list of networks.");
  const out: InstanceNetwork[] = [];
  const all = await usable();
  for (const req of networks as Array<{ uuid?: string; port?: string; fixed_ip?: string }>) {
    if (req.port) {
      if (count > 1) throw badRequest('Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports.');
      const port = (await client.list<Port>(PORTS, ns)).items.find((p) => p.metadata.uid === req.port && !p.metadata.deletionTimestamp);
      if (!port) throw badRequest(`Port id ${req.port} could not be found.`);
      if (port.spec.deviceId) throw conflict(`Port ${req.port} is still in use.`);
      out.push({ port: port.metadata.name });
      continue;
    }
    if (!req.uuid) throw badRequest('Bad networks format: network uuid is not in proper format');
    const net = all.find((n) => n.metadata.uid === req.uuid);
    if (!net) throw badRequest(`Network ${req.uuid} could not be found.`);
    if (req.fixed_ip !== undefined && !isIP(String(req.fixed_ip))) throw badRequest(`Invalid input for field/attribute fixed_ip. Value: ${String(req.fixed_ip)}. '${String(req.fixed_ip)}' is not a valid IP address`);
    if (req.fixed_ip !== undefined && count > 1) throw badRequest('Unable to launch multiple instances with a single configured fixed IP address.');
    out.push({ network: net.metadata.name, ...(net.metadata.namespace !== ns ? { networkNamespace: net.metadata.namespace } : {}), ...(req.fixed_ip ? { fixedIP: String(req.fixed_ip) } : {}) });
  }
  return out;
}

/** Security group names or IDs as the tenant's SecurityGroup object names; 400 for one it does not have. */
export async function requestedSecurityGroups(client: KubeClient, ns: string, groups: unknown, projectId: string): Promise<string[] | undefined> {
  if (groups === undefined) return undefined;
  if (!Array.isArray(groups)) throw badRequest("Invalid input for field/attribute security_groups. It must be a list of {'name': …}.");
  const have = (await client.list<SecurityGroup>(SECURITY_GROUPS, ns)).items;
  return groups.map((g: { name?: unknown }) => {
    const wanted = String(g?.name ?? '');
    if (wanted === 'default') return 'default';
    const found = have.find((x) => x.metadata.uid === wanted || display(x) === wanted);
    if (!found) throw badRequest(`Security group ${wanted} not found for project ${projectId}.`);
    return found.metadata.name;
  });
}
