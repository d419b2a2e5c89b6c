/** The project's security groups, live (Neutron): make one, add a rule, delete a rule or the group. */
import { useState } from 'react';
import { Button, Form, FormGroup, FormSelect, FormSelectOption, TextInput } from '@patternfly/react-core';
import { os, osMaybe } from '../api';
import { ConfirmAction, FormDialog, ListPage } from '../components';
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

/** A rule: direction, protocol, a port or range (TCP and UDP), where from; IPv6 when the prefix says so. */
function AddRule({ group }: { group: SecurityGroup }) {
  const [open, setOpen] = useState(false);
  const [direction, setDirection] = useState('ingress');
  const [protocol, setProtocol] = useState('tcp');
  const [ports, setPorts] = useState('');
  const [remote, setRemote] = useState('0.0.0.0/0');
  const add = async () => {
    const withPorts = (protocol === 'tcp' || protocol === 'udp') && ports.trim();
    const range = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(ports);
    if (withPorts && !range) throw new Error(`"${ports}" is not a port: a number from 1 to 65535, or a range such as 8000-8080.`);
    const [min, max] = range ? [Number(range[1]), Number(range[2] ?? range[1])] : [];
    return os('network', 'POST', '/v2.0/security-group-rules', {
      security_group_rule: {
        security_group_id: group.id,
        direction,
        ethertype: remote.includes(':') ? 'IPv6' : 'IPv4',
        protocol: protocol === 'any' ? null : protocol,
        ...(withPorts ? { port_range_min: min, port_range_max: max } : {}),
        remote_ip_prefix: remote || null,
      },
    });
  };
  return (
    <>
      <Button variant="secondary" onClick={() => setOpen(true)}>
        Add rule
      </Button>
      {open && (
        <FormDialog title={`Add a rule to ${group.name}`} submitLabel="Add rule" onClose={() => setOpen(false)} onSubmit={add}>
          <Form onSubmit={(e) => e.preventDefault()}>
            <FormGroup label="Direction" fieldId="rule-direction">
              <FormSelect id="rule-direction" value={direction} onChange={(_e, v) => setDirection(v)}>
                <FormSelectOption value="ingress" label="Ingress (to the servers)" />
                <FormSelectOption value="egress" label="Egress (from the servers)" />
              </FormSelect>
            </FormGroup>
            <FormGroup label="Protocol" fieldId="rule-protocol">
              <FormSelect id="rule-protocol" value={protocol} onChange={(_e, v) => setProtocol(v)}>
                {['tcp', 'udp', 'icmp', 'any'].map((p) => (
                  <FormSelectOption key={p} value={p} label={p.toUpperCase()} />
                ))}
              </FormSelect>
            </FormGroup>
            {(protocol === 'tcp' || protocol === 'udp') && (
              <FormGroup label="Port or range (22, 8000-8080; empty for all)" fieldId="rule-ports">
                <TextInput id="rule-ports" value={ports} onChange={(_e, v) => setPorts(v)} />
              </FormGroup>
            )}
            <FormGroup label="Remote CIDR" fieldId="rule-remote">
              <TextInput id="rule-remote" value={remote} onChange={(_e, v) => setRemote(v)} />
            </FormGroup>
          </Form>
        </FormDialog>
      )}
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
      columns={[
        { title: 'Name', cell: (g) => g.name || g.id },
        { title: 'Description', cell: (g) => g.description || '—' },
        {
          title: 'Rules',
          cell: (g) => (
            <ul style={{ margin: 0, paddingLeft: 16 }}>
              {g.security_group_rules.map((r) => (
                <li key={r.id} data-rule={r.id}>
                  {ruleText(r, (id) => (id === g.id ? g.name : id))}{' '}
                  <ConfirmAction small label="Delete rule" question={`Delete the rule "${ruleText(r)}"?`} onConfirm={() => os('network', 'DELETE', `/v2.0/security-group-rules/${encodeURIComponent(r.id)}`)} />
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
