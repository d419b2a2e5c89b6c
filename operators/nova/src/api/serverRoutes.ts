/**
 * /servers: create, list (summary and detail) with Nova's filters and paging, show, update, delete, and
 * server metadata. A server is an Instance in the caller's tenant namespace; its ID is the Instance's UID.
 */
import { attachVolumes, bootsFromVolume, imageGiB, localBootImage, parseBlockDevices, prepareVolumes, undoVolumes } from './blockDevices.js';
import { canSee, type Image } from '@stratus/glance';
import { Refused, decodeUserData, resourcesOf, rootDiskGiB } from '../bootChecks.js';
import { RE2JS } from 're2js';
import { METADATA_ITEMS_DEFAULT, instancesThatFit, metadataItemsLimit, quotaRefusal, usageOfResources } from '../quota.js';
import { INSTANCES, flavorSnapshot, type Instance } from '../resources.js';
import { PORTS_AND_VOLUMES_FINALIZER } from '../instanceRelease.js';
import { isIPv4, isIPv6 } from 'node:net';
import { randomBytes } from 'node:crypto';
import { objectNameFor, tagsMatch } from '@stratus/runtime';
import { adminPassOf, bindAdminPass, dropAdminPass, storeAdminPass } from './adminPass.js';
import { keypairOf, novaBoolean } from './catalogRoutes.js';
import { recordAction } from './instanceActions.js';
import { API_FIELD_MANAGER, bodyObject, canSeeServer, canUseFlavor, checkLock, fromKubernetes, requireAdmin, serverExtras, serverFor, tenantOf, tenantUsage, updateObject, viewContext, type ComputeApiContext, type ComputeAuth, type ComputeRequest, type ComputeRouter } from './context.js';
import { badRequest, forbidden, notFound, wholeQuery } from './errors.js';
import { requestedNetworks, requestedSecurityGroups } from './networkRequests.js';
import { requireKnownFields, serverCreateShape, serverUpdateShape } from './bodyFields.js';
import { addressesOf, CREATOR_ANNOTATION, LAUNCH_INDEX_ANNOTATION, RESERVATION_ANNOTATION, presentState, serverIdOf, serverNameOf, serverSummary, serverUpdateView, serverView, vmStateOf } from './views.js';


/** The last segment of an ID or a link to one (Nova takes both for imageRef and flavorRef). */
export const refId = (ref: unknown) => (typeof ref === 'string' ? decodeURIComponent(ref.replace(/\/+$/, '').split('/').pop() ?? '') : '');

/** Server metadata as Nova validates it: string keys of 1-255 and values of at most 255, at most `maxItems` (the metadata_items quota). */
export function validMetadata(m: unknown, field = 'metadata', maxItems = METADATA_ITEMS_DEFAULT): Record<string, string> {
  if (m === undefined || m === null) return {};
  if (typeof m !== 'object' || Array.isArray(m)) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(m)}. ${JSON.stringify(m)} is not of type 'object'`);
  const entries = Object.entries(m as Record<string, unknown>);
  if (entries.length > maxItems) throw forbidden(`Quota exceeded for metadata_items: Requested ${entries.length}, but the limit is ${maxItems} metadata items.`);
  for (const [k, v] of entries) {
    if (!k || k.length > 255) throw badRequest(`Invalid input for field/attribute ${field}. Metadata keys must be 1 to 255 characters.`);
    if (typeof v !== 'string' || v.length > 255) throw badRequest(`Invalid input for field/attribute ${field}. Value of ${k} must be a string of at most 255 characters.`);
  }
  return m as Record<string, string>;
}

export function serverRoutes(router: ComputeRouter, api: ComputeApiContext) {
  const { dir } = api;

  router.on('POST', '/servers', async (req) => {
    requireKnownFields(req.body, serverCreateShape(req.auth.version), req.auth.version);
    const s = bodyObject(req, 'server');
    const ns = tenantOf(req.auth);
    const v = req.auth.version;
    if (typeof s.name !== 'string' || !s.name.trim() || s.name.length > 255) throw badRequest("Invalid input for field/attribute name. 'name' must be a string of 1 to 255 characters.");
    const devices = parseBlockDevices(s);
    const fromVolume = bootsFromVolume(devices);
    if (v.atLeast('2.37') && s.networks === undefined) throw badRequest("Invalid input for field/attribute server. 'networks' is a required property");
    if (s.description !== undefined && !v.atLeast('2.19')) throw badRequest("Invalid input for field/attribute server. Additional properties are not allowed ('description' was unexpected)");

    const flavorId = refId(s.flavorRef);
    const flavor = dir.flavors.byId(flavorId);
    if (!flavor || !canUseFlavor(flavor, req.auth)) throw badRequest(`Flavor ${flavorId || String(s.flavorRef)} could not be found.`);
    // Booted from a volume, a server has no image (imageRef empty or absent) and no root disk of the host's.
    const image = fromVolume ? undefined : imageForTenant(api, s.imageRef || localBootImage(devices), ns, req.auth.admin);
    let resources;
    try {
      resources = resourcesOf(flavor.spec, image ? rootDiskGiB(flavorSnapshot(flavor), image) : 0);
    } catch (e) {
      if (e instanceof Refused) throw badRequest(e.message);
      throw e;
    }
    const securityGroups = await requestedSecurityGroups(api.client, ns, s.security_groups, req.auth.projectId ?? '');
    const keypair = s.key_name !== undefined && s.key_name !== null ? keypairOf(api, req, String(s.key_name)) : undefined;
    if (s.key_name !== undefined && s.key_name !== null && !keypair) throw badRequest('Invalid key_name provided.');
    if (s.user_data !== undefined && s.user_data !== null && (typeof s.user_data !== 'string' || !decodeUserData(s.user_data))) throw badRequest('User data needs to be valid base 64.');
    // Files are not injected here (Nova's personality, gone in 2.57): say so rather than boot without them.
    if (Array.isArray(s.personality) && s.personality.length) throw badRequest('Personality (injected files) is not offered by this cloud: pass files to the guest in user_data (cloud-init write_files).');
    const metadata = validMetadata(s.metadata, 'metadata', metadataItemsLimit(dir.quotaOf(ns)));
    const adminPass = adminPassOf(s);
    const hints = (req.body['os:scheduler_hints'] ?? req.body['OS-SCH-HNT:scheduler_hints'] ?? {}) as Record<string, unknown>;
    let serverGroup: string | undefined;
    if (hints.group !== undefined) {
      const group = dir.groups.byId(String(hints.group));
      if (!group || group.metadata.namespace !== ns) throw badRequest(`Invalid server group ${String(hints.group)}: it could not be found.`);
      serverGroup = group.metadata.name;
    }
    // "zone", or "zone:host" to pin a host (admins only, as in Nova).
    const [zone, host] = typeof s.availability_zone === 'string' ? s.availability_zone.split(':') : [];
    if (host) requireAdmin(req.auth, 'choosing a host');
    const minCount = countOf(s.min_count, 'min_count', 1);
    const maxCount = countOf(s.max_count, 'max_count', minCount);
    if (maxCount < minCount) throw badRequest('min_count and max_count must be whole numbers, 1 <= min_count <= max_count.');
    // The NICs, checked with the networking service before anything is made ('auto': the tenant's one network).
    const networks = await requestedNetworks(api.client, ns, s.networks, maxCount);
    // Under concurrency the check must see the servers admitted just before: one create per tenant at a time
    // in this process, each server in the cache before the next check (the scheduler still counts ledgers).
    const release = await api.admission.acquire(ns);
    const created: Instance[] = [];
    let reservationId: string;
    try {
      const quota = dir.quotaOf(ns);
      const used = tenantUsage(api, ns);
      // As many as the quota allows (worked out, not tried one by one), at least min_count, and never more in
      // one request than MAX_SERVERS_PER_REQUEST where no quota bounds it.
      const fit = instancesThatFit(quota, used, usageOfResources(resources, 1));
      if (fit === Infinity && minCount > MAX_SERVERS_PER_REQUEST) throw badRequest(`min_count ${minCount} is more servers than one request makes here (${MAX_SERVERS_PER_REQUEST}).`);
      const count = Math.max(minCount, Math.min(maxCount, fit, MAX_SERVERS_PER_REQUEST));
      const refusal = quotaRefusal(quota, used, usageOfResources(resources, count));
      if (refusal) throw forbidden(refusal);
      if (serverGroup && quota?.serverGroupMembers !== undefined) {
        const members = dir.instances.list(ns).filter((i) => i.spec.serverGroup === serverGroup && !i.metadata.deletionTimestamp).length;
        if (members + count > quota.serverGroupMembers) throw forbidden(`Quota exceeded, too many servers in group: Requested ${count}, but already used ${members} of ${quota.serverGroupMembers} server_group_members`);
      }

      // Volumes are checked and made (or found) before the server; a failed create deletes those it made.
      const volumeDevices = devices.filter((d) => d.destination === 'volume');
      if (volumeDevices.length && count > 1) throw badRequest('Block Device Mapping is Invalid: volumes cannot be attached to more than one server of a multiple create.');
      const prepared = volumeDevices.length ? await prepareVolumes(api, ns, volumeDevices, (id) => usableImageGiB(api, id, ns, req.auth.admin)) : [];
      // One reservation for the servers of one request, as Nova's multiple create makes them.
      reservationId = `r-${randomBytes(4).toString('hex')}`;
      for (let n = 1; n <= count; n++) {
        const display = count > 1 ? `${s.name}-${n}` : s.name;
        const name = objectNameFor(display, (n) => !!dir.instances.get(n, ns), 'server');
        const adminPassSecret = await storeAdminPass(api.client, ns, name, adminPass);
        const inst = await api.client
          .create<Instance>(
            INSTANCES,
            {
              apiVersion: 'compute.stratus.io/v1alpha1',
              kind: 'Instance',
              // Its volumes are attached before any agent holds it: deleted unplaced, the controller gives them back.
              metadata: { name, namespace: ns, finalizers: [PORTS_AND_VOLUMES_FINALIZER], annotations: { [CREATOR_ANNOTATION]: req.auth.userId, [RESERVATION_ANNOTATION]: reservationId, [LAUNCH_INDEX_ANNOTATION]: String(n - 1) } },
              spec: {
                adminPassSecret,
                ...accessIPs(s),
                displayName: display,
                ...(s.description !== undefined && s.description !== null ? { description: String(s.description) } : {}),
                flavor: flavor.metadata.name,
                ...(image ? { image: { name: image.metadata.name, namespace: image.metadata.namespace } } : {}),
                ...(keypair ? { keypair: keypair.metadata.name } : {}),
                ...(s.user_data ? { userData: s.user_data } : {}),
                ...(Object.keys(metadata).length ? { metadata } : {}),
                ...(zone ? { availabilityZone: zone } : {}),
                ...(host ? { host } : {}),
                ...(serverGroup ? { serverGroup } : {}),
                ...(networks.length ? { networks } : {}),
                ...(securityGroups ? { securityGroups } : {}),
              },
            },
            API_FIELD_MANAGER,
          )
          .catch(async (e) => {
            await dropAdminPass(api.client, ns, adminPassSecret);
            await undoVolumes(api, ns, prepared);
            return fromKubernetes(e, `Server ${display}`);
          });
        if (prepared.length) await attachVolumes(api, inst, prepared);
        await bindAdminPass(api.client, inst);
        await recordAction(api, inst, 'create', req);
        created.push(inst);
        await dir.instances.seen(inst);
        api.log.info('server created', { namespace: ns, name: inst.metadata.name, id: inst.metadata.uid });
      }
    } finally {
      release();
    }
    const first = created[0];
    const id = serverIdOf(first);
    if (novaBoolean(s.return_reservation_id, 'return_reservation_id')) return { status: 202, body: { reservation_id: reservationId } };
    return {
      status: 202,
      headers: { Location: `${req.base}/servers/${id}` },
      body: { server: { id, links: serverSummary(first, viewContext(api, req)).links, 'OS-DCF:diskConfig': 'MANUAL', security_groups: [{ name: 'default' }], ...(api.enableInstancePassword ? { adminPass } : {}) } },
    };
  });

  const list = (req: ComputeRequest, detail: boolean) => {
    const servers = filterServers(api, req);
    const q = req.query;
    const limit = wholeQuery(q, 'limit');
    let start = 0;
    const marker = q.get('marker');
    if (marker) {
      start = servers.findIndex((i) => serverIdOf(i) === marker) + 1;
      if (start === 0) throw badRequest(`marker [${marker}] not found`);
    }
    const pageItems = servers.slice(start, limit === undefined ? undefined : start + limit);
    const ctx = viewContext(api, req);
    const docs = pageItems.map((i) => (detail ? serverView(i, serverExtras(api, i), ctx) : serverSummary(i, ctx)));
    const more = limit !== undefined && start + limit < servers.length && pageItems.length > 0;
    const next = new URLSearchParams(q);
    if (more) next.set('marker', serverIdOf(pageItems[pageItems.length - 1]));
    return { status: 200, body: { servers: docs, ...(more ? { servers_links: [{ rel: 'next', href: `${req.base}/servers${detail ? '/detail' : ''}?${next}` }] } : {}) } };
  };
  router.on('GET', '/servers', (req) => list(req, false));
  router.on('GET', '/servers/detail', (req) => list(req, true));

  router.on('GET', '/servers/:id', (req) => {
    const inst = serverFor(api, req.params.id, req.auth);
    return { status: 200, body: { server: serverView(inst, serverExtras(api, inst), viewContext(api, req)) } };
  });

  router.on('PUT', '/servers/:id', async (req) => {
    requireKnownFields(req.body, serverUpdateShape(req.auth.version), req.auth.version);
    const s = bodyObject(req, 'server');
    const inst = serverFor(api, req.params.id, req.auth);
    const spec: Record<string, unknown> = {};
    if (s.name !== undefined) {
      if (typeof s.name !== 'string' || !s.name.trim() || s.name.length > 255) throw badRequest("Invalid input for field/attribute name. 'name' must be a string of 1 to 255 characters.");
      spec.displayName = s.name;
    }
    if (s.description !== undefined) {
      if (!req.auth.version.atLeast('2.19')) throw badRequest("Invalid input for field/attribute server. Additional properties are not allowed ('description' was unexpected)");
      spec.description = s.description;
    }
    Object.assign(spec, accessIPs(s));
    const written = await updateObject(api, dir.instances, INSTANCES, inst, () => ({ spec }), `Instance ${req.params.id}`);
    return { status: 200, body: { server: serverUpdateView(written, serverExtras(api, written), viewContext(api, req)) } };
  });

  router.on('DELETE', '/servers/:id', async (req) => {
    const inst = serverFor(api, req.params.id, req.auth);
    checkLock(inst, req.auth, 'delete');
    await recordAction(api, inst, 'delete', req);
    // The server stays listed (task deleting) until its node agent has destroyed the guest, as in Nova.
    await api.client.delete(INSTANCES, inst.metadata.namespace, inst.metadata.name);
    await dir.instances.until(inst, (c) => !c || !!c.metadata.deletionTimestamp);
    api.log.info('server deleted', { namespace: inst.metadata.namespace, name: inst.metadata.name });
    return { status: 204 };
  });

  // A server's addresses, per network (its ports' addresses, keyed by network name, as in server show).
  const ipsOf = (inst: Instance) => Object.fromEntries(Object.entries(addressesOf(inst)).map(([net, addrs]) => [net, addrs.map((a) => ({ version: a.version, addr: a.addr }))]));
  router.on('GET', '/servers/:id/ips', (req) => ({ status: 200, body: { addresses: ipsOf(serverFor(api, req.params.id, req.auth)) } }));
  router.on('GET', '/servers/:id/ips/:network', (req) => {
    const ips = ipsOf(serverFor(api, req.params.id, req.auth));
    if (!(req.params.network in ips)) throw notFound(`Network ${req.params.network} could not be found: the server has no addresses on it.`);
    return { status: 200, body: { [req.params.network]: ips[req.params.network] } };
  });

  // Server metadata: the Instance's spec.metadata.
  const setMetadata = async (req: ComputeRequest, make: (current: Record<string, string>) => Record<string, string>) => {
    const inst = serverFor(api, req.params.id, req.auth);
    let next: Record<string, string> = {};
    await updateObject(
      api,
      dir.instances,
      INSTANCES,
      inst,
      (cur) => {
        next = validMetadata(make({ ...(cur.spec.metadata ?? {}) }), 'metadata', metadataItemsLimit(dir.quotaOf(inst.metadata.namespace!)));
        // A merge patch adds and changes keys; removed ones are sent as null.
        const removed = Object.keys(cur.spec.metadata ?? {}).filter((k) => !(k in next));
        return { spec: { metadata: { ...next, ...Object.fromEntries(removed.map((k) => [k, null])) } } };
      },
      `Instance ${req.params.id}`,
    );
    return next;
  };
  router.on('GET', '/servers/:id/metadata', (req) => ({ status: 200, body: { metadata: serverFor(api, req.params.id, req.auth).spec.metadata ?? {} } }));
  router.on('POST', '/servers/:id/metadata', async (req) => ({ status: 200, body: { metadata: await setMetadata(req, (cur) => ({ ...cur, ...validMetadata(req.body?.metadata, 'metadata', Infinity) })) } }));
  router.on('PUT', '/servers/:id/metadata', async (req) => ({ status: 200, body: { metadata: await setMetadata(req, () => validMetadata(req.body?.metadata, 'metadata', Infinity)) } }));
  router.on('GET', '/servers/:id/metadata/:key', (req) => {
    const metadata = serverFor(api, req.params.id, req.auth).spec.metadata ?? {};
    // Own keys only: `toString` and the like are not metadata.
    const value = Object.hasOwn(metadata, req.params.key) ? metadata[req.params.key] : undefined;
    if (value === undefined) throw notFound('Metadata item was not found');
    return { status: 200, body: { meta: { [req.params.key]: value } } };
  });
  router.on('PUT', '/servers/:id/metadata/:key', async (req) => {
    const meta = validMetadata(req.body?.meta, 'meta', Infinity);
    if (Object.keys(meta).length !== 1 || !(req.params.key in meta)) throw badRequest('Request body and URI mismatch');
    await setMetadata(req, (cur) => ({ ...cur, ...meta }));
    return { status: 200, body: { meta } };
  });
  router.on('DELETE', '/servers/:id/metadata/:key', async (req) => {
    if (!Object.hasOwn(serverFor(api, req.params.id, req.auth).spec.metadata ?? {}, req.params.key)) throw notFound('Metadata item was not found');
    await setMetadata(req, (cur) => Object.fromEntries(Object.entries(cur).filter(([k]) => k !== req.params.key)));
    return { status: 204 };
  });
}

/** The servers a list call asks for, in Nova's default order (newest first), after its filters. */
/** Servers one create makes at most where no quota bounds them (Nova's quota would; an unlimited tenant's here does not). */
export const MAX_SERVERS_PER_REQUEST = 100;

/** min_count or max_count as Nova's schema takes them: a whole number of at least 1, or such a string. */
function countOf(value: unknown, field: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const n = typeof value === 'string' && /^[0-9]{1,10}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(value)}. It must be a whole number of at least 1.`);
  return n;
}

/**
 * Nova's name filter: a regular expression searched for in the name. Run by RE2 (re2js), whose time grows
 * with the name's length only: a crafted pattern (`^(a+)+$`) cannot stall the API as a backtracking engine would.
 */
export function nameFilter(pattern: string): (name: string) => boolean {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch {
    throw badRequest(`Invalid regular expression for name: ${pattern}`);
  }
  return (name) => re.matcher(name).find();
}

/**
 * Nova's ip and ip6 filters as Nova applies them with Neutron: a server matches when one of its fixed
 * addresses contains either text (Neutron's ip_address_substr), so "10.0.0.4" also finds 10.0.0.41.
 */
export function fixedIpFilter(ip: string | null, ip6: string | null): ((addresses: string[]) => boolean) | undefined {
  const wanted = [ip, ip6].filter((t): t is string => !!t);
  if (wanted.length === 0) return undefined;
  return (addresses) => addresses.some((a) => wanted.some((t) => a.includes(t)));
}

function filterServers(api: ComputeApiContext, req: ComputeRequest): Instance[] {
  const q = req.query;
  const auth: ComputeAuth = req.auth;
  const project = q.get('project_id') ?? q.get('tenant_id');
  // As Nova's is_all_tenants: present and empty, or true. Without it a tenant_id is ignored (Nova v2's way).
  const flag = q.get('all_tenants') ?? q.get('all_projects');
  const allTenants = flag !== null && (flag === '' || !!novaBoolean(flag, 'all_tenants'));
  if (allTenants) requireAdmin(auth, 'listing every tenant’s servers');
  let servers = allTenants ? api.dir.instances.list() : api.dir.instances.list(tenantOf(auth));
  servers = servers.filter((i) => canSeeServer(i, auth));
  if (project && allTenants) servers = servers.filter((i) => api.dir.projectIdOf(i.metadata.namespace!) === project);
  const name = q.get('name');
  if (name) {
    const matches = nameFilter(name);
    servers = servers.filter((i) => matches(serverNameOf(i)));
  }
  const status = q.get('status');
  if (status) servers = servers.filter((i) => presentState(i).status === status.toUpperCase());
  const vmState = q.get('vm_state');
  if (vmState) servers = servers.filter((i) => vmStateOf(i) === vmState);
  const flavor = q.get('flavor');
  if (flavor) servers = servers.filter((i) => (i.status?.flavor?.name ?? i.spec.flavor) === refId(flavor));
  const image = q.get('image');
  if (image) servers = servers.filter((i) => serverExtras(api, i).imageId === refId(image));
  const host = q.get('host') ?? q.get('node');
  if (host) {
    requireAdmin(auth, 'filtering by host');
    servers = servers.filter((i) => i.status?.host === host);
  }
  const reservation = q.get('reservation_id');
  if (reservation) servers = servers.filter((i) => i.metadata.annotations?.[RESERVATION_ANNOTATION] === reservation);
  const ipFilter = fixedIpFilter(q.get('ip'), auth.admin || auth.version.atLeast('2.5') ? q.get('ip6') : null);
  if (ipFilter) servers = servers.filter((i) => ipFilter((i.status?.addresses ?? []).flatMap((nic) => nic.ips)));
  const zone = q.get('availability_zone');
  if (zone) servers = servers.filter((i) => serverExtras(api, i).zone === zone || i.spec.availabilityZone === zone);
  if (auth.version.atLeast('2.26')) servers = servers.filter((i) => tagsMatch(q, i.spec.tags ?? []));
  const since = q.get('changes-since');
  if (since) {
    // ISO 8601 only, as Nova's schema takes it (Date.parse would also read "2011/01/01").
    const t = ISO_8601.test(since) ? Date.parse(since) : NaN;
    if (Number.isNaN(t)) throw badRequest(`Invalid filter field: changes-since. ${since} is not a date-time`);
    servers = servers.filter((i) => Date.parse(String(i.metadata.creationTimestamp)) >= t || (i.status?.launchedAt && Date.parse(i.status.launchedAt) >= t));
  }
  const sortDir = q.get('sort_dir') === 'asc' ? 1 : -1;
  const sortKey = q.get('sort_key') ?? 'created_at';
  const keyOf = (i: Instance): string =>
    sortKey === 'display_name' ? serverNameOf(i) : sortKey === 'vm_state' ? vmStateOf(i) : sortKey === 'uuid' ? serverIdOf(i) : new Date(String(i.metadata.creationTimestamp)).toISOString();
  return servers.sort((a, b) => sortDir * (keyOf(a).localeCompare(keyOf(b)) || serverIdOf(a).localeCompare(serverIdOf(b))));
}

/** Nova's accessIPv4 and accessIPv6 of a create or update body, checked (400 naming the field). */
export function accessIPs(s: Record<string, unknown>): { accessIPv4?: string; accessIPv6?: string } {
  const out: { accessIPv4?: string; accessIPv6?: string } = {};
  for (const [field, valid] of [['accessIPv4', isIPv4], ['accessIPv6', isIPv6]] as const) {
    const v = s[field];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string' || !valid(v)) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not a '${field === 'accessIPv4' ? 'ipv4' : 'ipv6'}'`);
    // Kept in canonical form, as Nova keeps it (an IPv6 address compressed, RFC 5952: the URL parser's form).
    out[field] = field === 'accessIPv6' ? new URL(`http://[${v}]/`).hostname.slice(1, -1) : v;
  }
  return out;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** The image an instance could boot, as the API checks it on create and rebuild. */
/** The GiB a volume made from the image needs, when the tenant may use it (undefined otherwise). */
function usableImageGiB(api: ComputeApiContext, id: string, ns: string, admin: boolean): number | undefined {
  const img = api.dir.images.byId(id);
  if (!img || !canSee(img, { tenant: ns, admin }) || img.status?.phase !== 'active') return undefined;
  return imageGiB(Math.max(img.status.virtualSize ?? 0, img.status.size ?? 0, (img.spec.minDisk ?? 0) * 1024 ** 3));
}

export function imageForTenant(api: ComputeApiContext, ref: unknown, namespace: string, admin: boolean): Image {
  const imageId = refId(ref);
  if (!imageId) throw badRequest("Invalid input for field/attribute. 'imageRef' is a required property");
  const image = api.dir.images.byId(imageId);
  if (!image || !canSee(image, { tenant: namespace, admin })) throw badRequest(`Image ${imageId} could not be found.`);
  if (image.status?.phase !== 'active') throw badRequest(`Image ${imageId} is not active.`);
  return image;
}

