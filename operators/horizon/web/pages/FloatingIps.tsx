/** The project's floating IPs, live (Neutron): allocate one from an external network, associate it with a port, release it. */
import { useState } from 'react';
import { Button, Form } from '@patternfly/react-core';
import { os, osMaybe } from '../api';
import { Choice, ConfirmAction, ErrorAlert, FormDialog, ListPage, StatusLabel, useLoaded, type Named } from '../components';
import { loadNetworks } from './networkChoice';
import { portLabel, type PortTarget } from '../../src/shared/portLabel';

interface FloatingIp {
  id: string;
  floating_ip_address: string;
  floating_network_id: string;
  fixed_ip_address?: string | null;
  port_id?: string | null;
  status: string;
}

interface PortRef extends Named, PortTarget {
  device_owner: string;
  /** How the dialog shows it (portLabel). */
  label: string;
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

/** The ports a floating IP can go to: the project's own (a server's, or one made for it), not a router's or DHCP's; each named by its server where it has one. */
const loadTargets = async (): Promise<PortRef[]> => {
  const [ports, servers] = await Promise.all([
    os('network', 'GET', '/v2.0/ports').then((r) => r.ports as PortRef[]),
    // Without the servers (the Compute API refusing), ports are still named by their own names.
    os('compute', 'GET', '/servers').then((r) => r.servers as Named[], () => [] as Named[]),
  ]);
  const serverName = (id: string) => servers.find((s) => s.id === id)?.name;
  return ports.filter((p) => !p.device_owner.startsWith('network:') && p.fixed_ips.length).map((p) => ({ ...p, label: portLabel(p, serverName) }));
};

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
        <Choice id="floating-port" label="Port" value={port} onChange={setPort} items={ports.value} placeholder="Choose a port" show={(p) => p.label} />
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
