/** The project's volumes, live (Cinder). */
import { useState } from 'react';
import { Button, Form, FormGroup, Modal, ModalBody, ModalFooter, ModalHeader, NumberInput, PageSection, TextInput } from '@patternfly/react-core';
import { os, osMaybe } from '../api';
import { ConfirmAction, ErrorAlert, PageTitle, ResourceTable, StatusLabel } from '../components';
import { useLiveList } from '../live';

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
  const [error, setError] = useState<string>();
  return (
    <Modal isOpen onClose={onClose} variant="small" aria-labelledby="volume-title">
      <ModalHeader title="Create volume" labelId="volume-title" />
      <ModalBody>
        <ErrorAlert error={error} />
        <Form onSubmit={(e) => e.preventDefault()}>
          <FormGroup label="Volume name" fieldId="volume-name">
            <TextInput id="volume-name" value={name} onChange={(_e, v) => setName(v)} />
          </FormGroup>
          <FormGroup label="Size (GiB)" fieldId="volume-size" isRequired>
            <NumberInput id="volume-size" value={size} min={1} inputAriaLabel="Size in GiB" onMinus={() => setSize((s) => Math.max(1, Number(s) - 1))} onPlus={() => setSize((s) => Number(s) + 1)} onChange={(e) => setSize(Number((e.target as HTMLInputElement).value) || '')} />
          </FormGroup>
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button onClick={() => os('block-storage', 'POST', '/volumes', { volume: { name: name || null, size: Number(size) } }).then(onClose, (e: Error) => setError(e.message))} isDisabled={!size}>
          Create volume
        </Button>
        <Button variant="link" onClick={onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}

export function Volumes() {
  const list = useLiveList<Volume>('volumes', async () => (await os('block-storage', 'GET', '/volumes/detail')).volumes, async (id) => (await osMaybe('block-storage', `/volumes/${encodeURIComponent(id)}`))?.volume);
  const [creating, setCreating] = useState(false);
  return (
    <>
      <PageTitle title="Volumes" actions={<Button onClick={() => setCreating(true)}>Create volume</Button>} />
      <PageSection>
        <ErrorAlert error={list.error} />
        <ResourceTable
          label="Volumes"
          rows={list.items}
          columns={[
            { title: 'Name', cell: (v) => v.name || v.id },
            { title: 'Status', cell: (v) => <StatusLabel status={v.status} /> },
            { title: 'Size', cell: (v) => `${v.size} GiB` },
            { title: 'Type', cell: (v) => v.volume_type ?? '—' },
            { title: 'Bootable', cell: (v) => (v.bootable === 'true' ? 'Yes' : 'No') },
            { title: 'Attached to', cell: (v) => v.attachments?.map((a) => `${a.server_id}${a.device ? ` on ${a.device}` : ''}`).join(', ') || '—' },
          ]}
          actions={(v) => <ConfirmAction label="Delete" question={`Delete the volume ${v.name || v.id}? Its data goes too.`} onConfirm={() => os('block-storage', 'DELETE', `/volumes/${encodeURIComponent(v.id)}`)} />}
        />
      </PageSection>
      {creating && <CreateVolume onClose={() => setCreating(false)} />}
    </>
  );
}
