/**
 * The Image API's read side: informer caches of every Image (all tenants) and of the Tenants (project IDs),
 * indexed by image ID. Requests are answered from memory; writes go to the Kubernetes API.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { IndexedCache, isAtLeast, selfHealingInformer, waitUntil, type KubeClient, type Logger, type SelfHealingInformer } from '@stratus/runtime';
import { IMAGES, METADEF_NAMESPACES, TENANTS, imageIdOf, type Image, type MetadefNamespace, type Tenant } from '../resources.js';
import { canSee, type Viewer } from '../visibility.js';
import { noImage } from './errors.js';

export class ImageDirectory {
  private readonly images: SelfHealingInformer<Image>;
  private readonly tenants: SelfHealingInformer<Tenant>;
  /** The metadata definitions catalog's namespaces, by their Glance name. */
  readonly metadefs: IndexedCache<MetadefNamespace>;
  private byId = new Map<string, Image>();
  private dirty = true;

  constructor(kc: KubeConfig, client: KubeClient, log: Logger) {
    this.images = selfHealingInformer<Image>(kc, client, IMAGES, { log, onChange: () => (this.dirty = true) });
    this.tenants = selfHealingInformer<Tenant>(kc, client, TENANTS, { log });
    this.metadefs = new IndexedCache<MetadefNamespace>(kc, client, METADEF_NAMESPACES, log, { idOf: (n) => n.spec.namespace });
  }

  start = () => Promise.all([this.images.start(), this.tenants.start(), this.metadefs.start()]).then(() => undefined);
  stop = () => Promise.all([this.images.stop(), this.tenants.stop(), this.metadefs.stop()]).then(() => undefined);

  all(): readonly Image[] {
    return this.images.informer.list();
  }

  /** The image with this ID, whatever its visibility; one being deleted counts as gone. */
  byImageId(id: string): Image | undefined {
    if (this.dirty) {
      this.dirty = false;
      this.byId = new Map(this.all().map((i) => [imageIdOf(i), i]));
    }
    const img = this.byId.get(id);
    return img && !img.metadata.deletionTimestamp ? img : undefined;
  }

  /** The image of this object name in this namespace; one being deleted counts as gone. */
  named(name: string, namespace: string): Image | undefined {
    const img = this.images.informer.get(name, namespace);
    return img && !img.metadata.deletionTimestamp ? img : undefined;
  }

  /** The image if the viewer may see it, else Glance's 404 (not 403: others' private images do not exist for you). */
  visible(id: string, v: Viewer): Image {
    const img = this.byImageId(id);
    if (!img || !canSee(img, v)) throw noImage(id);
    return img;
  }

  tenantNamed(name: string): Tenant | undefined {
    return this.tenants.informer.get(name);
  }

  tenantByProjectId(id: string): Tenant | undefined {
    // The project ID is the UID without dashes, known before the Tenant's status says it.
    return this.tenants.informer.list().find((t) => t.metadata.uid?.replace(/-/g, '') === id);
  }

  projectIdOf(namespace: string): string | undefined {
    return this.tenantNamed(namespace)?.status?.projectId;
  }

  /** Waits until the cache holds this write (or a later one), so the caller's next request sees it. */
  seen(written: Image): Promise<boolean> {
    return waitUntil(() => isAtLeast(this.images.informer.get(written.metadata.name, written.metadata.namespace)?.metadata.resourceVersion, written.metadata.resourceVersion));
  }

  /** Waits until `check` holds for the cached image. */
  until(img: Image, check: (cached: Image | undefined) => boolean, timeoutMs = 10_000): Promise<boolean> {
    return waitUntil(() => check(this.images.informer.get(img.metadata.name, img.metadata.namespace)), timeoutMs);
  }
}
