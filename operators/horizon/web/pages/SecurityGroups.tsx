/** The project's security groups, live (Neutron): make one, add a rule (from a CIDR or another group's servers), delete a rule or the group. */
import { useState } from 'react';
import { Button, Form, FormGroup, TextInput } from '@patternfly/react-core';
import { os, osMaybe } from '../api';
import { Choice, ConfirmAction, ErrorAlert, FormDialog, ListPage, Options, nameOf, useLoaded } from '../components';
import { ruleText, type SecurityRule } from '../../src/shared/securityRules';

interface SecurityGroup {
  id: string;
  name: string;
  description?: string;
  security_group_rules: Array<SecurityRule & { id: string }>;
}

function CreateGroup({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  return (
    <FormDialog title="Create security group" submitLabel="Create security group" isDisabled={!name} onClose={onClose} onSubmit={() => os('network', 'POST', '/v2.0/security-groups', { security_group: { name, description } })}>
      <Form onSubmit={(e) => e.preventDefault()}>
        <FormGroup label="Name" isRequired fieldId="security-group-name">
          <TextInput id="security-group-name" value={name} onChange={(_e, v) => setName(v)} />
        </FormGroup>
        <FormGroup label="Description" fieldId="security-group-description">
          <TextInput id="security-group-description" value={description} onChange={(_e, v) => setDescription(v)} />
        </FormGroup>
      </Form>
    </FormDialog>
  );
}

/** A rule: direction, protocol, a port or range (TCP and UDP), where from: a CIDR (IPv6 when it says so) or the servers of a security group. */
function RuleDialog({ group, onClose }: { group: SecurityGroup; onClose: () => void }) {
  const [direction, setDirection] = useState('ingress');
  const [protocol, setProtocol] = useState('tcp');
  const [ports, setPorts] = useState('');
  const [remoteKind, setRemoteKind] = useState<'cidr' | 'group'>('cidr');
  const [remote, setRemote] = useState('0.0.0.0/0');
  const [remoteGroup, setRemoteGroup] = useState('');
  const [ethertype, setEthertype] = useState('IPv4');
  const groups = useLoaded(async () => (await os('network', 'GET', '/v2.0/security-groups')).security_groups as SecurityGroup[]);
  const add = async () => {
    const withPorts = (protocol === 'tcp' || protocol === 'udp') && ports.trim();
    const range = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(ports);
    if (withPorts && !range) throw new Error(`"${ports}" is not a port: a number from 1 to 65535, or a range such as 8000-8080.`);
    const [min, max] = range ? [Number(range[1]), Number(range[2] ?? range[1])] : [];
    const from = remoteKind === 'group' ? { remote_group_id: remoteGroup, ethertype } : { remote_ip_prefix: remote || null, ethertype: remote.includes(':') ? 'IPv6' : 'IPv4' };
    return os('network', 'POST', '/v2.0/security-group-rules', {
      security_group_rule: { security_group_id: group.id, direction, protocol: protocol === 'any' ? null : protocol, ...(withPorts ? { port_range_min: min, port_range_max: max } : {}), ...from },
    });
  };
  return (
    <FormDialog title={`Add a rule to ${group.name}`} submitLabel="Add rule" isDisabled={remoteKind === 'group' && !remoteGroup} onClose={onClose} onSubmit={add}>
      <ErrorAlert error={groups.error} title="The security groups could not be read" />
      <Form onSubmit={(e) => e.preventDefault()}>
        <Options id="rule-direction" label="Direction" value={direction} onChange={setDirection} options={[['ingress', 'Ingress (to the servers)'], ['egress', 'Egress (from the servers)']]} />
        <Options id="rule-protocol" label="Protocol" value={protocol} onChange={setProtocol} options={['tcp', 'udp', 'icmp', 'any'].map((p) => [p, p.toUpperCase()])} />
        {(protocol === 'tcp' || protocol === 'udp') && (
          <FormGroup label="Port or range (22, 8000-8080; empty for all)" fieldId="rule-ports">
            <TextInput id="rule-ports" value={ports} onChange={(_e, v) => setPorts(v)} />
          </FormGroup>
        )}
        <Options id="rule-remote-kind" label="Remote" value={remoteKind} onChange={(v) => setRemoteKind(v as 'cidr' | 'group')} options={[['cidr', 'CIDR (addresses)'], ['group', 'Security group (its servers)']]} />
        {remoteKind === 'cidr' ? (
          <FormGroup label="Remote CIDR" fieldId="rule-remote">
            <TextInput id="rule-remote" value={remote} onChange={(_e, v) => setRemote(v)} />
          </FormGroup>
        ) : (
          <>
            <Choice id="rule-remote-group" label="Remote security group" value={remoteGroup} onChange={setRemoteGroup} items={groups.value} placeholder="Choose a security group" show={(g) => g.name || g.id} />
            <Options id="rule-ethertype" label="Ether type" value={ethertype} onChange={setEthertype} options={[['IPv4', 'IPv4'], ['IPv6', 'IPv6']]} />
          </>
        )}
      </Form>
    </FormDialog>
  );
}

function AddRule({ group }: { group: SecurityGroup }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button variant="secondary" onClick={() => setOpen(true)}>
        Add rule
      </Button>
      {open && <RuleDialog group={group} onClose={() => setOpen(false)} />}
    </>
  );
}

export function SecurityGroups() {
  return (
    <ListPage<SecurityGroup>
      title="Security groups"
      kind="securitygroups"
      load={async () => (await os('network', 'GET', '/v2.0/security-groups')).security_groups}
      loadOne={async (id) => (await osMaybe('network', `/v2.0/security-groups/${encodeURIComponent(id)}`))?.security_group}
      columns={(groups) => [
        { title: 'Name', cell: (g) => g.name || g.id },
        { title: 'Description', cell: (g) => g.description || '—' },
        {
          title: 'Rules',
          cell: (g) => (
            <ul style={{ margin: 0, paddingLeft: 16 }}>
              {g.security_group_rules.map((r) => (
                <li key={r.id} data-rule={r.id}>
                  {ruleText(r, (id) => nameOf(groups, id))}{' '}
                  <ConfirmAction small label="Delete rule" question={`Delete the rule "${ruleText(r, (id) => nameOf(groups, id))}"?`} onConfirm={() => os('network', 'DELETE', `/v2.0/security-group-rules/${encodeURIComponent(r.id)}`)} />
                </li>
              ))}
            </ul>
          ),
        },
      ]}
      actions={(g) => (
        <div style={{ display: 'flex', gap: 8 }}>
          <AddRule group={g} />
          <ConfirmAction label="Delete" question={`Delete the security group ${g.name}?`} onConfirm={() => os('network', 'DELETE', `/v2.0/security-groups/${encodeURIComponent(g.id)}`)} />
        </div>
      )}
      createLabel="Create security group"
      create={(close) => <CreateGroup onClose={close} />}
    />
  );
}
