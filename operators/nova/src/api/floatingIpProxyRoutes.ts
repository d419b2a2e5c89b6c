/**
 * Nova's floating IP proxy: os-floating-ips and os-floating-ip-pools (deprecated at microversion 2.36 and gone
 * after), and the addFloatingIp/removeFloatingIp server actions (gone at 2.44), as Nova serves them over
 * Neutron: each a Networking API call with the caller's own token, so Neutron's checks and quota apply.
 */
import { isIP, isIPv4 } from 'node:net';
import type { Instance } from '../resources.js';
import type { ComputeApiContext, ComputeRequest, ComputeRouter } from './context.js';
import { NovaError, badRequest, conflict, notFound } from './errors.js';
import { NETWORKING, callService, emptyIdNotFound, proxyRoutes } from './serviceProxy.js';
import { serverIdOf } from './views.js';

interface NeutronFloatingIp {
  id: string;
  floating_ip_address: string;
  floating_network_id: string;
  fixed_ip_address: string | null;
  port_id: string | null;
}
interface NeutronPort {
  id: string;
  device_id: string;
  fixed_ips: Array<{ ip_address: string }>;
}
interface NeutronNetwork {
  id: string;
  name: string;
}

/** A floating IP as Nova shows it: its pool is its network's name (or ID), its instance its port's device. Pure. */
export function novaFloatingIp(f: NeutronFloatingIp, networks: NeutronNetwork[], ports: NeutronPort[]) {
  const net = networks.find((n) => n.id === f.floating_network_id);
  const port = f.port_id ? ports.find((p) => p.id === f.port_id) : undefined;
  return { id: f.id, ip: f.floating_ip_address, pool: net ? net.name || net.id : null, fixed_ip: f.port_id ? f.fixed_ip_address : null, instance_id: port?.device_id || null };
}

/**
 * The external network a create asks for: by name, else by ID (Nova's _get_floating_ip_pool_id_by_name_or_id);
 * without one, the only external network there is. Pure.
 */
export function poolFor(asked: string | undefined, externals: NeutronNetwork[]): NeutronNetwork {
  if (asked === undefined) {
    if (externals.length === 1) return externals[0];
    throw new NovaError(404, externals.length ? 'Floating IP pool not found: name one, this cloud has several.' : 'Floating IP pool not found.');
  }
  const named = externals.filter((n) => n.name === asked);
  if (named.length > 1) throw conflict(`Multiple floating IP pools matches found for name '${asked}'`);
  const pool = named[0] ?? externals.find((n) => n.id === asked);
  if (!pool) throw new NovaError(404, 'Floating IP pool not found.');
  return pool;
}

const isIp = (v: unknown): v is string => typeof v === 'string' && isIP(v) !== 0;

export function floatingIpProxyRoutes(router: ComputeRouter, api: ComputeApiContext) {
  const neutron = <T>(req: ComputeRequest, method: string, path: string, body?: unknown) => callService<T>(api, req, NETWORKING, method, path, body);
  const on = proxyRoutes(router);
  const externalNetworks = async (req: ComputeRequest) => (await neutron<{ networks: NeutronNetwork[] }>(req, 'GET', '/networks?router%3Aexternal=true')).networks;
  const ports = async (req: ComputeRequest) => (await neutron<{ ports: NeutronPort[] }>(req, 'GET', '/ports')).ports;
  /** The port a floating IP is on, if any and still there. */
  const portOf = async (req: ComputeRequest, f: NeutronFloatingIp) => (f.port_id ? (await neutron<{ port: NeutronPort }>(req, 'GET', `/ports/${f.port_id}`).catch(() => undefined))?.port : undefined);
  const show = async (req: ComputeRequest, f: NeutronFloatingIp) => {
    const port = await portOf(req, f);
    return novaFloatingIp(f, await externalNetworks(req), port ? [port] : []);
  };
  /** Neutron's 404 as Nova's words for a floating IP. */
  const floatingIp = (req: ComputeRequest, id: string) =>
    neutron<{ floatingip: NeutronFloatingIp }>(req, 'GET', `/floatingips/${encodeURIComponent(id)}`).then(
      (r) => r.floatingip,
      (e) => Promise.reject(e instanceof NovaError && e.status === 404 ? notFound(`Floating IP not found for ID ${id}`) : e),
    );

  emptyIdNotFound(router, ['/os-floating-ips/']);
  on('GET', '/os-floating-ip-pools', async (req) => ({ status: 200, body: { floating_ip_pools: (await externalNetworks(req)).map((n) => ({ name: n.name || n.id })) } }));
  on('GET', '/os-floating-ips', async (req) => {
    const [{ floatingips }, networks, all] = await Promise.all([neutron<{ floatingips: NeutronFloatingIp[] }>(req, 'GET', `/floatingips?project_id=${encodeURIComponent(req.auth.projectId ?? '')}`), externalNetworks(req), ports(req)]);
    return { status: 200, body: { floating_ips: floatingips.map((f) => novaFloatingIp(f, networks, all)) } };
  });
  on('GET', '/os-floating-ips/:id', async (req) => ({ status: 200, body: { floating_ip: await show(req, await floatingIp(req, req.params.id)) } }));
  on('POST', '/os-floating-ips', async (req) => {
    const asked = req.body?.pool;
    if (asked !== undefined && asked !== null && typeof asked !== 'string') throw badRequest(`Invalid input for field/attribute pool. Value: ${JSON.stringify(asked)}. ${JSON.stringify(asked)} is not of type 'string', 'null'`);
    const pool = poolFor(asked ?? undefined, await externalNetworks(req));
    const made = await neutron<{ floatingip: NeutronFloatingIp }>(req, 'POST', '/floatingips', { floatingip: { floating_network_id: pool.id } }).catch((e) => {
      // Neutron's "no more addresses" (409) is Nova's NoMoreFloatingIps.
      throw e instanceof NovaError && e.status === 409 ? notFound(`No more floating IPs in pool ${pool.name || pool.id}.`) : e;
    });
    return { status: 200, body: { floating_ip: await show(req, made.floatingip) } };
  });
  on('DELETE', '/os-floating-ips/:id', async (req) => {
    await floatingIp(req, req.params.id);
    await neutron(req, 'DELETE', `/floatingips/${encodeURIComponent(req.params.id)}`);
    return { status: 202 };
  });

  /** The floating IP of an address, or Nova's 404. */
  const byAddress = async (req: ComputeRequest, address: string) => {
    const { floatingips } = await neutron<{ floatingips: NeutronFloatingIp[] }>(req, 'GET', `/floatingips?floating_ip_address=${encodeURIComponent(address)}`);
    if (!floatingips[0]) throw notFound('floating IP not found');
    return floatingips[0];
  };
  const actionsGone = (req: ComputeRequest) => {
    if (req.auth.version.atLeast('2.44')) throw new NovaError(404, 'The resource could not be found.');
  };

  return {
    /** addFloatingIp: the address onto the server's port with `fixed_address`, else its first IPv4 address. */
    async addFloatingIp(req: ComputeRequest, inst: Instance, args: any) {
      actionsGone(req);
      if (!isIp(args?.address)) throw badRequest(`Invalid input for field/attribute address. Value: ${JSON.stringify(args?.address ?? null)}. It must be an IP address.`);
      if (args.fixed_address !== undefined && !isIp(args.fixed_address)) throw badRequest(`Invalid input for field/attribute fixed_address. Value: ${JSON.stringify(args.fixed_address)}. It must be an IP address.`);
      const fip = await byAddress(req, args.address);
      const server = serverIdOf(inst);
      const { ports } = await neutron<{ ports: NeutronPort[] }>(req, 'GET', `/ports?device_id=${encodeURIComponent(server)}`);
      const fixed = args.fixed_address ?? ports.flatMap((p) => p.fixed_ips.map((i) => i.ip_address)).find((a) => isIPv4(a));
      const port = ports.find((p) => p.fixed_ips.some((i) => i.ip_address === fixed));
      if (!fixed || !port) throw badRequest(args.fixed_address ? `Specified fixed address '${args.fixed_address}' not assigned to instance` : `Unable to associate floating IP ${args.address} to any fixed IPs for instance ${server}. Instance has no fixed IPv4 addresses to associate.`);
      await neutron(req, 'PUT', `/floatingips/${fip.id}`, { floatingip: { port_id: port.id, fixed_ip_address: fixed } }).catch((e: Error) => {
        // Nova answers any failure of Neutron's here as a 400 with its reason.
        throw badRequest(`Unable to associate floating IP ${args.address} to fixed IP ${fixed} for instance ${server}. Error: ${e.message}`);
      });
      return { status: 202 };
    },

    /** removeFloatingIp: only from the server it is associated with (409 otherwise, as Nova). */
    async removeFloatingIp(req: ComputeRequest, inst: Instance, args: any) {
      actionsGone(req);
      if (typeof args?.address !== 'string' || !args.address) throw badRequest("Invalid input for field/attribute address. 'address' is a required property");
      const fip = await byAddress(req, args.address);
      const server = serverIdOf(inst);
      if ((await portOf(req, fip))?.device_id !== server) throw conflict(`Floating IP ${args.address} is not associated with instance ${server}.`);
      await neutron(req, 'PUT', `/floatingips/${fip.id}`, { floatingip: { port_id: null } });
      return { status: 202 };
    },
  };
}
