/**
 * The node agent's decisions, pure: from what the instance asks (spec), what was last reported (status) and
 * what the hypervisor says of the guest now, the one next step. The reconciler carries it out and asks again,
 * so every step is taken from fresh facts and a crash between steps loses nothing.
 */
import type { GuestState } from '../driver/types.js';
import type { Instance, InstancePhase, InstanceStatus, ObservedPowerState } from '../resources.js';

export type PowerAction = 'start' | 'startPaused' | 'shutdown' | 'forceOff' | 'pause' | 'unpause' | 'suspend' | 'discardSuspend';

export type Step =
  | { kind: 'spawn' }
  | { kind: 'rebuild' }
  | { kind: 'resize' }
  | { kind: 'confirmResize' }
  | { kind: 'revertResize' }
  | { kind: 'reboot'; hard: boolean }
  /** spec.shelved: power off, store the root disk as an image, then let the guest and its files go (offload). */
  | { kind: 'shelve' }
  /** spec.rescue set: boot from a rescue disk with the root disk second; unset: from the root disk again. */
  | { kind: 'rescue' }
  | { kind: 'unrescue' }
  | { kind: 'power'; action: PowerAction }
  /** A graceful power-off is under way: look again after this long. */
  | { kind: 'awaitShutdown'; recheckMs: number }
  /** libvirt is in the middle of something (a reboot's reset, a save): look again shortly. */
  | { kind: 'awaitHypervisor'; recheckMs: number }
  /** The guest powered itself off (or crashed) while meant to run: record it as stopped, as Nova's power sync does. */
  | { kind: 'guestPoweredOff' }
  /** The hypervisor paused the guest without being asked (a KVM failure, a full disk). */
  | { kind: 'hypervisorPaused'; reason: string }
  | { kind: 'stalled'; reason: string; message: string }
  /** In ERROR: it stays so (and nothing is reported) until a hard reboot is asked for. */
  | { kind: 'failed' }
  | { kind: 'none' };

export interface PlanInput {
  namespace: string;
  spec: Instance['spec'];
  status: InstanceStatus;
  /** undefined: the hypervisor has no such guest. */
  guest?: GuestState;
  now: number;
  shutdownTimeoutMs: number;
}

/** Pause reasons (virsh's words) no one asked for: the guest cannot go on by itself. */
const UNEXPECTED_PAUSE = new Set(['unknown', 'I/O error', 'watchdog', 'crashed', 'post-copy failed', 'api error']);
/**
 * Pauses libvirt ends by itself (a soft reboot's reset is "shutting down", a save "saving"): wait for them to
 * end, never undo them. Others ("user"; "migrating", left by restoring a guest saved while paused) are at rest.
 */
const PASSING_PAUSE = new Set(['saving', 'dumping', 'shutting down', 'creating snapshot', 'starting up', 'post-copy']);

const pending = (asked: number | undefined, done: number | undefined) => (asked ?? 0) > (done ?? 0);

export function planStep(p: PlanInput): Step {
  const { spec, status, guest } = p;
  const hardReboot = pending(spec.reboot?.count, status.rebootsDone) && spec.reboot?.type === 'HARD';
  const imageNamespace = spec.image?.namespace ?? p.namespace;
  const rebuild = (status.image && spec.image && (status.image.name !== spec.image.name || status.image.namespace !== imageNamespace)) || pending(spec.rebuild?.count, status.rebuildsDone);
  // A failed instance stays failed until someone asks for a hard reboot or a rebuild (as Nova allows from ERROR).
  if (!guest) {
    if (status.phase === 'ERROR' && !hardReboot && !rebuild) return { kind: 'failed' };
    // No guest while shelving: it was offloaded and the agent stopped before saying so; the shelve step ends it.
    return spec.shelved && status.shelvedImage ? { kind: 'shelve' } : { kind: 'spawn' };
  }
  // From ERROR a rebuild, a hard reboot or a rescue (of a guest that is there to rescue) is tried, as Nova allows.
  if (status.phase === 'ERROR') return rebuild ? { kind: 'rebuild' } : hardReboot ? { kind: 'reboot', hard: true } : spec.rescue && !status.rescued ? { kind: 'rescue' } : { kind: 'failed' };

  if (rebuild) return { kind: 'rebuild' };

  if (status.flavor && spec.flavor !== status.flavor.name) return status.resize?.fromFlavor.name === spec.flavor ? { kind: 'revertResize' } : { kind: 'resize' };
  if (status.resize && spec.confirmResize !== false) return { kind: 'confirmResize' };

  if (guest.power === 'paused' && UNEXPECTED_PAUSE.has(guest.reason)) return { kind: 'hypervisorPaused', reason: guest.reason };
  if (guest.power === 'paused' && PASSING_PAUSE.has(guest.reason)) return { kind: 'awaitHypervisor', recheckMs: 250 };
  // Nothing is decided from a state the hypervisor cannot name; a guest on its way down is let finish first.
  if (guest.power === 'nostate') return { kind: 'awaitHypervisor', recheckMs: 5000 };
  if (guest.power === 'stopping' && (p.spec.powerState ?? 'Running') !== 'Stopped') return { kind: 'awaitHypervisor', recheckMs: 250 };
  if (spec.shelved) return { kind: 'shelve' };
  if (!!spec.rescue !== !!status.rescued) return spec.rescue ? { kind: 'rescue' } : { kind: 'unrescue' };
  if (pending(spec.reboot?.count, status.rebootsDone)) return { kind: 'reboot', hard: spec.reboot?.type === 'HARD' };
  return powerStep(p, guest);
}

function powerStep(p: PlanInput, guest: GuestState): Step {
  const { status } = p;
  const power = (action: PowerAction): Step => ({ kind: 'power', action });
  const off = guest.power === 'shutoff' || guest.power === 'crashed';
  switch (p.spec.powerState ?? 'Running') {
    case 'Running':
      if (guest.power === 'running') return { kind: 'none' };
      if (guest.power === 'paused') return power('unpause');
      if (guest.power === 'stopping') return { kind: 'awaitHypervisor', recheckMs: 250 };
      if (guest.saved) return power('start');
      // It was running and nobody here asked it to stop: the guest did (poweroff inside it, or a crash).
      if (status.powerState === 'Running' && !status.taskState && (guest.power === 'crashed' || guest.reason === 'shutdown' || guest.reason === 'crashed')) return { kind: 'guestPoweredOff' };
      return power('start');
    case 'Stopped':
      if (off) return guest.saved ? power('discardSuspend') : { kind: 'none' };
      // A paused guest cannot hear the power button.
      if (guest.power === 'paused') return power('forceOff');
      if (status.taskState === 'powering-off' && status.taskStartedAt) {
        const waited = p.now - Date.parse(status.taskStartedAt);
        return waited >= p.shutdownTimeoutMs ? power('forceOff') : { kind: 'awaitShutdown', recheckMs: Math.min(1000, p.shutdownTimeoutMs - waited) };
      }
      return power('shutdown');
    case 'Paused':
      if (guest.power === 'paused') return { kind: 'none' };
      return off ? power('startPaused') : power('pause');
    case 'Suspended':
      if (guest.saved) return { kind: 'none' };
      if (off) return { kind: 'stalled', reason: 'CannotSuspend', message: 'a stopped instance has no memory to save: start it before suspending it' };
      return power('suspend');
  }
}

/** Nova's power_state for what the hypervisor says. */
export function observedPower(guest: GuestState | undefined): ObservedPowerState {
  if (!guest) return 'NoState';
  if (guest.saved) return 'Suspended';
  return ({ running: 'Running', stopping: 'Running', paused: 'Paused', shutoff: 'Shutdown', crashed: 'Crashed', nostate: 'NoState' } as const)[guest.power];
}

/** The server status word for a guest at rest: what `openstack server show` says. */
export function restingPhase(guest: GuestState | undefined, awaitingResizeConfirmation: boolean, rescued = false): InstancePhase {
  if (awaitingResizeConfirmation) return 'VERIFY_RESIZE';
  if (rescued) return 'RESCUE';
  switch (observedPower(guest)) {
    case 'Running':
      return 'ACTIVE';
    case 'Paused':
      return 'PAUSED';
    case 'Suspended':
      return 'SUSPENDED';
    default:
      return 'SHUTOFF';
  }
}

/** Whether the guest is as spec.powerState asks. */
export function powerReached(spec: Instance['spec'], guest: GuestState | undefined): boolean {
  const want = spec.powerState ?? 'Running';
  const have = observedPower(guest);
  return (want === 'Running' && have === 'Running') || (want === 'Stopped' && (have === 'Shutdown' || have === 'Crashed')) || (want === 'Paused' && have === 'Paused') || (want === 'Suspended' && have === 'Suspended');
}
