import { strict as assert } from 'node:assert';
import { AGENT_DOWN_TIME_MS, agentsOf } from '../src/ovn/agents.js';

describe('OVN agents as Neutron shows them', () => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  // The southbound rows as the monitor copies them: maps as objects, references as UUID strings.
  const chassis = (name: string, cms = '') => ({ _uuid: `c-${name}`, name, hostname: `${name}.example`, nb_cfg: 0, external_ids: {}, other_config: { 'ovn-bridge-mappings': 'physnet1:br-ex', 'ovn-cms-options': cms } });
  const reported = (name: string, nbCfg: number, at: number, description?: string) => ({ _uuid: `p-${name}`, name, chassis: `c-${name}`, nb_cfg: nbCfg, nb_cfg_timestamp: at, external_ids: description ? { 'neutron:description': description } : {} });

  it('shows each chassis as an ovn-controller agent with its host, bridge mappings and description', () => {
    const [a] = agentsOf([chassis('node-1')], [reported('node-1', 7, now - 1000, 'rack 4')], 7, now);
    assert.equal(a.id, 'node-1');
    assert.equal(a.agent_type, 'OVN Controller agent');
    assert.equal(a.binary, 'ovn-controller');
    assert.equal(a.host, 'node-1.example');
    assert.equal(a.description, 'rack 4');
    assert.deepEqual(a.configurations, { chassis_name: 'node-1', 'bridge-mappings': 'physnet1:br-ex' });
    assert.equal(a.heartbeat_timestamp, '2026-11-30 11:59:59');
    assert.equal(a.alive, true);
    assert.equal(a.admin_state_up, true);
  });

  it('calls a gateway chassis a gateway agent and lists its availability zones', () => {
    const [a] = agentsOf([chassis('gw', 'enable-chassis-as-gw,availability-zones=az1:az2')], [], 0, now);
    assert.equal(a.agent_type, 'OVN Controller Gateway agent');
    assert.equal(a.availability_zone, 'az1, az2');
  });

  it('is alive while at most one ask behind, or answered within the down time; dead past both', () => {
    const alive = (reached: number, answeredAgo: number) => agentsOf([chassis('n')], [reported('n', reached, now - answeredAgo)], 10, now)[0].alive;
    assert.equal(alive(10, 10 * AGENT_DOWN_TIME_MS), true, 'caught up');
    assert.equal(alive(9, 10 * AGENT_DOWN_TIME_MS), true, 'one ask behind');
    assert.equal(alive(8, 1000), true, 'behind but answered a moment ago');
    assert.equal(alive(8, AGENT_DOWN_TIME_MS + 1000), false, 'behind and silent past the down time');
  });

  it('lists agents in a stable order, whatever order the rows came in', () => {
    const ids = agentsOf([chassis('b'), chassis('a'), chassis('c')], [], 0, now).map((a) => a.id);
    assert.deepEqual(ids, ['a', 'b', 'c']);
  });
});
