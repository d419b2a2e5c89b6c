/** The project's floating IPs, live (Neutron): allocate one from an external network, associate it with a port, release it. */
import { useState } from 'react';
import { Button, Form } from '@patternfly/react-core';
import { os, osMaybe } from '../api';
import { Choice, ConfirmAction, ErrorAlert, FormDialog, ListPage, StatusLabel, useLoaded, type Named } from '../components';
import { loadNetworks } from './networkChoice';

interface FloatingIp {
  id: string;
  floating_ip_address: string;
  floating_network_id: string;
  fixed_ip_address?: string | null;
  port_id?: string | null;
  status: string;
}

interface PortRef extends Named {
  device_owner: string;
  fixed_ips: Array<{ ip_address: string }>;
}

const update = (ip: FloatingIp, portId: string | null) => os('network', 'PUT', `/v2.0/floatingips/${encodeURIComponent(ip.id)}`, { floatingip: { port_id: portId } });

function Allocate({ onClose }: { onClose: () => void }) {
  const [network, setNetwork] = useState('');
  const networks = useLoaded(loadNetworks);
  return (
    <FormDialog title="Allocate floating IP" submitLabel="Allocate IP" isDisabled={!network} onClose={onClose} onSubmit={() => os('network', 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: network } })}>
      <ErrorAlert error={networks.error} title="The networks could not be read" />
      <Form onSubmit={(e) => e.preventDefault()}>
        <Choice id="floating-network" label="External network" value={network} onChange={setNetwork} items={networks.value?.filter((n) => n['router:external'])} placeholder="Choose a network" show={(n) => n.name || n.id} />
      </Form>
    </FormDialog>
  );
}

/** The ports a floating IP can go to: the project's own (a server's, or one made for it), not a router's or DHCP's. */
const loadTargets = async (): Promise<PortRef[]> => ((await os('network', 'GET', '/v2.0/ports')).ports as PortRef[]).filter((p) => !p.device_owner.startsWith('network:') && p.fixed_ips.length);

function Associate({ ip }: { ip: FloatingIp }) {
  const [open, setOpen] = useState(false);
  const [port, setPort] = useState('');
  return (
    <>
      <Button variant="secondary" onClick={() => setOpen(true)}>
        Associate
      </Button>
      {open && (
        <FormDialog title={`Associate ${ip.floating_ip_address}`} submitLabel="Associate" isDisabled={!port} onClose={() => setOpen(false)} onSubmit={() => update(ip, port)}>
          <Targets port={port} setPort={setPort} />
        </FormDialog>
      )}
    </>
  );
}

function Targets({ port, setPort }: { port: string; setPort: (p: string) => void }) {
  const ports = useLoaded(loadTargets);
  return (
    <>
      <ErrorAlert error={ports.error} title="The ports could not be read" />
      <Form onSubmit={(e) => e.preventDefault()}>
        <Choice id="floating-port" label="Port" value={port} onChange={setPort} items={ports.value} placeholder="Choose a port" show={(p) => `${p.fixed_ips[0].ip_address} (${p.name || p.id})`} />
      </Form>
    </>
  );
}

export function FloatingIps() {
  return (
    <ListPage<FloatingIp>
      title="Floating IPs"
      kind="floatingips"
      load={async () => (await os('network', 'GET', '/v2.0/floatingips')).floatingips}
      loadOne={async (id) => (await osMaybe('network', `/v2.0/floatingips/${encodeURIComponent(id)}`))?.floatingip}
      columns={[
        { title: 'IP address', cell: (f) => f.floating_ip_address },
        { title: 'Status', cell: (f) => <StatusLabel status={f.status} /> },
        { title: 'Mapped to', cell: (f) => f.fixed_ip_address ?? '—' },
      ]}
      actions={(f) => (
        <div style={{ display: 'flex', gap: 8 }}>
          {f.port_id ? <ConfirmAction label="Disassociate" question={`Take ${f.floating_ip_address} off ${f.fixed_ip_address}?`} onConfirm={() => update(f, null)} /> : <Associate ip={f} />}
          <ConfirmAction label="Release" question={`Release ${f.floating_ip_address} back to its network?`} onConfirm={() => os('network', 'DELETE', `/v2.0/floatingips/${encodeURIComponent(f.id)}`)} />
        </div>
      )}
      createLabel="Allocate IP"
      create={(close) => <Allocate onClose={close} />}
    />
  );
}
