/** The Nova operator: the Instance scheduling controller, with its hypervisor book, on one Manager. */
import { TENANTS, type Tenant } from '@stratus/keystone';
import { Manager, SYSTEM_NAMESPACE, selfHealingInformer, type ManagerOptions } from '@stratus/runtime';
import { DEFAULT_QUOTAS_CONFIGMAP, defaultQuotasOf, effectiveQuota } from './quota.js';

interface ConfigMap {
  metadata: { name: string; namespace: string };
  data?: Record<string, string>;
}
import { reconcileAggregate, reconcileFlavor, reconcileHypervisor, reconcileKeypair, reconcileServerGroup } from './catalog.js';
import { AGGREGATES, CONFIGMAPS, FIELD_MANAGER, FLAVORS, HYPERVISORS, IMAGES, INSTANCES, KEYPAIRS, SERVER_GROUPS, type Aggregate, type Flavor, type Hypervisor, type Image, type Instance, type Keypair, type ServerGroup } from './resources.js';
import { HypervisorBook } from './scheduler/book.js';
import { schedulingReconciler } from './scheduling.js';

export function novaManager(opts: Partial<ManagerOptions> & { workers?: number } = {}): Manager {
  const m = new Manager({ name: FIELD_MANAGER, ...opts });
  const hypervisors = selfHealingInformer<Hypervisor>(m.kc, m.client, HYPERVISORS, { log: m.log });
  const flavors = selfHealingInformer<Flavor>(m.kc, m.client, FLAVORS, { log: m.log });
  const images = selfHealingInformer<Image>(m.kc, m.client, IMAGES, { log: m.log });
  const tenants = selfHealingInformer<Tenant>(m.kc, m.client, TENANTS, { log: m.log });
  const aggregates = selfHealingInformer<Aggregate>(m.kc, m.client, AGGREGATES, { log: m.log });
  const defaultQuotas = selfHealingInformer<ConfigMap>(m.kc, m.client, CONFIGMAPS, { namespace: SYSTEM_NAMESPACE, fieldSelector: `metadata.name=${DEFAULT_QUOTAS_CONFIGMAP}`, log: m.log });
  const book = new HypervisorBook(() => hypervisors.informer.list());
  m.add<Instance>({
    name: 'scheduler',
    resource: INSTANCES,
    reconcile: schedulingReconciler({
      book,
      flavor: (name) => flavors.informer.get(name),
      image: (ns, name) => images.informer.get(name, ns),
      quota: (ns) => effectiveQuota(tenants.informer.get(ns)?.spec?.quota, defaultQuotasOf(defaultQuotas.informer.get(DEFAULT_QUOTAS_CONFIGMAP, SYSTEM_NAMESPACE)?.data)),
      aggregates: () => aggregates.informer.list(),
    }),
    // No watches on hypervisors: NoValidHost is final (ERROR, as in Nova), so no instance waits for room.
    workers: opts.workers ?? 2,
  });
  m.add<Flavor>({ name: 'flavor', resource: FLAVORS, reconcile: reconcileFlavor });
  m.add<Keypair>({ name: 'keypair', resource: KEYPAIRS, reconcile: reconcileKeypair });
  m.add<ServerGroup>({
    name: 'servergroup',
    resource: SERVER_GROUPS,
    reconcile: reconcileServerGroup,
    // Members join and leave as instances naming the group come and go.
    watches: [{ resource: INSTANCES, map: (i, groups) => groups.filter((g) => g.metadata.namespace === i.metadata?.namespace && g.metadata.name === (i as Instance).spec?.serverGroup).map((g) => ({ namespace: g.metadata.namespace, name: g.metadata.name })) }],
  });
  m.add<Hypervisor>({ name: 'hypervisor', resource: HYPERVISORS, reconcile: reconcileHypervisor });
  m.add<Aggregate>({
    name: 'aggregate',
    resource: AGGREGATES,
    reconcile: reconcileAggregate,
    // Which hosts are known changes as Hypervisors register and go.
    watches: [{ resource: HYPERVISORS, map: (hv, aggs) => aggs.filter((a) => (a as Aggregate).spec?.hosts?.includes(hv.metadata!.name!)).map((a) => ({ name: a.metadata.name })) }],
  });
  const caches = [hypervisors, flavors, images, tenants, aggregates, defaultQuotas];
  m.onStart(async () => void (await Promise.all(caches.map((c) => c.start()))));
  m.onStop(async () => void (await Promise.all(caches.map((c) => c.stop()))));
  return m;
}
