/** The Glance operator: the Image controller on one Manager. */
import { Manager, type ManagerOptions } from '@stratus/runtime';
import { imageReconciler, type ImageReconcilerOptions } from './reconciler.js';
import { reconcileMetadefNamespace } from './metadefs.js';
import { FIELD_MANAGER, IMAGES, METADEF_NAMESPACES, type Image, type MetadefNamespace } from './resources.js';

export function glanceManager(deps: ImageReconcilerOptions, opts: Partial<ManagerOptions> = {}): Manager {
  const m = new Manager({ name: FIELD_MANAGER, ...opts });
  m.add<Image>({
    name: 'image',
    resource: IMAGES,
    reconcile: imageReconciler(deps),
    // An image copying another goes on as soon as its source becomes active.
    watches: [
      {
        resource: IMAGES,
        map: (source, images) =>
          images
            .list()
            .filter((i) => copiesFrom(i, source.metadata?.namespace, source.metadata?.name) && i.status?.phase === 'queued')
            .map((i) => ({ namespace: i.metadata.namespace, name: i.metadata.name })),
      },
    ],
  });
  m.add<MetadefNamespace>({ name: 'metadefnamespace', resource: METADEF_NAMESPACES, reconcile: reconcileMetadefNamespace });
  return m;
}

/** Whether `img` copies its data from the image namespace/name. */
function copiesFrom(img: Image, namespace: string | undefined, name: string | undefined): boolean {
  const from = img.spec.source?.copyFrom;
  return !!from && from.name === name && (from.namespace ?? img.metadata.namespace) === namespace;
}
