/**
 * One controller per kind: an informer keeps a local cache and feeds keys to a work queue; workers call the
 * reconciler with one key at a time. The reconciler returns a requeue delay or throws; it never loops itself.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { isConflict, type KubeClient, type ResourceRef } from './client.js';
import { selfHealingInformer, type CachedInformer, type InformerOptions, type SelfHealingInformer } from './informer.js';
import type { EventRecorder } from './events.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { WorkQueue } from './workqueue.js';

export interface Request {
  namespace?: string;
  name: string;
}

export interface Result {
  /** Reconcile this key again after this long even without a change (polling external state). */
  requeueAfterMs?: number;
}

export interface ReconcileContext<T extends KubernetesObject> {
  client: KubeClient;
  events: EventRecorder;
  /** A logger whose lines carry this object's namespace and name. */
  log: Logger;
  /** The object from the informer cache: cheap, possibly a moment behind the server. */
  cached(): T | undefined;
}

export type Reconciler<T extends KubernetesObject> = (req: Request, ctx: ReconcileContext<T>) => Promise<Result | void>;

export interface ControllerSpec<T extends KubernetesObject> {
  name: string;
  resource: ResourceRef;
  reconcile: Reconciler<T>;
  workers?: number;
  /** Watch only this namespace (default: all). */
  namespace?: string;
  /** Watch only primaries matching this field selector (say, `status.host=node-1` for a node agent). */
  fieldSelector?: string;
  /** Kinds whose changes re-queue the owner named in their controller ownerReference. */
  owns?: Array<ResourceRef & { ownerKind: string }>;
  /**
   * Other kinds whose changes matter to some primaries, found by `map` (say, the Users whose password a
   * Secret holds). `map` gets the changed object and the primaries' cache.
   */
  watches?: Array<{ resource: ResourceRef; namespace?: string; map: (changed: KubernetesObject, primaries: PrimaryCache<T>) => Request[] }>;
}

/** The controller's primaries as its informer holds them. */
export interface PrimaryCache<T extends KubernetesObject> {
  list(): readonly T[];
  get(name: string, namespace?: string): T | undefined;
}

/** Where a controller gets its informers: its own, or ones shared with the process's other controllers. */
export type InformerSource = <O extends KubernetesObject>(ref: ResourceRef, opts: InformerOptions) => SelfHealingInformer<O>;

export const keyOf = (req: Request) => (req.namespace ? `${req.namespace}/${req.name}` : req.name);

export function requestOf(key: string): Request {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export class Controller<T extends KubernetesObject> {
  readonly queue = new WorkQueue();
  private informers: Array<SelfHealingInformer<KubernetesObject>> = [];
  private readonly primary: CachedInformer<T>;
  private workers: Promise<void>[] = [];
  private readonly informerFor: InformerSource;

  constructor(
    readonly spec: ControllerSpec<T>,
    kc: KubeConfig,
    client: KubeClient,
    private readonly events: EventRecorder,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    informers?: InformerSource,
  ) {
    this.client = client;
    this.informerFor = informers ?? ((ref, opts) => selfHealingInformer(kc, client, ref, { ...opts, log: log.child({ controller: spec.name }) }));
    // Handlers are added here, before any informer starts, so that a shared one's first list reaches them all.
    const enqueue = (o: KubernetesObject) => this.queue.add(keyOf({ namespace: o.metadata?.namespace, name: o.metadata!.name! }));
    this.primary = this.watch<T>(spec.resource, enqueue, spec.namespace, spec.fieldSelector);
    for (const owned of spec.owns ?? [])
      this.watch(owned, (o) => {
        const owner = o.metadata?.ownerReferences?.find((r) => r.controller && r.kind === owned.ownerKind);
        if (owner) this.queue.add(keyOf({ namespace: spec.resource.namespaced ? o.metadata?.namespace : undefined, name: owner.name }));
      });
    const primaries: PrimaryCache<T> = { list: () => this.primary.list(), get: (name, namespace) => this.primary.get(name, namespace) };
    for (const w of spec.watches ?? [])
      this.watch(w.resource, (o) => {
        for (const req of w.map(o, primaries)) this.queue.add(keyOf(req));
      }, w.namespace);
  }

  private readonly client: KubeClient;

  /** Starts the informers and workers; resolves once the first list is in the cache. */
  async start(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
    for (let i = 0; i < (this.spec.workers ?? 2); i++) this.workers.push(this.work());
  }

  /** Every primary object in the informer cache. */
  cachedObjects(): readonly T[] {
    return this.primary.list();
  }

  /** Asks for a reconcile of this object. */
  enqueue(req: Request): void {
    this.queue.add(keyOf(req));
  }

  /** Stops taking new work and waits for reconciles in flight to finish. */
  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
    this.queue.shutDown();
    await Promise.all(this.workers);
  }

  private watch<O extends KubernetesObject>(r: ResourceRef, onChange: (o: O) => void, namespace = this.spec.namespace, fieldSelector?: string): CachedInformer<O> {
    const watched = this.informerFor<O>(r, { namespace, fieldSelector });
    for (const verb of ['add', 'update', 'delete'] as const) watched.informer.on(verb, onChange);
    this.informers.push(watched as unknown as SelfHealingInformer<KubernetesObject>);
    return watched.informer;
  }

  private async work(): Promise<void> {
    const { name } = this.spec;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.metrics.queueDepth.set({ controller: name }, this.queue.length);
      const req = requestOf(key);
      const log = this.log.child({ controller: name, namespace: req.namespace, name: req.name });
      const end = this.metrics.reconcileSeconds.startTimer({ controller: name });
      try {
        const result = await this.spec.reconcile(req, {
          client: this.client,
          events: this.events,
          log,
          cached: () => this.primary.get(req.name, req.namespace),
        });
        this.queue.forget(key);
        this.metrics.reconcileTotal.inc({ controller: name, result: result?.requeueAfterMs ? 'requeue' : 'success' });
        if (result?.requeueAfterMs) this.queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        const retryMs = this.queue.addRateLimited(key);
        this.metrics.reconcileTotal.inc({ controller: name, result: isConflict(err) ? 'conflict' : 'error' });
        // A conflict is another writer getting there first: expected, and the retry reads afresh.
        if (isConflict(err)) log.debug('conflict; reconciling again on fresh state', { error: (err as Error).message, retryMs });
        else log.error('reconcile failed', { error: err instanceof Error ? err.message : String(err), retryMs });
      } finally {
        end();
        this.queue.done(key);
      }
    }
  }
}
