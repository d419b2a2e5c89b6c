/** The project's routers, live (Neutron): make one with a gateway on an external network, add and remove its subnets. */
import { useState } from 'react';
import { Button, Form, FormGroup, TextInput } from '@patternfly/react-core';
import { os, osMaybe } from '../api';
import { Choice, ConfirmAction, ErrorAlert, FormDialog, ListPage, StatusLabel, nameOf, useLoaded } from '../components';
import { useLiveList } from '../live';
import { loadNetworks, loadSubnets, type SubnetRef } from './networkChoice';

interface Router {
  id: string;
  name: string;
  status: string;
  external_gateway_info?: { network_id: string; external_fixed_ips?: Array<{ ip_address: string }> } | null;
}

function CreateRouter({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [external, setExternal] = useState('');
  const networks = useLoaded(loadNetworks);
  const create = () => os('network', 'POST', '/v2.0/routers', { router: { name, ...(external ? { external_gateway_info: { network_id: external } } : {}) } });
  return (
    <FormDialog title="Create router" submitLabel="Create router" isDisabled={!name} onClose={onClose} onSubmit={create}>
      <ErrorAlert error={networks.error} title="The networks could not be read" />
      <Form onSubmit={(e) => e.preventDefault()}>
        <FormGroup label="Router name" isRequired fieldId="router-name">
          <TextInput id="router-name" value={name} onChange={(_e, v) => setName(v)} />
        </FormGroup>
        <Choice id="router-external" label="External network (optional)" value={external} onChange={setExternal} items={networks.value?.filter((n) => n['router:external'])} placeholder="No gateway" show={(n) => n.name || n.id} />
      </Form>
    </FormDialog>
  );
}

/** The router's subnets: those of its interface ports (a router's own ports, as Neutron lists them by device). */
const attachedSubnets = async (router: string, subnets: SubnetRef[]) => {
  const ports: Array<{ device_owner: string; fixed_ips: Array<{ subnet_id: string }> }> = (await os('network', 'GET', `/v2.0/ports?device_id=${encodeURIComponent(router)}`)).ports;
  const ids = new Set(ports.filter((p) => p.device_owner !== 'network:router_gateway').flatMap((p) => p.fixed_ips.map((f) => f.subnet_id)));
  return subnets.filter((s) => ids.has(s.id));
};

/** Adds a subnet to the router, or removes one (`remove`): Neutron's add_router_interface and remove_router_interface. */
function Interface({ router, remove }: { router: Router; remove?: boolean }) {
  const [open, setOpen] = useState(false);
  const [subnet, setSubnet] = useState('');
  const verb = remove ? 'Remove interface' : 'Add interface';
  const act = () => os('network', 'PUT', `/v2.0/routers/${encodeURIComponent(router.id)}/${remove ? 'remove' : 'add'}_router_interface`, { subnet_id: subnet });
  return (
    <>
      <Button variant="secondary" onClick={() => setOpen(true)}>
        {verb}
      </Button>
      {open && <InterfaceDialog title={`${verb}: ${router.name || router.id}`} verb={verb} subnet={subnet} setSubnet={setSubnet} load={remove ? () => loadSubnets().then((all) => attachedSubnets(router.id, all)) : loadSubnets} onSubmit={act} onClose={() => setOpen(false)} />}
    </>
  );
}

function InterfaceDialog({ title, verb, subnet, setSubnet, load, onSubmit, onClose }: { title: string; verb: string; subnet: string; setSubnet: (s: string) => void; load: () => Promise<SubnetRef[]>; onSubmit: () => Promise<unknown>; onClose: () => void }) {
  const subnets = useLoaded(load);
  return (
    <FormDialog title={title} submitLabel={verb} isDisabled={!subnet} onClose={onClose} onSubmit={onSubmit}>
      <ErrorAlert error={subnets.error} title="The subnets could not be read" />
      <Form onSubmit={(e) => e.preventDefault()}>
        <Choice id="interface-subnet" label="Subnet" value={subnet} onChange={setSubnet} items={subnets.value} placeholder="Choose a subnet" show={(s) => `${s.name || s.id} (${s.cidr})`} />
      </Form>
    </FormDialog>
  );
}

export function Routers() {
  const networks = useLiveList('networks', loadNetworks, async (id) => (await osMaybe('network', `/v2.0/networks/${encodeURIComponent(id)}`))?.network);
  return (
    <ListPage<Router>
      title="Routers"
      kind="routers"
      load={async () => (await os('network', 'GET', '/v2.0/routers')).routers}
      loadOne={async (id) => (await osMaybe('network', `/v2.0/routers/${encodeURIComponent(id)}`))?.router}
      columns={[
        { title: 'Name', cell: (r) => r.name || r.id },
        { title: 'Status', cell: (r) => <StatusLabel status={r.status} /> },
        { title: 'External gateway', cell: (r) => (r.external_gateway_info ? `${nameOf(networks.items, r.external_gateway_info.network_id)} ${(r.external_gateway_info.external_fixed_ips ?? []).map((f) => f.ip_address).join(', ')}`.trim() : '—') },
      ]}
      actions={(r) => (
        <div style={{ display: 'flex', gap: 8 }}>
          <Interface router={r} />
          <Interface router={r} remove />
          <ConfirmAction label="Delete" question={`Delete the router ${r.name || r.id}?`} onConfirm={() => os('network', 'DELETE', `/v2.0/routers/${encodeURIComponent(r.id)}`)} />
        </div>
      )}
      createLabel="Create router"
      create={(close) => <CreateRouter onClose={close} />}
    />
  );
}
