/** The Nova operator: the Instance scheduling controller, with its hypervisor book, on one Manager. */
import { Manager, selfHealingInformer, type ManagerOptions } from '@stratus/runtime';
import { FIELD_MANAGER, HYPERVISORS, INSTANCES, type Hypervisor, type Instance } from './resources.js';
import { HypervisorBook } from './scheduler/book.js';
import { schedulingReconciler } from './scheduling.js';

export function novaManager(opts: Partial<ManagerOptions> & { workers?: number } = {}): Manager {
  const m = new Manager({ name: FIELD_MANAGER, ...opts });
  const hypervisors = selfHealingInformer<Hypervisor>(m.kc, m.client, HYPERVISORS, { log: m.log });
  const book = new HypervisorBook(() => hypervisors.informer.list());
  m.add<Instance>({
    name: 'scheduler',
    resource: INSTANCES,
    reconcile: schedulingReconciler({ book }),
    // No watches on hypervisors: NoValidHost is final (ERROR, as in Nova), so no instance waits for room.
    workers: opts.workers ?? 2,
  });
  m.onStart(() => hypervisors.start());
  m.onStop(() => hypervisors.stop());
  return m;
}
