/** The node agent's planner: from spec, status and the guest's state, the one next step. Pure. */
import { strict as assert } from 'node:assert';
import { planStep, powerReached, restingPhase, type GuestState, type Instance, type Step } from '../../src/index.js';
import type { InstanceStatus } from '../../src/resources.js';

const guest = (power: GuestState['power'], reason = 'booted', saved = false): GuestState => ({ power, reason, saved });
const running = guest('running');
const flavor = { name: 'm1.small', vcpus: 1, ramMiB: 512, diskGiB: 1 };
const active: InstanceStatus = { phase: 'ACTIVE', powerState: 'Running', flavor, image: { name: 'cirros', namespace: 'demo' } };

/** `g`: the guest, or null for none defined. */
function plan(spec: Partial<Instance['spec']>, status: InstanceStatus = active, g: GuestState | null = running, now = Date.now()): Step {
  return planStep({ namespace: 'demo', spec: { flavor: 'm1.small', image: { name: 'cirros' }, ...spec }, status, guest: g ?? undefined, now, shutdownTimeoutMs: 60_000 });
}
const kind = (s: Step) => ('action' in s ? `power:${s.action}` : s.kind);

describe('the node agent planner', () => {
  it('spawns a guest that does not exist, and leaves a failed instance failed until a hard reboot', () => {
    assert.equal(kind(plan({}, { phase: 'BUILD' }, null)), 'spawn');
    assert.equal(kind(plan({}, { phase: 'ERROR' }, null)), 'failed');
    assert.equal(kind(plan({ reboot: { count: 1, type: 'SOFT' } }, { phase: 'ERROR' }, null)), 'failed', 'a soft reboot does not revive a failed instance');
    assert.equal(kind(plan({ reboot: { count: 1, type: 'HARD' } }, { phase: 'ERROR' }, null)), 'spawn');
    assert.equal(kind(plan({ reboot: { count: 1, type: 'HARD' } }, { ...active, phase: 'ERROR' })), 'reboot');
    assert.equal(kind(plan({ rebuild: { count: 1 } }, { ...active, phase: 'ERROR' })), 'rebuild', 'a rebuild revives it too, as Nova allows');
    assert.equal(kind(plan({ image: { name: 'other' } }, { ...active, phase: 'ERROR' })), 'rebuild');
    assert.equal(kind(plan({ rebuild: { count: 1 } }, { ...active, phase: 'ERROR' }, null)), 'spawn');
  });

  it('brings the guest to the power state spec asks for', () => {
    const table: Array<[Instance['spec']['powerState'], GuestState, string]> = [
      ['Running', running, 'none'],
      ['Running', guest('paused', 'user'), 'power:unpause'],
      ['Running', guest('shutoff', 'saved', true), 'power:start'],
      ['Running', guest('shutoff', 'destroyed'), 'power:start'],
      ['Stopped', running, 'power:shutdown'],
      ['Stopped', guest('paused', 'user'), 'power:forceOff'],
      ['Stopped', guest('shutoff', 'saved', true), 'power:discardSuspend'],
      ['Stopped', guest('shutoff', 'shutdown'), 'none'],
      ['Paused', running, 'power:pause'],
      ['Paused', guest('shutoff', 'shutdown'), 'power:startPaused'],
      ['Suspended', running, 'power:suspend'],
      ['Suspended', guest('shutoff', 'saved', true), 'none'],
      ['Suspended', guest('shutoff', 'shutdown'), 'stalled'],
    ];
    for (const [want, g, expected] of table) assert.equal(kind(plan({ powerState: want }, { ...active, powerState: 'Shutdown' }, g)), expected, `${want} with the guest ${g.power} (${g.reason})`);
  });

  it('waits out a graceful stop, then forces it after the shutdown timeout', () => {
    const started = Date.parse('2026-01-01T00:00:00Z');
    const stopping: InstanceStatus = { ...active, taskState: 'powering-off', taskStartedAt: new Date(started).toISOString() };
    const early = plan({ powerState: 'Stopped' }, stopping, running, started + 10_000);
    assert.deepEqual(early, { kind: 'awaitShutdown', recheckMs: 1000 });
    assert.equal(kind(plan({ powerState: 'Stopped' }, stopping, running, started + 60_000)), 'power:forceOff');
  });

  it('records a guest that powered itself off as stopped, but starts one stopped by the host side', () => {
    assert.equal(kind(plan({}, active, guest('shutoff', 'shutdown'))), 'guestPoweredOff');
    assert.equal(kind(plan({}, active, guest('crashed', 'panicked'))), 'guestPoweredOff');
    assert.equal(kind(plan({}, active, guest('shutoff', 'destroyed'))), 'power:start', 'killed from outside: spec still says Running');
    assert.equal(kind(plan({}, { ...active, powerState: 'Shutdown' }, guest('shutoff', 'shutdown'))), 'power:start', 'the user asked to start a stopped guest');
    assert.equal(kind(plan({}, { ...active, taskState: 'powering-on' }, guest('shutoff', 'shutdown'))), 'power:start', 'during a task, a stop is ours');
  });

  it('tells pauses nobody asked for from the ones libvirt passes through', () => {
    assert.deepEqual(plan({}, active, guest('paused', 'unknown')), { kind: 'hypervisorPaused', reason: 'unknown' });
    assert.deepEqual(plan({}, active, guest('paused', 'I/O error')), { kind: 'hypervisorPaused', reason: 'I/O error' });
    assert.equal(kind(plan({}, active, guest('paused', 'shutting down'))), 'awaitHypervisor', "a soft reboot's reset");
    assert.equal(kind(plan({}, active, guest('paused', 'saving'))), 'awaitHypervisor', 'memory being saved');
    assert.equal(kind(plan({}, active, guest('paused', 'migrating'))), 'power:unpause', 'restored from a save made while paused: at rest');
    assert.equal(kind(plan({}, active, guest('paused', 'user'))), 'power:unpause');
  });

  it('lets a guest on its way down finish, and decides nothing from a state it cannot name', () => {
    // virsh's "in shutdown": started again now, a guest that is powering itself off would come back up.
    assert.equal(kind(plan({}, active, guest('stopping', 'user'))), 'awaitHypervisor');
    assert.equal(kind(plan({ powerState: 'Stopped' }, active, guest('stopping', 'user'))), 'power:shutdown', 'our own stop goes on as a stop');
    assert.equal(kind(plan({}, active, guest('nostate', 'unknown'))), 'awaitHypervisor');
  });

  it('carries out reboot and rebuild counters once each', () => {
    assert.deepEqual(plan({ reboot: { count: 2, type: 'SOFT' } }, { ...active, rebootsDone: 1 }), { kind: 'reboot', hard: false });
    assert.deepEqual(plan({ reboot: { count: 2, type: 'HARD' } }, { ...active, rebootsDone: 1 }), { kind: 'reboot', hard: true });
    assert.equal(kind(plan({ reboot: { count: 2 } }, { ...active, rebootsDone: 2 })), 'none');
    assert.equal(kind(plan({ rebuild: { count: 1 } }, active)), 'rebuild');
    assert.equal(kind(plan({ rebuild: { count: 1 } }, { ...active, rebuildsDone: 1 })), 'none');
    assert.equal(kind(plan({ image: { name: 'debian' } }, active)), 'rebuild', 'a new image rebuilds');
    assert.equal(kind(plan({ image: { name: 'cirros', namespace: 'public' } }, active)), 'rebuild', 'the same name in another namespace is another image');
  });

  it("resizes on a flavor change, and confirms or reverts as Nova's VERIFY_RESIZE does", () => {
    assert.equal(kind(plan({ flavor: 'm1.large' })), 'resize');
    const verifying: InstanceStatus = { ...active, phase: 'VERIFY_RESIZE', flavor: { ...flavor, name: 'm1.large' }, resize: { fromFlavor: flavor, fromAllocation: { vcpus: 1, ramMiB: 512, diskGiB: 1 } } };
    assert.equal(kind(plan({ flavor: 'm1.large', confirmResize: false }, verifying)), 'none', 'waits for a decision');
    assert.equal(kind(plan({ flavor: 'm1.large', confirmResize: true }, verifying)), 'confirmResize');
    assert.equal(kind(plan({ flavor: 'm1.small', confirmResize: false }, verifying)), 'revertResize', 'the old flavor back is a revert');
    assert.equal(kind(plan({ flavor: 'm1.xlarge' }, verifying)), 'resize', 'a third flavor is a new resize');
  });

  it('shelves whatever the guest is doing, and finishes an offload whose guest is already gone', () => {
    for (const g of [running, guest('paused', 'user'), guest('shutoff', 'saved', true), guest('shutoff', 'shutdown')]) assert.equal(kind(plan({ shelved: true }, active, g)), 'shelve', JSON.stringify(g));
    assert.equal(kind(plan({ shelved: true }, active, guest('stopping', 'shutdown'))), 'awaitHypervisor', 'a guest on its way down gets there first');
    assert.equal(kind(plan({ shelved: true }, { ...active, phase: 'SHELVED', shelvedImage: 'img' }, null)), 'shelve');
    assert.equal(kind(plan({ shelved: false }, { ...active, phase: 'SHELVED_OFFLOADED', shelvedImage: 'img' }, null)), 'spawn', 'unshelving');
    assert.equal(kind(plan({ shelved: true }, { ...active, phase: 'ERROR' })), 'failed', 'a failed shelve waits for a hard reboot');
  });

  it('rescues and unrescues as spec.rescue says, after a rebuild or resize asked first', () => {
    assert.equal(kind(plan({ rescue: {} })), 'rescue');
    assert.equal(kind(plan({ rescue: { image: { name: 'rescue' } } }, { ...active, rescued: true })), 'none');
    assert.equal(kind(plan({}, { ...active, phase: 'RESCUE', rescued: true })), 'unrescue');
    assert.equal(kind(plan({ rescue: {}, image: { name: 'other' } })), 'rebuild');
    assert.equal(kind(plan({ rescue: {} }, { ...active, phase: 'ERROR' })), 'rescue', 'from ERROR too, as Nova allows');
    assert.equal(kind(plan({ rescue: {} }, { ...active, phase: 'ERROR' }, null)), 'failed', 'but not without a guest to rescue');
  });

  it('names the resting phase as openstack server show would', () => {
    assert.equal(restingPhase(running, false), 'ACTIVE');
    assert.equal(restingPhase(guest('paused', 'user'), false), 'PAUSED');
    assert.equal(restingPhase(guest('shutoff', 'saved', true), false), 'SUSPENDED');
    assert.equal(restingPhase(guest('shutoff', 'shutdown'), false), 'SHUTOFF');
    assert.equal(restingPhase(running, true), 'VERIFY_RESIZE');
    assert.equal(restingPhase(running, false, true), 'RESCUE');
    assert.ok(powerReached({ flavor: 'f', image: { name: 'i' }, powerState: 'Stopped' }, guest('crashed', 'panicked')));
    assert.ok(!powerReached({ flavor: 'f', image: { name: 'i' } }, guest('paused', 'user')));
  });
});
