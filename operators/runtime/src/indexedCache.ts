/**
 * One kind's informer cache for an API's read side, with an index by the ID the API shows (rebuilt lazily
 * after a change), and ways for a writer to wait until the cache holds its write.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { KubeClient, ResourceRef } from './client.js';
import { selfHealingInformer, type SelfHealingInformer } from './informer.js';
import type { Logger } from './logger.js';
import { displayNameOf } from './naming.js';
import { isAtLeast, waitUntil } from './waiting.js';

export interface IndexedCacheOptions<T> {
  /** The API's ID of an object (a UUID, its name, …). */
  idOf: (o: T) => string;
  /** Watch only this namespace. */
  namespace?: string;
  /** Objects being deleted still count (say, a server shown as deleting until its guest is gone). */
  showDeleting?: boolean;
}

export class IndexedCache<T extends KubernetesObject> {
  private readonly watched: SelfHealingInformer<T>;
  /** Counts changes: each index is rebuilt, lazily, when it was built at an older count. */
  private changes = 0;
  private index = new Map<string, T>();
  private indexBuilt = -1;
  private names = new Map<string, T[]>();
  private namesBuilt = -1;

  constructor(kc: KubeConfig, client: KubeClient, ref: ResourceRef, log: Logger, private readonly opts: IndexedCacheOptions<T>) {
    this.watched = selfHealingInformer<T>(kc, client, ref, { namespace: opts.namespace, log, onChange: () => void this.changes++ });
  }

  /**
   * A lookup by a key read off each object (say, an offer it carries), rebuilt lazily after a change: `keyOf`
   * runs once per object per change, not once per object per request. Objects being deleted are left out
   * unless they are shown.
   */
  indexBy<V>(keyOf: (o: T) => { key: string; value: V } | undefined): (key: string) => { object: T; value: V } | undefined {
    let built = -1;
    let index = new Map<string, { object: T; value: V }>();
    return (key) => {
      if (built !== this.changes) {
        built = this.changes;
        index = new Map();
        for (const o of this.list()) {
          const k = keyOf(o);
          if (k) index.set(k.key, { object: o, value: k.value });
        }
      }
      return index.get(key);
    };
  }

  start = () => this.watched.start();
  stop = () => this.watched.stop();

  /** Every object (but those being deleted, unless they are shown). */
  list(namespace?: string): T[] {
    return this.watched.informer.list(namespace).filter((o) => this.opts.showDeleting || !o.metadata?.deletionTimestamp);
  }

  byId(id: string): T | undefined {
    if (this.indexBuilt !== this.changes) {
      this.indexBuilt = this.changes;
      // Two objects may share an ID for a moment (one moving to another namespace): the one not being deleted wins.
      this.index = new Map();
      for (const o of this.watched.informer.list()) {
        const id = this.opts.idOf(o);
        const held = this.index.get(id);
        if (!held || (held.metadata?.deletionTimestamp && !o.metadata?.deletionTimestamp)) this.index.set(id, o);
      }
    }
    const o = this.index.get(id);
    return o && (this.opts.showDeleting || !o.metadata?.deletionTimestamp) ? o : undefined;
  }

  /** The objects whose OpenStack name (spec.displayName, else the object name) is `display`, in `namespace` if given. */
  byDisplayName(display: string, namespace?: string): T[] {
    if (this.namesBuilt !== this.changes) {
      this.namesBuilt = this.changes;
      this.names = new Map();
      for (const o of this.watched.informer.list()) {
        const n = displayNameOf(o as { metadata?: { name?: string }; spec?: unknown });
        this.names.set(n, [...(this.names.get(n) ?? []), o]);
      }
    }
    return (this.names.get(display) ?? []).filter((o) => (namespace === undefined || o.metadata?.namespace === namespace) && (this.opts.showDeleting || !o.metadata?.deletionTimestamp));
  }

  get(name: string, namespace?: string): T | undefined {
    return this.watched.informer.get(name, namespace);
  }

  /** Waits until the cache holds this write or a later one. */
  seen(written: T): Promise<boolean> {
    return waitUntil(() => isAtLeast(this.get(written.metadata!.name!, written.metadata?.namespace)?.metadata?.resourceVersion, written.metadata?.resourceVersion));
  }

  /**
   * Waits until the cache holds this write or a later one and `check` holds for it: an older copy, which may
   * look settled on what the write changed, is not asked.
   */
  untilWritten(written: T, check: (cached: T) => boolean, timeoutMs = 10_000): Promise<boolean> {
    return waitUntil(() => {
      const cached = this.get(written.metadata!.name!, written.metadata?.namespace);
      return !!cached && isAtLeast(cached.metadata?.resourceVersion, written.metadata?.resourceVersion) && check(cached);
    }, timeoutMs);
  }

  /** Waits until `check` holds for the cached object (undefined when it is gone). */
  until(o: T, check: (cached: T | undefined) => boolean, timeoutMs = 10_000): Promise<boolean> {
    return waitUntil(() => check(this.get(o.metadata!.name!, o.metadata?.namespace)), timeoutMs);
  }
}
