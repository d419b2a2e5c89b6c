/** The Domain reconciler: a domain holds its unique name and says whether it is enabled. */
import { markReady, patchStatus, type ReconcileContext, type Request, type Result } from '@stratus/runtime';
import { holdName } from './names.js';
import { DOMAINS, FIELD_MANAGER, openstackId, type Domain } from './resources.js';

export async function reconcileDomain(req: Request, ctx: ReconcileContext<Domain>): Promise<Result | void> {
  const domain = await ctx.client.get<Domain>(DOMAINS, undefined, req.name);
  if (!domain) return;
  const nameTaken = await holdName(domain, ctx);
  if (nameTaken) return nameTaken;
  const enabled = domain.spec.enabled !== false;
  await patchStatus(ctx.client, DOMAINS, domain, {
    phase: enabled ? 'Active' : 'Disabled',
    domainId: openstackId(domain.metadata.uid),
    conditions: markReady(domain.status?.conditions, domain.metadata.generation, enabled ? 'Defined' : 'Disabled', enabled ? 'its projects and users may sign in' : 'the domain is disabled: nobody in it signs in'),
  }, FIELD_MANAGER);
}
