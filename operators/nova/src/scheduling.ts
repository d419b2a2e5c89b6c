/**
 * Scheduling: the Instance reconciler's first chapter. An unbound instance gets its flavor and image checked,
 * a host chosen by the filters and weighers, a claim written into that Hypervisor's allocation ledger (a
 * compare-and-swap on its resourceVersion, so two schedulers never book the same room twice), and then its
 * binding. Nothing fits: ERROR with Nova's NoValidHost fault. Deleting an instance gives its claim back.
 *
 * Per placement the scheduler writes the claim (batched with the other claims on that host, see ClaimWriter)
 * and the binding, as kube-scheduler does, and no finalizer: a deleted instance's claim is given back when its
 * deletion is seen, and a claim whose instance is gone (deleted while this scheduler was down) when its
 * hypervisor is next seen (see orphanedClaims).
 */
import {
  hasFinalizer,
  isConflict,
  isDeleting,
  markReconciling,
  markStalled,
  now,
  patchStatusChanges,
  removeFinalizerPatch,
  type KubeClient,
  type PrimaryCache,
  type ReconcileContext,
  type Request,
  type Result,
} from '@stratus/runtime';
import { Refused, bootableImage, decodeUserData, resourcesOf, rootDiskGiB } from './bootChecks.js';
import { ledgerUsage, quotaRefusal, usageOfResources } from './quota.js';
import { PORTS_AND_VOLUMES_FINALIZER, releasePortsAndVolumes } from './instanceRelease.js';
import { FIELD_MANAGER, FLAVORS, GUEST_FINALIZER, HYPERVISORS, IMAGES, INSTANCES, KEYPAIRS, SERVER_GROUPS, flavorSnapshot, keyOf, type Aggregate, type Flavor, type Hypervisor, type Image, type Instance, type Keypair, type ServerGroup } from './resources.js';
import type { HypervisorBook } from './scheduler/book.js';
import type { ClaimWriter } from './scheduler/claims.js';
import { hostStateOf } from './scheduler/hostStates.js';
import { zoneOfHost } from './aggregates.js';
import { selectHost } from './scheduler/select.js';
import type { HostState, RequestSpec, Resources } from './scheduler/types.js';

/** The finalizer earlier versions put on every instance; still removed from those that have it. */
export const ALLOCATION_FINALIZER = 'compute.stratus.io/allocation';

export interface SchedulingDeps {
  book: HypervisorBook;
  claims: ClaimWriter;
  /** Flavors and images as the informers hold them (a miss falls back to the API server). */
  flavor(name: string): Flavor | undefined;
  image(namespace: string, name: string): Image | undefined;
  /** The tenant's quota (Tenant spec.quota), undefined when unlimited. */
  quota?(namespace: string): Record<string, number> | undefined;
  /** The host aggregates (their zones are their hosts' zones). */
  aggregates?(): readonly Aggregate[];
}

const CONFLICT_RETRY_MS = 5;

export type Decision = { host: string; claimed: boolean } | { noValidHost: string } | { overQuota: string } | { release: string };

/**
 * The decision, made without waiting for anything (so one at a time, as kube-scheduler makes them): the claims
 * assumed in the book make the next decision see the last one, so workers do not all pick the same best host.
 */
export function decidePlacement(spec: RequestSpec, namespace: string, deps: Pick<SchedulingDeps, 'book' | 'quota' | 'aggregates'>): Decision {
  // A claim already in a ledger (we crashed between claiming and binding) is honoured, not made twice; one of
  // another size was an earlier instance's of this name, whose deletion this scheduler did not see in time.
  const hosts = deps.book.all();
  const claimed = claimHolder(hosts, spec.instance);
  if (claimed) return sameResources(claimed.status!.allocations![spec.instance]!, spec.resources) ? { host: claimed.metadata.name, claimed: true } : { release: claimed.metadata.name };
  // Quota is counted here, from the ledgers with the claims this scheduler has made.
  const quota = deps.quota?.(namespace);
  const refusal = quota && quotaRefusal(quota, ledgerUsage(hosts, namespace), usageOfResources(spec.resources));
  if (refusal) return { overQuota: refusal };
  const aggregates = deps.aggregates?.() ?? [];
  const now = Date.now();
  const decision = selectHost(hosts.map((hv) => hostStateCached(hv, now, zoneOfHost(hv, aggregates))), spec);
  if ('noValidHost' in decision) return { noValidHost: decision.noValidHost.message };
  return { host: decision.placement.host, claimed: false };
}

/**
 * Host states by Hypervisor object: the informer keeps an unchanged host's object, so most of a decision's
 * hosts were worked out for the last one. Kept a second at most, for the heartbeat's age.
 */
const hostStates = new WeakMap<Hypervisor, { state: HostState; at: number; zone: string }>();
function hostStateCached(hv: Hypervisor, now: number, zone: string): HostState {
  const known = hostStates.get(hv);
  if (known && known.zone === zone && now - known.at < 1000) return known.state;
  const state = hostStateOf(hv, now, zone);
  hostStates.set(hv, { state, at: now, zone });
  return state;
}

/** The hypervisor whose ledger holds the instance's claim (at most one does). */
const claimHolder = (hosts: readonly Hypervisor[], instanceKey: string) => hosts.find((hv) => hv.status?.allocations?.[instanceKey]);

const sameResources = (a: Resources, b: Resources) => a.vcpus === b.vcpus && a.ramMiB === b.ramMiB && a.diskGiB === b.diskGiB;

/** Ledger entries whose instance this scheduler does not know: deleted while it was not watching. */
export function orphanedClaims(hv: Hypervisor, instances: Pick<PrimaryCache<Instance>, 'get'>): Request[] {
  const orphans: Request[] = [];
  for (const key of Object.keys(hv.status?.allocations ?? {})) {
    const slash = key.indexOf('/');
    const req = { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
    if (!instances.get(req.name, req.namespace)) orphans.push(req);
  }
  return orphans;
}

export function schedulingReconciler(deps: SchedulingDeps) {
  return async function reconcileInstance(req: Request, ctx: ReconcileContext<Instance>): Promise<Result | void> {
    const { client } = ctx;
    const inst = ctx.cached() ?? (await client.get<Instance>(INSTANCES, req.namespace, req.name));
    if (!inst) return releaseOrphan(`${req.namespace}/${req.name}`, ctx, deps); // gone: the server said so
    if (isDeleting(inst)) return releaseClaim(inst, ctx, deps);
    // Shelved and offloaded: its room on the host is given back; unshelved, it is scheduled anew (below).
    if (inst.status?.phase === 'SHELVED_OFFLOADED' && inst.spec.shelved) return offloaded(inst, ctx, deps);
    if (inst.status?.host || inst.status?.phase === 'ERROR') return; // bound already (or unshelved before it left), or refused for good

    let spec: RequestSpec;
    try {
      spec = await requestSpecOf(client, inst, deps);
    } catch (e) {
      if (!(e instanceof Refused)) throw e;
      return fail(inst, ctx, e.reason, e.message, e.code);
    }
    const decision = decidePlacement(spec, req.namespace!, deps);
    if ('noValidHost' in decision) return fail(inst, ctx, 'NoValidHost', decision.noValidHost, 500);
    if ('overQuota' in decision) return fail(inst, ctx, 'QuotaExceeded', decision.overQuota, 403);
    try {
      if ('release' in decision) {
        ctx.log.info('gave back a claim an earlier instance of this name left', { host: decision.release });
        await deps.claims.claim(decision.release, spec.instance, null);
        return { requeueAfterMs: 1 }; // and now decide afresh
      }
      if (!decision.claimed) await deps.claims.claim(decision.host, spec.instance, spec.resources);
    } catch (e) {
      if (!isConflict(e)) throw e;
      // Someone else wrote that hypervisor (its agent's heartbeat, another replica): decide again on fresh state.
      ctx.log.debug('hypervisor changed while claiming; scheduling again', { host: 'host' in decision ? decision.host : decision.release });
      return { requeueAfterMs: CONFLICT_RETRY_MS };
    }
    return bind(inst, decision.host, spec.resources, ctx);
  };
}

/**
 * An offloaded instance leaves its host: the binding first (compare-and-swap, so an unshelve asked meanwhile
 * is not lost: it then spawns where it was), then its claim in that host's ledger. Each pass does what is left.
 */
async function offloaded(inst: Instance, ctx: ReconcileContext<Instance>, deps: SchedulingDeps): Promise<void> {
  const host = inst.status?.host;
  if (host) {
    await patchStatusChanges(ctx.client, INSTANCES, inst, { host: null, allocation: null, instanceName: null }, FIELD_MANAGER);
    ctx.log.info('shelved instance offloaded', { host });
    await ctx.events.record(inst, 'Normal', 'Offloaded', `Shelved: its room on hypervisor ${host} is free`);
  }
  const key = keyOf(inst);
  const claimed = claimHolder(deps.book.all(), key);
  if (claimed) await deps.claims.claim(claimed.metadata.name, key, null);
}

/** What the instance needs and where it may go, from its flavor, image, keypair and server group. */
async function requestSpecOf(client: KubeClient, inst: Instance, deps: SchedulingDeps): Promise<RequestSpec> {
  const ns = inst.metadata.namespace!;
  const flavor = deps.flavor(inst.spec.flavor) ?? (await client.get<Flavor>(FLAVORS, undefined, inst.spec.flavor));
  if (!flavor) throw new Refused('FlavorNotFound', `Flavor ${inst.spec.flavor} could not be found.`);
  // Booted from a volume, the root disk is the volume's: the host gives none of its own disk for it.
  const imageRef = inst.spec.image ? { namespace: inst.spec.image.namespace ?? ns, name: inst.spec.image.name } : undefined;
  const image = imageRef ? bootableImage(deps.image(imageRef.namespace, imageRef.name) ?? (await client.get<Image>(IMAGES, imageRef.namespace, imageRef.name)), imageRef, ns) : undefined;
  const resources = resourcesOf(flavor.spec, image ? rootDiskGiB(flavorSnapshot(flavor), image) : 0);
  if (inst.spec.keypair && !(await client.get<Keypair>(KEYPAIRS, ns, inst.spec.keypair))) throw new Refused('KeypairNotFound', `Invalid key_name provided: keypair ${inst.spec.keypair} could not be found.`);
  if (inst.spec.userData !== undefined && !decodeUserData(inst.spec.userData)) throw new Refused('InvalidUserData', 'User data needs to be valid base 64.');

  let serverGroup: RequestSpec['serverGroup'];
  if (inst.spec.serverGroup) {
    const group = await client.get<ServerGroup>(SERVER_GROUPS, ns, inst.spec.serverGroup);
    if (!group) throw new Refused('ServerGroupNotFound', `Server group ${inst.spec.serverGroup} could not be found.`);
    const members = (await client.list<Instance>(INSTANCES, ns)).items.filter((i) => i.spec.serverGroup === group.metadata.name && i.metadata.name !== inst.metadata.name && i.status?.host);
    serverGroup = { policy: group.spec.policy, maxServerPerHost: group.spec.rules?.maxServerPerHost, memberHosts: members.map((m) => m.status!.host!) };
  }
  return { instance: keyOf(inst), resources, availabilityZone: inst.spec.availabilityZone, imageProperties: image?.spec.properties ?? {}, serverGroup, forcedHost: inst.spec.host };
}

async function bind(inst: Instance, host: string, allocation: Resources, ctx: ReconcileContext<Instance>): Promise<void> {
  // Until it is bound no one else writes an instance's status (its agent starts after): no precondition,
  // so a cached copy a write behind (the finalizer just added) binds at once instead of conflicting.
  const unshelving = inst.status?.phase === 'SHELVED_OFFLOADED';
  await patchStatusChanges(ctx.client, INSTANCES, inst, {
    phase: unshelving ? 'SHELVED_OFFLOADED' : 'BUILD',
    host,
    allocation,
    taskState: unshelving ? 'unshelving' : 'spawning',
    serverId: inst.metadata.uid,
    conditions: markReconciling(inst.status?.conditions, inst.metadata.generation, 'Scheduled', `bound to hypervisor ${host}`),
  }, FIELD_MANAGER, { precondition: false });
  ctx.log.info('instance scheduled', { host });
  ctx.events.recordInBackground(inst, 'Normal', 'Scheduled', `Bound to hypervisor ${host}`); // best-effort, never slowing placements
}

async function fail(inst: Instance, ctx: ReconcileContext<Instance>, reason: string, message: string, code: number): Promise<void> {
  // Unbound, no one else writes its status either (see bind): no precondition, so a cached copy a write behind
  // is refused at once instead of conflicting and retrying.
  await patchStatusChanges(ctx.client, INSTANCES, inst, {
    phase: 'ERROR',
    taskState: null,
    serverId: inst.metadata.uid,
    fault: { code, message, created: now() },
    conditions: markStalled(inst.status?.conditions, inst.metadata.generation, reason, message),
  }, FIELD_MANAGER, { precondition: false });
  ctx.log.warn('instance refused', { reason, message });
  await ctx.events.record(inst, 'Warning', reason, message);
}

/**
 * Gives the instance's claim back to its host's ledger, then lets the instance go. An instance on a host that
 * no longer exists (its Hypervisor deleted: the node is gone for good) has no agent to release its guest, so
 * its ports and volumes are given back and its guest finalizer removed here, as Kubernetes collects the pods
 * of a deleted node. One that no agent holds (never placed, or shelved and offloaded) has its ports and volumes
 * given back here too, as Nova's API deletes such a server locally.
 */
async function releaseClaim(inst: Instance, ctx: ReconcileContext<Instance>, deps: SchedulingDeps): Promise<void> {
  const host = inst.status?.host;
  if (host && hasFinalizer(inst, GUEST_FINALIZER) && !deps.book.get(host) && !(await ctx.client.get<Hypervisor>(HYPERVISORS, undefined, host))) {
    await releasePortsAndVolumes(ctx.client, inst, FIELD_MANAGER);
    const orphaned = removeFinalizerPatch(inst, GUEST_FINALIZER);
    inst = await ctx.client.patch<Instance>(INSTANCES, inst.metadata.namespace, inst.metadata.name, orphaned, FIELD_MANAGER);
    ctx.log.warn('released the guest of an instance whose host is gone', { host });
  }
  const key = keyOf(inst);
  const claimed = claimHolder(deps.book.all(), key);
  if (claimed) await deps.claims.claim(claimed.metadata.name, key, null);
  // Its agent, if any, gives them back as it tears the guest down; then (or with none) it is this controller's turn.
  if (hasFinalizer(inst, PORTS_AND_VOLUMES_FINALIZER) && !hasFinalizer(inst, GUEST_FINALIZER)) {
    await releasePortsAndVolumes(ctx.client, inst, FIELD_MANAGER);
    inst = await ctx.client.patch<Instance>(INSTANCES, inst.metadata.namespace, inst.metadata.name, removeFinalizerPatch(inst, PORTS_AND_VOLUMES_FINALIZER), FIELD_MANAGER);
    ctx.log.info('ports and volumes of the deleted instance given back');
  }
  const legacy = removeFinalizerPatch(inst, ALLOCATION_FINALIZER);
  if (legacy) await ctx.client.patch(INSTANCES, inst.metadata.namespace, inst.metadata.name, legacy, FIELD_MANAGER);
}

/** The claim of an instance that is gone, given back. */
async function releaseOrphan(key: string, ctx: ReconcileContext<Instance>, deps: SchedulingDeps): Promise<void> {
  const claimed = claimHolder(deps.book.all(), key);
  if (!claimed) return;
  await deps.claims.claim(claimed.metadata.name, key, null);
  ctx.log.info('gave back the claim of a deleted instance', { host: claimed.metadata.name });
}
