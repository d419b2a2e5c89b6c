/**
 * The Networking API v2.0 over HTTP, under `/v2.0` and `/networking/v2.0` (the path `stratus up`'s gateway
 * uses). Every call but version discovery needs a Keystone token. It reads from informer caches and writes
 * through the Kubernetes API; the reconcilers do the rest, and a create answers once they have spoken.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, Router, TokenValidator, apiServer, readJsonBody, serveApi, serviceCallOf, withAdmission, type AdmissionListener, type Logger, type RunningApi } from '@stratus/runtime';
import type { NetAuth } from './context.js';
import { NetworkDirectory } from './directory.js';
import { NeutronError, badRequest, notFound, unauthorized, unavailable } from './errors.js';
import { networkRoutes } from './networkRoutes.js';
import { admissionWebhooks } from './admissionRoutes.js';
import { portRoutes } from './portRoutes.js';
import { securityGroupRoutes } from './securityGroupRoutes.js';
import { routerRoutes } from './routerRoutes.js';
import { floatingIPRoutes } from './floatingIPRoutes.js';
import { quotaRoutes } from './quotaRoutes.js';
import { subnetPoolRoutes } from './subnetPoolRoutes.js';
import { tagRoutes } from './tagRoutes.js';
import { availabilityZoneRoutes } from './availabilityZoneRoutes.js';
import { agentRoutes } from './agentRoutes.js';
import { serviceProviderRoutes } from './serviceProviderRoutes.js';
import { OvnAgents } from '../ovn/agents.js';

export interface NetworkingApiOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  identityUrl: string;
  host?: string;
  port?: number;
  tokenCacheSeconds?: number;
  /** Where to serve the admission webhook (a listener of its own; https on a cluster). */
  admission?: AdmissionListener;
  /** OVN's databases, where the agents (the chassis) are read from; without them the agents list is empty. */
  ovn?: { nbRemote: string; sbRemote: string };
}

/** The running API; admissionUrl where the webhook is served over TLS, when it is. */
export type NetworkingApi = RunningApi<NetworkDirectory> & { admissionUrl?: string };

const MAX_JSON = 1 << 20;
/** Behind the gateway at /networking, and at the root as Neutron itself serves (port 9696). */
const PREFIXES = ['/networking', ''];

/** The API extensions this cloud implements (Neutron's aliases), as GET /v2.0/extensions lists them. */
export const EXTENSIONS: Array<{ alias: string; name: string; description: string }> = [
  { alias: 'security-group', name: 'security-group', description: 'The security groups extension.' },
  { alias: 'port-security', name: 'Port Security', description: 'Provides port security' },
  { alias: 'allowed-address-pairs', name: 'Allowed Address Pairs', description: 'Provides allowed address pairs' },
  { alias: 'extra_dhcp_opt', name: 'Neutron Extra DHCP options', description: 'Extra options configuration for DHCP. For example PXE boot options to DHCP clients can be specified (e.g. tftp-server, server-ip-address, bootfile-name)' },
  { alias: 'binding', name: 'Port Binding', description: 'Expose port bindings of a virtual port to external application' },
  { alias: 'external-net', name: 'Neutron external network', description: 'Adds external network attribute to network resource.' },
  { alias: 'net-mtu', name: 'Network MTU', description: 'Provides MTU attribute for a network resource.' },
  { alias: 'project-id', name: 'project_id field enabled', description: 'Extension that indicates that project_id field is enabled.' },
  { alias: 'standard-attr-description', name: 'standard-attr-description', description: 'Extension to add descriptions to standard attributes' },
  { alias: 'standard-attr-timestamp', name: 'Resource timestamps', description: 'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.' },
  { alias: 'standard-attr-revisions', name: 'Resource revision numbers', description: 'This extension will display the revision number of neutron resources.' },
  { alias: 'router', name: 'Neutron L3 Router', description: 'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.' },
  { alias: 'quotas', name: 'Quota management support', description: 'Expose functions for quotas management per tenant' },
  { alias: 'quota_details', name: 'Quota details management support', description: 'Expose functions for quotas usage statistics per project' },
  { alias: 'subnet_allocation', name: 'Subnet Allocation', description: 'Enables allocation of subnets from a subnet pool' },
  { alias: 'extraroute', name: 'Neutron Extra Route', description: 'Extra routes configuration for L3 router' },
  { alias: 'ext-gw-mode', name: 'Neutron L3 Configurable external gateway mode', description: 'Extension of the router abstraction for specifying whether SNAT should occur on the external gateway' },
  { alias: 'standard-attr-tag', name: 'Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip', description: 'Enables to set tag on resources with standard attribute.' },
  { alias: 'ip-substring-filtering', name: 'IP address substring filtering', description: 'Provides IP address substring filtering when listing ports' },
  { alias: 'tag', name: 'Tag support', description: 'Enables to set tag on resources.' },
  { alias: 'service-type', name: 'Neutron Service Type Management', description: 'API for retrieving service providers for Neutron advanced services' },
  { alias: 'agent', name: 'agent', description: 'The agent management extension.' },
  { alias: 'availability_zone', name: 'Availability Zone', description: 'The availability zone extension.' },
];

export async function startNetworkingApi(opts: NetworkingApiOptions): Promise<NetworkingApi> {
  const log = opts.logger;
  const client = new KubeClient(opts.kubeConfig);
  const dir = new NetworkDirectory(opts.kubeConfig, client, log);
  await dir.start();
  const tokens = new TokenValidator({ identityUrl: opts.identityUrl, serviceType: 'network', cacheSeconds: opts.tokenCacheSeconds, unauthorized, unavailable, namespaceOfProject: (id) => dir.tenantByProjectId(id)?.metadata.name });
  const api = { dir, client, log };
  const router = new Router<NetAuth>();
  networkRoutes(router, api);
  portRoutes(router, api);
  securityGroupRoutes(router, api);
  routerRoutes(router, api);
  floatingIPRoutes(router, api);
  quotaRoutes(router, api);
  subnetPoolRoutes(router, api);
  tagRoutes(router, api);
  availabilityZoneRoutes(router);
  serviceProviderRoutes(router);
  const agents = opts.ovn ? new OvnAgents({ ...opts.ovn, log }).start() : undefined;
  agentRoutes(router, agents);
  router.on('GET', '/v2.0/extensions', () => ({ status: 200, body: { extensions: EXTENSIONS.map((e) => ({ ...e, updated: '2013-01-01T10:00:00-00:00', links: [] })) } }));
  router.on('GET', '/v2.0/extensions/:alias', ({ params }) => {
    const e = EXTENSIONS.find((x) => x.alias === params.alias);
    if (!e) throw notFound('ExtensionNotFound', `Extension with alias ${params.alias} does not exist`);
    return { status: 200, body: { extension: { ...e, updated: '2013-01-01T10:00:00-00:00', links: [] } } };
  });
  const resources = (base: string) => ({
    resources: ['network', 'subnet', 'port', 'security_group', 'security_group_rule', 'router', 'floatingip', 'subnetpool'].map((name) => {
      const collection = `${name}s`.replace(/_/g, '-');
      return { name, collection, links: [{ rel: 'self', href: `${base}/v2.0/${collection}` }] };
    }),
  });
  router.public('GET', '/v2.0', ({ base }) => ({ status: 200, body: resources(base) }));

  const server = apiServer<NetAuth>({
    name: 'networking',
    log,
    router,
    prefixes: PREFIXES,
    jsonType: 'application/json',
    formatSuffix: '.json',
    discovery(path, origin) {
      const mount = path.startsWith('/networking') ? '/networking' : '';
      return { status: 200, body: { versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${origin}${mount}/v2.0/` }] }] } };
    },
    async prepare(route, req) {
      const auth = route.public ? undefined : await tokens.validate(req.headers['x-auth-token'], serviceCallOf(req, '/networking'));
      const body = await readJsonBody(req, MAX_JSON, { tooLarge: () => new NeutronError(413, 'HTTPRequestEntityTooLarge', 'Request Entity Too Large'), malformed: () => badRequest('Malformed request body') });
      return { auth, body };
    },
    answerFor: (err) => (err instanceof NeutronError ? { status: err.status, body: err.body() } : undefined),
    notFound: () => notFound('HTTPNotFound', 'The resource could not be found.'),
    methodNotAllowed: (method) => new NeutronError(405, 'HTTPMethodNotAllowed', `The method ${method} is not allowed for this resource.`).body(),
    internalError: () => new NeutronError(500, 'HTTPInternalServerError', 'Request Failed: internal server error while processing your request.').body(),
  });
  const running = await serveApi(server, { name: 'networking', host: opts.host ?? '127.0.0.1', port: opts.port ?? 9696, directory: dir, router, log });
  const closeApi = running.close.bind(running);
  running.close = async () => {
    await closeApi();
    agents?.close();
  };
  return withAdmission(running, admissionWebhooks(api), opts.admission, log);
}
