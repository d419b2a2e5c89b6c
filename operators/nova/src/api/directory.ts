/**
 * The Compute API's read side: informer caches of every kind it answers about, each indexed by the ID the
 * API shows (a server's is its Instance's UID). Requests are answered from memory; writes go to the
 * Kubernetes API, and a write's caller waits until the cache holds it, so its next request sees it.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { isAtLeast, selfHealingInformer, waitUntil, type KubeClient, type Logger, type SelfHealingInformer } from '@stratus/runtime';
import { IMAGES, imageIdOf, type Image } from '@stratus/glance';
import { FLAVORS, HYPERVISORS, INSTANCES, KEYPAIRS, SERVER_GROUPS, type Flavor, type Hypervisor, type Instance, type Keypair, type ServerGroup } from '../resources.js';
import { TENANTS, type Tenant } from '@stratus/keystone';
import type { ResourceRef } from '@stratus/runtime';

/** One kind's cache, with an index by the API's ID rebuilt when something changed. */
export class IndexedCache<T extends KubernetesObject> {
  private readonly watched: SelfHealingInformer<T>;
  private index = new Map<string, T>();
  private dirty = true;

  /** `showDeleting`: objects being deleted still count (a server is shown, task deleting, until its guest is gone). */
  constructor(kc: KubeConfig, client: KubeClient, ref: ResourceRef, log: Logger, private readonly idOf: (o: T) => string, private readonly showDeleting = false) {
    this.watched = selfHealingInformer<T>(kc, client, ref, { log, onChange: () => (this.dirty = true) });
  }

  start = () => this.watched.start();
  stop = () => this.watched.stop();

  /** Every object (but those being deleted, unless they are shown). */
  list(namespace?: string): T[] {
    return this.watched.informer.list(namespace).filter((o) => this.showDeleting || !o.metadata?.deletionTimestamp);
  }

  byId(id: string): T | undefined {
    if (this.dirty) {
      this.dirty = false;
      this.index = new Map(this.watched.informer.list().map((o) => [this.idOf(o), o]));
    }
    const o = this.index.get(id);
    return o && (this.showDeleting || !o.metadata?.deletionTimestamp) ? o : undefined;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.watched.informer.get(name, namespace);
  }

  /** Waits until the cache holds this write or a later one. */
  seen(written: T): Promise<boolean> {
    return waitUntil(() => isAtLeast(this.get(written.metadata!.name!, written.metadata?.namespace)?.metadata?.resourceVersion, written.metadata?.resourceVersion));
  }

  /** Waits until `check` holds for the cached object (undefined when it is gone). */
  until(o: T, check: (cached: T | undefined) => boolean, timeoutMs = 10_000): Promise<boolean> {
    return waitUntil(() => check(this.get(o.metadata!.name!, o.metadata?.namespace)), timeoutMs);
  }
}

const byName = (o: KubernetesObject) => o.metadata!.name!;
const byUid = (o: KubernetesObject) => o.metadata!.uid!;

export class ComputeDirectory {
  readonly instances: IndexedCache<Instance>;
  readonly flavors: IndexedCache<Flavor>;
  readonly keypairs: IndexedCache<Keypair>;
  readonly groups: IndexedCache<ServerGroup>;
  readonly hypervisors: IndexedCache<Hypervisor>;
  readonly images: IndexedCache<Image>;
  readonly tenants: IndexedCache<Tenant>;
  private readonly all: Array<IndexedCache<any>>;

  constructor(kc: KubeConfig, client: KubeClient, log: Logger) {
    this.instances = new IndexedCache<Instance>(kc, client, INSTANCES, log, byUid, true);
    this.flavors = new IndexedCache<Flavor>(kc, client, FLAVORS, log, byName);
    this.keypairs = new IndexedCache<Keypair>(kc, client, KEYPAIRS, log, (k) => `${k.metadata.namespace}/${k.metadata.name}`);
    this.groups = new IndexedCache<ServerGroup>(kc, client, SERVER_GROUPS, log, byUid);
    this.hypervisors = new IndexedCache<Hypervisor>(kc, client, HYPERVISORS, log, byUid);
    this.images = new IndexedCache<Image>(kc, client, IMAGES, log, (i) => imageIdOf(i));
    this.tenants = new IndexedCache<Tenant>(kc, client, TENANTS, log, (t) => t.status?.projectId ?? '');
    this.all = [this.instances, this.flavors, this.keypairs, this.groups, this.hypervisors, this.images, this.tenants];
  }

  start = () => Promise.all(this.all.map((c) => c.start())).then(() => undefined);
  stop = () => Promise.all(this.all.map((c) => c.stop())).then(() => undefined);

  /** The project ID of the tenant whose namespace this is. */
  projectIdOf(namespace: string): string {
    return this.tenants.get(namespace)?.status?.projectId ?? '';
  }
}
