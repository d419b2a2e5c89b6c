/**
 * The agent's Hypervisor: registered with what the host has (server-side apply, so fields an admin sets, such
 * as `disabled` or the allocation ratios, are never touched), then kept alive by a heartbeat in its status
 * that also says how the host runs guests and where the agent's own API listens.
 */
import { statfs } from 'node:fs/promises';
import { MERGE_PATCH, now, type KubeClient, type Logger } from '@stratus/runtime';
import type { HostFacts } from '../driver/types.js';
import { HYPERVISORS, type Hypervisor } from '../resources.js';
import type { AgentConfig } from './config.js';
import { AGENT_FIELD_MANAGER, type AgentDriver } from './instanceAgent.js';

const GiB = 1024 ** 3;

export class HypervisorRegistration {
  private timer?: NodeJS.Timeout;
  private applied?: string;

  constructor(
    private readonly client: KubeClient,
    private readonly config: AgentConfig,
    private readonly driver: AgentDriver,
    private readonly log: Logger,
    private readonly agentUrl: string,
  ) {}

  /** What the Hypervisor's spec says of this host, from the host itself and the agent's overrides. */
  async desiredSpec(facts: HostFacts): Promise<Hypervisor['spec']> {
    const fs = await statfs(this.config.stateDir);
    const { capacity, availabilityZone } = this.config;
    return {
      hostname: this.config.host,
      driver: 'libvirt',
      capacity: {
        vcpus: capacity.vcpus ?? facts.cpus,
        ramMiB: capacity.ramMiB ?? facts.memoryMiB,
        diskGiB: capacity.diskGiB ?? Math.floor((fs.blocks * fs.bsize) / GiB),
      },
      reserved: { ramMiB: this.config.reservedRamMiB },
      properties: { hypervisor_type: facts.hypervisorType.toLowerCase(), architecture: 'x86_64' },
      ...(availabilityZone ? { availabilityZone } : {}),
    };
  }

  /** Registers (or updates) the Hypervisor, and heartbeats until stopped. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch((e) => this.log.warn('heartbeat failed', { error: String(e) })), this.config.heartbeatSeconds * 1000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Re-applies the spec when what the host reports changed (say, KVM given up), then writes the heartbeat. */
  async beat(): Promise<void> {
    const facts = await this.driver.hostFacts();
    const spec = await this.desiredSpec(facts);
    const text = JSON.stringify(spec);
    if (text !== this.applied) {
      await this.client.apply(HYPERVISORS, { apiVersion: 'compute.stratus.io/v1alpha1', kind: 'Hypervisor', metadata: { name: this.config.host }, spec } as Hypervisor, AGENT_FIELD_MANAGER);
      this.applied = text;
      this.log.info('hypervisor registered', { host: this.config.host, capacity: spec.capacity, type: spec.properties?.hypervisor_type });
    }
    const status = { lastHeartbeat: now(), hypervisorType: facts.hypervisorType, hypervisorVersion: facts.hypervisorVersion, runningVMs: await this.driver.runningCount(), agentUrl: this.agentUrl };
    await this.client.patch(HYPERVISORS, undefined, this.config.host, { status }, AGENT_FIELD_MANAGER, MERGE_PATCH, 'status');
  }
}
