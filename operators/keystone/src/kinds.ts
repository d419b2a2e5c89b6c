/** The identity.stratus.io kinds: the one definition each CRD under crds/ is generated from. */
import { DISPLAY_NAME_COLUMN, SYSTEM_NAMESPACE, displayNameField, type KindDefinition, type Schema } from '@stratus/runtime';

export { SYSTEM_NAMESPACE };

const GROUP = 'identity.stratus.io';
const VERSION = 'v1alpha1';
/** The region an Endpoint is in when none is named (the schema default; Keystone's too). */
export const DEFAULT_REGION = 'RegionOne';
/** The one Keystone domain's ID. */
export const DEFAULT_DOMAIN_ID = 'default';
const enabled = { type: 'boolean', default: true, description: 'A disabled object is kept but cannot be used.' };
const description = { type: 'string', maxLength: 255, description: 'Free text for people.' };
const roleNames = (description: string) => ({ type: 'array', items: { type: 'string' }, description });
/** What a user or a group holds beyond its RoleAssignments: grants on domains and on the system. */
const GRANT_FIELDS = {
  domainGrants: { type: 'object', additionalProperties: roleNames('Role object names.'), description: 'Roles held on domains, by domain (a Domain object name, or "default").' },
  inheritedDomainGrants: { type: 'object', additionalProperties: roleNames('Role object names.'), description: "Roles held on every project of a domain, by domain (Keystone's OS-INHERIT inherited_to_projects)." },
  systemRoles: roleNames('Roles (object names) held on the system (the whole deployment; system-scoped tokens).'),
};
/** Keystone keeps attributes it does not know on projects and users, and returns them as they were given. */
const extra = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'Further attributes given through the Identity API, kept and shown as given.' };

export const TenantKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Tenant',
  plural: 'tenants',
  scope: 'Cluster',
  shortNames: ['project', 'tn'],
  description: 'A Tenant (an OpenStack project) owns a Namespace of the same name, where its instances, volumes, keypairs and private images live. Its OpenStack name is spec.displayName, which may change; the object and namespace names never do.',
  spec: {
    properties: {
      displayName: displayNameField(64, 'project'),
      description,
      tags: { type: 'array', maxItems: 80, items: { type: 'string', minLength: 1, maxLength: 255 }, description: "The project's tags (Keystone's project tags)." },
      parent: { type: 'string', description: "The Tenant (object name) this project is under in Keystone's project tree; unset: its domain." },
      extra,
      enabled,
      domain: { type: 'string', default: DEFAULT_DOMAIN_ID, description: 'The Domain the project is in: a Domain object name, or "default" for Keystone\'s Default domain.' },
      quota: {
        type: 'object',
        description: "Limits on what the tenant may use; absent means the default quota class's limit (compute and block storage), else unlimited.",
        properties: Object.fromEntries(
          [
            ['instances', 'Servers.'],
            ['cores', 'vCPUs of its servers.'],
            ['ramMiB', 'MiB of memory of its servers.'],
            ['volumes', 'Volumes.'],
            ['gigabytes', 'GiB of volumes and their snapshots.'],
            ['snapshots', 'Volume snapshots.'],
            ['backups', 'Volume backups.'],
            ['backupGigabytes', "GiB of volume backups (Cinder's backup_gigabytes)."],
            ['groups', "Volume groups (Cinder's groups)."],
            ['perVolumeGigabytes', "The largest volume, in GiB (Cinder's per_volume_gigabytes): a volume made or extended past it is refused."],
            ['images', 'Images.'],
            ['keypairs', "Keypairs of each of its users (Nova's key_pairs)."],
            ['metadataItems', 'Metadata items of one server.'],
            ['serverGroups', 'Server groups.'],
            ['serverGroupMembers', 'Servers in one server group.'],
            ['injectedFiles', "Nova's injected_files (personality, which this cloud does not take: kept and shown only)."],
            ['injectedFileContentBytes', "Nova's injected_file_content_bytes (kept and shown only)."],
            ['injectedFilePathBytes', "Nova's injected_file_path_bytes (kept and shown only)."],
            ['fixedIps', "Nova's deprecated network quota fixed_ips (before 2.36; kept and shown only, as Nova with Neutron)."],
            ['floatingIps', "Floating IPs (Neutron's floatingip; Nova shows it as floating_ips before 2.36)."],
            ['securityGroups', 'Security groups (Neutron\'s security_group).'],
            ['securityGroupRules', 'Rules of its security groups, all together (Neutron\'s security_group_rule).'],
            ['networks', "Networks (Neutron's network)."],
            ['subnets', "Subnets (Neutron's subnet)."],
            ['ports', "Ports (Neutron's port)."],
            ['routers', "Routers (Neutron's router)."],
          ]
            .map(([k, description]): [string, Schema] => [k, { type: 'integer', minimum: 0, description }])
            .concat([
              [
                'volumeTypes',
                {
                  type: 'object',
                  description: "Block storage limits of each volume type, by VolumeType object name (Cinder's volumes_<type>, gigabytes_<type>, snapshots_<type>).",
                  additionalProperties: {
                    type: 'object',
                    properties: {
                      volumes: { type: 'integer', minimum: 0, description: 'Volumes of this type.' },
                      gigabytes: { type: 'integer', minimum: 0, description: 'GiB of volumes of this type and their snapshots.' },
                      snapshots: { type: 'integer', minimum: 0, description: 'Snapshots of volumes of this type.' },
                    },
                  },
                },
              ],
            ]),
        ),
      },
    },
  },
  status: {
    namespace: { type: 'string', description: 'The Namespace this tenant owns.' },
    projectId: { type: 'string', description: 'The OpenStack project ID.' },
  },
  phases: ['Active', 'Disabled', 'Terminating'],
  columns: [
    DISPLAY_NAME_COLUMN,
    { name: 'Namespace', type: 'string', jsonPath: '.status.namespace' },
    { name: 'Enabled', type: 'boolean', jsonPath: '.spec.enabled' },
  ],
};

export const UserKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'User',
  plural: 'users',
  scope: 'Cluster',
  shortNames: ['usr'],
  description: 'A User signs in with a password kept in a referenced Secret; the operator stores only its memory-hard hash.',
  spec: {
    required: ['passwordSecretRef'],
    properties: {
      displayName: displayNameField(255, 'user'),
      description,
      extra,
      domain: { type: 'string', default: DEFAULT_DOMAIN_ID, description: 'The Domain the user is in: a Domain object name, or "default" for Keystone\'s Default domain.' },
      enabled,
      email: { type: 'string', format: 'email' },
      defaultTenant: { type: 'string', description: 'The Tenant a token is scoped to when none is asked for.' },
      domainRoles: { type: 'array', items: { type: 'string' }, description: 'Roles held on the Default domain (say, admin for a cloud administrator).' },
      ...GRANT_FIELDS,
      passwordSecretRef: {
        type: 'object',
        required: ['name'],
        properties: {
          name: { type: 'string' },
          namespace: { type: 'string', default: SYSTEM_NAMESPACE },
          key: { type: 'string', default: 'password' },
        },
      },
    },
  },
  status: {
    userId: { type: 'string' },
    credentialSecret: { type: 'string', description: 'stratus-system Secret holding the password hash.' },
    passwordUpdatedAt: { type: 'string', format: 'date-time' },
    failedAuthCount: { type: 'integer', minimum: 0, description: "Failed password sign-ins in a row (kept when the cloud locks accounts: Keystone's lockout_failure_attempts); enabling the user again clears it." },
    failedAuthAt: { type: 'string', format: 'date-time', description: 'The last failed password sign-in.' },
  },
  phases: ['Active', 'Disabled', 'Error'],
  columns: [
    DISPLAY_NAME_COLUMN,
    { name: 'Default Tenant', type: 'string', jsonPath: '.spec.defaultTenant' },
    { name: 'Enabled', type: 'boolean', jsonPath: '.spec.enabled' },
  ],
};

export const RoleKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Role',
  plural: 'roles',
  scope: 'Cluster',
  description: 'A Role (admin, member, reader, …) that RoleAssignments grant on a tenant.',
  spec: {
    properties: {
      displayName: displayNameField(255, 'role'),
      description,
      domain: { type: 'string', description: "For a domain-specific role, its Domain's object name: its name is unique in that domain, and it never appears in tokens itself, only the global roles it implies." },
      implies: { type: 'array', items: { type: 'string' }, description: "Roles (object names) this role implies, as Keystone's implied roles: holding it means holding them too." },
      kubernetesAccess: {
        type: 'string',
        enum: ['admin', 'edit', 'view'],
        description: 'What the role allows through kubectl in a tenant namespace. Unset: admin for "admin", edit for "member", view otherwise.',
      },
    },
  },
  status: {
    roleId: { type: 'string', description: 'The OpenStack role ID.' },
    clusterRole: { type: 'string', description: 'The RBAC ClusterRole that RoleBindings for this role refer to.' },
    access: { type: 'string', description: 'The kubectl access the role grants: admin, edit or view.' },
  },
  phases: ['Active'],
  columns: [DISPLAY_NAME_COLUMN, { name: 'Access', type: 'string', jsonPath: '.status.access' }],
};

export const RoleAssignmentKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'RoleAssignment',
  plural: 'roleassignments',
  scope: 'Namespaced',
  shortNames: ['ra'],
  description: "Grants a Role to a user or group on the Tenant whose namespace holds it; also grants the matching Kubernetes RBAC in that namespace.",
  spec: {
    required: ['role'],
    oneOf: [{ required: ['user'] }, { required: ['group'] }],
    properties: {
      user: { type: 'string' },
      group: { type: 'string' },
      role: { type: 'string' },
      inherited: { type: 'boolean', description: "Granted on the projects below this tenant, not on it (Keystone's OS-INHERIT inherited_to_projects)." },
    },
  },
  status: { roleBinding: { type: 'string', description: 'The RBAC RoleBinding this assignment produced.' } },
  phases: ['Active', 'Error'],
  columns: [
    { name: 'User', type: 'string', jsonPath: '.spec.user' },
    { name: 'Group', type: 'string', jsonPath: '.spec.group' },
    { name: 'Role', type: 'string', jsonPath: '.spec.role' },
  ],
};

export const ServiceKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Service',
  plural: 'services',
  scope: 'Cluster',
  description: 'A service in the OpenStack catalog (identity, compute, image, volumev3, …).',
  spec: {
    required: ['type'],
    properties: { displayName: displayNameField(255, 'service'), type: { type: 'string', description: 'The catalog type, e.g. compute.' }, description, enabled },
  },
  status: { serviceId: { type: 'string', description: 'The OpenStack service ID.' } },
  phases: ['Active', 'Disabled'],
  columns: [DISPLAY_NAME_COLUMN, { name: 'Type', type: 'string', jsonPath: '.spec.type' }],
};

export const EndpointKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Endpoint',
  plural: 'endpoints',
  scope: 'Cluster',
  description: 'Where a catalog Service is reached, for one interface in one region.',
  spec: {
    required: ['service', 'interface', 'url'],
    properties: {
      service: { type: 'string', description: 'The name of the Service resource.' },
      interface: { type: 'string', enum: ['public', 'internal', 'admin'] },
      region: { type: 'string', default: DEFAULT_REGION },
      url: { type: 'string', pattern: '^https?://', description: 'The base URL, http or https.' },
      enabled,
    },
  },
  status: { endpointId: { type: 'string', description: 'The OpenStack endpoint ID.' } },
  phases: ['Active', 'Disabled', 'Error'],
  columns: [
    { name: 'Service', type: 'string', jsonPath: '.spec.service' },
    { name: 'Interface', type: 'string', jsonPath: '.spec.interface' },
    { name: 'URL', type: 'string', jsonPath: '.spec.url' },
  ],
};

export const RegionKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Region',
  plural: 'regions',
  scope: 'Cluster',
  shortNames: ['rgn'],
  description: "A Keystone region, in a tree of regions; Endpoints name the region they are in. Keystone's region ID is chosen by its maker (free text, unique), so it lives in spec.regionId.",
  spec: {
    required: ['regionId'],
    properties: {
      regionId: { type: 'string', minLength: 1, maxLength: 255, description: 'The OpenStack region ID, e.g. RegionOne.' },
      description,
      parentRegionId: { type: 'string', description: 'The region ID of the parent region.' },
    },
  },
  phases: ['Active'],
  columns: [
    { name: 'Region ID', type: 'string', jsonPath: '.spec.regionId' },
    { name: 'Parent', type: 'string', jsonPath: '.spec.parentRegionId' },
  ],
};

export const DomainKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Domain',
  plural: 'domains',
  scope: 'Cluster',
  shortNames: ['dom'],
  description:
    "A Keystone domain: a namespace of names for projects and users (Tenants and Users name theirs in spec.domain). Keystone's Default domain is built in (\"default\") and has no object. A domain's OpenStack name is spec.displayName, unique.",
  spec: {
    properties: {
      displayName: displayNameField(64, 'domain'),
      description,
      enabled,
      config: {
        type: 'object',
        description:
          "Keystone's domain-specific configuration (/v3/domains/{id}/config): options of the identity and ldap groups, as Keystone's API checks them. Kept and served; Stratus has no LDAP driver, so they take effect nowhere, as in a Keystone with domain_specific_drivers_enabled off. The sensitive ldap password is kept in a Secret, not here.",
        properties: {
          identity: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'The identity group: driver, list_limit.' },
          ldap: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: "The ldap group: Keystone's whitelisted LDAP options (url, user_tree_dn, ...)." },
        },
      },
    },
  },
  status: { domainId: { type: 'string', description: 'The OpenStack domain ID.' } },
  phases: ['Active', 'Disabled'],
  columns: [DISPLAY_NAME_COLUMN, { name: 'Enabled', type: 'boolean', jsonPath: '.spec.enabled' }],
};

export const GroupKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Group',
  plural: 'groups',
  scope: 'Cluster',
  shortNames: ['grp'],
  description: "A Keystone group of users: a RoleAssignment naming it in spec.group grants its role to every member, through the OpenStack APIs and (as an RBAC Group subject) through kubectl.",
  spec: {
    properties: {
      displayName: displayNameField(64, 'group'),
      description,
      domain: { type: 'string', default: DEFAULT_DOMAIN_ID, description: 'The Domain the group is in: a Domain object name, or "default".' },
      members: { type: 'array', items: { type: 'string' }, description: 'The object names of the Users in the group.' },
      ...GRANT_FIELDS,
      extra,
    },
  },
  status: { groupId: { type: 'string', description: 'The OpenStack group ID.' } },
  phases: ['Active'],
  columns: [DISPLAY_NAME_COLUMN, { name: 'Domain', type: 'string', jsonPath: '.spec.domain' }],
};

export const EndpointGroupKind: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'EndpointGroup',
  plural: 'endpointgroups',
  scope: 'Cluster',
  shortNames: ['epg'],
  description: "Keystone's endpoint group (OS-EP-FILTER): the endpoints its filters match. A project associated with endpoint groups gets only their endpoints in its tokens' catalog.",
  spec: {
    properties: {
      displayName: displayNameField(255, 'endpoint group'),
      description,
      filters: {
        type: 'object',
        description: 'What an endpoint must be to belong: every filter given must match.',
        properties: { interface: { type: 'string', enum: ['public', 'internal', 'admin'] }, service: { type: 'string', description: 'A Service object name.' }, region: { type: 'string' } },
      },
      projects: { type: 'array', items: { type: 'string' }, description: 'The Tenants (object names) whose catalog this group makes.' },
    },
  },
  status: { endpointGroupId: { type: 'string', description: 'The OpenStack endpoint group ID.' } },
  phases: ['Active'],
  columns: [DISPLAY_NAME_COLUMN],
};

export const KINDS = [TenantKind, UserKind, RoleKind, RoleAssignmentKind, ServiceKind, EndpointKind, RegionKind, DomainKind, GroupKind, EndpointGroupKind];
