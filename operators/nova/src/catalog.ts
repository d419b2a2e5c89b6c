/**
 * The reconcilers of the compute kinds that describe rather than run: Flavor, Keypair and ServerGroup get
 * their OpenStack IDs, a fingerprint or their members, and Ready; Hypervisor is up while its agent heartbeats.
 */
import { createHash } from 'node:crypto';
import { MERGE_PATCH, markReady, markStalled, patchStatus, type ReconcileContext, type Request, type Result } from '@stratus/runtime';
import { isUp } from './scheduler/hostStates.js';
import { aggregateIdOf } from './aggregates.js';
import { holdAggregateName, holdFlavorName, holdKeypairName } from './names.js';
import { AGGREGATES, FIELD_MANAGER, FLAVORS, HYPERVISORS, INSTANCES, KEYPAIRS, SERVER_GROUPS, SERVICE_DOWN_SECONDS, type Aggregate, type Flavor, type Hypervisor, type Instance, type Keypair, type ServerGroup } from './resources.js';

export async function reconcileFlavor(req: Request, ctx: ReconcileContext<Flavor>): Promise<Result | void> {
  const flavor = await ctx.client.get<Flavor>(FLAVORS, undefined, req.name);
  if (!flavor) return;
  const nameTaken = await holdFlavorName(flavor, ctx);
  if (nameTaken) return nameTaken;
  const { vcpus, ramMiB, diskGiB = 0 } = flavor.spec;
  await patchStatus(ctx.client, FLAVORS, flavor, {
    phase: 'Active',
    flavorId: flavor.metadata.name,
    conditions: markReady(flavor.status?.conditions, flavor.metadata.generation, 'Defined', `${vcpus} vCPU, ${ramMiB} MiB RAM, ${diskGiB} GiB disk`),
  }, FIELD_MANAGER);
}

/** Nova's fingerprint of an OpenSSH public key: the MD5 of the key blob, as colon-separated hex pairs. */
export function sshFingerprint(publicKey: string): string | undefined {
  const [type, blob] = publicKey.trim().split(/\s+/);
  if (!type || !blob || !/^(ssh-|ecdsa-|sk-)/.test(type) || !/^[A-Za-z0-9+/]+=*$/.test(blob)) return undefined;
  const bytes = Buffer.from(blob, 'base64');
  // The blob starts with its own type name, length-prefixed: a pasted-together key fails here.
  const len = bytes.length >= 4 ? bytes.readUInt32BE(0) : 0;
  if (len === 0 || bytes.subarray(4, 4 + len).toString('latin1') !== type) return undefined;
  return createHash('md5').update(bytes).digest('hex').match(/../g)!.join(':');
}

export async function reconcileKeypair(req: Request, ctx: ReconcileContext<Keypair>): Promise<Result | void> {
  const kp = await ctx.client.get<Keypair>(KEYPAIRS, req.namespace, req.name);
  if (!kp) return;
  const nameTaken = await holdKeypairName(kp, ctx);
  if (nameTaken) return nameTaken;
  const gen = kp.metadata.generation;
  if ((kp.spec.type ?? 'ssh') === 'ssh') {
    const fingerprint = sshFingerprint(kp.spec.publicKey);
    if (!fingerprint) {
      await patchStatus(ctx.client, KEYPAIRS, kp, { phase: 'Error', conditions: markStalled(kp.status?.conditions, gen, 'InvalidPublicKey', 'spec.publicKey is not an OpenSSH public key ("ssh-ed25519 AAAA… comment")') }, FIELD_MANAGER);
      return;
    }
    await patchStatus(ctx.client, KEYPAIRS, kp, { phase: 'Active', fingerprint, conditions: markReady(kp.status?.conditions, gen, 'Valid', `fingerprint ${fingerprint}`) }, FIELD_MANAGER);
    return;
  }
  const der = Buffer.from(kp.spec.publicKey.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''), 'base64');
  const fingerprint = createHash('sha1').update(der).digest('hex').match(/../g)!.join(':');
  await patchStatus(ctx.client, KEYPAIRS, kp, { phase: 'Active', fingerprint, conditions: markReady(kp.status?.conditions, gen, 'Valid', `fingerprint ${fingerprint}`) }, FIELD_MANAGER);
}

export async function reconcileServerGroup(req: Request, ctx: ReconcileContext<ServerGroup>): Promise<void> {
  const group = await ctx.client.get<ServerGroup>(SERVER_GROUPS, req.namespace, req.name);
  if (!group) return;
  const members = (await ctx.client.list<Instance>(INSTANCES, req.namespace)).items
    .filter((i) => i.spec.serverGroup === group.metadata.name && !i.metadata.deletionTimestamp)
    .map((i) => i.metadata.name)
    .sort();
  await patchStatus(ctx.client, SERVER_GROUPS, group, {
    phase: 'Active',
    groupId: group.metadata.uid,
    members,
    conditions: markReady(group.status?.conditions, group.metadata.generation, 'Active', `${members.length} member${members.length === 1 ? '' : 's'}, policy ${group.spec.policy}`),
  }, FIELD_MANAGER);
}

/** An aggregate holds its name and shows its Nova ID, and which of its hosts are no Hypervisor (yet). */
export async function reconcileAggregate(req: Request, ctx: ReconcileContext<Aggregate>): Promise<Result | void> {
  const agg = await ctx.client.get<Aggregate>(AGGREGATES, undefined, req.name);
  if (!agg) return;
  const nameTaken = await holdAggregateName(agg, ctx);
  if (nameTaken) return nameTaken;
  const hosts = agg.spec.hosts ?? [];
  const known = new Set((await ctx.client.list<Hypervisor>(HYPERVISORS)).items.map((h) => h.metadata.name));
  const unknownHosts = hosts.filter((h) => !known.has(h));
  const zone = agg.spec.availabilityZone ? `, zone ${agg.spec.availabilityZone}` : '';
  const message = `${hosts.length} host${hosts.length === 1 ? '' : 's'}${zone}${unknownHosts.length ? `; not hypervisors: ${unknownHosts.join(', ')}` : ''}`;
  await patchStatus(ctx.client, AGGREGATES, agg, { phase: 'Active', aggregateId: aggregateIdOf(agg), unknownHosts, conditions: markReady(agg.status?.conditions, agg.metadata.generation, 'Defined', message) }, FIELD_MANAGER);
}

/** Up while the node agent heartbeats; looked at again when the last heartbeat would go stale. */
export async function reconcileHypervisor(req: Request, ctx: ReconcileContext<Hypervisor>): Promise<Result | void> {
  const hv = await ctx.client.get<Hypervisor>(HYPERVISORS, undefined, req.name);
  if (!hv) return;
  const gen = hv.metadata.generation;
  const up = isUp(hv);
  const state = up ? 'up' : 'down';
  const disabled = !!hv.spec.disabled;
  const conditions = !up
    ? markStalled(hv.status?.conditions, gen, 'AgentDown', hv.status?.lastHeartbeat ? `no heartbeat from the node agent since ${hv.status.lastHeartbeat}` : 'the node agent has not reported yet')
    : disabled
      ? markStalled(hv.status?.conditions, gen, 'Disabled', hv.spec.disabledReason ?? 'disabled: takes no new instances')
      : markReady(hv.status?.conditions, gen, 'Up', 'the node agent is heartbeating');
  if (state !== hv.status?.state) await ctx.events.record(hv, up ? 'Normal' : 'Warning', up ? 'HypervisorUp' : 'HypervisorDown', up ? 'The node agent is heartbeating' : 'No heartbeat from the node agent');
  // Only the fields this reconciler owns: the allocation ledger belongs to the scheduler's compare-and-swap
  // writes, and writing back a copy read a moment ago could undo a claim or a release.
  const mine = { state, phase: disabled ? 'Disabled' : 'Enabled', conditions, observedGeneration: gen };
  const current = { state: hv.status?.state, phase: hv.status?.phase, conditions: hv.status?.conditions, observedGeneration: hv.status?.observedGeneration };
  if (JSON.stringify(mine) !== JSON.stringify(current)) await ctx.client.patch(HYPERVISORS, undefined, req.name, { status: mine }, FIELD_MANAGER, MERGE_PATCH, 'status');
  if (up) return { requeueAfterMs: Date.parse(hv.status!.lastHeartbeat!) + SERVICE_DOWN_SECONDS * 1000 - Date.now() + 500 };
}
