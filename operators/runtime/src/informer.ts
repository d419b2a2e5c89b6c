/**
 * A client-node informer that keeps itself running: client-node stops an informer on any error but 410 Gone,
 * so this one starts again, backing off, until it is stopped. Its cache is the informer's own ObjectCache.
 */
import { ListWatch, Watch, type Informer, type KubeConfig, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import { resourcePath, type KubeClient, type ResourceRef } from './client.js';
import type { Logger } from './logger.js';

export type CachedInformer<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

export interface SelfHealingInformer<T extends KubernetesObject> {
  informer: CachedInformer<T>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function selfHealingInformer<T extends KubernetesObject>(
  kc: KubeConfig,
  client: KubeClient,
  ref: ResourceRef,
  opts: { namespace?: string; labelSelector?: string; fieldSelector?: string; log: Logger; onChange?: (o: T) => void },
): SelfHealingInformer<T> {
  const path = resourcePath(ref, opts.namespace);
  const params = new URLSearchParams();
  if (opts.labelSelector) params.set('labelSelector', opts.labelSelector);
  if (opts.fieldSelector) params.set('fieldSelector', opts.fieldSelector);
  const query = params.size ? `?${params}` : '';
  // ListWatch rather than makeInformer, which cannot pass a field selector to the watch.
  const informer = new ListWatch<T>(path, new Watch(kc), () => client.request('GET', path + query), false, opts.labelSelector, opts.fieldSelector) as CachedInformer<T>;
  if (opts.onChange) for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, opts.onChange);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let delay = 500;
  informer.on('connect', () => (delay = 500));
  informer.on('error', (err: unknown) => {
    if (stopped) return;
    opts.log.warn('watch failed; restarting', { path, error: String(err), retryMs: delay });
    timer = setTimeout(() => {
      timer = undefined;
      if (!stopped) informer.start().catch(() => {});
    }, delay);
    delay = Math.min(delay * 2, 30_000);
  });
  // Idempotent, so that several controllers can share one informer and each start and stop it.
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  return {
    informer,
    start: () => (starting ??= informer.start()),
    stop: () =>
      (stopping ??= (async () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        await informer.stop();
      })()),
  };
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/**
 * One informer per resource and selector for all of a process's controllers and caches (controller-runtime's
 * shared cache): every watcher of the same objects costs the API server one more serialisation and this process
 * one more parse of each change, so they share one watch and one cache, each adding its own handlers.
 */
export class SharedInformers {
  private readonly byKey = new Map<string, SelfHealingInformer<KubernetesObject>>();

  constructor(
    private readonly kc: KubeConfig,
    private readonly client: KubeClient,
    private readonly log: Logger,
  ) {}

  get<T extends KubernetesObject>(ref: ResourceRef, opts: InformerOptions = {}): SelfHealingInformer<T> {
    const key = JSON.stringify([ref.group, ref.version, ref.plural, opts.namespace ?? '', opts.labelSelector ?? '', opts.fieldSelector ?? '']);
    let shared = this.byKey.get(key);
    if (!shared) this.byKey.set(key, (shared = selfHealingInformer(this.kc, this.client, ref, { ...opts, log: this.log }) as unknown as SelfHealingInformer<KubernetesObject>));
    return shared as unknown as SelfHealingInformer<T>;
  }

  /** Stops every informer (each stops once, whoever asks first). */
  async stop(): Promise<void> {
    await Promise.all([...this.byKey.values()].map((i) => i.stop()));
  }
}
