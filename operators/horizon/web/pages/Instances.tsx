/** The project's servers, live: launched, changed and deleted ones appear as they happen. */
import { useState } from 'react';
import { Button, PageSection } from '@patternfly/react-core';
import { ActionsColumn } from '@patternfly/react-table';
import { ErrorAlert, PageTitle, ResourceTable, StatusLabel } from '../components';
import { useLiveList } from '../live';
import { Link } from '../router';
import { LaunchWizard } from './LaunchWizard';
import { ActionDialog, SERVER_ACTIONS, addressesOf, loadServer, loadServers, type ActionDef, type Server } from './serverActions';

export function Instances() {
  const list = useLiveList<Server>('servers', loadServers, loadServer);
  const [launching, setLaunching] = useState(false);
  const [dialog, setDialog] = useState<{ server: Server; dialog: ActionDef['dialog'] }>();
  const [error, setError] = useState<string>();
  return (
    <>
      <PageTitle title="Instances" actions={<Button onClick={() => setLaunching(true)}>Launch instance</Button>} />
      <PageSection>
        <ErrorAlert error={error ?? list.error} />
        <ResourceTable
          label="Instances"
          rows={list.items}
          columns={[
            { title: 'Name', cell: (s) => <Link to={`/instances/${s.id}`}>{s.name}</Link> },
            { title: 'Status', cell: (s) => <StatusLabel status={s.status} /> },
            { title: 'Task', cell: (s) => s['OS-EXT-STS:task_state'] ?? '—' },
            { title: 'IP addresses', cell: addressesOf },
            { title: 'Flavor', cell: (s) => s.flavor?.original_name ?? '—' },
            { title: 'Key pair', cell: (s) => s.key_name ?? '—' },
          ]}
          actions={(s) => (
            <ActionsColumn
              items={SERVER_ACTIONS.filter((a) => a.when(s)).map((a) => ({
                title: a.title,
                onClick: () => {
                  setError(undefined);
                  if (a.dialog) setDialog({ server: s, dialog: a.dialog });
                  else a.run!(s).catch((e: Error) => setError(e.message));
                },
              }))}
              popperProps={{ appendTo: () => document.body }}
            />
          )}
        />
      </PageSection>
      {launching && <LaunchWizard onClose={() => setLaunching(false)} onLaunched={() => setLaunching(false)} />}
      {dialog && <ActionDialog server={dialog.server} dialog={dialog.dialog} onClose={() => setDialog(undefined)} />}
    </>
  );
}
