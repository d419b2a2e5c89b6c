/** /flavors (with extra specs), /os-keypairs and /os-server-groups: the Flavor, Keypair and ServerGroup resources. */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { displayNameOf, objectNameFor } from '@stratus/runtime';
import { flavorNameKey, keypairNameKey, nameClaims } from '../names.js';
import { FLAVORS, KEYPAIRS, SERVER_GROUPS, type Flavor, type Keypair, type ServerGroup } from '../resources.js';
import { SERVER_GROUP_POLICIES } from '../kinds.js';
import { API_FIELD_MANAGER, canUseFlavor, fromKubernetes, requireAdmin, tenantOf, updateObject, viewContext, type ComputeApiContext, type ComputeRequest, type ComputeRouter } from './context.js';
import { NovaError, badRequest, conflict, forbidden, notFound, wholeQuery } from './errors.js';
import { flavorCreateShape, flavorUpdateShape, keypairCreateShape, requireKnownFields, serverGroupCreateShape } from './bodyFields.js';
import { flavorSummary, flavorView, keypairView, serverGroupView } from './views.js';

const API = 'compute.stratus.io/v1alpha1';
const run = promisify(execFile);
/** Kubernetes object names: what a flavor ID must be, since it names the resource. */
const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export function flavorRoutes(router: ComputeRouter, api: ComputeApiContext) {
  const { dir } = api;
  const claims = nameClaims(api.client, API_FIELD_MANAGER);
  const visible = (req: ComputeRequest) => {
    const isPublic = req.query.get('is_public');
    // Nova: non-admins see public flavors; admins see all with is_public=None, else what they ask.
    return dir.flavors.list().filter((f) => {
      const pub = f.spec.isPublic ?? true;
      if (!req.auth.admin) return canUseFlavor(f, req.auth);
      if (isPublic === null || isPublic === '') return pub;
      if (isPublic.toLowerCase() === 'none') return true;
      // As oslo's bool_from_string: anything not a true word is false.
      return pub === TRUE_WORDS.includes(isPublic.toLowerCase());
    });
  };
  const flavorFor = (req: ComputeRequest, id: string): Flavor => {
    const f = dir.flavors.byId(id);
    if (!f || !canUseFlavor(f, req.auth)) throw notFound(`Flavor ${id} could not be found.`);
    return f;
  };
  const list = (req: ComputeRequest, detail: boolean) => {
    const minRam = wholeQuery(req.query, 'minRam') ?? 0;
    const minDisk = wholeQuery(req.query, 'minDisk') ?? 0;
    let flavors = visible(req)
      .filter((f) => f.spec.ramMiB >= minRam && (f.spec.diskGiB ?? 0) >= minDisk)
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const marker = req.query.get('marker');
    if (marker) flavors = flavors.slice(flavors.findIndex((f) => f.metadata.name === marker) + 1);
    const limit = wholeQuery(req.query, 'limit');
    if (limit !== undefined) flavors = flavors.slice(0, limit);
    const ctx = viewContext(api, req);
    return { status: 200, body: { flavors: flavors.map((f) => (detail ? flavorView(f, ctx) : flavorSummary(f, ctx))) } };
  };
  router.on('GET', '/flavors', (req) => list(req, false));
  router.on('GET', '/flavors/detail', (req) => list(req, true));
  router.on('GET', '/flavors/:id', (req) => ({ status: 200, body: { flavor: flavorView(flavorFor(req, req.params.id), viewContext(api, req)) } }));

  router.on('POST', '/flavors', async (req) => {
    requireAdmin(req.auth, 'creating flavors');
    requireKnownFields(req.body, flavorCreateShape(req.auth.version), req.auth.version);
    const f = req.body?.flavor;
    if (!f || typeof f !== 'object') throw badRequest("Invalid input for field/attribute flavor. 'flavor' is a required property");
    // Nova's flavor schema: whole numbers up to 2^31-1 (a database integer).
    const int = (v: unknown, field: string, min: number) => {
      const n = v === undefined || v === '' ? min : Number(v);
      if (!Number.isInteger(n) || n < min || n > 0x7fffffff) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. It must be a whole number from ${min} to 2147483647.`);
      return n;
    };
    if (typeof f.name !== 'string' || !f.name.trim() || f.name.length > 255) throw badRequest("Invalid input for field/attribute name. 'name' must be a string of 1 to 255 characters.");
    // The flavor ID names the resource: the one asked for, or the name where it is a valid object name, else a UUID.
    const asked = f.id === undefined || f.id === null || f.id === 'auto' ? undefined : String(f.id);
    if (asked !== undefined && !K8S_NAME.test(asked)) throw badRequest(`Invalid flavor ID ${asked}: use lower-case letters, digits, '-' and '.'.`);
    const id = asked ?? (K8S_NAME.test(f.name) && !dir.flavors.get(f.name) ? f.name : randomUUID());
    if (dir.flavors.get(id)) throw conflict(`Flavor with ID ${id} already exists.`);
    const spec = {
      displayName: f.name,
      vcpus: int(f.vcpus, 'vcpus', 1),
      ramMiB: int(f.ram, 'ram', 1),
      diskGiB: int(f.disk, 'disk', 0),
      ephemeralGiB: int(f['OS-FLV-EXT-DATA:ephemeral'], 'OS-FLV-EXT-DATA:ephemeral', 0),
      swapMiB: int(f.swap, 'swap', 0),
      isPublic: novaBoolean(f['os-flavor-access:is_public'], 'os-flavor-access:is_public') ?? true,
      ...(typeof f.description === 'string' && req.auth.version.atLeast('2.55') ? { description: f.description } : {}),
    };
    // Flavor names are unique (a claim holds each); the ID is unique as the object's name.
    const create = (annotations: Record<string, string>) => api.client.create<Flavor>(FLAVORS, { apiVersion: API, kind: 'Flavor', metadata: { name: id, annotations }, spec }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, `Flavor with ID ${id}`));
    const created = await claims.create(flavorNameKey(f.name), { resource: FLAVORS, apiVersion: API, kind: 'Flavor', metadata: {} }, create).catch((e) => fromKubernetes(e, `Flavor with name ${f.name}`));
    await dir.flavors.seen(created);
    return { status: 200, body: { flavor: flavorView(created, viewContext(api, req)) } };
  });

  router.on('DELETE', '/flavors/:id', async (req) => {
    requireAdmin(req.auth, 'deleting flavors');
    const f = flavorFor(req, req.params.id);
    await api.client.delete(FLAVORS, undefined, f.metadata.name);
    await dir.flavors.until(f, (c) => !c);
    return { status: 202 };
  });

  // 2.55 on: a flavor's description is the one thing that changes.
  router.on('PUT', '/flavors/:id', async (req) => {
    if (!req.auth.version.atLeast('2.55')) throw new NovaError(405, 'The method is not allowed for the requested URL.');
    requireAdmin(req.auth, 'os_compute_api:os-flavor-manage:update');
    requireKnownFields(req.body, flavorUpdateShape, req.auth.version);
    const body = req.body?.flavor;
    if (!body || typeof body !== 'object' || !('description' in body) || Object.keys(body).length !== 1) throw badRequest("Invalid input for field/attribute flavor. Only 'description' can be updated.");
    if (body.description !== null && (typeof body.description !== 'string' || body.description.length > 65535)) throw badRequest('Invalid input for field/attribute description.');
    const f = flavorFor(req, req.params.id);
    const written = await updateObject(api, dir.flavors, FLAVORS, f, () => ({ spec: { description: body.description } }), `Flavor ${f.metadata.name}`);
    return { status: 200, body: { flavor: flavorView(written, viewContext(api, req)) } };
  });

  // Flavor access: the projects a private flavor is shared with (spec.projects).
  const accessList = (f: Flavor) => (f.spec.projects ?? []).map((tenant_id) => ({ flavor_id: f.metadata.name, tenant_id }));
  router.on('GET', '/flavors/:id/os-flavor-access', (req) => {
    requireAdmin(req.auth, 'os_compute_api:os-flavor-access');
    const f = flavorFor(req, req.params.id);
    if (f.spec.isPublic ?? true) throw notFound('Access list not available for public flavors.');
    return { status: 200, body: { flavor_access: accessList(f) } };
  });
  router.on('POST', '/flavors/:id/action', async (req) => {
    const body = req.body ?? {};
    const [action, ...rest] = Object.keys(body);
    if ((action !== 'addTenantAccess' && action !== 'removeTenantAccess') || rest.length) throw badRequest(`There is no such action: ${action}`);
    requireAdmin(req.auth, `os_compute_api:os-flavor-access:${action === 'addTenantAccess' ? 'add_tenant_access' : 'remove_tenant_access'}`);
    const tenant = body[action]?.tenant;
    if (typeof tenant !== 'string' || !tenant || tenant.length > 255) throw badRequest("Invalid input for field/attribute tenant. 'tenant' is a required string.");
    const f = flavorFor(req, req.params.id);
    if (f.spec.isPublic ?? true) throw conflict(`Can not add access to a public flavor.`);
    const written = await updateObject(api, dir.flavors, FLAVORS, f, (cur) => {
      const projects = new Set(cur.spec.projects ?? []);
      if (action === 'addTenantAccess') {
        if (projects.has(tenant)) throw conflict(`Flavor access already exists for flavor ${f.metadata.name} and project ${tenant} combination.`);
        projects.add(tenant);
      } else if (!projects.delete(tenant)) throw notFound(`Flavor access not found for ${f.metadata.name} / ${tenant} combination.`);
      return { spec: { projects: [...projects] } };
    }, `Flavor ${f.metadata.name}`);
    return { status: 200, body: { flavor_access: accessList(written) } };
  });

  // Extra specs: the Flavor's spec.extraSpecs.
  router.on('GET', '/flavors/:id/os-extra_specs', (req) => ({ status: 200, body: { extra_specs: flavorFor(req, req.params.id).spec.extraSpecs ?? {} } }));
  router.on('GET', '/flavors/:id/os-extra_specs/:key', (req) => {
    const value = flavorFor(req, req.params.id).spec.extraSpecs?.[req.params.key];
    if (value === undefined) throw notFound(`Flavor ${req.params.id} has no extra specs with key ${req.params.key}.`);
    return { status: 200, body: { [req.params.key]: value } };
  });
  const setSpecs = async (req: ComputeRequest, specs: Record<string, string | null>) => {
    requireAdmin(req.auth, 'changing extra specs');
    const f = flavorFor(req, req.params.id);
    for (const [k, v] of Object.entries(specs)) if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw badRequest(`Invalid extra spec ${k}: values are strings.`);
    const normalized = Object.fromEntries(Object.entries(specs).map(([k, v]) => [k, v === null ? null : String(v)]));
    return updateObject(api, dir.flavors, FLAVORS, f, () => ({ spec: { extraSpecs: normalized } }), `Flavor ${f.metadata.name}`);
  };
  router.on('POST', '/flavors/:id/os-extra_specs', async (req) => {
    const specs = req.body?.extra_specs;
    if (!specs || typeof specs !== 'object') throw badRequest("Invalid input for field/attribute extra_specs. 'extra_specs' is a required property");
    const written = await setSpecs(req, specs);
    return { status: 200, body: { extra_specs: Object.fromEntries(Object.keys(specs).map((k) => [k, written.spec.extraSpecs?.[k]])) } };
  });
  router.on('PUT', '/flavors/:id/os-extra_specs/:key', async (req) => {
    const body = req.body ?? {};
    if (Object.keys(body).length !== 1 || !(req.params.key in body)) throw badRequest('Request body and URI mismatch');
    await setSpecs(req, body);
    return { status: 200, body: { [req.params.key]: String(body[req.params.key]) } };
  });
  router.on('DELETE', '/flavors/:id/os-extra_specs/:key', async (req) => {
    if (flavorFor(req, req.params.id).spec.extraSpecs?.[req.params.key] === undefined) throw notFound(`Flavor ${req.params.id} has no extra specs with key ${req.params.key}.`);
    await setSpecs(req, { [req.params.key]: null });
    return { status: 200 };
  });
}

/** oslo.utils' bool_from_string words, which Nova's schema takes. */
const TRUE_WORDS = ['true', '1', 'on', 'yes', 't', 'y'];
const FALSE_WORDS = ['false', '0', 'off', 'no', 'f', 'n'];

/** A boolean as Nova's schema takes it: true/false, or True, 'yes', 'off', '1' and their like in any case. */
export function novaBoolean(v: unknown, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  const word = String(v).toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. It is not a boolean.`);
}

/**
 * A self-signed X.509 certificate and its RSA private key, both PEM, for an x509 keypair Nova generates (as
 * Nova does, for the user); made by openssl, which Node cannot do by itself.
 */
async function generateX509Keypair(userId: string): Promise<{ publicKey: string; privateKey: string }> {
  const { stdout } = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', '-', '-out', '-', '-days', '3650', '-subj', `/CN=${userId}`], { timeout: 30_000 });
  const pem = (label: string) => new RegExp(`-----BEGIN ${label}-----[\\s\\S]+?-----END ${label}-----\\n?`).exec(stdout)?.[0];
  const certificate = pem('CERTIFICATE');
  const key = pem('PRIVATE KEY');
  if (!certificate || !key) throw new Error('openssl made no certificate');
  return { publicKey: certificate, privateKey: key };
}

/** An OpenSSH public key line (RSA) and its private key in PEM, for a keypair Nova generates. */
function generateSshKeypair(comment: string): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  // The ssh-rsa blob: length-prefixed "ssh-rsa", e and n (as SSH mpints: a leading zero byte when the top bit is set).
  const mpint = (b64url: string) => {
    const raw = Buffer.from(b64url, 'base64url');
    return raw[0] & 0x80 ? Buffer.concat([Buffer.from([0]), raw]) : raw;
  };
  const field = (b: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(b.length);
    return Buffer.concat([length, b]);
  };
  const blob = Buffer.concat([field(Buffer.from('ssh-rsa')), field(mpint(jwk.e)), field(mpint(jwk.n))]);
  return { publicKey: `ssh-rsa ${blob.toString('base64')} ${comment}`, privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() };
}

/** A user's keypairs in the caller's tenant (the caller's own by default): theirs, and those that belong to no user (made with kubectl). */
const keypairsOf = (api: ComputeApiContext, req: ComputeRequest, user = req.auth.userId) => api.dir.keypairs.list(tenantOf(req.auth)).filter((k) => !k.spec.user || k.spec.user === user);

/** The user's keypair with this name (their own before a shared one), if any. */
export const keypairOf = (api: ComputeApiContext, req: ComputeRequest, name: string, user = req.auth.userId): Keypair | undefined =>
  keypairsOf(api, req, user)
    .filter((k) => displayNameOf(k) === name)
    .sort((a, b) => Number(!a.spec.user) - Number(!b.spec.user))[0];

/** Nova's keypair names (before microversion 2.92): 1 to 255 letters, digits, spaces, '_' and '-'. */
function keypairName(name: unknown): string {
  if (typeof name !== 'string' || name.length < 1 || name.length > 255) throw badRequest('Keypair data is invalid: Keypair name must be string and between 1 and 255 characters long');
  if (!/^[a-zA-Z0-9 _-]+$/.test(name)) throw badRequest('Keypair data is invalid: Keypair name contains unsafe characters');
  return name;
}

export function keypairRoutes(router: ComputeRouter, api: ComputeApiContext) {
  const { dir } = api;
  const claims = nameClaims(api.client, API_FIELD_MANAGER);
  /**
   * Whose keypairs a call is about: the caller's, or from 2.10 another user's (admins only), as Nova's user_id.
   * Keypairs here live in the caller's tenant, so an admin manages another user's keypairs in that tenant.
   */
  const userFor = (req: ComputeRequest, asked: unknown): string => {
    if (asked === undefined || asked === null || !req.auth.version.atLeast('2.10')) return req.auth.userId;
    if (typeof asked !== 'string' || !asked || asked.length > 255) throw badRequest('Invalid input for field/attribute user_id.');
    if (asked !== req.auth.userId) requireAdmin(req.auth, "managing another user's keypairs");
    return asked;
  };
  const keypairFor = (req: ComputeRequest, name: string, user: string): Keypair => {
    const k = keypairOf(api, req, name, user);
    if (!k || k.metadata.deletionTimestamp) throw notFound(`Keypair ${name} not found for user ${user}`);
    return k;
  };
  router.on('GET', '/os-keypairs', (req) => {
    const ctx = viewContext(api, req);
    const user = userFor(req, req.query.get('user_id'));
    const list = keypairsOf(api, req, user).sort((a, b) => displayNameOf(a).localeCompare(displayNameOf(b)));
    return { status: 200, body: { keypairs: list.map((k) => ({ keypair: keypairView(k, ctx, false, user) })) } };
  });
  router.on('GET', '/os-keypairs/:name', (req) => {
    const user = userFor(req, req.query.get('user_id'));
    return { status: 200, body: { keypair: keypairView(keypairFor(req, req.params.name, user), viewContext(api, req), true, user) } };
  });

  router.on('POST', '/os-keypairs', async (req) => {
    requireKnownFields(req.body, keypairCreateShape(req.auth.version), req.auth.version);
    const kp = req.body?.keypair;
    if (!kp || typeof kp !== 'object') throw badRequest("Invalid input for field/attribute keypair. 'keypair' is a required property");
    const ns = tenantOf(req.auth);
    const name = keypairName(kp.name);
    const user = userFor(req, kp.user_id);
    const type = kp.type ?? 'ssh';
    if (kp.type !== undefined && !req.auth.version.atLeast('2.2')) throw badRequest("Invalid input for field/attribute keypair. Additional properties are not allowed ('type' was unexpected)");
    if (type !== 'ssh' && type !== 'x509') throw badRequest(`Keypair data is invalid: type must be ssh or x509.`);
    const generated = kp.public_key === undefined || kp.public_key === null ? (type === 'ssh' ? generateSshKeypair(`Generated-by-Nova`) : await generateX509Keypair(user)) : undefined;
    if (!generated && typeof kp.public_key !== 'string') throw badRequest('Keypair data is invalid: public_key must be a string.');
    // Unique per user: a claim holds the name; the object name is derived from it. A keypair the tenant
    // shares (made with kubectl, or before keypairs were per user) also takes the name for its members.
    if (keypairOf(api, req, name, user)) throw conflict(`Key pair '${name}' already exists.`);
    // Nova's key_pairs quota counts one user's keypairs.
    const limit = dir.quotaOf(ns)?.keypairs;
    if (limit !== undefined && dir.keypairs.list(ns).filter((k) => k.spec.user === user && !k.metadata.deletionTimestamp).length >= limit) throw forbidden('Quota exceeded, too many key pairs.');
    const objectName = objectNameFor(name, (n) => !!dir.keypairs.get(n, ns), 'keypair');
    const spec: Keypair['spec'] = { displayName: name, user, publicKey: generated?.publicKey ?? kp.public_key, type };
    const create = (annotations: Record<string, string>) => api.client.create<Keypair>(KEYPAIRS, { apiVersion: API, kind: 'Keypair', metadata: { name: objectName, namespace: ns, annotations }, spec }, API_FIELD_MANAGER);
    const created = await claims.create(keypairNameKey(name, user), { resource: KEYPAIRS, apiVersion: API, kind: 'Keypair', metadata: { namespace: ns } }, create).catch((e) => fromKubernetes(e, `Key pair '${name}'`));
    // The fingerprint is the reconciler's to write: the answer waits for it (a bad key is refused then).
    await dir.keypairs.until(created, (c) => !!c?.status?.phase);
    const settled = dir.keypairs.get(objectName, ns) ?? created;
    if (settled.status?.phase === 'Error') {
      await api.client.delete(KEYPAIRS, ns, objectName);
      throw badRequest(`Keypair data is invalid: ${settled.status.conditions?.find((c) => c.type === 'Stalled')?.message ?? 'failed to import the public key'}`);
    }
    const doc = { ...keypairView(settled, viewContext(api, req), false, user), user_id: user, ...(generated ? { private_key: generated.privateKey } : {}) };
    return { status: req.auth.version.atLeast('2.2') ? 201 : 200, body: { keypair: doc } };
  });

  router.on('DELETE', '/os-keypairs/:name', async (req) => {
    const k = keypairFor(req, req.params.name, userFor(req, req.query.get('user_id')));
    await api.client.delete(KEYPAIRS, k.metadata.namespace, k.metadata.name);
    await dir.keypairs.until(k, (c) => !c);
    return { status: req.auth.version.atLeast('2.2') ? 204 : 202 };
  });
}

export function serverGroupRoutes(router: ComputeRouter, api: ComputeApiContext) {
  const { dir } = api;
  const membersOf = (g: ServerGroup) => dir.instances.list(g.metadata.namespace).filter((i) => i.spec.serverGroup === g.metadata.name).map((i) => i.metadata.uid!);
  const view = (req: ComputeRequest, g: ServerGroup) => serverGroupView(g, membersOf(g), viewContext(api, req), req.auth.userId);
  const groupFor = (req: ComputeRequest, id: string): ServerGroup => {
    const g = dir.groups.byId(id);
    if (!g || (!req.auth.admin && g.metadata.namespace !== req.auth.tenant)) throw notFound(`Server group ${id} could not be found.`);
    return g;
  };
  router.on('GET', '/os-server-groups', (req) => {
    const all = ['1', 'true', 'True'].includes(req.query.get('all_projects') ?? '');
    if (all) requireAdmin(req.auth, 'listing every project’s server groups');
    const groups = all ? dir.groups.list() : dir.groups.list(tenantOf(req.auth));
    return { status: 200, body: { server_groups: groups.map((g) => view(req, g)) } };
  });
  router.on('GET', '/os-server-groups/:id', (req) => ({ status: 200, body: { server_group: view(req, groupFor(req, req.params.id)) } }));

  router.on('POST', '/os-server-groups', async (req) => {
    requireKnownFields(req.body, serverGroupCreateShape(req.auth.version), req.auth.version);
    const sg = req.body?.server_group;
    if (!sg || typeof sg !== 'object') throw badRequest("Invalid input for field/attribute server_group. 'server_group' is a required property");
    const ns = tenantOf(req.auth);
    const v = req.auth.version;
    if (typeof sg.name !== 'string' || !sg.name.trim() || sg.name.length > 255) throw badRequest("Invalid input for field/attribute name. 'name' must be a string of 1 to 255 characters.");
    const policy: string | undefined = v.atLeast('2.64') ? sg.policy : Array.isArray(sg.policies) && sg.policies.length === 1 ? sg.policies[0] : undefined;
    const allowed = v.atLeast('2.15') ? SERVER_GROUP_POLICIES : SERVER_GROUP_POLICIES.filter((p) => !p.startsWith('soft-'));
    if (!policy || !(allowed as readonly string[]).includes(policy)) throw badRequest(`Invalid input for field/attribute ${v.atLeast('2.64') ? 'policy' : 'policies'}. Value: ${JSON.stringify(v.atLeast('2.64') ? sg.policy : sg.policies)}. It must be one of ${allowed.join(', ')}`);
    const maxPerHost = sg.rules?.max_server_per_host;
    if (maxPerHost !== undefined && (policy !== 'anti-affinity' || !Number.isInteger(Number(maxPerHost)) || Number(maxPerHost) < 1)) throw badRequest('Invalid input for field/attribute rules: max_server_per_host is a positive whole number, for the anti-affinity policy only.');
    const quota = dir.quotaOf(ns);
    if (quota?.serverGroups !== undefined && dir.groups.list(ns).length >= quota.serverGroups) throw forbidden(`Quota exceeded, too many server groups.`);
    const created = await api.client
      .create<ServerGroup>(
        SERVER_GROUPS,
        { apiVersion: API, kind: 'ServerGroup', metadata: { name: objectNameFor(sg.name, (n) => !!dir.groups.get(n, ns), 'group'), namespace: ns }, spec: { displayName: sg.name, policy: policy as ServerGroup['spec']['policy'], ...(maxPerHost ? { rules: { maxServerPerHost: Number(maxPerHost) } } : {}) } },
        API_FIELD_MANAGER,
      )
      .catch((e) => fromKubernetes(e, `Server group ${sg.name}`));
    await dir.groups.seen(created);
    return { status: 200, body: { server_group: view(req, created) } };
  });

  router.on('DELETE', '/os-server-groups/:id', async (req) => {
    const g = groupFor(req, req.params.id);
    await api.client.delete(SERVER_GROUPS, g.metadata.namespace, g.metadata.name);
    await dir.groups.until(g, (c) => !c);
    return { status: 204 };
  });
}
