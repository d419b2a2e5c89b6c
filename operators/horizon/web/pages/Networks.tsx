/** Networks the project can use, live (Neutron). */
import { useState } from 'react';
import { Form, FormGroup, TextInput } from '@patternfly/react-core';
import { os, osMaybe } from '../api';
import { ConfirmAction, FormDialog, ListPage, StatusLabel } from '../components';

interface Network {
  id: string;
  name: string;
  status: string;
  shared: boolean;
  'router:external'?: boolean;
  subnets: string[];
}

function CreateNetwork({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [cidr, setCidr] = useState('');
  const create = async () => {
    const net = (await os('network', 'POST', '/v2.0/networks', { network: { name } })).network;
    if (cidr) await os('network', 'POST', '/v2.0/subnets', { subnet: { network_id: net.id, cidr, ip_version: cidr.includes(':') ? 6 : 4, name: `${name}-subnet` } });
  };
  return (
    <FormDialog title="Create network" submitLabel="Create network" isDisabled={!name} onClose={onClose} onSubmit={create}>
      <Form onSubmit={(e) => e.preventDefault()}>
        <FormGroup label="Network name" isRequired fieldId="network-name">
          <TextInput id="network-name" value={name} onChange={(_e, v) => setName(v)} />
        </FormGroup>
        <FormGroup label="Subnet CIDR (optional)" fieldId="network-cidr">
          <TextInput id="network-cidr" value={cidr} placeholder="10.0.0.0/24" onChange={(_e, v) => setCidr(v)} />
        </FormGroup>
      </Form>
    </FormDialog>
  );
}

export function Networks() {
  return (
    <ListPage<Network>
      title="Networks"
      kind="networks"
      load={async () => (await os('network', 'GET', '/v2.0/networks')).networks}
      loadOne={async (id) => (await osMaybe('network', `/v2.0/networks/${encodeURIComponent(id)}`))?.network}
      columns={[
        { title: 'Name', cell: (n) => n.name || n.id },
        { title: 'Status', cell: (n) => <StatusLabel status={n.status} /> },
        { title: 'Subnets', cell: (n) => n.subnets.length },
        { title: 'Shared', cell: (n) => (n.shared ? 'Yes' : 'No') },
        { title: 'External', cell: (n) => (n['router:external'] ? 'Yes' : 'No') },
      ]}
      actions={(n) => <ConfirmAction label="Delete" question={`Delete the network ${n.name || n.id}?`} onConfirm={() => os('network', 'DELETE', `/v2.0/networks/${encodeURIComponent(n.id)}`)} />}
      createLabel="Create network"
      create={(close) => <CreateNetwork onClose={close} />}
    />
  );
}
