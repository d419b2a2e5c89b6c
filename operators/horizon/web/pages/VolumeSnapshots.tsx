/** The project's volume snapshots, live (Cinder): take one of a volume, delete one. */
import { useState } from 'react';
import { Form, FormGroup, TextInput } from '@patternfly/react-core';
import { os, osMaybe } from '../api';
import { ConfirmAction, FormDialog, ListPage, nameOf, StatusLabel } from '../components';
import { VolumeSelect, useVolumes } from './volumeChoice';

interface Snapshot {
  id: string;
  name?: string | null;
  status: string;
  size: number;
  volume_id: string;
  created_at?: string;
}

function CreateSnapshot({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [volume, setVolume] = useState('');
  // An attached volume's snapshot needs force, as `openstack volume snapshot create --force` says.
  const create = () => os('block-storage', 'POST', '/snapshots', { snapshot: { volume_id: volume, name: name || null, force: true } });
  return (
    <FormDialog title="Create volume snapshot" submitLabel="Create snapshot" isDisabled={!volume} onClose={onClose} onSubmit={create}>
      <Form onSubmit={(e) => e.preventDefault()}>
        <VolumeSelect id="snapshot-volume" value={volume} onChange={setVolume} />
        <FormGroup label="Snapshot name" fieldId="snapshot-name">
          <TextInput id="snapshot-name" value={name} onChange={(_e, v) => setName(v)} />
        </FormGroup>
      </Form>
    </FormDialog>
  );
}

export function VolumeSnapshots() {
  const volumes = useVolumes();
  return (
    <ListPage<Snapshot>
      title="Volume snapshots"
      kind="snapshots"
      load={async () => (await os('block-storage', 'GET', '/snapshots/detail')).snapshots}
      loadOne={async (id) => (await osMaybe('block-storage', `/snapshots/${encodeURIComponent(id)}`))?.snapshot}
      columns={[
        { title: 'Name', cell: (s) => s.name || s.id },
        { title: 'Status', cell: (s) => <StatusLabel status={s.status} /> },
        { title: 'Size', cell: (s) => `${s.size} GiB` },
        { title: 'Volume', cell: (s) => nameOf(volumes.items, s.volume_id) },
        { title: 'Created', cell: (s) => s.created_at ?? '—' },
      ]}
      actions={(s) => <ConfirmAction label="Delete" question={`Delete the snapshot ${s.name || s.id}?`} onConfirm={() => os('block-storage', 'DELETE', `/snapshots/${encodeURIComponent(s.id)}`)} />}
      createLabel="Create snapshot"
      create={(close) => <CreateSnapshot onClose={close} />}
    />
  );
}
