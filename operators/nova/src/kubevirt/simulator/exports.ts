/**
 * kubevirt-simulator's snapshot and export parts, STAND-INS for KubeVirt's snapshot controller and
 * virt-exportserver, as KubeVirt documents them:
 *
 * - A VirtualMachineSnapshot of an existing VM goes InProgress, then Succeeded and readyToUse, listing the VM's
 *   volumes it took (snapshotVolumes.includedVolumes); of a missing VM, Failed with the error.
 * - A VirtualMachineExport of a ready VirtualMachineSnapshot goes Ready, naming its token Secret and linking each
 *   DataVolume-backed volume (by its PVC's name, which is the DataVolume's) as a raw disk image at the export
 *   server, with the server's CA in links.internal.cert.
 * - The export server answers GET …/volumes/{volume}/disk.img over TLS to a request carrying the export's token
 *   in x-kubevirt-export-token (401 otherwise). The disk it serves is the volume as the stand-in has it: the
 *   DataVolume's imported source, read from S3 again, since no guest ever ran on it.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ObjectReader } from '@stratus/glance';
import { MERGE_PATCH, now, type KubeClient, type Logger, type Reconciler } from '@stratus/runtime';
import { s3TargetOf, secretValue, type DataVolume, type KubeCondition, type VirtualMachine, type VirtualMachineInstance } from '../objects.js';
import { DATA_VOLUMES, SECRETS, VIRTUAL_MACHINES, VIRTUAL_MACHINE_EXPORTS, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINE_SNAPSHOTS } from '../refs.js';
import { SIMULATOR_FIELD_MANAGER } from './fieldManager.js';

const STEP_MS = 150;
const cond = (type: string, status: KubeCondition['status'], reason = '', message = ''): KubeCondition => ({ type, status, reason, message, lastProbeTime: null, lastTransitionTime: now() });

interface Snapshot {
  metadata: { name: string; namespace: string };
  spec: { source: { kind: string; name: string } };
  status?: { phase?: string; readyToUse?: boolean };
}
interface Export {
  metadata: { name: string; namespace: string };
  spec: { source: { apiGroup?: string; kind: string; name: string }; tokenSecretRef?: string };
  status?: { phase?: string };
}

const setStatus = (client: KubeClient, ref: typeof VIRTUAL_MACHINE_SNAPSHOTS, o: { metadata: { namespace: string; name: string } }, status: object) =>
  client.patch(ref, o.metadata.namespace, o.metadata.name, { status }, SIMULATOR_FIELD_MANAGER, MERGE_PATCH, 'status');

/** The VM's volumes that DataVolumes back: their names in the VM, and the DataVolume (the PVC) of each. */
const dataVolumesOf = (vm: VirtualMachine) => ((vm.spec.template.spec.volumes ?? []) as Array<{ name: string; dataVolume?: { name: string } }>).filter((v) => v.dataVolume).map((v) => ({ volume: v.name, dataVolume: v.dataVolume!.name }));

export function snapshotReconciler(): Reconciler<KubernetesObject> {
  return async (req, ctx) => {
    const snap = (await ctx.client.get<KubernetesObject>(VIRTUAL_MACHINE_SNAPSHOTS, req.namespace, req.name)) as unknown as Snapshot | undefined;
    if (!snap || snap.status?.phase === 'Succeeded' || snap.status?.phase === 'Failed') return;
    const vm = (await ctx.client.get<KubernetesObject>(VIRTUAL_MACHINES, snap.metadata.namespace, snap.spec.source.name)) as unknown as VirtualMachine | undefined;
    if (!vm) {
      await setStatus(ctx.client, VIRTUAL_MACHINE_SNAPSHOTS, snap, { phase: 'Failed', readyToUse: false, error: { message: `VirtualMachine "${snap.spec.source.name}" not found`, time: now() }, conditions: [cond('Progressing', 'False', 'Failed'), cond('Ready', 'False', 'Failed')] });
      return;
    }
    if (!snap.status?.phase) {
      await setStatus(ctx.client, VIRTUAL_MACHINE_SNAPSHOTS, snap, { phase: 'InProgress', readyToUse: false, sourceUID: vm.metadata.uid, creationTime: null, conditions: [cond('Progressing', 'True', 'Source locked and operation in progress'), cond('Ready', 'False', 'Not ready')] });
      return { requeueAfterMs: STEP_MS };
    }
    const vmi = await ctx.client.get<KubernetesObject>(VIRTUAL_MACHINE_INSTANCES, snap.metadata.namespace, snap.spec.source.name);
    const online = (vmi as unknown as VirtualMachineInstance | undefined)?.status?.phase === 'Running';
    await setStatus(ctx.client, VIRTUAL_MACHINE_SNAPSHOTS, snap, {
      phase: 'Succeeded',
      readyToUse: true,
      creationTime: now(),
      virtualMachineSnapshotContentName: `vmsnapshot-content-${vm.metadata.uid}`,
      indications: online ? ['Online', 'NoGuestAgent'] : [],
      snapshotVolumes: { includedVolumes: dataVolumesOf(vm).map((v) => v.volume) },
      conditions: [cond('Progressing', 'False', 'Operation complete'), cond('Ready', 'True', 'Operation complete')],
    });
  };
}

export function exportReconciler(server: () => { url: string; cert: string }): Reconciler<KubernetesObject> {
  return async (req, ctx) => {
    const exp = (await ctx.client.get<KubernetesObject>(VIRTUAL_MACHINE_EXPORTS, req.namespace, req.name)) as unknown as Export | undefined;
    if (!exp || exp.status?.phase === 'Ready') return;
    const ns = exp.metadata.namespace;
    const pending = (message: string) => setStatus(ctx.client, VIRTUAL_MACHINE_EXPORTS, exp, { phase: 'Pending', tokenSecretRef: exp.spec.tokenSecretRef, conditions: [cond('Ready', 'False', 'PodPending', message)] }).then(() => ({ requeueAfterMs: 500 }));
    if (exp.spec.source.kind !== 'VirtualMachineSnapshot') return pending(`only VirtualMachineSnapshot sources are simulated, not ${exp.spec.source.kind}`);
    const snap = (await ctx.client.get<KubernetesObject>(VIRTUAL_MACHINE_SNAPSHOTS, ns, exp.spec.source.name)) as unknown as Snapshot | undefined;
    if (!snap?.status?.readyToUse) return pending(`VirtualMachineSnapshot ${exp.spec.source.name} is not ready`);
    const vm = (await ctx.client.get<KubernetesObject>(VIRTUAL_MACHINES, ns, snap.spec.source.name)) as unknown as VirtualMachine | undefined;
    if (!vm) return pending(`the VirtualMachine of ${exp.spec.source.name} is gone`);
    const { url, cert } = server();
    const volumes = dataVolumesOf(vm).map((v) => ({ name: v.dataVolume, formats: [{ format: 'raw', url: `${url}/${encodeURIComponent(ns)}/${encodeURIComponent(exp.metadata.name)}/volumes/${encodeURIComponent(v.dataVolume)}/disk.img` }] }));
    await setStatus(ctx.client, VIRTUAL_MACHINE_EXPORTS, exp, { phase: 'Ready', serviceName: `virt-export-${exp.metadata.name}`, tokenSecretRef: exp.spec.tokenSecretRef, links: { internal: { cert: Buffer.from(cert).toString('base64'), volumes } }, conditions: [cond('Ready', 'True', 'PodReady')] });
  };
}

/** The export server stand-in: the disks of Ready exports, to holders of their token. */
export async function startExportServer(o: { client: KubeClient; logger: Logger; port?: number }): Promise<{ url: string; cert: string; close(): Promise<void> }> {
  const { client, logger: log } = o;
  const { generateServingCert } = await import('@stratus/apiserver');
  const serving = await generateServingCert('127.0.0.1');
  const fail = (res: ServerResponse, code: number, message: string) => {
    if (!res.headersSent) res.writeHead(code, { 'Content-Type': 'text/plain' });
    res.end(message);
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const segs = (req.url ?? '/').split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);
    void (async () => {
      // /{namespace}/{export}/volumes/{volume}/disk.img
      if (req.method !== 'GET' || segs.length !== 5 || segs[2] !== 'volumes' || segs[4] !== 'disk.img') return fail(res, 404, 'not found');
      const [ns, name, , volume] = segs as [string, string, string, string];
      const exp = (await client.get<KubernetesObject>(VIRTUAL_MACHINE_EXPORTS, ns, name)) as unknown as Export | undefined;
      if (!exp || exp.status?.phase !== 'Ready') return fail(res, 404, `export ${ns}/${name} is not ready`);
      const secret = exp.spec.tokenSecretRef ? await client.get<KubernetesObject & { data?: Record<string, string> }>(SECRETS, ns, exp.spec.tokenSecretRef) : undefined;
      const token = secretValue(secret, 'token');
      if (!token || req.headers['x-kubevirt-export-token'] !== token) return fail(res, 401, 'Unauthorized');
      const dv = (await client.get<KubernetesObject>(DATA_VOLUMES, ns, volume)) as unknown as DataVolume | undefined;
      const src = dv?.spec.source?.s3;
      if (!dv || !src) return fail(res, 404, `volume ${volume} is not in this export`);
      const target = s3TargetOf(src.url);
      const creds = src.secretRef ? await client.get<KubernetesObject & { data?: Record<string, string> }>(SECRETS, ns, src.secretRef) : undefined;
      const read = (k: string) => secretValue(creds, k);
      const reader = new ObjectReader({ endpoint: target.endpoint, accessKeyId: read('accessKeyId'), secretAccessKey: read('secretKey') });
      try {
        const { body, size } = await reader.get(target.bucket, target.key);
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size });
        await pipeline(body, res);
        log.info('export served', { namespace: ns, export: name, volume, bytes: size });
      } finally {
        reader.destroy();
      }
    })().catch((e: Error) => fail(res, 500, e.message));
  };
  const server: Server = createServer({ cert: serving.cert, key: serving.key }, onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    cert: serving.cert,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
