/**
 * The one naming model of every Stratus kind. An OpenStack name is free text and may change; a Kubernetes
 * object name is a DNS label derived once, when the object is made, and never changes. The OpenStack name
 * lives in `spec.displayName`; an object without one (made with kubectl) is named by its object name.
 * An OpenStack ID is the object's UID without dashes (see each service's `openstackId`).
 *
 * Where OpenStack wants a name unique (project and user names in a domain, flavor names, a user's keypair
 * names), a *name claim* holds it: a ConfigMap whose object name is a digest of (kind, scope, name), so the
 * API server's own create, atomic by construction, decides who has it — race-free across processes.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeApiError, isConflict, isNotFound, type KubeClient, type ResourceRef } from './client.js';
import { STALLED, findCondition, markStalled, type Condition } from './conditions.js';
import type { ReconcileContext, Result } from './controller.js';
import { SYSTEM_NAMESPACE } from './crd.js';
import { patchStatus } from './status.js';

/** RFC 1123 label: what a namespace and most object names must be. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_LABEL = 63;

/** The OpenStack name of an object: spec.displayName, else its object name. */
export function displayNameOf(o: { metadata?: { name?: string }; spec?: unknown }): string {
  const display = (o.spec as { displayName?: unknown } | undefined)?.displayName;
  return typeof display === 'string' ? display : (o.metadata?.name ?? '');
}

/** A readable DNS-label fragment of free text: accents folded, other characters to '-', at most `max`. */
export function slugOf(text: string, max = MAX_LABEL): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, max)
    .replace(/-+$/, '');
}

/**
 * The object name for a new object named `display`: the display name itself where it is a DNS label nobody
 * has `taken`, else its slug (or `fallback`, for text with nothing readable in ASCII) and a random suffix,
 * so the result is always a DNS label of at most 63 characters, known before the object is made.
 */
export function objectNameFor(display: string, taken: (name: string) => boolean, fallback = 'obj'): string {
  if (display.length <= MAX_LABEL && DNS_LABEL.test(display) && !taken(display)) return display;
  const base = slugOf(display, MAX_LABEL - SUFFIX_LENGTH - 1) || fallback;
  for (;;) {
    const name = `${base}-${randomSuffix()}`;
    if (!taken(name)) return name;
  }
}

/** Kubernetes's generateName alphabet: no vowels (no words), no look-alikes. */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const SUFFIX_LENGTH = 5;
const randomSuffix = () => Array.from(randomBytes(SUFFIX_LENGTH), (b) => SUFFIX_ALPHABET[b % SUFFIX_ALPHABET.length]).join('');

/** The spec.displayName field of a freely named kind, with the service's own length limit. */
export const displayNameField = (maxLength: number, what: string) => ({
  type: 'string',
  maxLength,
  description: `The ${what}'s OpenStack name: free text, may change; metadata.name when unset.`,
});

/** The printer column that shows the OpenStack name beside the object name. */
export const DISPLAY_NAME_COLUMN = { name: 'Display Name', type: 'string', jsonPath: '.spec.displayName' } as const;

/** What a unique name is unique within: a kind, a scope (a domain, a user; '' for global) and the name. */
export interface NameKey {
  kind: string;
  scope: string;
  name: string;
}

/** The object holding (or about to hold) a name. */
export interface NameOwner {
  resource: ResourceRef;
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; uid?: string; annotations?: Record<string, string> };
}

/** On an object made under a pending claim: the claim's token, so its reconciler knows the claim is its own. */
export const CLAIM_TOKEN_ANNOTATION = 'stratus.io/name-claim-token';

export type ClaimOutcome = { held: true } | { held: false; holder: string; pending: boolean };

/** A name taken by another object: the API answers 409 with this message. */
export class NameTaken extends Error {
  constructor(
    readonly key: NameKey,
    readonly holder: string,
  ) {
    super(`the ${key.kind} name "${key.name}"${key.scope ? ` (in ${key.scope})` : ''} is already taken by ${holder}`);
    this.name = 'NameTaken';
  }
}

const CONFIGMAPS: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', namespaced: true };
/** On a claim: which kind of name it holds; selects every claim. */
export const NAME_CLAIM_LABEL = 'stratus.io/name-claim';
/** On a claim: the UID of the object holding it ("pending" while that object is being made). */
export const CLAIMED_BY_LABEL = 'stratus.io/claimed-by';
const PENDING = 'pending';
/** A pending claim older than this was left by a writer that died between claiming and creating. */
const PENDING_EXPIRES_MS = 60_000;
const TAKEOVER_ATTEMPTS = 5;
/** How long a reconciler leaves an owner's claim on another name alone: a rename may be under way. */
const RENAME_SETTLES_MS = 60_000;

interface ClaimMap extends KubernetesObject {
  metadata: { name: string; namespace: string; uid?: string; resourceVersion?: string; creationTimestamp?: Date; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; blockOwnerDeletion?: boolean }> };
  data?: Record<string, string>;
}

/** The claim's object name: the kind, readable, and a digest of the whole key. */
export function claimNameOf(key: NameKey): string {
  const digest = createHash('sha256').update(`${key.kind}\0${key.scope}\0${key.name}`).digest('hex').slice(0, 40);
  return `name-${slugOf(key.kind, 16)}-${digest}`;
}

/** Claims live beside their owner (so garbage collection follows it), cluster-scoped owners' in stratus-system. */
const claimNamespaceOf = (owner: { resource: ResourceRef; metadata: { namespace?: string } }) => (owner.resource.namespaced ? owner.metadata.namespace! : SYSTEM_NAMESPACE);

/** Unique OpenStack names, held by claims; every writer (API or reconciler) goes through here. */
export class NameClaims {
  constructor(
    private readonly client: KubeClient,
    private readonly fieldManager: string,
  ) {}

  /**
   * Makes an object under a unique name: the name is claimed first (pending), the object made by `create`
   * (which puts the given annotations on it, so its reconciler recognises the pending claim as its own), then
   * the claim bound to it. A taken name throws NameTaken and makes nothing; a failed create frees the name.
   */
  async create<T extends KubernetesObject>(key: NameKey, owner: Omit<NameOwner, 'metadata'> & { metadata: { namespace?: string } }, create: (annotations: Record<string, string>) => Promise<T>): Promise<T> {
    const namespace = claimNamespaceOf(owner);
    const token = randomUUID();
    const outcome = await this.take(key, namespace, { token });
    if (!outcome.held) throw new NameTaken(key, outcome.holder);
    let made: T;
    try {
      made = await create({ [CLAIM_TOKEN_ANNOTATION]: token });
    } catch (e) {
      await this.dropPending(key, namespace, token);
      throw e;
    }
    await this.take(key, namespace, { owner: { ...owner, metadata: made.metadata as NameOwner['metadata'] }, token });
    return made;
  }

  /**
   * Holds `key` for an existing object (idempotent: a reconciler calls it on every pass). A claim held by an
   * object that is gone or being deleted, or pending for too long, is taken over.
   */
  claim(key: NameKey, owner: NameOwner): Promise<ClaimOutcome> {
    return this.take(key, claimNamespaceOf(owner), { owner });
  }

  /**
   * What a reconciler calls on every pass: holds the object's current name, and frees names it held before
   * (a rename whose writer died before freeing the old one). A claim younger than a minute is left alone,
   * since it may be a rename under way.
   */
  async ensure(key: NameKey, owner: NameOwner): Promise<ClaimOutcome> {
    const outcome = await this.claim(key, owner);
    if (outcome.held) await this.releaseOthers(owner, key, RENAME_SETTLES_MS);
    return outcome;
  }

  /**
   * Renames: holds the new key for `owner`, runs `write` (which changes the display name), then frees the
   * owner's other claims of this kind. A taken name throws NameTaken and writes nothing.
   */
  async rename<T>(key: NameKey, owner: NameOwner, write: () => Promise<T>): Promise<T> {
    const before = await this.heldBy(owner, key.kind);
    const outcome = await this.claim(key, owner);
    if (!outcome.held) throw new NameTaken(key, outcome.holder);
    let written: T;
    try {
      written = await write();
    } catch (e) {
      // Free the new name again, unless the owner already held it.
      if (!before.some((c) => c.metadata.name === claimNameOf(key))) await this.releaseOthers(owner, key, 0, (c) => c.metadata.name === claimNameOf(key)).catch(() => undefined);
      throw e;
    }
    await this.releaseOthers(owner, key, 0);
    return written;
  }

  /** Frees the claims of `keep`'s kind that `owner` holds for other names (older than `minAgeMs`), or those `which` picks. */
  private async releaseOthers(owner: NameOwner, keep: NameKey, minAgeMs: number, which?: (c: ClaimMap) => boolean): Promise<void> {
    const kept = claimNameOf(keep);
    const pick = which ?? ((c: ClaimMap) => c.metadata.name !== kept);
    for (const c of await this.heldBy(owner, keep.kind)) {
      if (!pick(c) || ageOf(c) < minAgeMs) continue;
      await this.deleteExactly(c);
    }
  }

  private async heldBy(owner: NameOwner, kind: string): Promise<ClaimMap[]> {
    const selector = `${CLAIMED_BY_LABEL}=${owner.metadata.uid},${NAME_CLAIM_LABEL}=${slugOf(kind, 63)}`;
    return (await this.client.list<ClaimMap>(CONFIGMAPS, claimNamespaceOf(owner), selector)).items;
  }

  private async take(key: NameKey, namespace: string, by: { owner?: NameOwner; token?: string }): Promise<ClaimOutcome> {
    const token = by.token ?? by.owner?.metadata.annotations?.[CLAIM_TOKEN_ANNOTATION];
    const body = claimBody(key, namespace, { ...by, token });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.create(CONFIGMAPS, body, this.fieldManager);
        return { held: true };
      } catch (e) {
        if (!(e instanceof KubeApiError && e.code === 409)) throw e;
      }
      const current = await this.client.get<ClaimMap>(CONFIGMAPS, namespace, body.metadata.name);
      if (!current) continue; // freed meanwhile: try again
      const d = current.data ?? {};
      // Ours: bound to this owner, or pending with the token this writer (or the owner's annotation) has.
      const mine = (by.owner?.metadata.uid && d.ownerUid === by.owner.metadata.uid) || (token && !d.ownerUid && d.token === token);
      if (mine && (d.ownerUid || !by.owner)) return { held: true };
      if (!mine && !(await this.abandoned(current))) return { held: false, holder: d.ownerUid ? `${d.ownerKind} ${d.ownerNamespace ? `${d.ownerNamespace}/` : ''}${d.ownerName}` : 'an object being created', pending: !d.ownerUid };
      // Ours to bind (pending with our token), or abandoned: replace it, only if nobody changed it meanwhile.
      try {
        await this.client.replace(CONFIGMAPS, { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } }, this.fieldManager);
        return { held: true };
      } catch (e) {
        if (!(isConflict(e) || isNotFound(e)) || attempt >= TAKEOVER_ATTEMPTS) throw e;
      }
    }
  }

  /** A claim nobody holds any more: its owner is gone or being deleted, or it was left pending. */
  private async abandoned(c: ClaimMap): Promise<boolean> {
    const d = c.data ?? {};
    if (!d.ownerUid) return ageOf(c) > PENDING_EXPIRES_MS;
    const [group, version, plural] = (d.ownerResource ?? '').split('/');
    const resource: ResourceRef = { group: group ?? '', version: version ?? 'v1', plural: plural ?? '', namespaced: !!d.ownerNamespace };
    const owner = await this.client.get(resource, d.ownerNamespace || undefined, d.ownerName ?? '');
    return !owner || owner.metadata?.uid !== d.ownerUid || !!owner.metadata?.deletionTimestamp;
  }

  private async dropPending(key: NameKey, namespace: string, token: string): Promise<void> {
    const current = await this.client.get<ClaimMap>(CONFIGMAPS, namespace, claimNameOf(key));
    if (current?.data?.token === token && !current.data.ownerUid) await this.deleteExactly(current);
  }

  /** Deletes this version of a claim only, so a claim re-taken meanwhile stays. */
  private async deleteExactly(c: ClaimMap): Promise<void> {
    try {
      await this.client.request('DELETE', `/api/v1/namespaces/${c.metadata.namespace}/configmaps/${c.metadata.name}`, {
        kind: 'DeleteOptions',
        apiVersion: 'v1',
        preconditions: { uid: c.metadata.uid, resourceVersion: c.metadata.resourceVersion },
      });
    } catch (e) {
      if (!(isNotFound(e) || isConflict(e))) throw e;
    }
  }
}

/** Since when the claim is held as it is now (a takeover keeps the object, so not its creationTimestamp). */
const ageOf = (c: ClaimMap) => Date.now() - Date.parse(c.data?.claimedAt ?? String(c.metadata.creationTimestamp ?? 0));

function claimBody(key: NameKey, namespace: string, by: { owner?: NameOwner; token?: string }): ClaimMap {
  const o = by.owner;
  const uid = o?.metadata.uid;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: claimNameOf(key),
      namespace,
      labels: { [NAME_CLAIM_LABEL]: slugOf(key.kind, 63), [CLAIMED_BY_LABEL]: uid ?? PENDING },
      annotations: { 'stratus.io/claimed-name': key.name },
      // Garbage collection frees the name with its owner.
      ...(o && uid ? { ownerReferences: [{ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name!, uid, blockOwnerDeletion: false }] } : {}),
    },
    data: {
      kind: key.kind,
      scope: key.scope,
      name: key.name,
      claimedAt: new Date().toISOString(),
      ...(by.token ? { token: by.token } : {}),
      ...(o && uid
        ? { ownerResource: `${o.resource.group}/${o.resource.version}/${o.resource.plural}`, ownerKind: o.kind, ownerName: o.metadata.name!, ownerNamespace: o.metadata.namespace ?? '', ownerUid: uid }
        : {}),
    },
  };
}

/** How soon a reconciler looks again at a name pending for another writer, or held by another object. */
const PENDING_RECHECK_MS = 1000;
const CONFLICT_RECHECK_MS = 30_000;

/**
 * A reconciler's side of a unique name, called on every pass before it acts: holds the object's name; when
 * another object has it, marks this one Stalled (NameConflict, with an event naming the holder) and returns
 * the requeue to return, so the duplicate gets nothing made for it. Returns undefined when the name is held.
 */
export async function holdUniqueName<T extends KubernetesObject & { status?: { phase?: string; conditions?: Condition[] } }>(
  ctx: ReconcileContext<T>,
  o: T,
  key: NameKey,
  owner: NameOwner,
  fieldManager: string,
  errorPhase?: string,
): Promise<Result | undefined> {
  const outcome = await new NameClaims(ctx.client, fieldManager).ensure(key, owner);
  if (outcome.held) return undefined;
  if (outcome.pending) return { requeueAfterMs: PENDING_RECHECK_MS };
  const message = `the ${key.kind} name "${key.name}" is already used by ${outcome.holder}; set another spec.displayName`;
  if (findCondition(o.status?.conditions, STALLED)?.reason !== 'NameConflict') await ctx.events.record(o, 'Warning', 'NameConflict', message);
  const change = { ...(errorPhase ? { phase: errorPhase } : {}), conditions: markStalled(o.status?.conditions, o.metadata?.generation, 'NameConflict', message) };
  await patchStatus(ctx.client, owner.resource, o, change, fieldManager);
  return { requeueAfterMs: CONFLICT_RECHECK_MS };
}
