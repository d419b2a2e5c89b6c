/**
 * GET /extensions: Nova v2.1's list of API extensions (all core since v2.1, listed for old clients). Only what
 * this Compute API serves is listed, so a client probing for a feature learns the truth.
 */
import { notFound } from './errors.js';
import type { ComputeRouter } from './context.js';

/** alias, name, description. */
const SERVED: Array<[string, string, string]> = [
  ['os-access-ips', 'AccessIPs', 'Access IPs support.'],
  ['os-admin-actions', 'AdminActions', 'Enable admin-only server actions (reset state).'],
  ['os-aggregates', 'Aggregates', 'Admin-only aggregate administration.'],
  ['os-availability-zone', 'AvailabilityZone', '1. Add availability_zone to the Create Server API. 2. Add availability zones describing.'],
  ['os-config-drive', 'ConfigDrive', 'Config Drive Extension.'],
  ['os-console-output', 'ConsoleOutput', 'Console log output support, with tailing ability.'],
  ['os-consoles', 'Consoles', 'Interactive Console support.'],
  ['os-create-backup', 'CreateBackup', 'Create a backup of a server.'],
  ['os-deferred-delete', 'DeferredDelete', 'Instance deferred delete (force delete; nothing is soft-deleted here).'],
  ['OS-EXT-AZ', 'ExtendedAvailabilityZone', 'Extended Availability Zone support.'],
  ['OS-EXT-IMG-SIZE', 'ExtendedImageSize', 'Adds image size to image listings.'],
  ['OS-EXT-SRV-ATTR', 'ExtendedServerAttributes', 'Extended Server Attributes support.'],
  ['OS-EXT-STS', 'ExtendedStatus', 'Extended Status support.'],
  ['extensions', 'Extensions', 'Extension information.'],
  ['os-flavor-access', 'FlavorAccess', 'Flavor access support.'],
  ['OS-FLV-EXT-DATA', 'FlavorExtraData', 'Provide additional data for flavors.'],
  ['os-flavor-extra-specs', 'FlavorExtraSpecs', 'Flavors extra specs support.'],
  ['os-flavor-manage', 'FlavorManage', 'Flavor create/delete API support.'],
  ['flavors', 'Flavors', 'Flavors Extension.'],
  ['os-hosts', 'Hosts', 'Admin-only host administration.'],
  ['os-hypervisors', 'Hypervisors', 'Admin-only hypervisor administration.'],
  ['image-metadata', 'ImageMetadata', 'Image Metadata API.'],
  ['images', 'Images', 'Proxying API for Images.'],
  ['os-instance-usage-audit-log', 'OSInstanceUsageAuditLog', 'Admin-only Task Log Monitoring.'],
  ['os-instance-actions', 'InstanceActions', 'View a log of actions and events taken on an instance.'],
  ['ips', 'Ips', 'Server addresses.'],
  ['os-keypairs', 'Keypairs', 'Keypair Support.'],
  ['limits', 'Limits', 'Limits support.'],
  ['os-lock-server', 'LockServer', 'Enable lock/unlock server actions.'],
  ['os-multiple-create', 'MultipleCreate', 'Allow multiple create in the Create Server v2.1 API.'],
  ['os-pause-server', 'PauseServer', 'Enable pause/unpause server actions.'],
  ['os-quota-class-sets', 'QuotaClasses', 'Quota classes management support.'],
  ['os-quota-sets', 'Quotas', 'Quotas management support.'],
  ['os-remote-consoles', 'RemoteConsoles', 'Interactive Console support.'],
  ['os-scheduler-hints', 'SchedulerHints', 'Pass arbitrary key/value pairs to the scheduler.'],
  ['os-server-diagnostics', 'ServerDiagnostics', 'Allow Admins to view server diagnostics through server id.'],
  ['os-server-external-events', 'ServerExternalEvents', 'Server External Event Triggers.'],
  ['os-server-groups', 'ServerGroups', 'Server group support.'],
  ['server-metadata', 'ServerMetadata', 'Server metadata Support.'],
  ['os-server-password', 'ServerPassword', 'Server password support.'],
  ['os-server-tags', 'ServerTags', 'Server tags support.'],
  ['os-server-usage', 'ServerUsage', 'Adds launched_at and terminated_at on Servers.'],
  ['servers', 'Servers', 'Servers.'],
  ['os-services', 'Services', 'Services support.'],
  ['os-simple-tenant-usage', 'SimpleTenantUsage', 'Simple tenant usage extension.'],
  ['os-suspend-server', 'SuspendServer', 'Enable suspend/resume server actions.'],
  ['os-user-data', 'UserData', 'Add user_data to the Create Server API.'],
  ['versions', 'Versions', 'API Version information.'],
];

const view = ([alias, name, description]: [string, string, string]) => ({ alias, name, description, namespace: 'http://docs.openstack.org/compute/ext/fake_xml', updated: '2014-12-03T00:00:00Z', links: [] });

export function extensionRoutes(router: ComputeRouter) {
  router.on('GET', '/extensions', () => ({ status: 200, body: { extensions: SERVED.map(view) } }));
  router.on('GET', '/extensions/:alias', (req) => {
    const found = SERVED.find(([alias]) => alias === req.params.alias);
    if (!found) throw notFound(`Extension ${req.params.alias} could not be found.`);
    return { status: 200, body: { extension: view(found) } };
  });
}
