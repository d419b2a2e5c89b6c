/** The project's volume backups, live (Cinder, in the S3 store): back a volume up (in full or incrementally), restore one into a new volume, delete one. */
import { useState } from 'react';
import { ActionList, ActionListItem, Button, Checkbox, Form, FormGroup, TextInput } from '@patternfly/react-core';
import { os, osMaybe } from '../api';
import { ConfirmAction, FormDialog, ListPage, nameOf, StatusLabel } from '../components';
import { VolumeSelect, useVolumes } from './volumeChoice';

interface Backup {
  id: string;
  name?: string | null;
  status: string;
  size: number;
  volume_id: string;
  is_incremental?: boolean;
  object_count?: number;
  created_at?: string;
}

function CreateBackup({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [volume, setVolume] = useState('');
  const [incremental, setIncremental] = useState(false);
  // An attached volume's backup needs force, as `openstack volume backup create --force` says.
  const create = () => os('block-storage', 'POST', '/backups', { backup: { volume_id: volume, name: name || null, incremental, force: true } });
  return (
    <FormDialog title="Create volume backup" submitLabel="Create backup" isDisabled={!volume} onClose={onClose} onSubmit={create}>
      <Form onSubmit={(e) => e.preventDefault()}>
        <VolumeSelect id="backup-volume" value={volume} onChange={setVolume} />
        <FormGroup label="Backup name" fieldId="backup-name">
          <TextInput id="backup-name" value={name} onChange={(_e, v) => setName(v)} />
        </FormGroup>
        <Checkbox id="backup-incremental" label="Incremental (only what changed since the volume's last backup)" isChecked={incremental} onChange={(_e, v) => setIncremental(v)} />
      </Form>
    </FormDialog>
  );
}

/** Restores a backup into a new volume, named as asked (Cinder names it restore_backup_<id> otherwise). */
function RestoreBackup({ backup }: { backup: Backup }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  return (
    <>
      <Button variant="secondary" onClick={() => setOpen(true)} isDisabled={backup.status !== 'available'}>
        Restore
      </Button>
      {open && (
        <FormDialog title={`Restore ${backup.name || backup.id}`} submitLabel="Restore to a new volume" onClose={() => setOpen(false)} onSubmit={() => os('block-storage', 'POST', `/backups/${encodeURIComponent(backup.id)}/restore`, { restore: { name: name || null } })}>
          <Form onSubmit={(e) => e.preventDefault()}>
            <FormGroup label="New volume name" fieldId="restore-name">
              <TextInput id="restore-name" value={name} onChange={(_e, v) => setName(v)} />
            </FormGroup>
          </Form>
        </FormDialog>
      )}
    </>
  );
}

export function VolumeBackups() {
  const volumes = useVolumes();
  return (
    <ListPage<Backup>
      title="Volume backups"
      kind="backups"
      load={async () => (await os('block-storage', 'GET', '/backups/detail')).backups}
      loadOne={async (id) => (await osMaybe('block-storage', `/backups/${encodeURIComponent(id)}`))?.backup}
      columns={[
        { title: 'Name', cell: (b) => b.name || b.id },
        { title: 'Status', cell: (b) => <StatusLabel status={b.status} /> },
        { title: 'Size', cell: (b) => `${b.size} GiB` },
        { title: 'Volume', cell: (b) => nameOf(volumes.items, b.volume_id) },
        { title: 'Incremental', cell: (b) => (b.is_incremental ? 'Yes' : 'No') },
        { title: 'Objects', cell: (b) => String(b.object_count ?? 0) },
      ]}
      actions={(b) => (
        <ActionList isIconList={false}>
          <ActionListItem>
            <RestoreBackup backup={b} />
          </ActionListItem>
          <ActionListItem>
            <ConfirmAction label="Delete" question={`Delete the backup ${b.name || b.id}? Its data in the object store goes too.`} onConfirm={() => os('block-storage', 'DELETE', `/backups/${encodeURIComponent(b.id)}`)} />
          </ActionListItem>
        </ActionList>
      )}
      createLabel="Create backup"
      create={(close) => <CreateBackup onClose={close} />}
    />
  );
}
