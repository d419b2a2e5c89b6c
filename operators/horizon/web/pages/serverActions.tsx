/** What a user may do to a server, as Nova's server actions; resize and snapshot ask for what they need first. */
import { useEffect, useState } from 'react';
import { Form, FormGroup, FormSelect, FormSelectOption, TextInput } from '@patternfly/react-core';
import { os } from '../api';
import { FormDialog } from '../components';

export interface Server {
  id: string;
  name: string;
  status: string;
  'OS-EXT-STS:task_state'?: string | null;
  'OS-EXT-STS:power_state'?: number;
  addresses?: Record<string, Array<{ addr: string; version: number }>>;
  flavor?: { id?: string; original_name?: string };
  image?: { id?: string } | '';
  key_name?: string | null;
  created?: string;
  fault?: { message: string };
  'OS-EXT-SRV-ATTR:host'?: string;
  'os-extended-volumes:volumes_attached'?: Array<{ id: string }>;
}

export const loadServers = async (): Promise<Server[]> => (await os('compute', 'GET', '/servers/detail', undefined, { 'OpenStack-API-Version': 'compute 2.47' })).servers;
export const loadServer = async (id: string): Promise<Server | undefined> => {
  try {
    return (await os('compute', 'GET', `/servers/${encodeURIComponent(id)}`, undefined, { 'OpenStack-API-Version': 'compute 2.47' })).server;
  } catch (e) {
    if ((e as { status?: number }).status === 404) return undefined;
    throw e;
  }
};

const act = (id: string, body: unknown) => os('compute', 'POST', `/servers/${encodeURIComponent(id)}/action`, body);

export interface ActionDef {
  title: string;
  when(s: Server): boolean;
  run?(s: Server): Promise<unknown>;
  /** Asks for more first (resize, snapshot, delete). */
  dialog?: 'resize' | 'snapshot' | 'delete';
}

export const SERVER_ACTIONS: ActionDef[] = [
  { title: 'Start', when: (s) => s.status === 'SHUTOFF', run: (s) => act(s.id, { 'os-start': null }) },
  { title: 'Stop', when: (s) => ['ACTIVE', 'PAUSED', 'ERROR'].includes(s.status), run: (s) => act(s.id, { 'os-stop': null }) },
  { title: 'Reboot', when: (s) => ['ACTIVE', 'SHUTOFF'].includes(s.status), run: (s) => act(s.id, { reboot: { type: 'SOFT' } }) },
  { title: 'Pause', when: (s) => s.status === 'ACTIVE', run: (s) => act(s.id, { pause: null }) },
  { title: 'Unpause', when: (s) => s.status === 'PAUSED', run: (s) => act(s.id, { unpause: null }) },
  { title: 'Resize', when: (s) => ['ACTIVE', 'SHUTOFF'].includes(s.status), dialog: 'resize' },
  { title: 'Confirm resize', when: (s) => s.status === 'VERIFY_RESIZE', run: (s) => act(s.id, { confirmResize: null }) },
  { title: 'Revert resize', when: (s) => s.status === 'VERIFY_RESIZE', run: (s) => act(s.id, { revertResize: null }) },
  { title: 'Create snapshot', when: (s) => ['ACTIVE', 'SHUTOFF', 'PAUSED'].includes(s.status), dialog: 'snapshot' },
  { title: 'Delete', when: () => true, dialog: 'delete' },
];

/** The dialog an action needs, for one server; closes itself when done. */
export function ActionDialog({ server, dialog, onClose, onDone }: { server: Server; dialog: ActionDef['dialog']; onClose: () => void; onDone?: () => void }) {
  const [flavors, setFlavors] = useState<Array<{ id: string; name: string }>>([]);
  const [value, setValue] = useState(dialog === 'snapshot' ? `${server.name}-snapshot` : '');
  useEffect(() => {
    if (dialog === 'resize') os('compute', 'GET', '/flavors').then((r) => setFlavors(r.flavors), () => undefined);
  }, [dialog]);
  const title = dialog === 'resize' ? `Resize ${server.name}` : dialog === 'snapshot' ? `Create a snapshot of ${server.name}` : `Delete ${server.name}`;
  const run = async () => {
    if (dialog === 'resize') await act(server.id, { resize: { flavorRef: value } });
    else if (dialog === 'snapshot') await act(server.id, { createImage: { name: value } });
    else await os('compute', 'DELETE', `/servers/${encodeURIComponent(server.id)}`);
    onDone?.();
  };
  return (
    <FormDialog title={title} submitLabel={dialog === 'delete' ? 'Delete' : dialog === 'resize' ? 'Resize' : 'Create snapshot'} danger={dialog === 'delete'} isDisabled={dialog !== 'delete' && !value} onClose={onClose} onSubmit={run}>
      {dialog === 'delete' && <p>The server and its disks are deleted; this cannot be undone.</p>}
      {dialog === 'resize' && (
        <Form onSubmit={(e) => e.preventDefault()}>
          <FormGroup label="New flavor" fieldId="resize-flavor" isRequired>
            <FormSelect id="resize-flavor" value={value} onChange={(_e, v) => setValue(v)}>
              <FormSelectOption value="" label="Choose a flavor" isPlaceholder />
              {flavors
                .filter((f) => f.name !== server.flavor?.original_name)
                .map((f) => (
                  <FormSelectOption key={f.id} value={f.id} label={f.name} />
                ))}
            </FormSelect>
          </FormGroup>
        </Form>
      )}
      {dialog === 'snapshot' && (
        <Form onSubmit={(e) => e.preventDefault()}>
          <FormGroup label="Snapshot name" fieldId="snapshot-name" isRequired>
            <TextInput id="snapshot-name" value={value} onChange={(_e, v) => setValue(v)} />
          </FormGroup>
        </Form>
      )}
    </FormDialog>
  );
}

export const addressesOf = (s: Server) =>
  Object.entries(s.addresses ?? {})
    .flatMap(([net, list]) => list.map((a) => `${a.addr} (${net})`))
    .join(', ') || '—';
