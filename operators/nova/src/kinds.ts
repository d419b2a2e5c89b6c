/** The compute.stratus.io kinds: the one definition each CRD under crds/ is generated from. */
import { DISPLAY_NAME_COLUMN, displayNameField, type KindDefinition } from '@stratus/runtime';

const GROUP = 'compute.stratus.io';
const VERSION = 'v1alpha1';
/** Nova's default availability zone. */
export const DEFAULT_AVAILABILITY_ZONE = 'nova';
/** The Nova server status words an Instance's phase takes. */
export const INSTANCE_PHASES = ['BUILD', 'ACTIVE', 'SHUTOFF', 'PAUSED', 'SUSPENDED', 'REBOOT', 'HARD_REBOOT', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'REVERT_RESIZE', 'RESCUE', 'SHELVED', 'SHELVED_OFFLOADED', 'ERROR', 'DELETED'] as const;
export const POWER_STATES = ['Running', 'Stopped', 'Paused', 'Suspended'] as const;
/** Power states as the hypervisor reports them (Nova's power_state names). */
export const OBSERVED_POWER_STATES = ['NoState', 'Running', 'Paused', 'Shutdown', 'Crashed', 'Suspended'] as const;
export const SERVER_GROUP_POLICIES = ['affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'] as const;
/** A count as Nova stores it: a 32-bit integer. */
const quantity = (description: string, minimum = 0) => ({ type: 'integer', minimum, maximum: 2147483647, description });
const stringMap = (description: string) => ({ type: 'object', additionalProperties: { type: 'string' }, description });
const resources = (description: string) => ({
  type: 'object',
  description,
  properties: { vcpus: quantity('Virtual CPUs.'), ramMiB: quantity('MiB of memory.'), diskGiB: quantity('GiB of local disk.') },
});

const flavorSnapshot = (description: string) => ({
  type: 'object',
  description,
  properties: {
    name: { type: 'string' },
    vcpus: { type: 'integer' },
    ramMiB: { type: 'integer' },
    diskGiB: { type: 'integer' },
    ephemeralGiB: { type: 'integer' },
    swapMiB: { type: 'integer' },
    extraSpecs: stringMap('The extra specs.'),
  },
});

export const FlavorKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Flavor',
  plural: 'flavors',
  scope: 'Cluster',
  shortNames: ['flv'],
  description: 'A flavor: the virtual hardware an instance gets (vCPUs, RAM, root disk) and extra specs for the scheduler and driver.',
  spec: {
    required: ['vcpus', 'ramMiB'],
    properties: {
      displayName: displayNameField(255, 'flavor'),
      vcpus: quantity('Virtual CPUs.', 1),
      ramMiB: quantity('MiB of memory.', 1),
      diskGiB: { ...quantity('GiB of root disk; 0 means the size of the image.'), default: 0 },
      ephemeralGiB: { ...quantity('GiB of ephemeral disk.'), default: 0 },
      swapMiB: { ...quantity('MiB of swap disk.'), default: 0 },
      isPublic: { type: 'boolean', default: true, description: 'Every tenant may use a public flavor.' },
      projects: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set', description: "The OpenStack project IDs a private flavor is shared with (Nova's flavor access)." },
      description: { type: 'string', maxLength: 65535 },
      extraSpecs: stringMap('Extra specs (hw:cpu_policy, aggregate_instance_extra_specs:…, …).'),
    },
  },
  status: { flavorId: { type: 'string', description: 'The OpenStack flavor ID.' } },
  phases: ['Active'],
  columns: [
    DISPLAY_NAME_COLUMN,
    { name: 'vCPUs', type: 'integer', jsonPath: '.spec.vcpus' },
    { name: 'RAM MiB', type: 'integer', jsonPath: '.spec.ramMiB' },
    { name: 'Disk GiB', type: 'integer', jsonPath: '.spec.diskGiB' },
  ],
};

export const KeypairKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Keypair',
  plural: 'keypairs',
  scope: 'Namespaced',
  shortNames: ['kp'],
  description: "An SSH public key (or x509 certificate) that instances of the keypair's tenant get through their config drive.",
  spec: {
    required: ['publicKey'],
    properties: {
      displayName: displayNameField(255, 'keypair'),
      user: { type: 'string', description: "The OpenStack ID of the user whose keypair this is (Nova's keypairs are per user); unset: every member of the tenant may use it." },
      publicKey: { type: 'string', minLength: 1, description: 'The public key, in OpenSSH format for type ssh.' },
      type: { type: 'string', enum: ['ssh', 'x509'], default: 'ssh' },
    },
  },
  status: { fingerprint: { type: 'string', description: 'The key fingerprint, as Nova shows it.' } },
  phases: ['Active', 'Error'],
  columns: [
    DISPLAY_NAME_COLUMN,
    { name: 'User', type: 'string', jsonPath: '.spec.user', priority: 1 },
    { name: 'Type', type: 'string', jsonPath: '.spec.type' },
    { name: 'Fingerprint', type: 'string', jsonPath: '.status.fingerprint' },
  ],
};

export const ServerGroupKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'ServerGroup',
  plural: 'servergroups',
  scope: 'Namespaced',
  shortNames: ['sg'],
  description: 'A group of instances placed together (affinity) or apart (anti-affinity), strictly or as a preference (soft-).',
  spec: {
    required: ['policy'],
    properties: {
      displayName: displayNameField(255, 'server group'),
      policy: { type: 'string', enum: [...SERVER_GROUP_POLICIES] },
      rules: { type: 'object', properties: { maxServerPerHost: quantity('For anti-affinity: members allowed on one host.', 1) } },
    },
  },
  status: {
    groupId: { type: 'string', description: 'The OpenStack server group ID.' },
    members: { type: 'array', items: { type: 'string' }, description: 'The instances in the group.' },
  },
  phases: ['Active'],
  columns: [DISPLAY_NAME_COLUMN, { name: 'Policy', type: 'string', jsonPath: '.spec.policy' }],
};

export const HypervisorKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Hypervisor',
  plural: 'hypervisors',
  scope: 'Cluster',
  shortNames: ['hv'],
  description: 'A compute node, registered and kept alive by its node agent: capacity, allocation ratios, what is placed on it, and whether it is up.',
  spec: {
    required: ['capacity'],
    properties: {
      hostname: { type: 'string' },
      availabilityZone: { type: 'string', default: DEFAULT_AVAILABILITY_ZONE },
      driver: { type: 'string', enum: ['libvirt', 'kubevirt', 'fake'], default: 'libvirt', description: 'fake: a recording driver for scheduler benchmarks; it boots nothing.' },
      capacity: resources('What the node has.'),
      reserved: resources('What the node keeps for itself.'),
      cpuAllocationRatio: { type: 'number', minimum: 0, default: 4, description: "vCPUs per physical CPU (Nova's initial_cpu_allocation_ratio)." },
      ramAllocationRatio: { type: 'number', minimum: 0, default: 1 },
      diskAllocationRatio: { type: 'number', minimum: 0, default: 1 },
      disabled: { type: 'boolean', default: false, description: 'A disabled node takes no new instances.' },
      disabledReason: { type: 'string' },
      properties: stringMap('What images may ask for: hypervisor_type (qemu, kvm), architecture (x86_64), …'),
    },
  },
  status: {
    state: { type: 'string', enum: ['up', 'down'], description: 'up while the agent heartbeats.' },
    lastHeartbeat: { type: 'string', format: 'date-time' },
    allocations: { type: 'object', additionalProperties: resources('One instance.'), description: 'The booking ledger: what each instance bound here (namespace/name) holds.' },
    allocated: resources('What the instances bound here use, in all.'),
    instances: { type: 'integer', description: 'How many instances the ledger holds.' },
    runningVMs: { type: 'integer', description: 'Guests running, as the node agent last saw them.' },
    hypervisorType: { type: 'string', description: 'QEMU (emulation) or KVM.' },
    hypervisorVersion: { type: 'string' },
    agentUrl: { type: 'string', description: "The node agent's own API (console logs), for the Compute API to call." },
  },
  phases: ['Enabled', 'Disabled'],
  columns: [
    { name: 'State', type: 'string', jsonPath: '.status.state' },
    { name: 'Zone', type: 'string', jsonPath: '.spec.availabilityZone' },
    { name: 'vCPUs Used', type: 'integer', jsonPath: '.status.allocated.vcpus' },
    { name: 'RAM Used', type: 'integer', jsonPath: '.status.allocated.ramMiB' },
    { name: 'Instances', type: 'integer', jsonPath: '.status.instances' },
    { name: 'Running', type: 'integer', jsonPath: '.status.runningVMs' },
    { name: 'Type', type: 'string', jsonPath: '.status.hypervisorType', priority: 1 },
  ],
};

export const InstanceKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Instance',
  plural: 'instances',
  scope: 'Namespaced',
  shortNames: ['server', 'inst'],
  description: "A virtual machine (an OpenStack server) in its tenant's namespace: scheduled onto a Hypervisor and booted by that node's agent.",
  spec: {
    required: ['flavor'],
    properties: {
      displayName: displayNameField(255, 'server'),
      description: { type: 'string', maxLength: 255 },
      flavor: { type: 'string', description: 'The Flavor. Changing it resizes the instance on its host.' },
      image: {
        type: 'object',
        required: ['name'],
        description: "The Image to boot: in this namespace, or another tenant's public or shared one. Changing it rebuilds the instance. Unset: the instance boots from a volume (a VolumeAttachment naming it with bootIndex 0).",
        properties: { name: { type: 'string' }, namespace: { type: 'string' } },
      },
      keypair: { type: 'string', description: "A Keypair in the instance's namespace." },
      securityGroups: {
        type: 'array',
        maxItems: 20,
        items: { type: 'string' },
        description: "SecurityGroups (object names in the instance's namespace) for the ports the node agent makes; unset: the namespace's default group.",
      },
      networks: {
        type: 'array',
        maxItems: 16,
        description: "The instance's NICs, in order: a Port of its namespace, or a Network (of its namespace, or a shared one) on which the node agent makes a Port the instance owns, with a fixed IP if given. Unset: no NIC.",
        items: {
          type: 'object',
          maxProperties: 3,
          properties: {
            port: { type: 'string', description: 'A Port (object name) in the instance\'s namespace.' },
            network: { type: 'string', description: 'A Network (object name).' },
            networkNamespace: { type: 'string', description: "The network's namespace, for a shared network of another tenant." },
            fixedIP: { type: 'string', maxLength: 64, description: 'The address the made port gets.' },
          },
        },
      },
      userData: { type: 'string', maxLength: 65535, description: 'cloud-init user data, base64 as Nova takes it.' },
      tags: { type: 'array', maxItems: 50, items: { type: 'string', minLength: 1, maxLength: 60 }, description: "The server's tags (Nova's server tags)." },
      accessIPv4: { type: 'string', description: "Nova's accessIPv4: an address people reach the server at, as its owner states it." },
      accessIPv6: { type: 'string', description: "Nova's accessIPv6." },
      lock: {
        type: 'object',
        description: 'A locked server refuses actions and deletion by non-admins (and, locked by an admin, unlocking by its owner).',
        properties: { reason: { type: 'string', maxLength: 255 }, byAdmin: { type: 'boolean' } },
      },
      adminPassSecret: { type: 'string', description: "A Secret in the instance's namespace whose key adminPass the guest gets in its config drive (Nova's admin_pass)." },
      metadata: stringMap('Key/value metadata the guest sees in its config drive.'),
      availabilityZone: { type: 'string' },
      serverGroup: { type: 'string', description: "A ServerGroup in the instance's namespace." },
      hostname: { type: 'string', description: 'The guest hostname; metadata.name when unset.' },
      powerState: { type: 'string', enum: [...POWER_STATES], default: 'Running', description: 'What the VM should be doing.' },
      reboot: {
        type: 'object',
        description: 'A reboot request: raising `count` asks for one more (a one-off action, so a counter, not a state).',
        properties: { count: { type: 'integer', minimum: 0 }, type: { type: 'string', enum: ['SOFT', 'HARD'], default: 'SOFT' } },
      },
      rebuild: {
        type: 'object',
        description: 'A rebuild request: raising `count` re-creates the root disk from spec.image (changing spec.image rebuilds too).',
        properties: { count: { type: 'integer', minimum: 0 } },
      },
      confirmResize: {
        type: 'boolean',
        default: true,
        description: "true: a flavor change is final once done. false: it waits in VERIFY_RESIZE with the old disk kept, as Nova's resize does, until this is set true (confirm) or spec.flavor is set back (revert).",
      },
      host: { type: 'string', description: 'Set by the scheduler when it binds the instance; set it yourself to pin one.' },
      shelved: {
        type: 'boolean',
        default: false,
        description:
          "true: shelve (Nova's shelve, offloaded at once): the guest is powered off, its root disk stored as the image '<name>-shelved', and the guest, its files and its room on the host are let go. false again: unshelve: it is scheduled anew and boots from that image, which is then deleted.",
      },
      rescue: {
        type: 'object',
        description: "Set: rescue mode (Nova's rescue): the guest boots from a fresh disk of the rescue image, with its own root disk attached second, to be repaired. Unset: it boots from its own disk again.",
        properties: { image: { type: 'object', required: ['name'], description: "The rescue image; unset: the instance's own image.", properties: { name: { type: 'string' }, namespace: { type: 'string' } } } },
      },
    },
  },
  status: {
    serverId: { type: 'string', description: 'The OpenStack server ID.' },
    host: { type: 'string', description: 'The Hypervisor the instance is bound to.' },
    instanceName: { type: 'string', description: 'The guest (libvirt domain) name on its host.' },
    taskState: { type: 'string', description: "Nova's OS-EXT-STS:task_state (scheduling, spawning, powering-off, …)." },
    taskStartedAt: { type: 'string', format: 'date-time', description: 'When the task in taskState began (a graceful stop waits so long before forcing).' },
    powerState: { type: 'string', enum: [...OBSERVED_POWER_STATES], description: 'What the hypervisor reports.' },
    consoleUrl: { type: 'string', description: "The guest's VNC display on its host." },
    addresses: {
      type: 'array',
      description: "The instance's NICs as its Ports have them: network, MAC and addresses.",
      items: { type: 'object', properties: { port: { type: 'string' }, network: { type: 'string' }, networkName: { type: 'string' }, networkId: { type: 'string' }, mac: { type: 'string' }, ips: { type: 'array', items: { type: 'string' } } } },
    },
    launchedAt: { type: 'string', format: 'date-time' },
    rebootsDone: { type: 'integer', description: 'The reboot count last carried out.' },
    rebuildsDone: { type: 'integer', description: 'The rebuild count last carried out.' },
    flavor: flavorSnapshot('The flavor the guest runs with now.'),
    image: {
      type: 'object',
      description: 'The image the root disk was made from.',
      properties: { name: { type: 'string' }, namespace: { type: 'string' }, id: { type: 'string' }, uid: { type: 'string' } },
    },
    resize: {
      type: 'object',
      description: 'A resize awaiting confirmation (VERIFY_RESIZE): the flavor, and what the instance held on its host, to go back to on a revert.',
      properties: { fromFlavor: flavorSnapshot('The flavor before the resize.'), fromAllocation: resources('What the instance held on its host before the resize.') },
    },
    fault: {
      type: 'object',
      description: 'Why the instance is in ERROR, as Nova reports a fault.',
      properties: { code: { type: 'integer' }, message: { type: 'string' }, details: { type: 'string' }, created: { type: 'string', format: 'date-time' } },
    },
    allocation: resources('What the instance holds on its host.'),
    shelvedImage: { type: 'string', description: "While shelved: the Image (in the instance's namespace) its root disk was stored as, which an unshelve boots from." },
    rescued: { type: 'boolean', description: 'The guest runs from its rescue disk.' },
  },
  phases: [...INSTANCE_PHASES],
  columns: [
    DISPLAY_NAME_COLUMN,
    { name: 'Flavor', type: 'string', jsonPath: '.spec.flavor' },
    { name: 'Image', type: 'string', jsonPath: '.spec.image.name' },
    { name: 'Host', type: 'string', jsonPath: '.status.host' },
    { name: 'Power', type: 'string', jsonPath: '.status.powerState' },
    { name: 'Task', type: 'string', jsonPath: '.status.taskState', priority: 1 },
    { name: 'ID', type: 'string', jsonPath: '.status.serverId', priority: 1 },
  ],
  // The node agent watches only the instances bound to its host.
  selectableFields: ['.status.host'],
};

export const AggregateKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Aggregate',
  plural: 'aggregates',
  scope: 'Cluster',
  shortNames: ['agg'],
  description: "A host aggregate: a named set of Hypervisors with metadata. With an availability zone, its hosts are in that zone (a host is in one zone at most), as in Nova.",
  spec: {
    properties: {
      displayName: displayNameField(255, 'aggregate'),
      availabilityZone: { type: 'string', minLength: 1, maxLength: 255, description: "The zone this aggregate's hosts are in (Nova's availability_zone metadata key)." },
      hosts: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set', description: 'The Hypervisors in the aggregate, by name.' },
      metadata: stringMap('Key/value metadata (for the scheduler and operators).'),
    },
  },
  status: {
    aggregateId: { type: 'integer', description: 'The OpenStack aggregate ID (an integer, as Nova shows it).' },
    unknownHosts: { type: 'array', items: { type: 'string' }, description: 'Hosts in spec.hosts that no Hypervisor is.' },
  },
  phases: ['Active'],
  columns: [
    DISPLAY_NAME_COLUMN,
    { name: 'Zone', type: 'string', jsonPath: '.spec.availabilityZone' },
    { name: 'Hosts', type: 'string', jsonPath: '.spec.hosts' },
    { name: 'ID', type: 'integer', jsonPath: '.status.aggregateId', priority: 1 },
  ],
};

export const KINDS = [FlavorKind, KeypairKind, ServerGroupKind, HypervisorKind, InstanceKind, AggregateKind];
