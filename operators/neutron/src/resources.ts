/** The network.stratus.io types, their API references, and the facts every part of the networking service reads the same way. */
import { createHash } from 'node:crypto';
import { resourceOf, type Condition } from '@stratus/runtime';
import type { AddressPair } from './addressPairs.js';
import type { ExtraDhcpOption } from './dhcpOptions.js';
import { FloatingIPKind, NetworkKind, PortKind, RouterKind, SecurityGroupKind, SubnetKind, SubnetPoolKind } from './kinds.js';

export const NETWORKS = resourceOf(NetworkKind);
export const SUBNETS = resourceOf(SubnetKind);
export const PORTS = resourceOf(PortKind);
export const SECURITY_GROUPS = resourceOf(SecurityGroupKind);
export const ROUTERS = resourceOf(RouterKind);
/** The device owner of a router's port on a subnet (Neutron's). */
export const ROUTER_INTERFACE_OWNER = 'network:router_interface';
export const ROUTER_GATEWAY_OWNER = 'network:router_gateway';
export const FLOATING_IP_OWNER = 'network:floatingip';
export const FLOATING_IPS = resourceOf(FloatingIPKind);
export const SUBNET_POOLS = resourceOf(SubnetPoolKind);
/** Ports that are a router's legs (OVN router ports, patched to their switch). */
export const isRouterLeg = (p: Port) => p.spec.deviceOwner === ROUTER_INTERFACE_OWNER || p.spec.deviceOwner === ROUTER_GATEWAY_OWNER;
/** The provider network external networks are on: the node's br-ex (OVN's bridge mapping). */
export const PHYSICAL_NETWORK = 'physnet1';
/** The security group every tenant namespace has, which ports get when they name none. */
export const DEFAULT_SECURITY_GROUP = 'default';
export const FIELD_MANAGER = 'stratus-neutron';
/** Guards a resource's rows in OVN's northbound database (and a port's addresses): removed once they are gone. */
export const OVN_FINALIZER = 'network.stratus.io/ovn';
/** The 1500 bytes of the node's links, less Geneve's 58 bytes of headers. */
export const DEFAULT_MTU = 1442;

interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: Date;
  deletionTimestamp?: Date;
  finalizers?: string[];
  labels?: Record<string, string>;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
}
interface CommonStatus {
  observedGeneration?: number;
  phase?: string;
  conditions?: Condition[];
  id?: string;
  projectId?: string;
}

export interface Network {
  apiVersion?: string;
  kind?: 'Network';
  metadata: Meta;
  spec: { displayName?: string; description?: string; tags?: string[]; shared?: boolean; external?: boolean; mtu?: number; adminStateUp?: boolean };
  status?: CommonStatus & { mtu?: number; logicalSwitch?: string };
}

export interface AllocationPool {
  start: string;
  end: string;
}

export interface Subnet {
  apiVersion?: string;
  kind?: 'Subnet';
  metadata: Meta;
  spec: { displayName?: string; description?: string; tags?: string[]; network: string; cidr: string; ipVersion?: 4 | 6; gatewayIP?: string; allocationPools?: AllocationPool[]; dnsNameservers?: string[]; hostRoutes?: Array<{ destination: string; nexthop: string }>; enableDHCP?: boolean; subnetPool?: string };
  status?: CommonStatus & { gatewayIP?: string; allocations?: Record<string, string> };
}

export interface FixedIP {
  subnet?: string;
  subnetId?: string;
  ipAddress?: string;
}

/** Whether two lists of fixed IPs ask for the same, entry by entry, however each entry's keys were written (kubectl keeps the manifest's order). */
export const sameFixedIPs = (a: FixedIP[], b: FixedIP[]): boolean =>
  a.length === b.length && a.every((x, i) => x.subnet === b[i].subnet && x.subnetId === b[i].subnetId && x.ipAddress === b[i].ipAddress);

export interface Port {
  apiVersion?: string;
  kind?: 'Port';
  metadata: Meta;
  spec: {
    displayName?: string;
    description?: string;
    tags?: string[];
    network: string;
    networkNamespace?: string;
    macAddress?: string;
    fixedIPs?: FixedIP[];
    deviceOwner?: string;
    deviceId?: string;
    bindingHost?: string;
    portSecurityEnabled?: boolean;
    securityGroups?: string[];
    adminStateUp?: boolean;
    allowedAddressPairs?: AddressPair[];
    extraDHCPOptions?: ExtraDhcpOption[];
  };
  status?: CommonStatus & { macAddress?: string; fixedIPs?: FixedIP[]; networkId?: string; mtu?: number; chassis?: string };
}

export interface SecurityGroupRule {
  id?: string;
  direction: 'ingress' | 'egress';
  ethertype?: 'IPv4' | 'IPv6';
  protocol?: string;
  portRangeMin?: number;
  portRangeMax?: number;
  remoteIPPrefix?: string;
  remoteGroup?: string;
  description?: string;
}

export interface SecurityGroup {
  apiVersion?: string;
  kind?: 'SecurityGroup';
  metadata: Meta;
  spec: { displayName?: string; description?: string; tags?: string[]; rules?: SecurityGroupRule[] };
  status?: CommonStatus & { portGroup?: string; ruleIds?: string[]; ruleCount?: number };
}

export interface RouterInterfaceStatus {
  subnet: string;
  subnetId?: string;
  port: string;
  portId?: string;
  ipAddress?: string;
}

export interface Router {
  apiVersion?: string;
  kind?: 'Router';
  metadata: Meta;
  spec: { displayName?: string; description?: string; tags?: string[]; adminStateUp?: boolean; interfaces?: Array<{ subnet?: string; port?: string }>; routes?: Array<{ destination: string; nexthop: string }>; externalGateway?: { network: string; networkNamespace?: string; enableSNAT?: boolean; fixedIPs?: FixedIP[] } };
  status?: CommonStatus & { logicalRouter?: string; gatewayIP?: string; interfaces?: RouterInterfaceStatus[] };
}

export interface SubnetPool {
  apiVersion?: string;
  kind?: 'SubnetPool';
  metadata: Meta;
  spec: { displayName?: string; description?: string; tags?: string[]; prefixes: string[]; defaultPrefixLength?: number; minPrefixLength?: number; maxPrefixLength?: number; shared?: boolean; isDefault?: boolean };
  status?: CommonStatus & { ipVersion?: number };
}

export interface FloatingIP {
  apiVersion?: string;
  kind?: 'FloatingIP';
  metadata: Meta;
  spec: { network: string; networkNamespace?: string; floatingIPAddress?: string; port?: string; fixedIPAddress?: string; description?: string; tags?: string[] };
  status?: CommonStatus & { floatingIPAddress?: string; fixedIPAddress?: string; router?: string; routerId?: string; portId?: string };
}

/** The Port holding a floating IP's address on its external network. */
export const floatingPortNameOf = (fip: string) => `fip-${fip}`.slice(0, 253);
/** The Port a router holds on its external network. */
export const gatewayPortNameOf = (router: string) => `${router}-gateway`.slice(0, 253);

/** The Port a router holds on a subnet: named after both, owned by the router. */
export const routerPortNameOf = (router: string, subnet: string) => `${router}-${subnet}`.slice(0, 253);

/** The security groups a port is in: none without port security; spec's; else its namespace's default. */
export const securityGroupsOf = (p: Port): string[] => (p.spec.portSecurityEnabled === false ? [] : (p.spec.securityGroups ?? [DEFAULT_SECURITY_GROUP]));

/** The OpenStack ID of any of these kinds: its object's UID (a UUID, fixed for its life). */
export const idOf = (o: { metadata: { uid?: string } }) => o.metadata.uid!;
export const keyOf = (o: { metadata: { namespace?: string; name: string } }) => `${o.metadata.namespace}/${o.metadata.name}`;
/** The namespace of the network a port is on. */
export const portNetworkNamespace = (p: Port) => p.spec.networkNamespace ?? p.metadata.namespace!;
export const mtuOf = (n: Network) => n.spec.mtu ?? DEFAULT_MTU;

/** Made MACs by the port object they were made for: OVN's every sync asks again for each cached port. */
const madeMacs = new WeakMap<Port, string>();

/** The port's MAC: spec's, else one made from its ID under OpenStack's fa:16:3e prefix (the same on every reconcile). */
export function macOf(p: Port): string {
  if (p.spec.macAddress) return p.spec.macAddress.toLowerCase();
  let mac = madeMacs.get(p);
  if (!mac) {
    const h = createHash('sha256').update(idOf(p)).digest();
    mac = ['fa', '16', '3e', ...[h[0], h[1], h[2]].map((b) => b.toString(16).padStart(2, '0'))].join(':');
    madeMacs.set(p, mac);
  }
  return mac;
}

/** The guest device that carries the port on its node: Neutron's tap + the first 11 characters of the port ID. */
export const tapNameOf = (portId: string) => `tap${portId.slice(0, 11)}`;
