/**
 * The project's volume groups, live (Cinder's generic groups): make one of a group type and volume types, see
 * its volumes, delete it with or without them.
 */
import { useState } from 'react';
import { Checkbox, Form, FormGroup, TextInput } from '@patternfly/react-core';
import { os, osMaybe } from '../api';
import { Choice, ConfirmAction, ErrorAlert, FormDialog, ListPage, StatusLabel, nameOf, useLoaded, type Named } from '../components';
import { useLiveList } from '../live';

/** Groups came in 3.13 and group snapshots (and groups made from them) in 3.14: the group pages ask for 3.14. */
export const GROUPS_VERSION = { 'OpenStack-API-Version': 'volume 3.14' };

export interface Group {
  id: string;
  name?: string | null;
  status: string;
  group_type: string;
  volume_types: string[];
  created_at?: string;
}

interface GroupedVolume extends Named {
  status: string;
  group_id?: string | null;
}

export const loadGroups = async (): Promise<Group[]> => (await os('block-storage', 'GET', '/groups/detail', undefined, GROUPS_VERSION)).groups;
export const loadGroup = async (id: string): Promise<Group | undefined> => (await osMaybe('block-storage', `/groups/${encodeURIComponent(id)}`, GROUPS_VERSION))?.group;
/** The project's groups, kept live. */
export const useGroups = () => useLiveList<Group>('groups', loadGroups, loadGroup);

/** The project's volumes as 3.13 shows them, with the group each is in. */
const loadGroupedVolumes = async (): Promise<GroupedVolume[]> => (await os('block-storage', 'GET', '/volumes/detail', undefined, GROUPS_VERSION)).volumes;
const loadGroupedVolume = async (id: string): Promise<GroupedVolume | undefined> => (await osMaybe('block-storage', `/volumes/${encodeURIComponent(id)}`, GROUPS_VERSION))?.volume;

const choices = (path: string, key: string) => async (): Promise<Named[]> => (await os('block-storage', 'GET', path, undefined, GROUPS_VERSION))[key];

function CreateGroup({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [groupType, setGroupType] = useState('');
  const [volumeTypes, setVolumeTypes] = useState<string[]>([]);
  const groupTypes = useLoaded(choices('/group_types', 'group_types'));
  const types = useLoaded(choices('/types', 'volume_types'));
  const create = () => os('block-storage', 'POST', '/groups', { group: { name: name || null, group_type: groupType, volume_types: volumeTypes } }, GROUPS_VERSION);
  return (
    <FormDialog title="Create volume group" submitLabel="Create group" isDisabled={!groupType || !volumeTypes.length} onClose={onClose} onSubmit={create}>
      <ErrorAlert error={groupTypes.error ?? types.error} title="The choices could not be read" />
      <Form onSubmit={(e) => e.preventDefault()}>
        <FormGroup label="Group name" fieldId="group-name">
          <TextInput id="group-name" value={name} onChange={(_e, v) => setName(v)} />
        </FormGroup>
        <Choice id="group-type" label="Group type" value={groupType} onChange={setGroupType} items={groupTypes.value} placeholder="Choose a group type" show={(t) => t.name || t.id} />
        <FormGroup label="Volume types" isRequired role="group" fieldId="group-volume-types">
          {(types.value ?? []).map((t) => (
            <Checkbox
              key={t.id}
              id={`group-volume-type-${t.id}`}
              label={t.name || t.id}
              isChecked={volumeTypes.includes(t.id)}
              onChange={(_e, on) => setVolumeTypes((all) => (on ? [...all, t.id] : all.filter((x) => x !== t.id)))}
            />
          ))}
        </FormGroup>
      </Form>
    </FormDialog>
  );
}

/** Cinder deletes a group that still has volumes only when told to take them too (delete-volumes). */
function DeleteGroup({ group }: { group: Group }) {
  const [withVolumes, setWithVolumes] = useState(false);
  const remove = () => os('block-storage', 'POST', `/groups/${encodeURIComponent(group.id)}/action`, { delete: { 'delete-volumes': withVolumes } }, GROUPS_VERSION);
  const question = (
    <>
      <p>Delete the group {group.name || group.id}?</p>
      <Checkbox id={`delete-volumes-${group.id}`} label="Delete its volumes too (their data goes)" isChecked={withVolumes} onChange={(_e, on) => setWithVolumes(on)} />
    </>
  );
  return <ConfirmAction label="Delete" question={question} onConfirm={remove} />;
}

export function VolumeGroups() {
  const volumes = useLiveList<GroupedVolume>('volumes', loadGroupedVolumes, loadGroupedVolume);
  const membersOf = (g: Group) => (volumes.items ?? []).filter((v) => v.group_id === g.id);
  return (
    <ListPage<Group>
      title="Volume groups"
      kind="groups"
      load={loadGroups}
      loadOne={loadGroup}
      columns={[
        { title: 'Name', cell: (g) => g.name || g.id },
        { title: 'Status', cell: (g) => <StatusLabel status={g.status} /> },
        { title: 'Volumes', cell: (g) => membersOf(g).map((v) => nameOf(volumes.items, v.id)).join(', ') || '—' },
        { title: 'Created', cell: (g) => g.created_at ?? '—' },
      ]}
      actions={(g) => <DeleteGroup group={g} />}
      createLabel="Create group"
      create={(close) => <CreateGroup onClose={close} />}
    />
  );
}
