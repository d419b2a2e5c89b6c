/** The Nova operator: the Instance scheduling controller, with its hypervisor book, on one Manager (its informers shared). */
import { TENANTS, type Tenant } from '@stratus/keystone';
import { Manager, SYSTEM_NAMESPACE, type ManagerOptions } from '@stratus/runtime';
import { DEFAULT_QUOTAS_CONFIGMAP, defaultQuotasOf, effectiveQuota } from './quota.js';

interface ConfigMap {
  metadata: { name: string; namespace: string };
  data?: Record<string, string>;
}
import { reconcileAggregate, reconcileFlavor, reconcileHypervisor, reconcileKeypair, reconcileServerGroup } from './catalog.js';
import { AGGREGATES, CONFIGMAPS, FIELD_MANAGER, FLAVORS, HYPERVISORS, IMAGES, INSTANCES, KEYPAIRS, SERVER_GROUPS, type Aggregate, type Flavor, type Hypervisor, type Image, type Instance, type Keypair, type ServerGroup } from './resources.js';
import { HypervisorBook } from './scheduler/book.js';
import { ClaimWriter } from './scheduler/claims.js';
import { orphanedClaims, schedulingReconciler } from './scheduling.js';

/** Scheduling workers by default: placements in flight at once. */
export const SCHEDULER_WORKERS = 16;

export function novaManager(opts: Partial<ManagerOptions> & { workers?: number } = {}): Manager {
  const m = new Manager({ name: FIELD_MANAGER, ...opts });
  const hypervisors = m.informer<Hypervisor>(HYPERVISORS);
  const flavors = m.informer<Flavor>(FLAVORS);
  const images = m.informer<Image>(IMAGES);
  const tenants = m.informer<Tenant>(TENANTS);
  const aggregates = m.informer<Aggregate>(AGGREGATES);
  const defaultQuotas = m.informer<ConfigMap>(CONFIGMAPS, { namespace: SYSTEM_NAMESPACE, fieldSelector: `metadata.name=${DEFAULT_QUOTAS_CONFIGMAP}` });
  const book = new HypervisorBook(() => hypervisors.informer.list());
  m.add<Instance>({
    name: 'scheduler',
    resource: INSTANCES,
    reconcile: schedulingReconciler({
      book,
      claims: new ClaimWriter(m.client, book, FIELD_MANAGER),
      flavor: (name) => flavors.informer.get(name),
      image: (ns, name) => images.informer.get(name, ns),
      quota: (ns) => effectiveQuota(tenants.informer.get(ns)?.spec?.quota, defaultQuotasOf(defaultQuotas.informer.get(DEFAULT_QUOTAS_CONFIGMAP, SYSTEM_NAMESPACE)?.data)),
      aggregates: () => aggregates.informer.list(),
    }),
    // NoValidHost is final (ERROR, as in Nova), so no instance waits for room; a hypervisor is watched only for
    // claims whose instance is gone, which are given back.
    watches: [{ resource: HYPERVISORS, map: (hv, instances) => orphanedClaims(hv as Hypervisor, instances) }],
    // Decisions are made one at a time without waiting (see decidePlacement); a worker mostly waits for its claim
    // and binding writes, so many run at once, as kube-scheduler binds in parallel.
    workers: opts.workers ?? SCHEDULER_WORKERS,
  });
  m.add<Flavor>({ name: 'flavor', resource: FLAVORS, reconcile: reconcileFlavor });
  m.add<Keypair>({ name: 'keypair', resource: KEYPAIRS, reconcile: reconcileKeypair });
  m.add<ServerGroup>({
    name: 'servergroup',
    resource: SERVER_GROUPS,
    reconcile: reconcileServerGroup,
    // Members join and leave as instances naming the group come and go.
    watches: [{ resource: INSTANCES, map: (i, groups) => groups.list().filter((g) => g.metadata.namespace === i.metadata?.namespace && g.metadata.name === (i as Instance).spec?.serverGroup).map((g) => ({ namespace: g.metadata.namespace, name: g.metadata.name })) }],
  });
  m.add<Hypervisor>({ name: 'hypervisor', resource: HYPERVISORS, reconcile: reconcileHypervisor });
  m.add<Aggregate>({
    name: 'aggregate',
    resource: AGGREGATES,
    reconcile: reconcileAggregate,
    // Which hosts are known changes as Hypervisors register and go.
    watches: [{ resource: HYPERVISORS, map: (hv, aggs) => aggs.list().filter((a) => (a as Aggregate).spec?.hosts?.includes(hv.metadata!.name!)).map((a) => ({ name: a.metadata.name })) }],
  });
  const caches = [hypervisors, flavors, images, tenants, aggregates, defaultQuotas];
  m.onStart(async () => void (await Promise.all(caches.map((c) => c.start()))));
  m.onStop(async () => void (await Promise.all(caches.map((c) => c.stop()))));
  return m;
}
