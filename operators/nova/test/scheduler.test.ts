/** The scheduler without I/O: each filter and weigher alone, the NoValidHost fault, and many nodes at once. */
import { strict as assert } from 'node:assert';
import {
  AvailabilityZoneFilter,
  ComputeFilter,
  CoreFilter,
  ImagePropertiesFilter,
  RamFilter,
  ServerGroupAffinityFilter,
  ServerGroupAntiAffinityFilter,
  free,
  selectHost,
  type HostState,
  type RequestSpec,
  type Resources,
} from '../src/index.js';

const none: Resources = { vcpus: 0, ramMiB: 0, diskGiB: 0 };
function host(name: string, capacity: Partial<Resources> = {}, opts: Partial<HostState> = {}): HostState {
  return {
    name,
    availabilityZone: 'nova',
    up: true,
    disabled: false,
    capacity: { vcpus: 8, ramMiB: 16384, diskGiB: 200, ...capacity },
    reserved: { ...none },
    ratios: { vcpus: 4, ramMiB: 1, diskGiB: 1 },
    used: { ...none },
    instances: new Set(),
    properties: { architecture: 'x86_64', hypervisor_type: 'qemu' },
    ...opts,
  };
}
const request = (resources: Partial<Resources> = {}, opts: Partial<RequestSpec> = {}): RequestSpec => ({
  instance: 'demo/vm',
  resources: { vcpus: 1, ramMiB: 512, diskGiB: 1, ...resources },
  imageProperties: {},
  ...opts,
});
const placed = (d: ReturnType<typeof selectHost>) => ('placement' in d ? d.placement.host : undefined);

describe('Nova scheduler filters', () => {
  it('counts free resources as Placement does: (total − reserved) × ratio − used', () => {
    const h = host('a', { vcpus: 8, ramMiB: 4096 }, { reserved: { vcpus: 2, ramMiB: 512, diskGiB: 0 }, used: { vcpus: 10, ramMiB: 1024, diskGiB: 5 } });
    assert.deepEqual(free(h), { vcpus: 14, ramMiB: 2560, diskGiB: 195 });
  });

  it('turns away down, disabled and other-zone hosts, saying why', () => {
    assert.match(ComputeFilter.reject(host('a', {}, { up: false }), request())!, /down/);
    assert.match(ComputeFilter.reject(host('a', {}, { disabled: true }), request())!, /disabled/);
    assert.equal(ComputeFilter.reject(host('a'), request()), undefined);
    assert.match(AvailabilityZoneFilter.reject(host('a'), request({}, { availabilityZone: 'az2' }))!, /zone nova, not az2/);
  });

  it('overcommits vCPUs by the allocation ratio, never RAM past its ratio', () => {
    const h = host('a', { vcpus: 2, ramMiB: 2048 }, { used: { vcpus: 7, ramMiB: 1536, diskGiB: 0 } });
    assert.equal(CoreFilter.reject(h, request({ vcpus: 1 })), undefined, '2 cores × 4 = 8 vCPUs, 7 used');
    assert.match(CoreFilter.reject(h, request({ vcpus: 2 }))!, /1 vCPUs free, 2 asked/);
    assert.match(RamFilter.reject(h, request({ ramMiB: 1024 }))!, /512 MiB RAM free, 1024 asked/);
  });

  it('matches image architecture and hypervisor type to the host', () => {
    assert.equal(ImagePropertiesFilter.reject(host('a'), request({}, { imageProperties: { hw_architecture: 'X86_64' } })), undefined);
    assert.match(ImagePropertiesFilter.reject(host('a'), request({}, { imageProperties: { hw_architecture: 'aarch64' } }))!, /architecture is x86_64, the image needs aarch64/);
    assert.match(ImagePropertiesFilter.reject(host('a'), request({}, { imageProperties: { img_hv_type: 'kvm' } }))!, /hypervisor_type/);
  });

  it('keeps affinity groups together and anti-affinity groups apart', () => {
    const together = request({}, { serverGroup: { policy: 'affinity', memberHosts: ['b', 'b'] } });
    assert.equal(ServerGroupAffinityFilter.reject(host('b'), together), undefined);
    assert.match(ServerGroupAffinityFilter.reject(host('a'), together)!, /members are on b/);
    assert.equal(ServerGroupAffinityFilter.reject(host('a'), request({}, { serverGroup: { policy: 'affinity', memberHosts: [] } })), undefined, 'the first member goes anywhere');
    const apart = request({}, { serverGroup: { policy: 'anti-affinity', memberHosts: ['a'] } });
    assert.match(ServerGroupAntiAffinityFilter.reject(host('a'), apart)!, /at most 1/);
    assert.equal(ServerGroupAntiAffinityFilter.reject(host('b'), apart), undefined);
    assert.equal(ServerGroupAntiAffinityFilter.reject(host('a'), request({}, { serverGroup: { policy: 'anti-affinity', maxServerPerHost: 2, memberHosts: ['a'] } })), undefined);
  });
});

describe('Nova host selection', () => {
  it('spreads by free RAM and CPU, and answers the same for the same state', () => {
    const hosts = [host('a', {}, { used: { vcpus: 4, ramMiB: 8192, diskGiB: 0 } }), host('b'), host('c', {}, { used: { vcpus: 1, ramMiB: 1024, diskGiB: 0 } })];
    assert.equal(placed(selectHost(hosts, request())), 'b');
    assert.equal(placed(selectHost([host('y'), host('x')], request())), 'x', 'a tie goes to the first name');
  });

  it('prefers group members together or apart for the soft policies, over free RAM', () => {
    const hosts = [host('busy', {}, { used: { vcpus: 0, ramMiB: 8192, diskGiB: 0 } }), host('idle')];
    assert.equal(placed(selectHost(hosts, request({}, { serverGroup: { policy: 'soft-affinity', memberHosts: ['busy'] } }))), 'busy');
    assert.equal(placed(selectHost([host('a'), host('b', {}, { used: { vcpus: 0, ramMiB: 1024, diskGiB: 0 } })], request({}, { serverGroup: { policy: 'soft-anti-affinity', memberHosts: ['a'] } }))), 'b');
  });

  it('says NoValidHost with every filter that turned hosts away', () => {
    const hosts = [host('a', { ramMiB: 1024 }), host('b', {}, { up: false }), host('c', {}, { availabilityZone: 'az2' })];
    const d = selectHost(hosts, request({ ramMiB: 4096 }, { availabilityZone: 'nova' }));
    assert.ok('noValidHost' in d);
    assert.match(d.noValidHost.message, /^No valid host was found\./);
    assert.deepEqual(d.noValidHost.rejections.map((r) => [r.filter, r.hosts]), [['ComputeFilter', 1], ['AvailabilityZoneFilter', 1], ['RamFilter', 1]]);
    assert.match(d.noValidHost.message, /RamFilter rejected 1 \(a: 1024 MiB RAM free, 4096 asked\)/);
    assert.match((selectHost([], request()) as { noValidHost: { message: string } }).noValidHost.message, /no compute hosts/);
    assert.equal(placed(selectHost(hosts, request({ ramMiB: 512 }, { forcedHost: 'a' }))), 'a');
  });

  it('places 1,000 instances on 100 hosts without putting any over capacity, evenly', () => {
    const hosts = Array.from({ length: 100 }, (_, i) => host(`node-${String(i).padStart(3, '0')}`, { vcpus: 16, ramMiB: 65536, diskGiB: 1000 }));
    const flavors: Resources[] = [
      { vcpus: 1, ramMiB: 1024, diskGiB: 10 },
      { vcpus: 2, ramMiB: 4096, diskGiB: 20 },
      { vcpus: 4, ramMiB: 8192, diskGiB: 40 },
    ];
    let failures = 0;
    for (let i = 0; i < 1000; i++) {
      const req = request(flavors[i % 3], { instance: `t/vm-${i}` });
      const d = selectHost(hosts, req);
      if (!('placement' in d)) {
        failures++;
        continue;
      }
      const h = hosts.find((x) => x.name === d.placement.host)!;
      for (const k of ['vcpus', 'ramMiB', 'diskGiB'] as const) h.used[k] += req.resources[k];
      h.instances.add(req.instance);
    }
    assert.equal(failures, 0);
    for (const h of hosts) for (const [k, v] of Object.entries(free(h))) assert.ok(v >= 0, `${h.name} over capacity in ${k}`);
    // Spread: the RAM, CPU and disk weighers together keep every host within 20% of the mean RAM use.
    const ram = hosts.map((h) => h.used.ramMiB);
    const mean = ram.reduce((a, b) => a + b, 0) / ram.length;
    assert.ok(ram.every((r) => Math.abs(r - mean) <= 0.2 * mean), `RAM used spreads ${Math.min(...ram)}..${Math.max(...ram)} MiB around ${Math.round(mean)}`);
    assert.equal(hosts.reduce((n, h) => n + h.instances.size, 0), 1000);
    // Past capacity the answer is NoValidHost, not an overcommitted host.
    const full = [host('tiny', { vcpus: 1, ramMiB: 512, diskGiB: 1 })];
    assert.ok('noValidHost' in selectHost(full, request({ vcpus: 1, ramMiB: 1024, diskGiB: 1 })));
  });
});
