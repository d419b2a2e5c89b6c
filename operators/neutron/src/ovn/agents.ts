/**
 * Neutron's agents as ML2/OVN shows them: one "OVN Controller agent" per chassis that registered in the
 * southbound database (a "Gateway" agent where the chassis says enable-chassis-as-gw). An agent is alive
 * while its chassis keeps up with the configuration sequence number (nb_cfg) that the API bumps when asked,
 * or has answered within the agent down time, as neutron-server judges it.
 */
import { waitUntil, type Logger } from '@stratus/runtime';
import { OvsdbClient, type OvsdbRemote } from '../ovsdb/client.js';
import { asMap, map, uuid, type Row } from '../ovsdb/values.js';

/** neutron-server's agent_down_time default: how long an agent that stopped answering still counts as alive. */
export const AGENT_DOWN_TIME_MS = 75_000;
/** Where Neutron keeps an OVN agent's description: the chassis' Chassis_Private external_ids. */
const DESCRIPTION_KEY = 'neutron:description';

export type Agent = {
  id: string;
  agent_type: 'OVN Controller agent' | 'OVN Controller Gateway agent';
  binary: 'ovn-controller';
  host: string;
  availability_zone: string;
  topic: 'n/a';
  description: string;
  configurations: { chassis_name: string; 'bridge-mappings': string };
  heartbeat_timestamp: string;
  start_flag: true;
  alive: boolean;
  admin_state_up: true;
};

/** Neutron's timestamps of agents: UTC, to the second, a space between date and time. */
const neutronTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/**
 * The agents the southbound rows describe (pure): `nbCfg` is the sequence the chassis are asked to reach
 * (SB_Global.nb_cfg), `now` the clock. A chassis without its Chassis_Private row (OVN before 20.09, or one
 * being registered) answers with its Chassis row's nb_cfg and no timestamp.
 */
export function agentsOf(chassis: Row[], chassisPrivate: Row[], nbCfg: number, now: number, downTimeMs = AGENT_DOWN_TIME_MS): Agent[] {
  const privateOf = new Map(chassisPrivate.map((p) => [String(p.name), p]));
  return chassis
    .map((c) => {
      const name = String(c.name);
      const p = privateOf.get(name);
      const reached = Number(p?.nb_cfg ?? c.nb_cfg ?? 0);
      const answeredAt = Number(p?.nb_cfg_timestamp ?? 0);
      const other = { ...asMap(c.external_ids), ...asMap(c.other_config) };
      const cms = (other['ovn-cms-options'] ?? '').split(',');
      const zones = cms.find((o) => o.startsWith('availability-zones='))?.slice('availability-zones='.length) ?? '';
      return {
        id: name,
        agent_type: cms.includes('enable-chassis-as-gw') ? ('OVN Controller Gateway agent' as const) : ('OVN Controller agent' as const),
        binary: 'ovn-controller' as const,
        host: String(c.hostname || name),
        availability_zone: zones.split(':').filter(Boolean).join(', '),
        topic: 'n/a' as const,
        description: asMap(p?.external_ids)[DESCRIPTION_KEY] ?? '',
        configurations: { chassis_name: name, 'bridge-mappings': other['ovn-bridge-mappings'] ?? '' },
        heartbeat_timestamp: neutronTime(answeredAt || now),
        start_flag: true as const,
        // One bump behind is alive: the chassis may not have seen the latest ask yet.
        alive: nbCfg - reached <= 1 || (answeredAt > 0 && now - answeredAt < downTimeMs),
        admin_state_up: true as const,
      };
    })
    .sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * The agents of one OVN deployment, read from its southbound database (a monitor, never polled); a list asks
 * every chassis to answer (NB_Global.nb_cfg + 1) at most every half agent down time, as neutron-server does.
 */
export class OvnAgents {
  private readonly nb: OvsdbClient;
  private readonly sb: OvsdbClient;
  private readonly downTimeMs: number;
  private lastPing = 0;

  constructor(opts: { nbRemote: OvsdbRemote; sbRemote: OvsdbRemote; log?: Logger; downTimeMs?: number }) {
    this.downTimeMs = opts.downTimeMs ?? AGENT_DOWN_TIME_MS;
    this.nb = new OvsdbClient({ remote: opts.nbRemote, database: 'OVN_Northbound', monitor: { NB_Global: ['nb_cfg'] }, log: opts.log });
    this.sb = new OvsdbClient({
      remote: opts.sbRemote,
      database: 'OVN_Southbound',
      monitor: { SB_Global: ['nb_cfg'], Chassis: ['name', 'hostname', 'nb_cfg', 'external_ids', 'other_config'], Chassis_Private: ['name', 'nb_cfg', 'nb_cfg_timestamp', 'external_ids'] },
      log: opts.log,
    });
  }

  start(): this {
    this.nb.start();
    this.sb.start();
    return this;
  }

  close(): void {
    this.nb.close();
    this.sb.close();
  }

  /** The agents as of now, after asking the chassis to answer if they were not asked lately. */
  async list(now = Date.now()): Promise<Agent[]> {
    await Promise.all([this.nb.ready(), this.sb.ready()]);
    if (now - this.lastPing >= this.downTimeMs / 2) {
      this.lastPing = now;
      const global = this.nb.rows('NB_Global')[0];
      if (global) await this.nb.transact([{ op: 'mutate', table: 'NB_Global', where: [['_uuid', '==', uuid(String(global._uuid))]], mutations: [['nb_cfg', '+=', 1]] }]);
    }
    return agentsOf(this.sb.rows('Chassis'), this.sb.rows('Chassis_Private'), Number(this.sb.rows('SB_Global')[0]?.nb_cfg ?? 0), now, this.downTimeMs);
  }

  /**
   * Writes the agent's description where Neutron keeps it, and returns once the monitor's copy has it (so that
   * the answer and the next read say it); false when no such chassis registered.
   */
  async describe(id: string, description: string, timeoutMs = 30_000): Promise<boolean> {
    await this.sb.ready();
    const rowOf = () => this.sb.rows('Chassis_Private').find((p) => p.name === id);
    const row = rowOf();
    if (!row) return false;
    await this.sb.transact([{ op: 'update', table: 'Chassis_Private', where: [['_uuid', '==', uuid(String(row._uuid))]], row: { external_ids: map({ ...asMap(row.external_ids), [DESCRIPTION_KEY]: description }) } }]);
    await this.until(() => asMap(rowOf()?.external_ids)[DESCRIPTION_KEY] === description, timeoutMs, `chassis ${id}'s description`);
    return true;
  }

  /**
   * Forgets a chassis (its Chassis and Chassis_Private rows), as Neutron's delete of an OVN agent does: for a
   * node that is gone. A live ovn-controller registers again. False when no such chassis registered.
   */
  async forget(id: string, timeoutMs = 30_000): Promise<boolean> {
    await this.sb.ready();
    const named = (table: string) => this.sb.rows(table).find((r) => r.name === id);
    if (!named('Chassis') && !named('Chassis_Private')) return false;
    await this.sb.transact(['Chassis', 'Chassis_Private'].map((table) => ({ op: 'delete', table, where: [['name', '==', id]] })));
    await this.until(() => !named('Chassis') && !named('Chassis_Private'), timeoutMs, `chassis ${id}'s removal`);
    return true;
  }

  /** Resolves once the southbound copy satisfies `done` (the monitor's copy catching up with a write). */
  private async until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (!(await waitUntil(done, timeoutMs))) throw new Error(`OVSDB OVN_Southbound: ${what} not seen by the monitor within ${timeoutMs / 1000} s`);
  }
}
