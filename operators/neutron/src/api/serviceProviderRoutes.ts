/**
 * Service providers: /v2.0/service-providers (Neutron's service-type extension), the drivers behind each
 * advanced service. Routers are this cloud's one such service, served by OVN's native L3 (logical routers), the
 * provider Neutron's OVN L3 plugin registers as the default for L3_ROUTER_NAT. Any project may read the list.
 */
import { listFilter, type NetRouter } from './context.js';
import { pick } from './views.js';

export const SERVICE_PROVIDERS = [{ service_type: 'L3_ROUTER_NAT', name: 'ovn', default: true }];

export function serviceProviderRoutes(r: NetRouter): void {
  r.on('GET', '/v2.0/service-providers', ({ query }) => {
    const { matches, fields } = listFilter(query);
    return { status: 200, body: { service_providers: SERVICE_PROVIDERS.filter(matches).map((p) => pick(p, fields)) } };
  });
}
