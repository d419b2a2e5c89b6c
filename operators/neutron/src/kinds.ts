/** The network.stratus.io kinds: the one definition each CRD under crds/ is generated from. */
import { DISPLAY_NAME_COLUMN, displayNameField, type KindDefinition } from '@stratus/runtime';
import { MAX_TAG_LENGTH } from './tags.js';

/** Neutron's tags (standard-attr-tag), as every taggable kind has them. */
const tags = {
  type: 'array',
  'x-kubernetes-list-type': 'set',
  items: { type: 'string', minLength: 1, maxLength: MAX_TAG_LENGTH },
  description: "Neutron's tags: free-text labels that the Networking API's tags, tags-any, not-tags and not-tags-any filters find.",
};

const GROUP = 'network.stratus.io';
const VERSION = 'v1alpha1';
/** Neutron's resource status words. */
export const NETWORK_PHASES = ['BUILD', 'ACTIVE', 'DOWN', 'ERROR'];
export const PORT_PHASES = ['BUILD', 'ACTIVE', 'DOWN', 'ERROR'];

export const NetworkKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Network',
  plural: 'networks',
  scope: 'Namespaced',
  shortNames: ['net'],
  description: "A layer-2 network (a Neutron network) of the tenant whose namespace holds it: an OVN logical switch.",
  spec: {
    properties: {
      displayName: displayNameField(255, 'network'),
      description: { type: 'string', maxLength: 255 },
      tags,
      shared: { type: 'boolean', default: false, description: 'Every tenant may put ports on it.' },
      external: { type: 'boolean', default: false, description: "Neutron's router:external: routers take their gateway and floating IPs from it." },
      mtu: { type: 'integer', minimum: 68, maximum: 9000, description: "The largest IP packet its ports carry; unset: 1442, the 1500 of the node's links less Geneve's 58." },
      adminStateUp: { type: 'boolean', default: true },
    },
  },
  status: {
    id: { type: 'string', description: "The network's OpenStack ID." },
    projectId: { type: 'string', description: 'The OpenStack ID of the project that owns it.' },
    mtu: { type: 'integer', description: 'The MTU in effect.' },
    logicalSwitch: { type: 'string', description: "The OVN northbound Logical_Switch's name." },
  },
  phases: NETWORK_PHASES,
  columns: [DISPLAY_NAME_COLUMN, { name: 'Shared', type: 'boolean', jsonPath: '.spec.shared' }, { name: 'External', type: 'boolean', jsonPath: '.spec.external' }, { name: 'MTU', type: 'integer', jsonPath: '.status.mtu' }],
};

const ipAddress = { type: 'string', maxLength: 64 };

export const SubnetKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Subnet',
  plural: 'subnets',
  scope: 'Namespaced',
  shortNames: ['snet'],
  description: "An IP range on a Network (a Neutron subnet): addresses its ports get, by OVN's native DHCP when enabled.",
  spec: {
    required: ['network', 'cidr'],
    properties: {
      displayName: displayNameField(255, 'subnet'),
      description: { type: 'string', maxLength: 255 },
      tags,
      network: { type: 'string', minLength: 1, description: "The Network (its object name) in this subnet's namespace." },
      cidr: { type: 'string', maxLength: 64, description: 'The range, as 10.0.0.0/24 or fd00::/64.' },
      ipVersion: { type: 'integer', enum: [4, 6], default: 4 },
      gatewayIP: { type: 'string', maxLength: 64, description: "The router's address on it; unset: the range's first address; 'none': no gateway." },
      allocationPools: {
        type: 'array',
        description: "The ranges ports' addresses come from; unset: the whole range but the gateway.",
        items: { type: 'object', required: ['start', 'end'], properties: { start: ipAddress, end: ipAddress } },
      },
      dnsNameservers: { type: 'array', maxItems: 5, items: ipAddress },
      hostRoutes: {
        type: 'array',
        maxItems: 20,
        description: 'Routes DHCP hands out (option 121), besides the default route through the gateway.',
        items: { type: 'object', required: ['destination', 'nexthop'], properties: { destination: { type: 'string', maxLength: 64 }, nexthop: ipAddress } },
      },
      enableDHCP: { type: 'boolean', default: true },
      subnetPool: { type: 'string', description: 'The SubnetPool (object name) its CIDR came from.' },
    },
  },
  status: {
    id: { type: 'string' },
    projectId: { type: 'string' },
    gatewayIP: { type: 'string', description: 'The gateway in effect (empty: none).' },
    allocations: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'IPAM: each address handed out, with the Port (namespace/name) holding it. Claimed with a resourceVersion check, so no address is given twice.',
    },
  },
  phases: ['ACTIVE', 'ERROR'],
  columns: [DISPLAY_NAME_COLUMN, { name: 'Network', type: 'string', jsonPath: '.spec.network' }, { name: 'CIDR', type: 'string', jsonPath: '.spec.cidr' }, { name: 'Gateway', type: 'string', jsonPath: '.status.gatewayIP', priority: 1 }],
};

export const PortKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Port',
  plural: 'ports',
  scope: 'Namespaced',
  shortNames: ['nport'],
  description: "A virtual NIC on a Network (a Neutron port): an OVN logical switch port with its MAC, addresses and port security.",
  spec: {
    required: ['network'],
    properties: {
      displayName: displayNameField(255, 'port'),
      description: { type: 'string', maxLength: 255 },
      tags,
      network: { type: 'string', minLength: 1, description: 'The Network (object name) the port is on.' },
      networkNamespace: { type: 'string', description: "The network's namespace, when it is a shared network of another tenant; this port's namespace when unset." },
      macAddress: { type: 'string', pattern: '^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$', description: 'Unset: one is made (fa:16:3e:…).' },
      fixedIPs: {
        type: 'array',
        description: 'Addresses wanted: a subnet (object name), an address, or both. Unset: one address from the first IPv4 subnet.',
        items: { type: 'object', properties: { subnet: { type: 'string' }, ipAddress: ipAddress } },
      },
      deviceOwner: { type: 'string', maxLength: 255, description: 'What uses it: compute:nova for a server, network:router_interface, …' },
      deviceId: { type: 'string', maxLength: 255, description: "The ID of what uses it (a server's ID)." },
      bindingHost: { type: 'string', description: "The compute node it is bound to (Neutron's binding:host_id)." },
      portSecurityEnabled: { type: 'boolean', default: true, description: 'Only its own MAC and addresses may leave it, and its security groups apply.' },
      securityGroups: { type: 'array', maxItems: 20, items: { type: 'string' }, description: "SecurityGroups (object names, in the port's namespace) whose rules let traffic through. Unset: the namespace's default group." },
      adminStateUp: { type: 'boolean', default: true },
      allowedAddressPairs: {
        type: 'array',
        maxItems: 10,
        description: "Addresses besides its own it may send from (Neutron's allowed address pairs: a VIP, a network behind the guest); they need port security.",
        items: {
          type: 'object',
          required: ['ipAddress'],
          properties: {
            ipAddress: { type: 'string', maxLength: 64, pattern: '^([0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:.]*)(/[0-9]{1,3})?$', description: 'An address or a CIDR.' },
            macAddress: { type: 'string', pattern: '^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$', description: "Unset: the port's own." },
          },
        },
      },
      extraDHCPOptions: {
        type: 'array',
        maxItems: 64,
        description: "DHCP options its DHCP answers carry beside its subnet's (Neutron's extra_dhcp_opts, by Neutron's option names: bootfile-name, tftp-server, ntp-server, …; dhcp_disabled: true turns DHCP off for it).",
        items: {
          type: 'object',
          required: ['name', 'value'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 64 },
            value: { type: 'string', maxLength: 255 },
            ipVersion: { type: 'integer', enum: [4, 6], default: 4 },
          },
        },
      },
    },
    'x-kubernetes-validations': [{ rule: '!has(self.allowedAddressPairs) || size(self.allowedAddressPairs) == 0 || !has(self.portSecurityEnabled) || self.portSecurityEnabled', message: 'allowed address pairs need port security: portSecurityEnabled must not be false', fieldPath: '.allowedAddressPairs' }],
  },
  status: {
    id: { type: 'string' },
    projectId: { type: 'string' },
    macAddress: { type: 'string' },
    fixedIPs: { type: 'array', items: { type: 'object', properties: { subnet: { type: 'string' }, subnetId: { type: 'string' }, ipAddress: { type: 'string' } } } },
    networkId: { type: 'string' },
    mtu: { type: 'integer' },
    chassis: { type: 'string', description: 'The OVN chassis the port is bound on, from the southbound Port_Binding.' },
  },
  phases: PORT_PHASES,
  columns: [
    DISPLAY_NAME_COLUMN,
    { name: 'Network', type: 'string', jsonPath: '.spec.network' },
    { name: 'MAC', type: 'string', jsonPath: '.status.macAddress' },
    { name: 'IP', type: 'string', jsonPath: '.status.fixedIPs[0].ipAddress' },
    { name: 'Device', type: 'string', jsonPath: '.spec.deviceId', priority: 1 },
  ],
};

export const SG_RULE_PROTOCOLS = ['tcp', 'udp', 'icmp', 'icmpv6', 'sctp', 'any'];

export const SecurityGroupKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'SecurityGroup',
  plural: 'securitygroups',
  scope: 'Namespaced',
  shortNames: ['secgroup'],
  description:
    "A stateful firewall for ports (a Neutron security group): traffic a rule allows, and its replies, pass; all else to or from a member port is dropped. An OVN port group with ACLs. Each tenant's namespace gets one named default, as Neutron makes it.",
  spec: {
    properties: {
      displayName: displayNameField(255, 'security group'),
      description: { type: 'string', maxLength: 255 },
      tags,
      rules: {
        type: 'array',
        maxItems: 500,
        items: {
          type: 'object',
          required: ['direction'],
          properties: {
            id: { type: 'string', description: "The rule's OpenStack ID; unset: one is made from the group's ID and the rule." },
            direction: { type: 'string', enum: ['ingress', 'egress'] },
            ethertype: { type: 'string', enum: ['IPv4', 'IPv6'], default: 'IPv4' },
            protocol: { type: 'string', description: `${SG_RULE_PROTOCOLS.join(', ')}, or an IP protocol number 0-255; unset: any.` },
            portRangeMin: { type: 'integer', minimum: 0, maximum: 65535, description: 'The first port (tcp, udp, sctp), or the ICMP type.' },
            portRangeMax: { type: 'integer', minimum: 0, maximum: 65535, description: 'The last port, or the ICMP code.' },
            remoteIPPrefix: { type: 'string', maxLength: 64, description: 'Where the traffic comes from (ingress) or goes to (egress), as a CIDR.' },
            remoteGroup: { type: 'string', description: 'Or: the members of this SecurityGroup (object name in this namespace).' },
            description: { type: 'string', maxLength: 255 },
          },
        },
      },
    },
  },
  status: {
    id: { type: 'string' },
    projectId: { type: 'string' },
    portGroup: { type: 'string', description: "The OVN northbound Port_Group's name." },
    ruleIds: { type: 'array', items: { type: 'string' }, description: "Each rule's OpenStack ID, in spec order." },
    ruleCount: { type: 'integer' },
  },
  phases: ['ACTIVE', 'ERROR'],
  columns: [DISPLAY_NAME_COLUMN, { name: 'Rules', type: 'integer', jsonPath: '.status.ruleCount' }],
};

export const RouterKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Router',
  plural: 'routers',
  scope: 'Namespaced',
  shortNames: ['rtr'],
  description: "A router between the tenant's subnets (a Neutron router): an OVN logical router with a port on each subnet it joins, at the subnet's gateway address.",
  spec: {
    properties: {
      displayName: displayNameField(255, 'router'),
      description: { type: 'string', maxLength: 255 },
      tags,
      adminStateUp: { type: 'boolean', default: true },
      interfaces: {
        type: 'array',
        maxItems: 64,
        description: "What it joins: a subnet (object name, in the router's namespace), where it holds a Port of its own at the subnet's gateway address; or a port of the tenant's (object name), which it takes over at that port's address.",
        items: { type: 'object', minProperties: 1, maxProperties: 1, properties: { subnet: { type: 'string', minLength: 1 }, port: { type: 'string', minLength: 1 } } },
      },
      routes: {
        type: 'array',
        maxItems: 30,
        description: "Extra routes (Neutron's extraroute): traffic to a destination goes to a next hop on one of the subnets it joins.",
        items: { type: 'object', required: ['destination', 'nexthop'], properties: { destination: { type: 'string', maxLength: 64 }, nexthop: { type: 'string', maxLength: 64 } } },
      },
      externalGateway: {
        type: 'object',
        required: ['network'],
        description: 'Its gateway on an external Network: the router takes an address there, routes out through it, and translates the addresses of the subnets it joins (SNAT) and of its floating IPs.',
        properties: {
          network: { type: 'string', minLength: 1, description: 'The external Network (object name).' },
          networkNamespace: { type: 'string', description: "The external network's namespace (an admin's, usually); this router's when unset." },
          enableSNAT: { type: 'boolean', default: true },
          fixedIPs: {
            type: 'array',
            maxItems: 8,
            description: "The gateway's addresses wanted on the external network: a subnet (object name), an address, or both. Unset: one from its first subnet.",
            items: { type: 'object', properties: { subnet: { type: 'string' }, ipAddress } },
          },
        },
      },
    },
  },
  status: {
    id: { type: 'string' },
    projectId: { type: 'string' },
    logicalRouter: { type: 'string', description: "The OVN northbound Logical_Router's name." },
    gatewayIP: { type: 'string', description: 'Its address on the external network.' },
    interfaces: {
      type: 'array',
      items: { type: 'object', properties: { subnet: { type: 'string' }, subnetId: { type: 'string' }, port: { type: 'string' }, portId: { type: 'string' }, ipAddress: { type: 'string' } } },
    },
  },
  phases: ['ACTIVE', 'DOWN', 'ERROR'],
  columns: [DISPLAY_NAME_COLUMN, { name: 'Interfaces', type: 'string', jsonPath: '.spec.interfaces[*].subnet' }],
};

export const FloatingIPKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'FloatingIP',
  plural: 'floatingips',
  scope: 'Namespaced',
  shortNames: ['fip'],
  description: "An address on an external network that reaches a port's fixed address (a Neutron floating IP): a dnat_and_snat rule on the router joining the port's subnet to that network.",
  spec: {
    required: ['network'],
    properties: {
      network: { type: 'string', minLength: 1, description: 'The external Network (object name) the address comes from.' },
      networkNamespace: { type: 'string', description: "The external network's namespace; this floating IP's when unset." },
      floatingIPAddress: { type: 'string', maxLength: 64, description: 'The address wanted; unset: the next free one.' },
      port: { type: 'string', description: 'The Port (object name, in this namespace) it reaches; unset: not associated.' },
      fixedIPAddress: { type: 'string', maxLength: 64, description: "Which of the port's addresses; its first IPv4 one when unset." },
      description: { type: 'string', maxLength: 255 },
      tags,
    },
  },
  status: {
    id: { type: 'string' },
    projectId: { type: 'string' },
    floatingIPAddress: { type: 'string' },
    fixedIPAddress: { type: 'string' },
    router: { type: 'string', description: 'The Router (object name) that translates it.' },
    routerId: { type: 'string' },
    portId: { type: 'string' },
  },
  phases: ['ACTIVE', 'DOWN', 'ERROR'],
  columns: [
    { name: 'Address', type: 'string', jsonPath: '.status.floatingIPAddress' },
    { name: 'Port', type: 'string', jsonPath: '.spec.port' },
    { name: 'Fixed', type: 'string', jsonPath: '.status.fixedIPAddress' },
  ],
};

export const SubnetPoolKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'SubnetPool',
  plural: 'subnetpools',
  scope: 'Namespaced',
  shortNames: ['snetpool'],
  description: "A range subnets take their CIDRs from (a Neutron subnet pool): a subnet made with only a prefix length gets the first free block of that size.",
  spec: {
    required: ['prefixes'],
    properties: {
      displayName: displayNameField(255, 'subnet pool'),
      description: { type: 'string', maxLength: 255 },
      tags,
      prefixes: { type: 'array', minItems: 1, items: { type: 'string', maxLength: 64 }, description: 'The CIDRs it hands blocks out of.' },
      defaultPrefixLength: { type: 'integer', minimum: 0, maximum: 128 },
      minPrefixLength: { type: 'integer', minimum: 0, maximum: 128 },
      maxPrefixLength: { type: 'integer', minimum: 0, maximum: 128 },
      shared: { type: 'boolean', default: false },
      isDefault: { type: 'boolean', default: false },
    },
  },
  status: { id: { type: 'string' }, projectId: { type: 'string' }, ipVersion: { type: 'integer' } },
  phases: ['ACTIVE', 'ERROR'],
  columns: [DISPLAY_NAME_COLUMN, { name: 'Prefixes', type: 'string', jsonPath: '.spec.prefixes' }],
};

export const KINDS: KindDefinition[] = [NetworkKind, SubnetKind, PortKind, SecurityGroupKind, RouterKind, FloatingIPKind, SubnetPoolKind];
