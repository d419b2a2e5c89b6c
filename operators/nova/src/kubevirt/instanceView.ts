/**
 * How an instance on KubeVirt looks in Nova's words, pure: from the VirtualMachine's printableStatus and
 * conditions, the VirtualMachineInstance's phase, node and interfaces, and the root DataVolume's import,
 * the instance's phase (BUILD, ACTIVE, SHUTOFF, PAUSED, ERROR), power state and fault. KubeVirt's words are
 * those its documentation gives for printableStatus (Stopped, Provisioning, Starting, Running, Paused,
 * Stopping, Terminating, CrashLoopBackOff, Migrating, Unknown, ErrorUnschedulable, ErrImagePull,
 * ImagePullBackOff, ErrorPvcNotFound, ErrorDataVolumeNotFound, DataVolumeError, WaitingForVolumeBinding,
 * WaitingForReceiver).
 */
import type { InstanceAddress, InstancePhase, ObservedPowerState } from '../resources.js';
import type { DataVolume, KubeCondition, VirtualMachine, VirtualMachineInstance } from './objects.js';

/** An import CDI has restarted this often is not going to succeed by itself (CDI retries for ever). */
export const IMPORT_RESTARTS_TO_FAIL = 3;

export interface InstanceView {
  phase: InstancePhase;
  powerState: ObservedPowerState;
  /** Nova's task_state while KubeVirt works (spawning, powering-on, powering-off). */
  taskState: string | null;
  /** ERROR: why, in KubeVirt's or CDI's own words. */
  fault?: { code: number; message: string };
  /** The guest is as the instance asks: Ready. */
  settled: boolean;
  /** A word for the condition's reason: KubeVirt's printableStatus, or the import's state. */
  reason: string;
  message: string;
  node?: string;
  addresses?: InstanceAddress[];
}

export interface ViewInput {
  /** What the instance asks: Running, Stopped or Paused. */
  power: 'Running' | 'Stopped' | 'Paused';
  vm?: VirtualMachine;
  vmi?: VirtualMachineInstance;
  dv?: DataVolume;
  /** It ran at least once (launchedAt is set): a start after that is a power-on, not a build. */
  launched: boolean;
}

const cond = (list: KubeCondition[] | undefined, type: string) => list?.find((c) => c.type === type);

/** The import's failure, once CDI says it failed or has restarted it past hope. */
export function importFailure(dv: DataVolume | undefined): string | undefined {
  if (!dv?.status) return undefined;
  const running = cond(dv.status.conditions, 'Running');
  const why = running?.message || cond(dv.status.conditions, 'Ready')?.message || 'the import failed';
  if (dv.status.phase === 'Failed') return why;
  if ((dv.status.restartCount ?? 0) >= IMPORT_RESTARTS_TO_FAIL && running?.status === 'False') return `${why} (import restarted ${dv.status.restartCount} times)`;
  return undefined;
}

/** The VMI's interfaces as Nova's addresses: KubeVirt's pod network is the network "pod". */
export function addressesOf(vmi: VirtualMachineInstance | undefined): InstanceAddress[] | undefined {
  const ifaces = vmi?.status?.interfaces;
  if (!ifaces?.length) return undefined;
  return ifaces
    .filter((i) => i.name && (i.ipAddresses?.length || i.ipAddress))
    .map((i) => ({ port: i.name!, network: i.name === 'default' ? 'pod' : i.name!, networkName: i.name === 'default' ? 'pod' : i.name!, mac: i.mac ?? '', ips: i.ipAddresses?.length ? i.ipAddresses : [i.ipAddress!] }));
}

const ERROR_STATUSES: Record<string, string> = {
  ErrorUnschedulable: 'No node of the KubeVirt cluster can run the guest',
  ErrImagePull: 'The guest image could not be pulled',
  ImagePullBackOff: 'The guest image could not be pulled',
  ErrorPvcNotFound: 'A disk of the guest has no PersistentVolumeClaim',
  ErrorDataVolumeNotFound: "The guest's root disk DataVolume is missing",
  DataVolumeError: "The guest's root disk could not be imported",
  CrashLoopBackOff: 'The guest keeps failing to start',
};

export function instanceViewOf(v: ViewInput): InstanceView {
  const { vm, vmi, dv } = v;
  const printable = vm?.status?.printableStatus ?? (vm ? 'Unknown' : 'Provisioning');
  const node = vmi?.status?.nodeName;
  const addresses = addressesOf(vmi);
  const failedImport = importFailure(dv);
  if (failedImport) return { phase: 'ERROR', powerState: 'NoState', taskState: null, fault: { code: 500, message: `Build of the root disk failed: ${failedImport}` }, settled: false, reason: 'DataVolumeError', message: failedImport };
  if (printable in ERROR_STATUSES) {
    const failure = cond(vm?.status?.conditions, 'Failure')?.message ?? cond(vmi?.status?.conditions, 'PodScheduled')?.message ?? cond(vm?.status?.conditions, 'Ready')?.message;
    const message = `${ERROR_STATUSES[printable]} (${printable}${failure ? `: ${failure}` : ''})`;
    return { phase: 'ERROR', powerState: 'NoState', taskState: null, fault: { code: 500, message }, settled: false, reason: printable, message };
  }
  const building = !v.launched;
  const said = (what: string) => `${what} (KubeVirt: ${printable}${node ? ` on node ${node}` : ''})`;
  switch (printable) {
    case 'Running': {
      const paused = cond(vmi?.status?.conditions, 'Paused')?.status === 'True';
      if (paused) return { phase: 'PAUSED', powerState: 'Paused', taskState: v.power === 'Paused' ? null : 'unpausing', settled: v.power === 'Paused', reason: 'Paused', message: said('the guest is paused'), node, addresses };
      return { phase: 'ACTIVE', powerState: 'Running', taskState: v.power === 'Running' ? null : v.power === 'Paused' ? 'pausing' : 'powering-off', settled: v.power === 'Running', reason: printable, message: said('the guest is running'), node, addresses };
    }
    case 'Paused':
      return { phase: 'PAUSED', powerState: 'Paused', taskState: v.power === 'Paused' ? null : 'unpausing', settled: v.power === 'Paused', reason: printable, message: said('the guest is paused'), node, addresses };
    case 'Provisioning':
    case 'WaitingForVolumeBinding': {
      const progress = dv?.status?.progress && dv.status.progress !== 'N/A' ? `, ${dv.status.progress} imported` : '';
      return { phase: building ? 'BUILD' : 'SHUTOFF', powerState: 'NoState', taskState: 'spawning', settled: false, reason: printable, message: said(`the root disk is being imported${progress}`) };
    }
    case 'Starting':
      return { phase: building ? 'BUILD' : 'SHUTOFF', powerState: 'NoState', taskState: building ? 'spawning' : 'powering-on', settled: false, reason: printable, message: said('the guest is starting'), node };
    case 'Stopping':
    case 'Terminating':
      return { phase: 'ACTIVE', powerState: 'Running', taskState: 'powering-off', settled: false, reason: printable, message: said('the guest is stopping'), node, addresses };
    case 'Stopped':
      // A server asked to be made stopped has been built once its disk is there and the VM stands still.
      return { phase: 'SHUTOFF', powerState: 'Shutdown', taskState: v.power === 'Stopped' ? null : 'powering-on', settled: v.power === 'Stopped', reason: printable, message: said('the guest is stopped') };
    case 'Migrating':
      return { phase: 'ACTIVE', powerState: 'Running', taskState: 'migrating', settled: false, reason: printable, message: said('the guest is migrating'), node, addresses };
    default:
      return { phase: building ? 'BUILD' : 'ACTIVE', powerState: 'NoState', taskState: null, settled: false, reason: 'Unknown', message: said('KubeVirt cannot say how the guest is') };
  }
}
