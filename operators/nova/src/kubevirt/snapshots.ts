/**
 * Snapshots (Nova's createImage and createBackup) of servers on KubeVirt, the way KubeVirt documents taking a
 * VM's disks out: a VirtualMachineSnapshot of the VM (snapshot.kubevirt.io), then a VirtualMachineExport of
 * that snapshot (export.kubevirt.io) with a token Secret; once the export is Ready, the root disk is read from
 * its internal link (raw, over TLS with the export's CA, the token in x-kubevirt-export-token) straight into
 * the image store through Glance's own data path (checked, recorded, active). The VirtualMachineSnapshot stays,
 * owned by the image (a KubeVirt-side restore point that goes with it); the export and its token go once read.
 * Each step is taken from fresh facts, so a pass may end anywhere; a failure kills the image with the reason.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import type { KubernetesObject } from '@kubernetes/client-node';
import { DATA_FINALIZER, DEFAULT_SIZE_CAP, IMAGES, UPLOAD_HEARTBEAT_MS, failureOf, killedStatus, recordStoredData, storeImageData, type Image, type ImageStore } from '@stratus/glance';
import { MERGE_PATCH, isConflict, markReconciling, now, patchStatus, type ReconcileContext, type Reconciler, type Result } from '@stratus/runtime';
import { INSTANCES, type Instance } from '../resources.js';
import { KUBEVIRT_FIELD_MANAGER } from './driver.js';
import { namesOf, ownedMeta, secretValue } from './objects.js';
import { SECRETS, VIRTUAL_MACHINE_EXPORTS, VIRTUAL_MACHINE_SNAPSHOTS } from './refs.js';

/** The header virt-exportserver reads the export's token from. */
export const EXPORT_TOKEN_HEADER = 'x-kubevirt-export-token';

interface VmSnapshot {
  metadata: { name: string; uid?: string; deletionTimestamp?: string };
  status?: { phase?: string; readyToUse?: boolean; error?: { message?: string } };
}
interface VmExport {
  metadata: { name: string };
  status?: { phase?: string; links?: { internal?: { cert?: string; volumes?: Array<{ name: string; formats?: Array<{ format: string; url: string }> }> } }; conditions?: Array<{ type: string; status: string; message?: string; reason?: string }> };
}

/** What the image's snapshot objects are called: after the image's UID, so no name a user picked is taken. */
export const snapshotNameOf = (img: Image) => `stratus-image-${img.metadata.uid}`;

/** Owned by the image (deleting it takes the snapshot along), as the instance's objects are by the instance. */
function imageOwned(img: Image, name: string) {
  const meta = ownedMeta({ apiVersion: img.apiVersion, metadata: { name: img.metadata.name, namespace: img.metadata.namespace, uid: img.metadata.uid } } as unknown as Instance, name);
  return { ...meta, labels: { 'compute.stratus.io/image': img.metadata.name, 'app.kubernetes.io/managed-by': meta.labels['app.kubernetes.io/managed-by']! }, ownerReferences: [{ ...meta.ownerReferences[0]!, apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image' }] };
}

export const exportTokenNameOf = (img: Image) => `${snapshotNameOf(img)}-export-token`;

/** The VM's snapshot for an image (pure). */
export const vmSnapshotOf = (img: Image, vm: string) => ({ apiVersion: 'snapshot.kubevirt.io/v1beta1', kind: 'VirtualMachineSnapshot', metadata: imageOwned(img, snapshotNameOf(img)), spec: { source: { apiGroup: 'kubevirt.io', kind: 'VirtualMachine', name: vm } } });

/** The export of that snapshot, read with the token in its own Secret (pure). */
export const vmExportOf = (img: Image) => ({ apiVersion: 'export.kubevirt.io/v1', kind: 'VirtualMachineExport', metadata: imageOwned(img, snapshotNameOf(img)), spec: { source: { apiGroup: 'snapshot.kubevirt.io', kind: 'VirtualMachineSnapshot', name: snapshotNameOf(img) }, tokenSecretRef: exportTokenNameOf(img) } });

export function kubevirtSnapshotReconciler(o: { host: string; store: ImageStore }): Reconciler<Image> {
  return async (req, ctx) => {
    if (!ctx.cached()?.spec.source?.instance) return;
    const img = await ctx.client.get<Image>(IMAGES, req.namespace, req.name);
    if (!img?.spec.source?.instance || img.metadata.deletionTimestamp || (img.status?.phase ?? 'queued') !== 'queued') return;
    const inst = await ctx.client.get<Instance>(INSTANCES, img.metadata.namespace, img.spec.source.instance.name);
    if (!inst || inst.status?.host !== o.host) return;
    if (!img.metadata.finalizers?.includes(DATA_FINALIZER)) return { requeueAfterMs: 500 };
    try {
      return await snapshotStep(img, inst, ctx, o.store);
    } catch (e) {
      const failure = failureOf(e);
      const reason = failure.reason === 'StoreFailed' ? 'SnapshotFailed' : failure.reason;
      ctx.log.warn('snapshot failed', { instance: inst.metadata.name, reason, error: failure.message });
      await ctx.events.record(img, 'Warning', reason, failure.message);
      const fresh = (await ctx.client.get<Image>(IMAGES, img.metadata.namespace, img.metadata.name)) ?? img;
      await patchStatus(ctx.client, IMAGES, fresh, killedStatus(fresh, { reason, message: failure.message }), KUBEVIRT_FIELD_MANAGER);
      await cleanUpExport(ctx, img);
    }
  };
}

class SnapshotFailed extends Error {}

async function ensure(ctx: ReconcileContext<Image>, ref: typeof SECRETS, obj: KubernetesObject): Promise<void> {
  await ctx.client.create(ref, obj, KUBEVIRT_FIELD_MANAGER).catch((e) => {
    if (!isConflict(e)) throw e;
  });
}

async function snapshotStep(img: Image, inst: Instance, ctx: ReconcileContext<Image>, store: ImageStore): Promise<Result | void> {
  const ns = img.metadata.namespace!;
  const name = snapshotNameOf(img);
  const waiting = async (message: string): Promise<Result> => {
    if (img.status?.conditions?.find((c) => c.type === 'Reconciling')?.message !== message)
      await patchStatus(ctx.client, IMAGES, img, { conditions: markReconciling(img.status?.conditions, img.metadata.generation, 'Snapshotting', message) }, KUBEVIRT_FIELD_MANAGER);
    return { requeueAfterMs: 1000 };
  };

  // 1. The VM's snapshot.
  const snap = (await ctx.client.get<KubernetesObject>(VIRTUAL_MACHINE_SNAPSHOTS, ns, name)) as unknown as VmSnapshot | undefined;
  if (!snap) {
    await ensure(ctx, VIRTUAL_MACHINE_SNAPSHOTS, vmSnapshotOf(img, namesOf(inst).vm) as KubernetesObject);
    await ctx.events.record(inst, 'Normal', 'Snapshotting', `VirtualMachineSnapshot ${name} asked of KubeVirt for image ${img.spec.displayName ?? img.metadata.name}`);
    return waiting(`KubeVirt is taking VirtualMachineSnapshot ${name} of ${namesOf(inst).vm}`);
  }
  if (snap.status?.phase === 'Failed' || snap.status?.error?.message) throw new SnapshotFailed(`KubeVirt could not snapshot ${namesOf(inst).vm}: ${snap.status?.error?.message ?? snap.status?.phase}`);
  if (!snap.status?.readyToUse) return waiting(`KubeVirt is taking VirtualMachineSnapshot ${name} (${snap.status?.phase ?? 'pending'})`);

  // 2. Its export, with a token of its own.
  const tokenName = exportTokenNameOf(img);
  await ensure(ctx, SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: imageOwned(img, tokenName), type: 'Opaque', stringData: { token: randomBytes(24).toString('base64url') } } as KubernetesObject);
  const exp = (await ctx.client.get<KubernetesObject>(VIRTUAL_MACHINE_EXPORTS, ns, name)) as unknown as VmExport | undefined;
  if (!exp) {
    await ensure(ctx, VIRTUAL_MACHINE_EXPORTS, vmExportOf(img) as KubernetesObject);
    return waiting(`KubeVirt is exporting VirtualMachineSnapshot ${name}`);
  }
  if (exp.status?.phase !== 'Ready') return waiting(`KubeVirt is exporting VirtualMachineSnapshot ${name} (${exp.status?.phase ?? 'pending'})`);
  const internal = exp.status.links?.internal;
  const root = namesOf(inst).rootDisk;
  const volume = internal?.volumes?.find((v) => v.name === root) ?? internal?.volumes?.[0];
  const raw = volume?.formats?.find((f) => f.format === 'raw');
  if (!raw) throw new SnapshotFailed(`the export of ${name} offers no raw disk image of ${root}`);
  const secret = await ctx.client.get<KubernetesObject & { data?: Record<string, string> }>(SECRETS, ns, tokenName);
  const token = secretValue(secret, 'token');

  // 3. The root disk, read into the image store as the image's data: raw, as KubeVirt exports it.
  if (img.spec.diskFormat !== 'raw') img = await ctx.client.patch<Image>(IMAGES, ns, img.metadata.name, { spec: { diskFormat: 'raw' } }, KUBEVIRT_FIELD_MANAGER, MERGE_PATCH);
  const started = now();
  await patchStatus(ctx.client, IMAGES, img, { phase: 'saving', uploadStartedAt: started, uploadHeartbeat: started, conditions: markReconciling(img.status?.conditions, img.metadata.generation, 'Snapshotting', `the root disk of ${namesOf(inst).vm} is being read from KubeVirt's export`) }, KUBEVIRT_FIELD_MANAGER);
  const heartbeat = setInterval(() => void ctx.client.patch(IMAGES, ns, img.metadata.name, { status: { uploadHeartbeat: now() } }, KUBEVIRT_FIELD_MANAGER, MERGE_PATCH, 'status').catch(() => {}), UPLOAD_HEARTBEAT_MS);
  const agent = new Agent({ connect: { ca: internal?.cert ? Buffer.from(internal.cert, 'base64').toString('utf8') : undefined } });
  try {
    const res = await request(raw.url, { headers: { [EXPORT_TOKEN_HEADER]: token }, dispatcher: agent });
    if (res.statusCode !== 200) throw new SnapshotFailed(`KubeVirt's export answered ${res.statusCode}: ${(await res.body.text()).slice(0, 200)}`);
    const stored = await storeImageData(store, img, Readable.from(res.body), { maxSize: DEFAULT_SIZE_CAP });
    if (await recordStoredData(ctx.client, store, img, stored)) {
      ctx.log.info('snapshot stored', { instance: inst.metadata.name, size: stored.stored.size, location: stored.stored.location });
      await ctx.events.record(img, 'Normal', 'Snapshotted', `Snapshot of instance ${inst.metadata.name} through KubeVirt's export: ${stored.stored.size} bytes`);
      await ctx.events.record(inst, 'Normal', 'Snapshotted', `Snapshot stored as image ${img.spec.displayName ?? img.metadata.name}`);
    }
  } finally {
    clearInterval(heartbeat);
    void agent.destroy().catch(() => {});
  }
  await cleanUpExport(ctx, img);
}

/** The export and its token have served (or failed): they go; the VirtualMachineSnapshot stays with the image. */
async function cleanUpExport(ctx: ReconcileContext<Image>, img: Image): Promise<void> {
  const ns = img.metadata.namespace!;
  const name = snapshotNameOf(img);
  for (const [ref, n] of [[VIRTUAL_MACHINE_EXPORTS, name], [SECRETS, exportTokenNameOf(img)]] as const) await ctx.client.delete(ref, ns, n).catch(() => {});
}
