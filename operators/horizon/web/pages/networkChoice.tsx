/** What the networking pages share: the project's networks and subnets, to name them in rows and choose them in dialogs. */
import { FormGroup, FormSelect, FormSelectOption } from '@patternfly/react-core';
import { os } from '../api';

export interface Named {
  id: string;
  name?: string | null;
}

export interface NetworkRef extends Named {
  'router:external'?: boolean;
}

export interface SubnetRef extends Named {
  cidr: string;
  network_id: string;
}

export const loadNetworks = async (): Promise<NetworkRef[]> => (await os('network', 'GET', '/v2.0/networks')).networks;
export const loadSubnets = async (): Promise<SubnetRef[]> => (await os('network', 'GET', '/v2.0/subnets')).subnets;

/** An object by its name when it has one, else by its ID. */
export const nameOf = (all: Named[] | undefined, id: string | null | undefined) => all?.find((x) => x.id === id)?.name || id || '—';

/** A select of some objects, each shown by `label`. */
export function Choice<T extends Named>({ id, label, value, onChange, items, placeholder, show }: { id: string; label: string; value: string; onChange: (id: string) => void; items: T[] | undefined; placeholder: string; show: (x: T) => string }) {
  return (
    <FormGroup label={label} isRequired fieldId={id}>
      <FormSelect id={id} value={value} onChange={(_e, v) => onChange(v)}>
        <FormSelectOption value="" label={placeholder} isPlaceholder />
        {(items ?? []).map((x) => (
          <FormSelectOption key={x.id} value={x.id} label={show(x)} />
        ))}
      </FormSelect>
    </FormGroup>
  );
}
