import { os, osMaybe } from '../api';
import { ListPage } from '../components';

interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  'os-flavor-access:is_public'?: boolean;
}

export function Flavors() {
  return (
    <ListPage<Flavor>
      title="Flavors"
      kind="flavors"
      load={async () => (await os('compute', 'GET', '/flavors/detail')).flavors}
      loadOne={async (id) => (await osMaybe('compute', `/flavors/${encodeURIComponent(id)}`))?.flavor}
      columns={[
        { title: 'Name', cell: (f) => f.name },
        { title: 'vCPUs', cell: (f) => f.vcpus },
        { title: 'RAM', cell: (f) => `${f.ram} MiB` },
        { title: 'Root disk', cell: (f) => `${f.disk} GiB` },
        { title: 'Public', cell: (f) => (f['os-flavor-access:is_public'] === false ? 'No' : 'Yes') },
      ]}
    />
  );
}
