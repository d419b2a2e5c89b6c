/**
 * Controllers that kube-controller-manager and apiextensions run in a real cluster, here inside the server:
 * ownerReference garbage collection, namespace termination and CRD establishment/cleanup. Each works from
 * the store's change stream through a de-duplicating queue, so a burst of changes is handled once.
 */
import { CRD_STORAGE_KEY, NAMESPACE_STORAGE_KEY } from './builtin.js';
import { isApiError } from './errors.js';
import { establishedStatus, type Registry } from './registry.js';
import { FOREGROUND_FINALIZER, NAMESPACE_FINALIZER, ORPHAN_FINALIZER, timestamp, type Resources } from './resources.js';
import type { ChangeEvent, Store } from './store.js';
import type { KObject } from './types.js';

export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

interface ObjectRef {
  storageKey: string;
  namespace?: string;
  name: string;
}

const refKey = (r: ObjectRef) => `${r.storageKey}|${r.namespace ?? ''}|${r.name}`;
const parseRefKey = (k: string): ObjectRef => {
  const [storageKey, namespace, name] = k.split('|');
  return { storageKey, namespace: namespace || undefined, name };
};

export class Controllers {
  private readonly byUid = new Map<string, ObjectRef>();
  private readonly dependentsOf = new Map<string, Set<string>>();
  private readonly pending = new Set<string>();
  private scheduled = false;
  private stopped = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly resources: Resources,
    private readonly log: (msg: string, meta?: Record<string, unknown>) => void = () => {},
  ) {
    for (const key of store.storageKeys()) for (const s of store.list(key)) this.index(key, s.obj, undefined);
    for (const s of store.list(CRD_STORAGE_KEY)) this.registerCrd(s.obj);
    this.unsubscribe = store.subscribeAll((e) => this.onChange(e));
    // Work left over from before a restart: terminating objects, orphans, unestablished CRDs.
    for (const key of store.storageKeys()) for (const s of store.list(key)) this.enqueueFor(key, s.obj);
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
  }

  /** Resolves once the queue is empty (tests and graceful shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size || this.scheduled) await new Promise((r) => setImmediate(r));
  }

  private onChange(e: ChangeEvent): void {
    const obj = e.stored.obj;
    this.index(e.storageKey, e.type === 'DELETED' ? undefined : obj, e.previous?.obj);
    if (e.storageKey === CRD_STORAGE_KEY) {
      if (e.type === 'DELETED') this.registry.removeCrd(obj.metadata.name!);
      // Registered at once, so the next request can already use the new kind.
      else this.registerCrd(obj);
    }
    if (e.type === 'DELETED') {
      for (const dep of this.dependentsOf.get(obj.metadata.uid!) ?? []) this.enqueue(`orphaned:${dep}`);
      for (const owner of obj.metadata.ownerReferences ?? []) {
        const ref = this.byUid.get(owner.uid);
        if (ref) this.enqueue(`terminating:${refKey(ref)}`);
      }
      if (obj.metadata.namespace) this.enqueue(`terminating:${refKey({ storageKey: NAMESPACE_STORAGE_KEY, name: obj.metadata.namespace })}`);
      const crd = this.registry.storageType(e.storageKey)?.crdName;
      if (crd) this.enqueue(`terminating:${refKey({ storageKey: CRD_STORAGE_KEY, name: crd })}`);
      return;
    }
    this.enqueueFor(e.storageKey, obj);
  }

  private enqueueFor(storageKey: string, obj: KObject): void {
    const ref = refKey({ storageKey, namespace: obj.metadata.namespace, name: obj.metadata.name! });
    if (obj.metadata.deletionTimestamp) this.enqueue(`terminating:${ref}`);
    else if (storageKey === CRD_STORAGE_KEY) this.enqueue(`establish:${ref}`);
    if (obj.metadata.ownerReferences?.some((o) => !this.byUid.has(o.uid))) this.enqueue(`orphaned:${ref}`);
  }

  private index(storageKey: string, obj: KObject | undefined, previous: KObject | undefined): void {
    const subject = obj ?? previous;
    if (!subject) return;
    const ref = { storageKey, namespace: subject.metadata.namespace, name: subject.metadata.name! };
    const key = refKey(ref);
    for (const o of previous?.metadata.ownerReferences ?? []) this.dependentsOf.get(o.uid)?.delete(key);
    if (obj) {
      this.byUid.set(obj.metadata.uid!, ref);
      for (const o of obj.metadata.ownerReferences ?? []) {
        let set = this.dependentsOf.get(o.uid);
        if (!set) this.dependentsOf.set(o.uid, (set = new Set()));
        set.add(key);
      }
    } else {
      this.byUid.delete(subject.metadata.uid!);
    }
  }

  private registerCrd(crd: KObject): void {
    try {
      this.registry.setCrd(crd);
    } catch (err) {
      this.log('crd not servable', { name: crd.metadata.name, error: String(err) });
    }
  }

  private enqueue(item: string): void {
    this.pending.add(item);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    if (this.stopped) return;
    const items = [...this.pending];
    this.pending.clear();
    for (const item of items) {
      const colon = item.indexOf(':');
      const ref = parseRefKey(item.slice(colon + 1));
      try {
        switch (item.slice(0, colon)) {
          case 'establish':
            this.establish(ref);
            break;
          case 'terminating':
            this.finishTermination(ref);
            break;
          case 'orphaned':
            this.collectIfOrphaned(ref);
            break;
        }
      } catch (err) {
        if (!(isApiError(err) && (err.code === 404 || err.code === 409))) this.log('controller error', { item, error: String(err) });
        // A conflict means someone else changed the object meanwhile: look again.
        if (isApiError(err) && err.code === 409) this.enqueue(item);
      }
    }
  }

  private typeOf(storageKey: string) {
    return this.registry.storageType(storageKey);
  }

  /** A CRD that is not being deleted gets its cleanup finalizer and the Established status. */
  private establish(ref: ObjectRef): void {
    const crd = this.store.get(CRD_STORAGE_KEY, undefined, ref.name)?.obj;
    if (!crd || crd.metadata.deletionTimestamp) return;
    const status = establishedStatus(crd, timestamp());
    const finalizers = crd.metadata.finalizers ?? [];
    if (finalizers.includes(CRD_CLEANUP_FINALIZER) && JSON.stringify(status) === JSON.stringify(crd.status)) return;
    this.resources.writeInternal(this.typeOf(CRD_STORAGE_KEY)!, {
      ...crd,
      metadata: { ...crd.metadata, finalizers: finalizers.includes(CRD_CLEANUP_FINALIZER) ? finalizers : [...finalizers, CRD_CLEANUP_FINALIZER] },
      status,
    });
  }

  /** Background collection: a dependent whose owners are all gone is deleted. */
  private collectIfOrphaned(ref: ObjectRef): void {
    const obj = this.store.get(ref.storageKey, ref.namespace, ref.name)?.obj;
    const owners = obj?.metadata.ownerReferences ?? [];
    if (!obj || owners.length === 0 || obj.metadata.deletionTimestamp) return;
    if (owners.some((o) => this.byUid.has(o.uid))) return;
    const type = this.typeOf(ref.storageKey);
    if (!type) return;
    this.log('garbage collecting dependent', { ...ref });
    this.resources.delete(type, ref.namespace, ref.name, { propagationPolicy: 'Background' });
  }

  /** Works off the server-owned finalizers of a terminating object. */
  private finishTermination(ref: ObjectRef): void {
    const obj = this.store.get(ref.storageKey, ref.namespace, ref.name)?.obj;
    if (!obj?.metadata.deletionTimestamp) return;
    const type = this.typeOf(ref.storageKey);
    if (!type) return;
    const finalizers = obj.metadata.finalizers ?? [];
    const dependents = [...(this.dependentsOf.get(obj.metadata.uid!) ?? [])].map(parseRefKey);
    const done: string[] = [];

    if (finalizers.includes(ORPHAN_FINALIZER)) {
      for (const d of dependents) {
        const dep = this.store.get(d.storageKey, d.namespace, d.name)?.obj;
        const depType = this.typeOf(d.storageKey);
        if (!dep || !depType) continue;
        const owners = (dep.metadata.ownerReferences ?? []).filter((o) => o.uid !== obj.metadata.uid);
        const metadata: KObject['metadata'] = { ...dep.metadata, ownerReferences: owners };
        if (!owners.length) delete metadata.ownerReferences;
        this.resources.writeInternal(depType, { ...dep, metadata });
      }
      done.push(ORPHAN_FINALIZER);
    }
    if (finalizers.includes(FOREGROUND_FINALIZER)) {
      let remaining = 0;
      for (const d of dependents) {
        const dep = this.store.get(d.storageKey, d.namespace, d.name)?.obj;
        const depType = this.typeOf(d.storageKey);
        if (!dep || !depType) continue;
        remaining++;
        if (!dep.metadata.deletionTimestamp) this.resources.delete(depType, d.namespace, d.name, { propagationPolicy: 'Foreground' });
      }
      if (remaining === 0) done.push(FOREGROUND_FINALIZER);
    }
    if (ref.storageKey === CRD_STORAGE_KEY && finalizers.includes(CRD_CLEANUP_FINALIZER)) {
      const crType = this.registry.all().find((t) => t.crdName === obj.metadata.name && t.storage);
      const instances = crType ? this.store.list(crType.storageKey) : [];
      for (const s of instances)
        if (!s.obj.metadata.deletionTimestamp) this.resources.delete(crType!, s.obj.metadata.namespace, s.obj.metadata.name!, { propagationPolicy: 'Background' });
      if (instances.length === 0) done.push(CRD_CLEANUP_FINALIZER);
    }
    if (ref.storageKey === NAMESPACE_STORAGE_KEY) {
      this.terminateNamespace(obj, finalizers.filter((f) => !done.includes(f)));
      return;
    }
    if (done.length) {
      const metadata = { ...obj.metadata, finalizers: finalizers.filter((f) => !done.includes(f)) };
      if (metadata.finalizers.length === 0) this.store.remove(ref.storageKey, ref.namespace, ref.name);
      else this.resources.writeInternal(type, { ...obj, metadata });
    }
  }

  /** Deletes everything in a terminating namespace; the namespace goes once it is empty. */
  private terminateNamespace(ns: KObject, metadataFinalizers: string[]): void {
    const name = ns.metadata.name!;
    let remaining = 0;
    for (const type of this.registry.all().filter((t) => t.namespaced && t.storage)) {
      for (const s of this.store.list(type.storageKey, name)) {
        remaining++;
        if (!s.obj.metadata.deletionTimestamp) this.resources.delete(type, name, s.obj.metadata.name!, { propagationPolicy: 'Background' });
      }
    }
    if (remaining > 0) return;
    const specFinalizers = ((ns.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).filter((f) => f !== NAMESPACE_FINALIZER);
    if (metadataFinalizers.length === 0 && specFinalizers.length === 0) {
      this.log('namespace terminated', { namespace: name });
      this.store.remove(NAMESPACE_STORAGE_KEY, undefined, name);
    } else if (((ns.spec as { finalizers?: string[] })?.finalizers ?? []).includes(NAMESPACE_FINALIZER)) {
      this.resources.writeInternal(this.typeOf(NAMESPACE_STORAGE_KEY)!, { ...ns, spec: { ...(ns.spec as object), finalizers: specFinalizers } });
    }
  }
}
