/**
 * The OVN mechanism at work: it keeps NB in line with the resources (after every reconcile, on every change
 * NB reports, and on a timer: the maintenance task that repairs drift made by hand either way) and reads
 * each port's binding (chassis, up) back from the southbound Port_Binding.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '@stratus/runtime';
import { OvsdbClient } from '../ovsdb/client.js';
import { asOptional } from '../ovsdb/values.js';
import type { FloatingIP, Network, Port, Router, SecurityGroup, Subnet } from '../resources.js';
import { NB_TABLES, desiredNorthbound, planNorthbound } from './northbound.js';

export interface NetworkingState {
  networks: Network[];
  subnets: Subnet[];
  ports: Port[];
  securityGroups: SecurityGroup[];
  routers: Router[];
  floatingIPs: FloatingIP[];
}

export interface PortBinding {
  chassis?: string;
  up: boolean;
}

export interface OvnMechanismOptions {
  nbRemote: string;
  sbRemote: string;
  /** Reads every Network, Subnet, Port, … (the desired state), from caches the operator keeps. */
  state: () => Promise<NetworkingState> | NetworkingState;
  /** Waits until the state holds these objects as written (or newer), so a sync after a write sees it. */
  seen?: (written: KubernetesObject[]) => Promise<void>;
  log: Logger;
  /** How often the whole of NB is compared with the resources even when nothing said it changed. */
  repairEveryMs?: number;
}

export class OvnMechanism {
  readonly nb: OvsdbClient;
  readonly sb: OvsdbClient;
  private pending?: Promise<void>;
  private inFlight?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private nbChangeTimer?: NodeJS.Timeout;
  private bindingListeners: Array<(logicalPorts: string[]) => void> = [];
  private lastBindings = new Map<string, string>();

  constructor(private readonly opts: OvnMechanismOptions) {
    this.nb = new OvsdbClient({ remote: opts.nbRemote, database: 'OVN_Northbound', monitor: NB_TABLES, log: opts.log });
    this.sb = new OvsdbClient({ remote: opts.sbRemote, database: 'OVN_Southbound', monitor: { Port_Binding: ['logical_port', 'chassis', 'up'], Chassis: ['name'] }, log: opts.log });
  }

  start(): void {
    this.nb.start();
    this.sb.start();
    // A change in NB that this process did not make (a person, a restarted database) is drift: compare again soon.
    this.nb.on('change', () => {
      clearTimeout(this.nbChangeTimer);
      this.nbChangeTimer = setTimeout(() => void this.sync().catch((e: Error) => this.opts.log.warn('northbound repair failed', { error: e.message })), 200);
    });
    this.sb.on('change', () => this.announceBindings());
    this.timer = setInterval(() => void this.sync().catch((e: Error) => this.opts.log.warn('northbound repair failed', { error: e.message })), this.opts.repairEveryMs ?? 30_000);
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.nbChangeTimer);
    this.nb.close();
    this.sb.close();
  }

  /** Calls `listener` with the logical ports (port IDs) whose binding changed. */
  onBindingChange(listener: (logicalPorts: string[]) => void): void {
    this.bindingListeners.push(listener);
  }

  /** The port's binding as the southbound database has it. */
  bindingOf(portId: string): PortBinding {
    const pb = this.sb.rows('Port_Binding').find((r) => r.logical_port === portId);
    if (!pb) return { up: false };
    const chassisId = asOptional(pb.chassis);
    const chassis = chassisId ? this.sb.tables.get('Chassis')?.get(chassisId)?.name : undefined;
    return { ...(chassis ? { chassis: String(chassis) } : {}), up: String(asOptional(pb.up)) === 'true' };
  }

  /** Whether NB has the logical switch port now. */
  hasSwitchPort(portId: string): boolean {
    return this.nb.rows('Logical_Switch_Port').some((r) => r.name === portId);
  }

  hasPortGroup(name: string): boolean {
    return this.nb.rows('Port_Group').some((r) => r.name === name);
  }

  hasRouter(name: string): boolean {
    return this.nb.rows('Logical_Router').some((r) => r.name === name);
  }

  hasSwitch(name: string): boolean {
    return this.nb.rows('Logical_Switch').some((r) => r.name === name);
  }

  /** Makes NB match the resources (as written at least up to `after`); resolves after a whole comparison that began after the call. */
  async sync(after: KubernetesObject[] = []): Promise<void> {
    if (after.length) await this.opts.seen?.(after);
    return this.syncSoon();
  }

  private syncSoon(): Promise<void> {
    if (this.pending) return this.pending;
    const previous = this.inFlight ?? Promise.resolve();
    const next = previous
      .catch(() => {})
      .then(async () => {
        this.pending = undefined;
        this.inFlight = next;
        try {
          await this.syncOnce();
        } finally {
          if (this.inFlight === next) this.inFlight = undefined;
        }
      });
    this.pending = next;
    return next;
  }

  private async syncOnce(): Promise<void> {
    await this.nb.ready();
    const state = await this.opts.state();
    // Gateway ports live on a chassis: the first that registered (one node here; a scheduler's choice past it).
    const chassis = this.sb.rows('Chassis').map((c) => String(c.name)).sort()[0];
    const want = desiredNorthbound(state.networks, state.subnets, state.ports, state.securityGroups, state.routers, state.floatingIPs, chassis);
    const ops = planNorthbound(want, { switches: this.nb.rows('Logical_Switch'), switchPorts: this.nb.rows('Logical_Switch_Port'), dhcp: this.nb.rows('DHCP_Options'), portGroups: this.nb.rows('Port_Group'), acls: this.nb.rows('ACL'), routers: this.nb.rows('Logical_Router'), routerPorts: this.nb.rows('Logical_Router_Port'), staticRoutes: this.nb.rows('Logical_Router_Static_Route'), nats: this.nb.rows('NAT') });
    if (!ops.length) return;
    await this.nb.transact(ops);
    this.opts.log.info('northbound brought in line with the resources', { operations: ops.length, switches: want.switches.length, ports: want.ports.length });
  }

  private announceBindings(): void {
    const now = new Map(this.sb.rows('Port_Binding').map((r) => [String(r.logical_port), JSON.stringify([asOptional(r.chassis), asOptional(r.up)])]));
    const changed = [...new Set([...now.keys(), ...this.lastBindings.keys()])].filter((k) => now.get(k) !== this.lastBindings.get(k));
    this.lastBindings = now;
    if (changed.length) for (const l of this.bindingListeners) l(changed);
  }
}
