/** The compute nodes (admin), live. */
import { os, osMaybe } from '../api';
import { ListPage, StatusLabel } from '../components';

interface Hypervisor {
  id: string;
  hypervisor_hostname: string;
  state: string;
  status: string;
  hypervisor_type?: string;
  vcpus?: number;
  vcpus_used?: number;
  memory_mb?: number;
  memory_mb_used?: number;
  running_vms?: number;
}

const V = { 'OpenStack-API-Version': 'compute 2.53' };

export function Hypervisors() {
  return (
    <ListPage<Hypervisor>
      title="Hypervisors"
      kind="hypervisors"
      load={async () => (await os('compute', 'GET', '/os-hypervisors/detail', undefined, V)).hypervisors}
      loadOne={async (id) => (await osMaybe('compute', `/os-hypervisors/${encodeURIComponent(id)}`, V))?.hypervisor}
      columns={[
        { title: 'Host', cell: (h) => h.hypervisor_hostname },
        { title: 'State', cell: (h) => <StatusLabel status={h.state} /> },
        { title: 'Status', cell: (h) => h.status },
        { title: 'Type', cell: (h) => h.hypervisor_type ?? '—' },
        { title: 'vCPUs used', cell: (h) => (h.vcpus === undefined ? '—' : `${h.vcpus_used} of ${h.vcpus}`) },
        { title: 'RAM used', cell: (h) => (h.memory_mb === undefined ? '—' : `${h.memory_mb_used} of ${h.memory_mb} MiB`) },
        { title: 'Instances', cell: (h) => h.running_vms ?? '—' },
      ]}
    />
  );
}
