/**
 * nova-compute, the node agent: one per compute node. It registers the node's Hypervisor and heartbeats,
 * runs the instances bound to it (a controller watching only those, woken by libvirt's lifecycle events
 * too), takes their snapshots, serves their console logs, and after a restart finds its guests where it left them: a guest is
 * named by its instance's UID, so none is lost or made twice, and guests whose instance is gone are removed.
 */
import { VOLUMES, VOLUME_ATTACHMENTS, type Volume, type VolumeAttachment } from '@stratus/cinder';
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { Manager, type KubeClient, type Listening, type Logger } from '@stratus/runtime';
import { IMAGES, type Image, type ImageStore } from '@stratus/glance';
import { LibvirtDriver } from '../driver/libvirt/driver.js';
import { INSTANCES, type Instance } from '../resources.js';
import { agentToken, startAgentApi } from './agentApi.js';
import type { AgentConfig } from './config.js';
import { ImageCache } from './imageCache.js';
import { InstanceFiles } from './instanceFiles.js';
import { AGENT_FIELD_MANAGER, instanceAgentReconciler, type AgentDriver } from './instanceAgent.js';
import type { VifHost } from './vifs.js';
import { HypervisorRegistration, libvirtHostSpec } from './registration.js';
import { snapshotReconciler } from './snapshotAgent.js';

export interface ComputeAgentOptions {
  config: AgentConfig;
  kubeConfig: KubeConfig;
  logger: Logger;
  store: ImageStore;
  /** Defaults to libvirt at config.libvirtUri. */
  driver?: AgentDriver;
  /** How long a cached image no instance uses is kept (Nova's remove_unused_original_minimum_age_seconds). */
  imageCacheMaxAgeSeconds?: number;
  housekeepingSeconds?: number;
  /** The node's switch (OVS_REMOTE, OVS_NETNS); none: instances asking for NICs are refused. */
  vifs?: VifHost;
}

export interface ComputeAgent {
  manager: Manager;
  driver: AgentDriver;
  files: InstanceFiles;
  images: ImageCache;
  registration: HypervisorRegistration;
  api: Listening;
  /** Removes guests and files whose instance is gone; returns what it removed. */
  reapOrphans(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * QEMU runs guests as its own user, which must reach their disks: the state folder is made passable (0711:
 * others may pass through to a path they know, not list it), and every folder above it must be already (a
 * 0700 folder above is a clear error here, not a failed boot later). The files are the owner's only; libvirt
 * hands a guest's disks to QEMU's user while it runs (its dynamic ownership) and takes them back after.
 */
export async function prepareStateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o711);
  for (let d = dirname(dir); ; d = dirname(d)) {
    const { mode } = await stat(d);
    if (!(mode & 0o001))
      throw new Error(`${d} (mode ${(mode & 0o777).toString(8)}) does not let other users through: QEMU, which runs guests as its own user, could not reach their disks under ${dir}. Run chmod o+x ${d}, or set NOVA_STATE_DIR elsewhere.`);
    if (d === dirname(d)) break;
  }
}

/** The agent's private temporary folder, emptied: what an agent killed mid-step left there goes now. */
async function freshTmpDir(stateDir: string): Promise<string> {
  const dir = join(stateDir, 'tmp');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o700 });
  return dir;
}

const at = (o: { metadata: { namespace?: string; name: string } }) => ({ namespace: o.metadata.namespace, name: o.metadata.name });

export async function startComputeAgent(o: ComputeAgentOptions): Promise<ComputeAgent> {
  const { config, logger: log } = o;
  await prepareStateDir(config.stateDir);
  const tmpDir = await freshTmpDir(config.stateDir);
  const driver = o.driver ?? new LibvirtDriver({ uri: config.libvirtUri, virtType: config.virtType, fallbackFile: join(config.stateDir, 'kvm-abandoned'), vncListen: config.vncListen, tmpDir, ...(config.cephKeyring ? { cephKeyring: config.cephKeyring } : {}) });
  const images = new ImageCache(join(config.stateDir, '_base'), o.store);
  const files = new InstanceFiles(join(config.stateDir, 'instances'));
  const manager = new Manager({ name: AGENT_FIELD_MANAGER, kubeConfig: o.kubeConfig, logger: log });
  const guests = manager.add<Instance>({
    name: 'guests',
    resource: INSTANCES,
    // Only the instances bound to this host: selected by the API server, not filtered here.
    fieldSelector: `status.host=${config.host}`,
    reconcile: instanceAgentReconciler({ config, driver, images, files, vifs: o.vifs }),
    workers: 4,
    watches: [
      // An attachment reserved, deleted or refused: its instance plugs or unplugs the disk.
      { resource: VOLUME_ATTACHMENTS, map: (a, all) => all.list().filter((i) => i.metadata.namespace === a.metadata?.namespace && i.metadata.name === (a as VolumeAttachment).spec.instance).map(at) },
      // A volume whose size was raised: the instances of its namespace look at their attachments.
      { resource: VOLUMES, map: (v, all) => ((v as Volume).status?.phase === 'extending' ? all.list().filter((i) => i.metadata.namespace === v.metadata?.namespace).map(at) : []) },
    ],
  });

  // Snapshots of this host's instances (Images whose source is one of them).
  manager.add<Image>({ name: 'snapshots', resource: IMAGES, reconcile: snapshotReconciler({ config, driver, files, store: o.store }), workers: 2 });

  const token = await agentToken(manager.client, AGENT_FIELD_MANAGER);
  const api = await startAgentApi({ host: config.listenHost, port: config.listenPort, token, files, log, stats: (uuid) => driver.stats(uuid) });
  const agentUrl = config.advertiseUrl ?? api.url;
  const registration = new HypervisorRegistration(manager.client, { name: config.host, heartbeatSeconds: config.heartbeatSeconds, fieldManager: AGENT_FIELD_MANAGER }, async () => {
    const facts = await driver.hostFacts();
    return { spec: await libvirtHostSpec(config, facts), status: { hypervisorType: facts.hypervisorType, hypervisorVersion: facts.hypervisorVersion, runningVMs: await driver.runningCount(), agentUrl } };
  }, log);
  await registration.start();

  // libvirt says when a guest changes (it booted, stopped, was paused): its instance is looked at at once.
  let events: { stop(): void } | undefined;
  manager.onStart(async () => {
    events = driver.watch((uuid) => {
      const inst = guests.cachedObjects().find((i) => i.metadata.uid === uuid);
      if (inst) guests.enqueue({ namespace: inst.metadata.namespace, name: inst.metadata.name });
    });
  });
  manager.onStop(async () => events?.stop());
  await manager.start();

  const reap = () => reapOrphans({ driver, files, client: manager.client, log, home: config.stateDir }, () => guests.cachedObjects());
  await reap();
  const housekeeping = setInterval(() => {
    void (async () => {
      await reap();
      const inUse = new Set(guests.cachedObjects().map(imageUidOf).filter((u): u is string => !!u));
      const removed = await images.prune(inUse, Date.now() - (o.imageCacheMaxAgeSeconds ?? 86_400) * 1000);
      if (removed.length) log.info('unused cached images removed', { removed });
    })().catch((e) => log.warn('housekeeping failed', { error: String(e) }));
  }, (o.housekeepingSeconds ?? 600) * 1000);

  log.info('compute agent started', { host: config.host, stateDir: config.stateDir, virtType: await driver.virtType(), api: api.url });
  return {
    manager,
    driver,
    files,
    images,
    registration,
    api,
    reapOrphans: reap,
    async stop() {
      clearInterval(housekeeping);
      registration.stop();
      await manager.stop();
      await api.close();
    },
  };
}

/** The cached image an instance's disk rests on: its image's UID, as the cache names it. */
const imageUidOf = (i: Instance) => i.status?.image?.uid;

/**
 * Guests and instance folders of this agent (`home`: its state folder; other agents sharing the libvirt keep
 * theirs) whose instance no longer exists (deleted while the agent was down and its finalizer removed by
 * hand, or a crash between making and recording them) are removed.
 */
export async function reapOrphans(d: { driver: AgentDriver; files: InstanceFiles; client: KubeClient; log: Logger; home: string }, known: () => readonly Instance[]): Promise<string[]> {
  // What exists is listed before the instances are looked at: anything made after that belongs to one of them.
  const guests = (await d.driver.guests()).filter((g) => g.metadata.agentHome === d.home);
  const folders = await d.files.list();
  const mine = new Set(known().map((i) => i.metadata.uid));
  const reaped: string[] = [];
  const stillWanted = async (uid: string, { namespace, name }: Record<string, string>) => !!namespace && !!name && (await d.client.get<Instance>(INSTANCES, namespace, name))?.metadata.uid === uid;
  for (const g of guests) {
    if (mine.has(g.uuid) || (await stillWanted(g.uuid, g.metadata))) continue;
    await d.driver.destroy(g.uuid);
    await d.driver.undefine(g.uuid);
    await d.files.remove(g.uuid);
    reaped.push(g.name);
    d.log.warn('orphaned guest removed', { guest: g.name, instance: `${g.metadata.namespace}/${g.metadata.name}` });
  }
  for (const uid of folders) {
    if (mine.has(uid) || guests.some((g) => g.uuid === uid)) continue;
    await d.files.remove(uid);
    reaped.push(uid);
    d.log.warn('orphaned instance files removed', { uid });
  }
  return reaped;
}

/**
 * Removes every guest an agent with its state under `home` made (guests outlive their agent by design): for
 * a cloud being thrown away, such as a test's. Returns the guests removed.
 */
export async function removeGuestsUnder(home: string, libvirtUri = 'qemu:///system'): Promise<string[]> {
  const driver = new LibvirtDriver({ uri: libvirtUri, virtType: 'qemu', fallbackFile: '' });
  const mine = (await driver.guests()).filter((g) => g.metadata.agentHome?.startsWith(home));
  for (const g of mine) {
    await driver.destroy(g.uuid);
    await driver.undefine(g.uuid);
  }
  return mine.map((g) => g.name);
}
