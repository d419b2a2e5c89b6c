/** Quota usage as charts: instances, vCPUs, RAM, images and volumes, as the APIs count them. */
import { useEffect, useState } from 'react';
import { Card, CardBody, CardTitle, Gallery, PageSection } from '@patternfly/react-core';
import { os, type Session } from '../api';
import { ErrorAlert, PageTitle, QuotaDonut } from '../components';
import { useLiveChanges } from '../live';

interface Quota {
  title: string;
  used: number;
  limit: number;
  unit?: string;
}

export function Overview({ session }: { session: Session }) {
  const [quotas, setQuotas] = useState<Quota[]>();
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);
  const bump = () => setTick((t) => t + 1);
  useLiveChanges('servers', bump);
  useLiveChanges('images', bump);
  useLiveChanges('volumes', bump);
  useEffect(() => {
    (async () => {
      const limits = (await os('compute', 'GET', '/limits')).limits.absolute;
      const list: Quota[] = [
        { title: 'Instances', used: limits.totalInstancesUsed, limit: limits.maxTotalInstances },
        { title: 'vCPUs', used: limits.totalCoresUsed, limit: limits.maxTotalCores },
        { title: 'RAM', used: limits.totalRAMUsed, limit: limits.maxTotalRAMSize, unit: ' MiB' },
      ];
      const images = (await os('image', 'GET', `/v2/images?owner=${encodeURIComponent(session.project?.id ?? '')}&limit=1000`)).images as unknown[];
      list.push({ title: 'Images', used: images.length, limit: -1 });
      const volumes = await os('block-storage', 'GET', '/limits').catch(() => undefined);
      if (volumes) {
        const a = volumes.limits.absolute;
        list.push({ title: 'Volumes', used: a.totalVolumesUsed, limit: a.maxTotalVolumes }, { title: 'Volume storage', used: a.totalGigabytesUsed, limit: a.maxTotalVolumeGigabytes, unit: ' GiB' });
      }
      setQuotas(list);
    })().catch((e: Error) => setError(e.message));
  }, [tick, session.project?.id]);
  return (
    <>
      <PageTitle title="Overview" />
      <PageSection>
        <ErrorAlert error={error} />
        <Card>
          <CardTitle component="h2">Quota usage of {session.project?.name}</CardTitle>
          <CardBody>
            <Gallery hasGutter minWidths={{ default: '160px' }}>
              {quotas?.map((q) => <QuotaDonut key={q.title} {...q} />)}
            </Gallery>
          </CardBody>
        </Card>
      </PageSection>
    </>
  );
}
