/** Cinder's group types (admin), live: make one (public or private, with group specs), delete one no group uses. */
import { useState } from 'react';
import { Checkbox, Form, FormGroup, TextArea, TextInput } from '@patternfly/react-core';
import { os, osMaybe } from '../api';
import { ConfirmAction, FormDialog, ListPage } from '../components';
import { parseSpecs } from '../../src/shared/groupSpecs';

interface GroupType {
  id: string;
  name: string;
  description?: string | null;
  is_public: boolean;
  group_specs?: Record<string, string>;
}

/** Group types came in 3.11. */
const V = { 'OpenStack-API-Version': 'volume 3.11' };

function CreateGroupType({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [isPublic, setPublic] = useState(true);
  const [specs, setSpecs] = useState('');
  const create = async () => os('block-storage', 'POST', '/group_types', { group_type: { name, description: description || null, is_public: isPublic, group_specs: parseSpecs(specs) } }, V);
  return (
    <FormDialog title="Create group type" submitLabel="Create group type" isDisabled={!name.trim()} onClose={onClose} onSubmit={create}>
      <Form onSubmit={(e) => e.preventDefault()}>
        <FormGroup label="Name" isRequired fieldId="group-type-name">
          <TextInput id="group-type-name" value={name} onChange={(_e, v) => setName(v)} />
        </FormGroup>
        <FormGroup label="Description" fieldId="group-type-description">
          <TextInput id="group-type-description" value={description} onChange={(_e, v) => setDescription(v)} />
        </FormGroup>
        <FormGroup label="Group specs (key=value, one a line)" fieldId="group-type-specs">
          <TextArea id="group-type-specs" value={specs} onChange={(_e, v) => setSpecs(v)} resizeOrientation="vertical" />
        </FormGroup>
        <Checkbox id="group-type-public" label="Public (every project may use it)" isChecked={isPublic} onChange={(_e, on) => setPublic(on)} />
      </Form>
    </FormDialog>
  );
}

export function GroupTypes() {
  return (
    <ListPage<GroupType>
      title="Group types"
      kind="grouptypes"
      load={async () => (await os('block-storage', 'GET', '/group_types', undefined, V)).group_types}
      loadOne={async (id) => (await osMaybe('block-storage', `/group_types/${encodeURIComponent(id)}`, V))?.group_type}
      columns={[
        { title: 'Name', cell: (t) => t.name },
        { title: 'Description', cell: (t) => t.description || '—' },
        { title: 'Public', cell: (t) => (t.is_public ? 'Yes' : 'No') },
        { title: 'Group specs', cell: (t) => Object.entries(t.group_specs ?? {}).map(([k, v]) => `${k}=${v}`).join(', ') || '—' },
      ]}
      actions={(t) => <ConfirmAction label="Delete" question={`Delete the group type ${t.name}?`} onConfirm={() => os('block-storage', 'DELETE', `/group_types/${encodeURIComponent(t.id)}`, undefined, V)} />}
      createLabel="Create group type"
      create={(close) => <CreateGroupType onClose={close} />}
    />
  );
}
