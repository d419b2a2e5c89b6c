/** The project's volumes, live (Cinder). */
import { useState } from 'react';
import { Form, FormGroup, NumberInput, TextInput } from '@patternfly/react-core';
import { os } from '../api';
import { ConfirmAction, FormDialog, ListPage, StatusLabel } from '../components';
import { loadVolume, loadVolumes } from './volumeChoice';

interface Volume {
  id: string;
  name?: string | null;
  status: string;
  size: number;
  volume_type?: string;
  bootable?: string;
  attachments?: Array<{ server_id: string; device?: string }>;
}

function CreateVolume({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [size, setSize] = useState<number | ''>(1);
  return (
    <FormDialog title="Create volume" submitLabel="Create volume" isDisabled={!size} onClose={onClose} onSubmit={() => os('block-storage', 'POST', '/volumes', { volume: { name: name || null, size: Number(size) } })}>
      <Form onSubmit={(e) => e.preventDefault()}>
        <FormGroup label="Volume name" fieldId="volume-name">
          <TextInput id="volume-name" value={name} onChange={(_e, v) => setName(v)} />
        </FormGroup>
        <FormGroup label="Size (GiB)" fieldId="volume-size" isRequired>
          <NumberInput id="volume-size" value={size} min={1} inputAriaLabel="Size in GiB" onMinus={() => setSize((s) => Math.max(1, Number(s) - 1))} onPlus={() => setSize((s) => Number(s) + 1)} onChange={(e) => setSize(Number((e.target as HTMLInputElement).value) || '')} />
        </FormGroup>
      </Form>
    </FormDialog>
  );
}

export function Volumes() {
  return (
    <ListPage<Volume>
      title="Volumes"
      kind="volumes"
      load={loadVolumes}
      loadOne={loadVolume}
      columns={[
        { title: 'Name', cell: (v) => v.name || v.id },
        { title: 'Status', cell: (v) => <StatusLabel status={v.status} /> },
        { title: 'Size', cell: (v) => `${v.size} GiB` },
        { title: 'Type', cell: (v) => v.volume_type ?? '—' },
        { title: 'Bootable', cell: (v) => (v.bootable === 'true' ? 'Yes' : 'No') },
        { title: 'Attached to', cell: (v) => v.attachments?.map((a) => `${a.server_id}${a.device ? ` on ${a.device}` : ''}`).join(', ') || '—' },
      ]}
      actions={(v) => <ConfirmAction label="Delete" question={`Delete the volume ${v.name || v.id}? Its data goes too.`} onConfirm={() => os('block-storage', 'DELETE', `/volumes/${encodeURIComponent(v.id)}`)} />}
      createLabel="Create volume"
      create={(close) => <CreateVolume onClose={close} />}
    />
  );
}
