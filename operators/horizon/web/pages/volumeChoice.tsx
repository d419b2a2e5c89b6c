/** What the volume pages share: the project's volumes, live, to name them in rows and to choose one in a dialog. */
import { FormGroup, FormSelect, FormSelectOption } from '@patternfly/react-core';
import { os, osMaybe } from '../api';
import { useLiveList } from '../live';

export interface VolumeRef {
  id: string;
  name?: string | null;
  status: string;
}

/** The project's volumes through Cinder's API: all of them, or one (undefined once the user may no longer see it). */
export const loadVolumes = async () => (await os('block-storage', 'GET', '/volumes/detail')).volumes;
export const loadVolume = async (id: string) => (await osMaybe('block-storage', `/volumes/${encodeURIComponent(id)}`))?.volume;

/** The project's volumes, kept live. */
export const useVolumes = () => useLiveList<VolumeRef>('volumes', loadVolumes, loadVolume);

/** A volume by its name when it has one, else by its ID (also for a volume no longer there). */
export const volumeName = (volumes: VolumeRef[] | undefined, id: string | null | undefined) => {
  const v = volumes?.find((x) => x.id === id);
  return v?.name || id || '—';
};

/** A select of the project's volumes that are `available` or `in-use` (what a snapshot or a backup is taken of). */
export function VolumeSelect({ id, value, onChange }: { id: string; value: string; onChange: (volumeId: string) => void }) {
  const volumes = useVolumes().items?.filter((v) => v.status === 'available' || v.status === 'in-use') ?? [];
  return (
    <FormGroup label="Volume" isRequired fieldId={id}>
      <FormSelect id={id} value={value} onChange={(_e, v) => onChange(v)}>
        <FormSelectOption value="" label="Choose a volume" isPlaceholder />
        {volumes.map((v) => (
          <FormSelectOption key={v.id} value={v.id} label={`${v.name || v.id} (${v.status})`} />
        ))}
      </FormSelect>
    </FormGroup>
  );
}
