/** Networks the project can use, live (Neutron). */
import { useState } from 'react';
import { Button, Form, FormGroup, Modal, ModalBody, ModalFooter, ModalHeader, PageSection, TextInput } from '@patternfly/react-core';
import { os, osMaybe } from '../api';
import { ConfirmAction, ErrorAlert, PageTitle, ResourceTable, StatusLabel } from '../components';
import { useLiveList } from '../live';

interface Network {
  id: string;
  name: string;
  status: string;
  shared: boolean;
  'router:external'?: boolean;
  subnets: string[];
  project_id?: string;
}

function CreateNetwork({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [cidr, setCidr] = useState('');
  const [error, setError] = useState<string>();
  const create = async () => {
    const net = (await os('network', 'POST', '/v2.0/networks', { network: { name } })).network;
    if (cidr) await os('network', 'POST', '/v2.0/subnets', { subnet: { network_id: net.id, cidr, ip_version: cidr.includes(':') ? 6 : 4, name: `${name}-subnet` } });
  };
  return (
    <Modal isOpen onClose={onClose} variant="small" aria-labelledby="network-title">
      <ModalHeader title="Create network" labelId="network-title" />
      <ModalBody>
        <ErrorAlert error={error} />
        <Form onSubmit={(e) => e.preventDefault()}>
          <FormGroup label="Network name" isRequired fieldId="network-name">
            <TextInput id="network-name" value={name} onChange={(_e, v) => setName(v)} />
          </FormGroup>
          <FormGroup label="Subnet CIDR (optional)" fieldId="network-cidr">
            <TextInput id="network-cidr" value={cidr} placeholder="10.0.0.0/24" onChange={(_e, v) => setCidr(v)} />
          </FormGroup>
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button onClick={() => create().then(onClose, (e: Error) => setError(e.message))} isDisabled={!name}>
          Create network
        </Button>
        <Button variant="link" onClick={onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}

export function Networks() {
  const list = useLiveList<Network>('networks', async () => (await os('network', 'GET', '/v2.0/networks')).networks, async (id) => (await osMaybe('network', `/v2.0/networks/${encodeURIComponent(id)}`))?.network);
  const [creating, setCreating] = useState(false);
  return (
    <>
      <PageTitle title="Networks" actions={<Button onClick={() => setCreating(true)}>Create network</Button>} />
      <PageSection>
        <ErrorAlert error={list.error} />
        <ResourceTable
          label="Networks"
          rows={list.items}
          columns={[
            { title: 'Name', cell: (n) => n.name || n.id },
            { title: 'Status', cell: (n) => <StatusLabel status={n.status} /> },
            { title: 'Subnets', cell: (n) => n.subnets.length },
            { title: 'Shared', cell: (n) => (n.shared ? 'Yes' : 'No') },
            { title: 'External', cell: (n) => (n['router:external'] ? 'Yes' : 'No') },
          ]}
          actions={(n) => <ConfirmAction label="Delete" question={`Delete the network ${n.name || n.id}?`} onConfirm={() => os('network', 'DELETE', `/v2.0/networks/${encodeURIComponent(n.id)}`)} />}
        />
      </PageSection>
      {creating && <CreateNetwork onClose={() => setCreating(false)} />}
    </>
  );
}
