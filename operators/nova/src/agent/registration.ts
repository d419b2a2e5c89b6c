/**
 * A compute host's Hypervisor: registered with what the host says of itself (server-side apply, so fields an
 * admin sets, such as `disabled` or the allocation ratios, are never touched), then kept alive by a heartbeat
 * in its status that also says how the host runs guests. The libvirt node agent and the kubevirt driver
 * each describe their host; registering and heartbeating are the same for both.
 */
import { statfs } from 'node:fs/promises';
import { MERGE_PATCH, now, type KubeClient, type Logger } from '@stratus/runtime';
import type { HostFacts } from '../driver/types.js';
import { HYPERVISORS, type Hypervisor } from '../resources.js';
import type { AgentConfig } from './config.js';

const GiB = 1024 ** 3;

/** What a host says of itself at one heartbeat: its Hypervisor's spec, and the status fields it reports. */
export interface HostDescription {
  spec: Hypervisor['spec'];
  status: { hypervisorType: string; hypervisorVersion: string; runningVMs: number; agentUrl?: string };
}

/** A libvirt node as its Hypervisor: the host's facts, with the agent's overrides. */
export async function libvirtHostSpec(config: AgentConfig, facts: HostFacts): Promise<Hypervisor['spec']> {
  const fs = await statfs(config.stateDir);
  const { capacity, availabilityZone } = config;
  return {
    hostname: config.host,
    driver: 'libvirt',
    capacity: {
      vcpus: capacity.vcpus ?? facts.cpus,
      ramMiB: capacity.ramMiB ?? facts.memoryMiB,
      diskGiB: capacity.diskGiB ?? Math.floor((fs.blocks * fs.bsize) / GiB),
    },
    reserved: { ramMiB: config.reservedRamMiB },
    properties: { hypervisor_type: facts.hypervisorType.toLowerCase(), architecture: 'x86_64' },
    ...(availabilityZone ? { availabilityZone } : {}),
  };
}

export class HypervisorRegistration {
  private timer?: NodeJS.Timeout;
  private applied?: string;

  constructor(
    private readonly client: KubeClient,
    private readonly host: { name: string; heartbeatSeconds: number; fieldManager: string },
    private readonly describe: () => Promise<HostDescription>,
    private readonly log: Logger,
  ) {}

  /** Registers (or updates) the Hypervisor, and heartbeats until stopped. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch((e) => this.log.warn('heartbeat failed', { error: String(e) })), this.host.heartbeatSeconds * 1000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Re-applies the spec when what the host reports changed (say, KVM given up), then writes the heartbeat. */
  async beat(): Promise<void> {
    const { spec, status } = await this.describe();
    const text = JSON.stringify(spec);
    if (text !== this.applied) {
      await this.client.apply(HYPERVISORS, { apiVersion: 'compute.stratus.io/v1alpha1', kind: 'Hypervisor', metadata: { name: this.host.name }, spec } as Hypervisor, this.host.fieldManager);
      this.applied = text;
      this.log.info('hypervisor registered', { host: this.host.name, driver: spec.driver, capacity: spec.capacity, type: spec.properties?.hypervisor_type });
    }
    await this.client.patch(HYPERVISORS, undefined, this.host.name, { status: { lastHeartbeat: now(), ...status } }, this.host.fieldManager, MERGE_PATCH, 'status');
  }
}
