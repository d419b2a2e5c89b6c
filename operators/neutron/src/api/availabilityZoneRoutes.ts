/**
 * Availability zones: /v2.0/availability_zones (Neutron's availability_zone extension). Every network and router
 * of this cloud is in the one zone its networks and routers already report; Neutron lists a zone once per kind of
 * resource it holds (network, router), each available.
 */
import { listFilter, type NetRouter } from './context.js';
import { NETWORK_AVAILABILITY_ZONE, pick } from './views.js';

export function availabilityZoneRoutes(r: NetRouter): void {
  r.on('GET', '/v2.0/availability_zones', ({ query }) => {
    const { matches, fields } = listFilter(query);
    const zones = ['network', 'router'].map((resource) => ({ name: NETWORK_AVAILABILITY_ZONE, resource, state: 'available' }));
    return { status: 200, body: { availability_zones: zones.filter(matches).map((z) => pick(z, fields)) } };
  });
}
