/**
 * POST /servers/{id}/action and the remote consoles. Each action checks the server's state as Nova does
 * (409 otherwise) and then states what is wanted in the Instance's spec (a power state, a reboot or rebuild
 * counter, a flavor), which the node agent carries out; console output is read from the node agent.
 */
import { randomUUID } from 'node:crypto';
import { IMAGES, imageIdOf, type Image } from '@stratus/glance';
import { snapshotImageOf } from '../snapshots.js';
import { instanceSecurityGroups } from '../nics.js';
import { issueConsoleToken } from '../console/tokens.js';
import { metadataItemsLimit } from '../quota.js';
import { Refused, decodeUserData, rootDiskGiB } from '../bootChecks.js';
import { keypairOf } from './catalogRoutes.js';
import { BACKUP_ROTATION_ANNOTATION } from '../backups.js';
import { MERGE_PATCH } from '@stratus/runtime';
import { INSTANCES, flavorSnapshot, type Instance } from '../resources.js';
import { imageForTenant, refId, validMetadata } from './serverRoutes.js';
import { API_FIELD_MANAGER, askAgent, canUseFlavor, requireAdmin, checkLock, checkQuota, fromKubernetes, runningFlavor, serverExtras, serverFor, updateObject, viewContext, type ComputeApiContext, type ComputeRequest, type ComputeRouter } from './context.js';
import { NovaError, badRequest, conflict, forbidden, invalidState } from './errors.js';
import { remoteConsoleShape, requireKnownFields, serverActionShape, wrapped } from './bodyFields.js';
import { changeServerGroups, groupNamed } from './networkProxyRoutes.js';
import { adminPassOf, bindAdminPass, storeAdminPass } from './adminPass.js';
import { RECORDED_ACTIONS, recordAction } from './instanceActions.js';
import { presentState, serverIdOf, serverUpdateView, serverView, vmStateOf } from './views.js';

type Answer = { status: number; body?: unknown; headers?: Record<string, string> };
export type Action = (req: ComputeRequest, inst: Instance, args: any) => Promise<Answer>;

/** The keypair a rebuild asks for, by its name: 400 when the caller has none so named, as Nova says. */
function existingKeypair(api: ComputeApiContext, req: ComputeRequest, name: string): string {
  const k = keypairOf(api, req, name);
  if (!k) throw badRequest(`Invalid key_name provided.`);
  return k.metadata.name;
}

/** Nova's check_instance_state: the vm_states an action is allowed in, and no task under way. */
function allowedIn(inst: Instance, action: string, vmStates: string[]): void {
  const vm = vmStateOf(inst);
  if (!vmStates.includes(vm)) throw invalidState(action, serverIdOf(inst), vm);
  const task = presentState(inst).taskState;
  if (task) throw conflict(`Cannot '${action}' instance ${serverIdOf(inst)} while it is in task_state ${task}`);
}

/** Actions a locked server still takes (as Nova's, which lock-checks the others). */
const UNLOCKED_ACTIONS = new Set(['lock', 'unlock', 'os-getConsoleOutput', 'os-getVNCConsole', 'createImage', 'createBackup', 'addFloatingIp', 'removeFloatingIp']);

/** Actions the kubevirt driver cannot carry out (KubeVirt has no suspend to disk; resize, rebuild, shelve and rescue are not built). */
const KUBEVIRT_UNSUPPORTED = new Set(['suspend', 'resume', 'resize', 'confirmResize', 'revertResize', 'rebuild', 'shelve', 'shelveOffload', 'unshelve', 'rescue', 'unrescue']);

/** `more`: actions other modules serve (the floating IP proxy's). */
export function actionRoutes(router: ComputeRouter, api: ComputeApiContext, more: Record<string, Action> = {}) {
  const { dir } = api;
  /** Metadata for the server's own (rebuild) or its snapshot's, within its tenant's metadata_items quota. */
  const metadataFor = (inst: Instance, m: unknown) => validMetadata(m, 'metadata', metadataItemsLimit(dir.quotaOf(inst.metadata.namespace!)));
  const change = (inst: Instance, spec: (current: Instance) => Record<string, unknown>) => updateObject(api, dir.instances, INSTANCES, inst, (cur) => ({ spec: spec(cur) }), `Instance ${serverIdOf(inst)}`);
  const power = (action: string, from: string[], powerState: Instance['spec']['powerState']): Action => async (_req, inst) => {
    allowedIn(inst, action, from);
    await change(inst, () => ({ powerState }));
    return { status: 202 };
  };

  /** Asks for a snapshot of the server's root disk: an Image its node agent fills. */
  async function snapshot(req: ComputeRequest, inst: Instance, name: string, properties: Record<string, string>, annotations?: Record<string, string>): Promise<Answer & { imageId: string }> {
    // One snapshot at a time, as Nova's task_state image_snapshot allows.
    const saving = dir.images.list(inst.metadata.namespace).find((i) => i.spec.source?.instance?.name === inst.metadata.name && !i.metadata.deletionTimestamp && !['active', 'killed', 'deactivated'].includes(i.status?.phase ?? ''));
    if (saving) throw conflict(`Cannot 'createImage' instance ${serverIdOf(inst)} while it is in task_state image_snapshot (image ${imageIdOf(saving)} is being saved).`);
    const source = inst.spec.image ? dir.images.get(inst.spec.image.name, inst.spec.image.namespace ?? inst.metadata.namespace) : undefined;
    const id = randomUUID();
    const image = snapshotImageOf(inst, source, { name: id, displayName: name, properties, annotations });
    const created = await api.client.create<Image>(IMAGES, image, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, `Image ${id}`));
    await dir.images.seen(created);
    api.log.info('snapshot asked for', { namespace: inst.metadata.namespace, instance: inst.metadata.name, image: id });
    const location = `${req.base.replace(/\/compute\/v2\.1$|\/v2\.1$/, '')}/image/v2/images/${id}`;
    return { status: 202, headers: { Location: location }, imageId: id, ...(req.auth.version.atLeast('2.45') ? { body: { image_id: id } } : {}) };
  }

  const actions: Record<string, Action> = {
    'os-start': power('start', ['stopped'], 'Running'),
    'os-stop': power('stop', ['active', 'error'], 'Stopped'),
    pause: power('pause', ['active'], 'Paused'),
    unpause: power('unpause', ['paused'], 'Running'),
    suspend: power('suspend', ['active'], 'Suspended'),
    resume: power('resume', ['suspended'], 'Running'),

    async reboot(_req, inst, args) {
      const type = String(args?.type ?? '').toUpperCase();
      if (type !== 'SOFT' && type !== 'HARD') throw badRequest("Invalid input for field/attribute type. Value: " + JSON.stringify(args?.type ?? null) + ". 'type' must be SOFT or HARD");
      allowedIn(inst, 'reboot', type === 'SOFT' ? ['active'] : ['active', 'stopped', 'paused', 'suspended', 'error']);
      // A hard reboot starts a stopped, paused or suspended server, as Nova's does.
      await change(inst, (cur) => ({ reboot: { count: Math.max(cur.spec.reboot?.count ?? 0, cur.status?.rebootsDone ?? 0) + 1, type }, ...(type === 'HARD' ? { powerState: 'Running' } : {}) }));
      return { status: 202 };
    },

    async rebuild(req, inst, args) {
      allowedIn(inst, 'rebuild', ['active', 'stopped', 'error']);
      const image = imageForTenant(api, args?.imageRef, inst.metadata.namespace!, req.auth.admin);
      const flavor = runningFlavor(api, inst);
      try {
        if (flavor) rootDiskGiB(flavor, image);
      } catch (e) {
        if (e instanceof Refused) throw badRequest(e.message);
        throw e;
      }
      const metadata = args?.metadata === undefined ? undefined : metadataFor(inst, args.metadata);
      const v = req.auth.version;
      // 2.54: a new keypair (null: none); 2.57: new user data (null: none).
      const keypair = v.atLeast('2.54') && args?.key_name !== undefined ? (args.key_name === null ? null : existingKeypair(api, req, String(args.key_name))) : undefined;
      if (v.atLeast('2.57') && args?.user_data !== undefined && args.user_data !== null && (typeof args.user_data !== 'string' || !decodeUserData(args.user_data))) throw badRequest('User data needs to be valid base 64.');
      const userData = v.atLeast('2.57') && args?.user_data !== undefined ? (args.user_data as string | null) : undefined;
      // A rebuilt guest gets a new admin password (the one asked for, or a made-up one), as Nova's does.
      const adminPass = adminPassOf(args ?? {});
      const adminPassSecret = await storeAdminPass(api.client, inst.metadata.namespace!, inst.metadata.name, adminPass);
      const written = await change(inst, (cur) => ({
        adminPassSecret,
        image: { name: image.metadata.name, namespace: image.metadata.namespace },
        rebuild: { count: Math.max(cur.spec.rebuild?.count ?? 0, cur.status?.rebuildsDone ?? 0) + 1 },
        ...(typeof args?.name === 'string' ? { displayName: args.name } : {}),
        ...(metadata ? { metadata } : {}),
        ...(keypair !== undefined ? { keypair } : {}),
        ...(userData !== undefined ? { userData } : {}),
        ...(args?.description !== undefined && req.auth.version.atLeast('2.19') ? { description: args.description } : {}),
      }));
      await bindAdminPass(api.client, written);
      const extras = serverExtras(api, written);
      // The rebuild answer grows with the microversion: key_name at 2.54, user_data at 2.57.
      const more = { ...(v.atLeast('2.54') ? { key_name: extras.keyName ?? null } : {}), ...(v.atLeast('2.57') ? { user_data: written.spec.userData ?? null } : {}) };
      return { status: 202, body: { server: { ...serverUpdateView(written, extras, viewContext(api, req)), ...more, ...(api.enableInstancePassword ? { adminPass } : {}) } } };
    },

    // Lock and unlock: the lock is the Instance's spec.lock; an admin's lock only an admin lifts.
    async lock(req, inst, args) {
      const reason = args?.locked_reason;
      if (reason !== undefined && (!req.auth.version.atLeast('2.73') || typeof reason !== 'string' || reason.length > 255)) throw badRequest('Invalid input for field/attribute locked_reason.');
      await change(inst, () => ({ lock: { byAdmin: req.auth.admin, ...(reason !== undefined ? { reason } : {}) } }));
      return { status: 202 };
    },
    async unlock(req, inst) {
      if (inst.spec.lock?.byAdmin && !req.auth.admin) throw forbidden('Policy does not allow unlocking a server an admin locked.');
      if (inst.spec.lock) await change(inst, () => ({ lock: null }));
      return { status: 202 };
    },

    async resize(req, inst, args) {
      allowedIn(inst, 'resize', ['active', 'stopped']);
      const flavorId = refId(args?.flavorRef);
      const to = dir.flavors.byId(flavorId);
      if (!to || !canUseFlavor(to, req.auth)) throw badRequest(`Flavor ${flavorId || 'None'} could not be found.`);
      const from = runningFlavor(api, inst) ?? flavorSnapshot(to);
      if (to.metadata.name === from.name) throw badRequest('When resizing, instances must change flavor!');
      // A volume-backed server's root disk is its volume, which a flavor's disk does not size.
      if (inst.spec.image && (to.spec.diskGiB ?? 0) < from.diskGiB) throw badRequest('Resize to a smaller disk flavor is not allowed.');
      checkQuota(api, inst.metadata.namespace!, { instances: 0, cores: Math.max(0, to.spec.vcpus - from.vcpus), ramMiB: Math.max(0, to.spec.ramMiB - from.ramMiB) });
      // As Nova's resize: done, then waiting in VERIFY_RESIZE to be confirmed or reverted.
      await change(inst, () => ({ flavor: to.metadata.name, confirmResize: false }));
      return { status: 202 };
    },

    async confirmResize(_req, inst) {
      if (presentState(inst).status !== 'VERIFY_RESIZE' || !inst.status?.resize) throw badRequest('Instance has not been resized.');
      await change(inst, () => ({ confirmResize: true }));
      return { status: 204 };
    },

    async revertResize(_req, inst) {
      if (presentState(inst).status !== 'VERIFY_RESIZE' || !inst.status?.resize) throw badRequest('Instance has not been resized.');
      const back = inst.status.resize.fromFlavor.name;
      await change(inst, () => ({ flavor: back, confirmResize: true }));
      return { status: 202 };
    },

    async createImage(req, inst, args) {
      allowedIn(inst, 'createImage', ['active', 'stopped', 'paused', 'suspended']);
      if (typeof args?.name !== 'string' || !args.name.trim() || args.name.length > 255) throw badRequest("Invalid input for field/attribute name. 'name' must be a string of 1 to 255 characters.");
      const { imageId: _, ...answer } = await snapshot(req, inst, args.name, metadataFor(inst, args.metadata));
      return answer;
    },

    /**
     * A backup is a snapshot marked image_type backup with its backup_type; of this server's backups of that
     * type, only the `rotation` newest are kept (the new one counted) once it is stored, as Nova rotates them.
     */
    async createBackup(req, inst, args) {
      allowedIn(inst, 'createBackup', ['active', 'stopped', 'paused', 'suspended']);
      if (typeof args?.name !== 'string' || !args.name.trim() || args.name.length > 255) throw badRequest("Invalid input for field/attribute name. 'name' must be a string of 1 to 255 characters.");
      if (typeof args.backup_type !== 'string' || !args.backup_type) throw badRequest("Invalid input for field/attribute backup_type. 'backup_type' is a required string.");
      const rotation = Number(args.rotation);
      if (args.rotation === undefined || args.rotation === null || args.rotation === '' || !Number.isInteger(rotation) || rotation < 0) throw badRequest(`Invalid input for field/attribute rotation. Value: ${JSON.stringify(args.rotation)}. It must be a whole number of at least 0.`);
      // The node agent rotates older backups out once this one is stored (BACKUP_ROTATION_ANNOTATION).
      const { imageId: _, ...answer } = await snapshot(req, inst, args.name, { ...metadataFor(inst, args.metadata), image_type: 'backup', backup_type: args.backup_type }, { [BACKUP_ROTATION_ANNOTATION]: String(rotation) });
      return answer;
    },

    // Shelve: offloaded at once (Nova's shelved_offload_time 0): the node agent stores the root disk as
    // '<name>-shelved', lets the guest go, and the scheduler frees its room.
    async shelve(_req, inst) {
      allowedIn(inst, 'shelve', ['active', 'stopped', 'paused', 'suspended']);
      await change(inst, () => ({ shelved: true }));
      return { status: 202 };
    },
    async shelveOffload(_req, inst) {
      allowedIn(inst, 'shelveOffload', ['shelved']);
      return { status: 202 }; // offloading follows shelving by itself here
    },
    // Up to 2.73 (this API's newest) the body is null: no zone (2.77) or host (2.91) to choose.
    async unshelve(_req, inst, args) {
      allowedIn(inst, 'unshelve', ['shelved', 'shelved_offloaded']);
      if (args !== null && args !== undefined && !(typeof args === 'object' && !Array.isArray(args) && !Object.keys(args).length)) throw badRequest(`Invalid input for field/attribute unshelve. Value: ${JSON.stringify(args)}. ${JSON.stringify(args)} is not of type 'null'`);
      // Unshelved, it runs, whatever it did before (Nova's unshelve spawns and powers on).
      await change(inst, () => ({ shelved: false, powerState: 'Running' }));
      return { status: 202 };
    },

    /**
     * Rescue: the guest boots from a fresh disk of the rescue image (rescue_image_ref, else its own image) with
     * its own disk second, and a new admin password (asked for or made up), answered as Nova answers it.
     */
    async rescue(req, inst, args) {
      allowedIn(inst, 'rescue', ['active', 'stopped', 'error']);
      if (args !== null && args !== undefined && (typeof args !== 'object' || Array.isArray(args))) throw badRequest('Invalid input for field/attribute rescue: expected an object or null.');
      const a = args ?? {};
      const unknown = Object.keys(a).filter((k) => k !== 'adminPass' && k !== 'rescue_image_ref');
      if (unknown.length) throw badRequest(`Additional properties are not allowed (${unknown.map((k) => `'${k}'`).join(', ')} ${unknown.length > 1 ? 'were' : 'was'} unexpected)`);
      const image = a.rescue_image_ref === undefined ? undefined : imageForTenant(api, a.rescue_image_ref, inst.metadata.namespace!, req.auth.admin);
      const adminPass = adminPassOf(a);
      const adminPassSecret = await storeAdminPass(api.client, inst.metadata.namespace!, inst.metadata.name, adminPass);
      // A rescued server runs (a stopped one too), and is running once unrescued, as in Nova.
      const written = await change(inst, () => ({ adminPassSecret, powerState: 'Running', rescue: image ? { image: { name: image.metadata.name, namespace: image.metadata.namespace } } : {} }));
      await bindAdminPass(api.client, written);
      return { status: 200, body: api.enableInstancePassword ? { adminPass } : {} };
    },
    async unrescue(_req, inst) {
      allowedIn(inst, 'unrescue', ['rescued']);
      await change(inst, () => ({ rescue: null }));
      return { status: 202 };
    },

    /** An admin's override of the server's state (Nova's reset-state): ERROR stays until a hard reboot or rebuild. */
    async 'os-resetState'(req, inst, args) {
      requireAdmin(req.auth, 'os_compute_api:os-admin-actions:reset_state');
      const state = args?.state;
      if (state !== 'active' && state !== 'error') throw badRequest(`Invalid input for field/attribute state. Value: ${JSON.stringify(state)}. It must be 'active' or 'error'.`);
      const phase = state === 'error' ? 'ERROR' : 'ACTIVE';
      const written = await api.client
        .patch<Instance>(INSTANCES, inst.metadata.namespace, inst.metadata.name, { status: { phase, taskState: null, taskStartedAt: null, ...(state === 'active' ? { fault: null } : {}) } }, API_FIELD_MANAGER, MERGE_PATCH, 'status')
        .catch((e) => fromKubernetes(e, `Instance ${serverIdOf(inst)}`));
      await dir.instances.seen(written);
      api.log.info('server state reset', { namespace: inst.metadata.namespace, name: inst.metadata.name, state });
      return { status: 202 };
    },

    // Servers are deleted at once here (Nova's reclaim_instance_interval 0): nothing is soft-deleted, so
    // forceDelete is a delete and nothing can be restored.
    async forceDelete(_req, inst) {
      await api.client.delete(INSTANCES, inst.metadata.namespace, inst.metadata.name);
      await dir.instances.until(inst, (c) => !c || !!c.metadata.deletionTimestamp);
      return { status: 202 };
    },
    async restore(_req, inst) {
      allowedIn(inst, 'restore', ['soft-delete']);
      return { status: 202 };
    },

    async migrate(req, inst) {
      requireAdmin(req.auth, 'os_compute_api:os-migrate-server:migrate');
      allowedIn(inst, 'migrate', ['active', 'stopped']);
      throw badRequest('Cold migration is not supported by this cloud yet: a server stays on the host it was placed on.');
    },

    // Nova's security group actions: the group is added to (or taken from) the server and every port of it.
    async addSecurityGroup(req, inst, args) {
      const g = await groupNamed(api, req.auth, String(args?.name ?? ''));
      if (instanceSecurityGroups(inst).includes(g.metadata.name)) return { status: 202 };
      await changeServerGroups(api, inst, (groups) => [...new Set([...groups, g.metadata.name])]);
      return { status: 202 };
    },

    async removeSecurityGroup(req, inst, args) {
      const g = await groupNamed(api, req.auth, String(args?.name ?? ''));
      if (!instanceSecurityGroups(inst).includes(g.metadata.name)) throw badRequest(`Security group ${String(args?.name)} not associated with the instance ${inst.metadata.uid}`);
      await changeServerGroups(api, inst, (groups) => groups.filter((x) => x !== g.metadata.name));
      return { status: 202 };
    },

    async 'os-getConsoleOutput'(_req, inst, args) {
      const length = args?.length === undefined || args.length === null || Number(args.length) === -1 ? undefined : Number(args.length);
      if (length !== undefined && (!Number.isInteger(length) || length < 0)) throw badRequest("Invalid input for field/attribute length. 'length' must be a whole number.");
      return { status: 200, body: { output: await consoleOutput(api, inst, length) } };
    },

    async 'os-getVNCConsole'(req, inst, args) {
      const type = String(args?.type ?? '');
      if (type !== 'novnc' && type !== 'xvpvnc') throw badRequest("Invalid input for field/attribute type. 'type' must be novnc or xvpvnc");
      return { status: 200, body: { console: { type, url: await consoleUrl(api, req, inst) } } };
    },
    ...more,
  };

  /** What a KubeVirt cluster cannot do for a server (the kubevirt driver refuses it too): 409 at once, nothing changed. */
  const refusedByHypervisor = (inst: Instance, action: string) => {
    const hv = inst.status?.host ? dir.hypervisors.get(inst.status.host) : undefined;
    if (hv?.spec.driver === 'kubevirt' && KUBEVIRT_UNSUPPORTED.has(action))
      throw conflict(`Cannot '${action}' instance ${serverIdOf(inst)}: its hypervisor ${hv.metadata.name} (KubeVirt) does not support it.`);
  };

  router.on('POST', '/servers/:id/action', async (req) => {
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length !== 1) throw badRequest('Malformed request body: one action is expected.');
    const [name] = Object.keys(body);
    const action = actions[name];
    if (!action) throw badRequest(`There is no such action: ${name}`);
    const shape = serverActionShape(name, req.auth.version);
    if (shape) requireKnownFields(body, wrapped(name, shape), req.auth.version);
    const inst = serverFor(api, req.params.id, req.auth);
    if (!UNLOCKED_ACTIONS.has(name)) checkLock(inst, req.auth, name);
    refusedByHypervisor(inst, name);
    const answer = await action(req, inst, body[name]);
    // The instance as this action left it (the cache holds the write): its generation is what the agent must reach.
    if (RECORDED_ACTIONS[name]) await recordAction(api, dir.instances.get(inst.metadata.name, inst.metadata.namespace) ?? inst, RECORDED_ACTIONS[name], req);
    return answer;
  });

  // The remote consoles API (2.6 on) that replaced os-getVNCConsole.
  router.on('POST', '/servers/:id/remote-consoles', async (req) => {
    if (!req.auth.version.atLeast('2.6')) throw new NovaError(404, 'The resource could not be found.');
    requireKnownFields(req.body, remoteConsoleShape, req.auth.version);
    const rc = req.body?.remote_console ?? {};
    if (rc.protocol !== 'vnc') throw badRequest(`Unsupported console protocol ${String(rc.protocol)}: this cloud offers vnc.`);
    if (rc.type !== 'novnc' && rc.type !== 'xvpvnc') throw badRequest("Invalid input for field/attribute type. 'type' must be novnc or xvpvnc");
    return { status: 200, body: { remote_console: { protocol: 'vnc', type: rc.type, url: await consoleUrl(api, req, serverFor(api, req.params.id, req.auth)) } } };
  });
}

/**
 * A console URL for a running guest, as Nova writes it: nova-novncproxy's page with a new single-use token in
 * noVNC's `path` (`?path=console%2Fwebsockify%3Ftoken%3D…` behind the gateway's /console).
 */
async function consoleUrl(api: ComputeApiContext, req: ComputeRequest, inst: Instance): Promise<string> {
  if (inst.status?.phase !== 'ACTIVE' && inst.status?.phase !== 'PAUSED') throw conflict(`Instance ${serverIdOf(inst)} is not ready: its console is available while it runs.`);
  if (!inst.status.consoleUrl) throw conflict(`Instance ${serverIdOf(inst)} has no console yet.`);
  const { token } = await issueConsoleToken(api.client, { namespace: inst.metadata.namespace!, name: inst.metadata.name!, uid: inst.metadata.uid! }, { ttlSeconds: api.console.tokenTtlSeconds, fieldManager: API_FIELD_MANAGER });
  const base = new URL(api.console.baseUrl ?? `${new URL(req.base).origin}/console/vnc_lite.html`);
  // noVNC's `path`: the WebSocket's path from the host's root, beside the page (the proxy may sit under a prefix).
  const dir = base.pathname.replace(/[^/]*$/, '').replace(/^\//, '');
  return `${base.origin}${base.pathname}?path=${encodeURIComponent(`${dir}websockify?token=${token}`)}`;
}

/** The guest's console log, from the node agent that runs it (as Nova asks its compute node). */
async function consoleOutput(api: ComputeApiContext, inst: Instance, length: number | undefined): Promise<string> {
  const hv = inst.status?.host ? api.dir.hypervisors.get(inst.status.host) : undefined;
  if (!hv?.status?.agentUrl) throw conflict(`Instance ${serverIdOf(inst)} has no console log: it runs on no host that serves one.`);
  const res = await askAgent(api, hv, `/v1/instances/${serverIdOf(inst)}/console${length === undefined ? '' : `?length=${length}`}`, (why) => conflict(`Instance ${serverIdOf(inst)}: ${why}`));
  if (res.status === 404) return '';
  if (!res.ok) throw conflict(`The compute node ${inst.status!.host} could not read the console log (${res.status}).`);
  return res.text();
}
