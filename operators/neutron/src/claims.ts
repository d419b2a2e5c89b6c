/**
 * IPAM claims: an address is a port's once the Subnet's status.allocations says so, written with the
 * Subnet's resourceVersion as a precondition (the scheduler's compare-and-swap), so two ports racing for one
 * address cannot both get it: the loser's write is refused with 409 and it chooses again on fresh state.
 */
import { MERGE_PATCH, isConflict, type KubeClient } from '@stratus/runtime';
import { IpamError, checkWantedAddress, nextFreeAddress } from './ipam.js';
import { FIELD_MANAGER, SUBNETS, type Subnet } from './resources.js';

const ATTEMPTS = 20;

async function casAllocations(client: KubeClient, subnet: Subnet, change: Record<string, string | null>): Promise<boolean> {
  try {
    await client.patch(SUBNETS, subnet.metadata.namespace, subnet.metadata.name, { metadata: { resourceVersion: subnet.metadata.resourceVersion }, status: { allocations: change } }, FIELD_MANAGER, MERGE_PATCH, 'status');
    return true;
  } catch (e) {
    if (isConflict(e)) return false;
    throw e;
  }
}

/** The address `holder` has in the subnet, claiming `wanted` (or the next free one) when it has none there yet. */
export async function claimAddress(client: KubeClient, namespace: string, subnetName: string, holder: string, wanted?: string, mayTakeGateway = false): Promise<string> {
  for (let i = 0; i < ATTEMPTS; i++) {
    const subnet = await client.get<Subnet>(SUBNETS, namespace, subnetName);
    if (!subnet || subnet.metadata.deletionTimestamp) throw new IpamError('InvalidAddress', `subnet ${namespace}/${subnetName} does not exist`);
    const taken = subnet.status?.allocations ?? {};
    const held = Object.keys(taken).filter((ip) => taken[ip] === holder);
    if (wanted) {
      const ip = checkWantedAddress(subnet.spec, wanted, taken, holder, mayTakeGateway);
      if (held.includes(ip)) return ip;
      if (await casAllocations(client, subnet, { [ip]: holder })) return ip;
      continue;
    }
    if (held.length) return held[0];
    const ip = nextFreeAddress(subnet.spec, taken);
    if (await casAllocations(client, subnet, { [ip]: holder })) return ip;
  }
  throw new Error(`subnet ${namespace}/${subnetName}: the address claim lost ${ATTEMPTS} races in a row`);
}

/** Gives back every address `holder` has in the subnet but those in `keep`. */
export async function releaseAddresses(client: KubeClient, namespace: string, subnetName: string, holder: string, keep: string[] = []): Promise<void> {
  for (let i = 0; i < ATTEMPTS; i++) {
    const subnet = await client.get<Subnet>(SUBNETS, namespace, subnetName);
    if (!subnet) return;
    const taken = subnet.status?.allocations ?? {};
    const drop = Object.keys(taken).filter((ip) => taken[ip] === holder && !keep.includes(ip));
    if (!drop.length) return;
    if (await casAllocations(client, subnet, Object.fromEntries(drop.map((ip) => [ip, null])))) return;
  }
  throw new Error(`subnet ${namespace}/${subnetName}: releasing addresses lost ${ATTEMPTS} races in a row`);
}
