import { PageSection } from '@patternfly/react-core';
import { os, osMaybe } from '../api';
import { ErrorAlert, PageTitle, ResourceTable } from '../components';
import { useLiveList } from '../live';

interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  'os-flavor-access:is_public'?: boolean;
}

export function Flavors() {
  const list = useLiveList<Flavor>('flavors', async () => (await os('compute', 'GET', '/flavors/detail')).flavors, async (id) => (await osMaybe('compute', `/flavors/${encodeURIComponent(id)}`))?.flavor);
  return (
    <>
      <PageTitle title="Flavors" />
      <PageSection>
        <ErrorAlert error={list.error} />
        <ResourceTable
          label="Flavors"
          rows={list.items}
          columns={[
            { title: 'Name', cell: (f) => f.name },
            { title: 'vCPUs', cell: (f) => f.vcpus },
            { title: 'RAM', cell: (f) => `${f.ram} MiB` },
            { title: 'Root disk', cell: (f) => `${f.disk} GiB` },
            { title: 'Public', cell: (f) => (f['os-flavor-access:is_public'] === false ? 'No' : 'Yes') },
          ]}
        />
      </PageSection>
    </>
  );
}
