/** The subnets the project can see, live (Neutron): make one on a network of the project's, with or without DHCP and a gateway; delete one. */
import { useState } from 'react';
import { Checkbox, Form, FormGroup, TextInput } from '@patternfly/react-core';
import { os, osMaybe } from '../api';
import { Choice, ConfirmAction, ErrorAlert, FormDialog, ListPage, nameOf, useLoaded } from '../components';
import { loadNetworks, type SubnetRef } from './networkChoice';

interface Subnet extends SubnetRef {
  ip_version: 4 | 6;
  gateway_ip: string | null;
  enable_dhcp: boolean;
}

function CreateSubnet({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [network, setNetwork] = useState('');
  const [cidr, setCidr] = useState('');
  const [gateway, setGateway] = useState('');
  const [noGateway, setNoGateway] = useState(false);
  const [dhcp, setDhcp] = useState(true);
  const networks = useLoaded(loadNetworks);
  const create = () =>
    os('network', 'POST', '/v2.0/subnets', {
      subnet: {
        name,
        network_id: network,
        cidr: cidr.trim(),
        ip_version: cidr.includes(':') ? 6 : 4,
        enable_dhcp: dhcp,
        // Neutron picks the range's first address when none is given; null is "no gateway".
        ...(noGateway ? { gateway_ip: null } : gateway.trim() ? { gateway_ip: gateway.trim() } : {}),
      },
    });
  return (
    <FormDialog title="Create subnet" submitLabel="Create subnet" isDisabled={!network || !cidr.trim()} onClose={onClose} onSubmit={create}>
      <ErrorAlert error={networks.error} title="The networks could not be read" />
      <Form onSubmit={(e) => e.preventDefault()}>
        <FormGroup label="Subnet name" fieldId="subnet-name">
          <TextInput id="subnet-name" value={name} onChange={(_e, v) => setName(v)} />
        </FormGroup>
        <Choice id="subnet-network" label="Network" value={network} onChange={setNetwork} items={networks.value?.filter((n) => !n['router:external'])} placeholder="Choose a network" show={(n) => n.name || n.id} />
        <FormGroup label="CIDR" isRequired fieldId="subnet-cidr">
          <TextInput id="subnet-cidr" value={cidr} placeholder="10.0.1.0/24" onChange={(_e, v) => setCidr(v)} />
        </FormGroup>
        <Checkbox id="subnet-no-gateway" label="No gateway" isChecked={noGateway} onChange={(_e, on) => setNoGateway(on)} />
        {!noGateway && (
          <FormGroup label="Gateway (optional: the first address when empty)" fieldId="subnet-gateway">
            <TextInput id="subnet-gateway" value={gateway} onChange={(_e, v) => setGateway(v)} />
          </FormGroup>
        )}
        <Checkbox id="subnet-dhcp" label="DHCP (servers get their addresses from it)" isChecked={dhcp} onChange={(_e, on) => setDhcp(on)} />
      </Form>
    </FormDialog>
  );
}

export function Subnets() {
  // Read once, to name each subnet's network; a network made since shows by its ID until the page is opened again.
  const networks = useLoaded(loadNetworks);
  return (
    <ListPage<Subnet>
      title="Subnets"
      kind="subnets"
      load={async () => (await os('network', 'GET', '/v2.0/subnets')).subnets}
      loadOne={async (id) => (await osMaybe('network', `/v2.0/subnets/${encodeURIComponent(id)}`))?.subnet}
      columns={[
        { title: 'Name', cell: (s) => s.name || s.id },
        { title: 'Network', cell: (s) => nameOf(networks.value, s.network_id) },
        { title: 'CIDR', cell: (s) => s.cidr },
        { title: 'Gateway', cell: (s) => s.gateway_ip ?? 'none' },
        { title: 'DHCP', cell: (s) => (s.enable_dhcp ? 'Yes' : 'No') },
      ]}
      actions={(s) => <ConfirmAction label="Delete" question={`Delete the subnet ${s.name || s.id} (${s.cidr})?`} onConfirm={() => os('network', 'DELETE', `/v2.0/subnets/${encodeURIComponent(s.id)}`)} />}
      createLabel="Create subnet"
      create={(close) => <CreateSubnet onClose={close} />}
    />
  );
}
