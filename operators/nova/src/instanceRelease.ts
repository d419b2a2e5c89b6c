/**
 * What an instance holds beyond its host, given back (Nova's deallocate_for_instance and its block device
 * clean-up): ports made for it go and a user's own are unbound; its volume attachments go, and a volume marked
 * delete-on-termination after its attachment. The node agent does it as it tears the guest down. An instance
 * no agent holds (never placed, shelved and offloaded, its host gone) has it done by the controller instead, as
 * Nova's API deletes such a server locally: the finalizer below keeps the instance until then.
 */
import { PORTS, type Port } from '@stratus/neutron';
import { ignoreNotFound, type KubeClient } from '@stratus/runtime';
import { VOLUMES, VOLUME_ATTACHMENTS } from '@stratus/cinder';
import { attachmentsOfInstance, releaseAttachment } from './agent/volumes.js';
import { wantedPortNames } from './nics.js';
import type { Instance } from './resources.js';

/** Guards an instance's ports and volume attachments while no node agent would give them back. */
export const PORTS_AND_VOLUMES_FINALIZER = 'compute.stratus.io/ports-and-volumes';

/** Gives back one Port the instance no longer has: one made for it goes, a user's own is unbound. */
export async function releasePort(client: KubeClient, inst: Instance, name: string, fieldManager: string): Promise<void> {
  const ns = inst.metadata.namespace!;
  const port = await client.get<Port>(PORTS, ns, name);
  if (!port || port.spec.deviceId !== inst.metadata.uid) return;
  if (port.metadata.ownerReferences?.some((o) => o.uid === inst.metadata.uid)) await client.delete(PORTS, ns, name).catch(ignoreNotFound);
  else await client.patch(PORTS, ns, name, { spec: { deviceId: null, deviceOwner: null, bindingHost: null } }, fieldManager);
}

/** Gives back the Ports the instance was given (a user's own port is unbound; ports made for it go with it). */
export async function releasePorts(client: KubeClient, inst: Instance, fieldManager: string): Promise<void> {
  for (const name of wantedPortNames(inst)) await releasePort(client, inst, name, fieldManager);
}

/**
 * What an instance's deletion does to its attachments: each is let go (and deleted), and a volume marked
 * delete-on-termination is deleted after it.
 */
export async function releaseAllAttachments(client: KubeClient, inst: Instance, manager: string): Promise<void> {
  for (const a of await attachmentsOfInstance(client, inst)) {
    await releaseAttachment(client, a, manager);
    await client.delete(VOLUME_ATTACHMENTS, a.metadata.namespace, a.metadata.name).catch(ignoreNotFound);
    if (a.spec.deleteOnTermination) await client.delete(VOLUMES, a.metadata.namespace, a.spec.volume).catch(ignoreNotFound);
  }
}

/** Everything above: the instance's ports, then its attachments (and delete-on-termination volumes). */
export async function releasePortsAndVolumes(client: KubeClient, inst: Instance, fieldManager: string): Promise<void> {
  await releasePorts(client, inst, fieldManager);
  await releaseAllAttachments(client, inst, fieldManager);
}
