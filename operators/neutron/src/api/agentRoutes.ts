/**
 * Agents: /v2.0/agents (Neutron's agent extension, as ML2/OVN serves it). Only admins see agents (Neutron's
 * policy: a member's list is empty, and one agent is not found); only the description may change, and a
 * delete forgets a chassis that is gone.
 */
import type { Agent, OvnAgents } from '../ovn/agents.js';
import { listFilter, onlyKnown, resourceBody, str, bool, type NetAuth, type NetRouter } from './context.js';
import { NeutronError, notFound, unavailable } from './errors.js';
import { pick } from './views.js';

const agentNotFound = (id: string) => notFound('AgentNotFound', `Agent ${id} could not be found.`);
const badAgentRequest = (msg: string) => new NeutronError(400, 'BadRequest', `Bad agent request: ${msg}.`);

export function agentRoutes(r: NetRouter, agents: OvnAgents | undefined): void {
  /** The agents the caller may see: all of them for an admin, none for anyone else. */
  const visible = async (auth: NetAuth): Promise<Agent[]> => {
    if (!auth.admin || !agents) return [];
    try {
      return await agents.list();
    } catch (e) {
      throw unavailable(`OVN's southbound database cannot be read: ${(e as Error).message}`);
    }
  };
  const one = async (auth: NetAuth, id: string) => {
    const a = (await visible(auth)).find((x) => x.id === id);
    if (!a) throw agentNotFound(id);
    return a;
  };

  r.on('GET', '/v2.0/agents', async ({ auth, query }) => {
    const { matches, fields } = listFilter(query);
    return { status: 200, body: { agents: (await visible(auth!)).filter(matches).map((a) => pick(a, fields)) } };
  });
  r.on('GET', '/v2.0/agents/:id', async ({ auth, params, query }) => ({ status: 200, body: { agent: pick((await one(auth!, params.id)), query.getAll('fields')) } }));
  r.on('PUT', '/v2.0/agents/:id', async ({ auth, params, body }) => {
    const a = await one(auth!, params.id);
    const u = resourceBody(body, 'agent');
    onlyKnown(u, ['description', 'admin_state_up'], 'agent');
    // OVN's agents are always up: admin_state_up may be said true (python-neutronclient always sends it), never false.
    if (bool(u.admin_state_up, 'admin_state_up') === false) throw badAgentRequest('OVN agent status cannot be updated');
    const description = str(u.description, 'description');
    if (description !== undefined && description !== a.description && !(await agents!.describe(a.id, description))) throw agentNotFound(a.id);
    return { status: 200, body: { agent: await one(auth!, params.id) } };
  });
  r.on('DELETE', '/v2.0/agents/:id', async ({ auth, params }) => {
    const a = await one(auth!, params.id);
    if (!(await agents!.forget(a.id))) throw agentNotFound(a.id);
    return { status: 204 };
  });
}
