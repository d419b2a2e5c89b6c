/**
 * The object store: every object in memory (with its JSON kept, so LIST and watch never re-serialize),
 * written through to durable persistence, with one global revision sequence like etcd's and a bounded
 * history of changes that watches resume from.
 */
import type { KObject, WatchEventType } from './types.js';
import type { Persistence } from './persistence.js';

export interface Stored {
  readonly obj: KObject;
  readonly json: string;
  readonly revision: number;
}

export interface ChangeEvent {
  type: Exclude<WatchEventType, 'BOOKMARK' | 'ERROR'>;
  storageKey: string;
  revision: number;
  stored: Stored;
  /** The object as it was before this change (for MODIFIED and DELETED). */
  previous?: Stored;
}

export type ChangeListener = (event: ChangeEvent) => void;

const itemKey = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

export class Store {
  private readonly buckets = new Map<string, Map<string, Stored>>();
  private readonly history: ChangeEvent[] = [];
  private historyStart = 0;
  private revision: number;
  /** Revisions at or below this are not in the history (before a restart, or trimmed). */
  private compactedRevision: number;
  private readonly listeners = new Map<string, Set<ChangeListener>>();
  private readonly anyListeners = new Set<ChangeListener>();

  constructor(
    private readonly persistence: Persistence,
    private readonly historyLimit = 100_000,
  ) {
    this.revision = persistence.loadRevision();
    for (const row of persistence.loadAll()) {
      const obj = JSON.parse(row.json) as KObject;
      this.bucket(row.storageKey).set(itemKey(row.namespace || undefined, row.name), {
        obj,
        json: row.json,
        revision: Number(obj.metadata.resourceVersion ?? 0),
      });
    }
    this.compactedRevision = this.revision;
  }

  currentRevision(): number {
    return this.revision;
  }

  /** The oldest revision a watch can still resume from. */
  oldestResumableRevision(): number {
    return this.compactedRevision;
  }

  get(storageKey: string, namespace: string | undefined, name: string): Stored | undefined {
    return this.buckets.get(storageKey)?.get(itemKey(namespace, name));
  }

  /** All objects of a kind, optionally in one namespace, in a stable (namespace, name) order. */
  list(storageKey: string, namespace?: string): Stored[] {
    const bucket = this.buckets.get(storageKey);
    if (!bucket) return [];
    const out: Stored[] = [];
    const prefix = namespace !== undefined ? `${namespace}/` : undefined;
    for (const [key, stored] of bucket) if (!prefix || key.startsWith(prefix)) out.push(stored);
    return out.sort((a, b) => compareKeys(a.obj, b.obj));
  }

  storageKeys(): string[] {
    return [...this.buckets.keys()];
  }

  /**
   * Writes an object (create or update): assigns the next revision as its resourceVersion, persists it,
   * records the change and tells watchers. The object must not be mutated afterwards.
   */
  put(storageKey: string, obj: KObject): Stored {
    const key = itemKey(obj.metadata.namespace, obj.metadata.name!);
    const bucket = this.bucket(storageKey);
    const previous = bucket.get(key);
    const revision = ++this.revision;
    obj.metadata.resourceVersion = String(revision);
    const stored: Stored = { obj, json: JSON.stringify(obj), revision };
    this.persistence.put(
      { storageKey, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name!, json: stored.json },
      revision,
    );
    bucket.set(key, stored);
    this.record({ type: previous ? 'MODIFIED' : 'ADDED', storageKey, revision, stored, previous });
    return stored;
  }

  /** Removes an object for good; watchers see it with a fresh resourceVersion, as Kubernetes does. */
  remove(storageKey: string, namespace: string | undefined, name: string): Stored | undefined {
    const bucket = this.buckets.get(storageKey);
    const key = itemKey(namespace, name);
    const previous = bucket?.get(key);
    if (!bucket || !previous) return undefined;
    const revision = ++this.revision;
    this.persistence.remove(storageKey, namespace ?? '', name, revision);
    bucket.delete(key);
    const obj: KObject = { ...previous.obj, metadata: { ...previous.obj.metadata, resourceVersion: String(revision) } };
    const stored: Stored = { obj, json: JSON.stringify(obj), revision };
    this.record({ type: 'DELETED', storageKey, revision, stored, previous });
    return stored;
  }

  /** Changes to one kind after `revision`, or undefined when that revision is no longer in the history. */
  changesSince(storageKey: string, revision: number): ChangeEvent[] | undefined {
    if (revision < this.compactedRevision) return undefined;
    const out: ChangeEvent[] = [];
    // The history is ordered by revision: binary-search the first event after `revision`.
    let lo = this.historyStart;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid].revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.history.length; i++) if (this.history[i].storageKey === storageKey) out.push(this.history[i]);
    return out;
  }

  /** Listens to changes of one kind; returns the function that stops listening. */
  subscribe(storageKey: string, listener: ChangeListener): () => void {
    let set = this.listeners.get(storageKey);
    if (!set) this.listeners.set(storageKey, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  /** Listens to every change (controllers inside the server: garbage collection, namespaces). */
  subscribeAll(listener: ChangeListener): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  close(): Promise<void> {
    return this.persistence.close();
  }

  private bucket(storageKey: string): Map<string, Stored> {
    let bucket = this.buckets.get(storageKey);
    if (!bucket) this.buckets.set(storageKey, (bucket = new Map()));
    return bucket;
  }

  private record(event: ChangeEvent): void {
    this.history.push(event);
    if (this.history.length - this.historyStart > this.historyLimit) {
      this.compactedRevision = this.history[this.historyStart].revision;
      this.historyStart++;
      // Drop the trimmed head in chunks, so trimming stays amortised O(1).
      if (this.historyStart > 4096) {
        this.history.splice(0, this.historyStart);
        this.historyStart = 0;
      }
    }
    for (const l of this.listeners.get(event.storageKey) ?? []) l(event);
    for (const l of this.anyListeners) l(event);
  }
}

function compareKeys(a: KObject, b: KObject): number {
  const na = a.metadata.namespace ?? '';
  const nb = b.metadata.namespace ?? '';
  if (na !== nb) return na < nb ? -1 : 1;
  const ma = a.metadata.name ?? '';
  const mb = b.metadata.name ?? '';
  return ma < mb ? -1 : ma > mb ? 1 : 0;
}
