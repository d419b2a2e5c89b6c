/** What the volume pages share: the project's volumes, live, to name them in rows and to choose one in a dialog. */
import { os, osMaybe } from '../api';
import { useLiveList } from '../live';
import { Choice, type Named } from '../components';

export interface VolumeRef extends Named {
  status: string;
}

/** The project's volumes through Cinder's API: all of them, or one (undefined once the user may no longer see it). */
export const loadVolumes = async () => (await os('block-storage', 'GET', '/volumes/detail')).volumes;
export const loadVolume = async (id: string) => (await osMaybe('block-storage', `/volumes/${encodeURIComponent(id)}`))?.volume;

/** The project's volumes, kept live. */
export const useVolumes = () => useLiveList<VolumeRef>('volumes', loadVolumes, loadVolume);

/** A select of the project's volumes that are `available` or `in-use` (what a snapshot or a backup is taken of). */
export function VolumeSelect({ id, value, onChange }: { id: string; value: string; onChange: (volumeId: string) => void }) {
  const volumes = useVolumes().items?.filter((v) => v.status === 'available' || v.status === 'in-use') ?? [];
  return <Choice id={id} label="Volume" value={value} onChange={onChange} items={volumes} placeholder="Choose a volume" show={(v) => `${v.name || v.id} (${v.status})`} />;
}
