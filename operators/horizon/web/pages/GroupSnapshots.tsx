/** The project's group snapshots, live (Cinder): take one of a volume group, make a new group of one, delete one. */
import { useState } from 'react';
import { Button, Form, FormGroup, TextInput } from '@patternfly/react-core';
import { os, osMaybe } from '../api';
import { Choice, ConfirmAction, FormDialog, ListPage, StatusLabel, nameOf } from '../components';
import { GROUPS_VERSION, useGroups } from './VolumeGroups';

interface GroupSnapshot {
  id: string;
  name?: string | null;
  status: string;
  group_id: string;
  created_at?: string;
}

const loadGroupSnapshots = async (): Promise<GroupSnapshot[]> => (await os('block-storage', 'GET', '/group_snapshots/detail', undefined, GROUPS_VERSION)).group_snapshots;
const loadGroupSnapshot = async (id: string): Promise<GroupSnapshot | undefined> => (await osMaybe('block-storage', `/group_snapshots/${encodeURIComponent(id)}`, GROUPS_VERSION))?.group_snapshot;

function CreateGroupSnapshot({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [group, setGroup] = useState('');
  const groups = useGroups().items?.filter((g) => g.status === 'available') ?? [];
  const create = () => os('block-storage', 'POST', '/group_snapshots', { group_snapshot: { group_id: group, name: name || null } }, GROUPS_VERSION);
  return (
    <FormDialog title="Create group snapshot" submitLabel="Create group snapshot" isDisabled={!group} onClose={onClose} onSubmit={create}>
      <Form onSubmit={(e) => e.preventDefault()}>
        <Choice id="group-snapshot-group" label="Group" value={group} onChange={setGroup} items={groups} placeholder="Choose a group" show={(g) => g.name || g.id} />
        <FormGroup label="Group snapshot name" fieldId="group-snapshot-name">
          <TextInput id="group-snapshot-name" value={name} onChange={(_e, v) => setName(v)} />
        </FormGroup>
      </Form>
    </FormDialog>
  );
}

/** A new group with a volume made of each of the snapshot's volume snapshots (create-from-src). */
function GroupFromSnapshot({ snapshot }: { snapshot: GroupSnapshot }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const create = () => os('block-storage', 'POST', '/groups/action', { 'create-from-src': { group_snapshot_id: snapshot.id, name: name || null } }, GROUPS_VERSION);
  return (
    <>
      <Button variant="secondary" onClick={() => setOpen(true)} isDisabled={snapshot.status !== 'available'}>
        Create group
      </Button>
      {open && (
        <FormDialog title="Create a group from the snapshot" submitLabel="Create group" onClose={() => setOpen(false)} onSubmit={create}>
          <Form onSubmit={(e) => e.preventDefault()}>
            <FormGroup label="Group name" fieldId={`from-snapshot-name-${snapshot.id}`}>
              <TextInput id={`from-snapshot-name-${snapshot.id}`} value={name} onChange={(_e, v) => setName(v)} />
            </FormGroup>
          </Form>
        </FormDialog>
      )}
    </>
  );
}

export function GroupSnapshots() {
  const groups = useGroups();
  return (
    <ListPage<GroupSnapshot>
      title="Group snapshots"
      kind="groupsnapshots"
      load={loadGroupSnapshots}
      loadOne={loadGroupSnapshot}
      columns={[
        { title: 'Name', cell: (s) => s.name || s.id },
        { title: 'Status', cell: (s) => <StatusLabel status={s.status} /> },
        { title: 'Group', cell: (s) => nameOf(groups.items, s.group_id) },
        { title: 'Created', cell: (s) => s.created_at ?? '—' },
      ]}
      actions={(s) => (
        <div style={{ display: 'flex', gap: 8 }}>
          <GroupFromSnapshot snapshot={s} />
          <ConfirmAction label="Delete" question={`Delete the group snapshot ${s.name || s.id}? The snapshots of its volumes go with it.`} onConfirm={() => os('block-storage', 'DELETE', `/group_snapshots/${encodeURIComponent(s.id)}`, undefined, GROUPS_VERSION)} />
        </div>
      )}
      createLabel="Create group snapshot"
      create={(close) => <CreateGroupSnapshot onClose={close} />}
    />
  );
}
