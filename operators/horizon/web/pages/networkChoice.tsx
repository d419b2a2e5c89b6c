/** What the networking pages share: the project's networks and subnets, to name them in rows and choose them in dialogs. */
import { os } from '../api';
import type { Named } from '../components';

export interface NetworkRef extends Named {
  'router:external'?: boolean;
}

export interface SubnetRef extends Named {
  cidr: string;
  network_id: string;
}

export const loadNetworks = async (): Promise<NetworkRef[]> => (await os('network', 'GET', '/v2.0/networks')).networks;
export const loadSubnets = async (): Promise<SubnetRef[]> => (await os('network', 'GET', '/v2.0/subnets')).subnets;
