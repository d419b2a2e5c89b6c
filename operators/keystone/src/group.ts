/** The Group reconciler: a group holds its name (unique in its domain) and says how many members it has. */
import { markReady, patchStatus, type ReconcileContext, type Request, type Result } from '@stratus/runtime';
import { holdName } from './names.js';
import { FIELD_MANAGER, GROUPS, openstackId, type Group } from './resources.js';

export async function reconcileGroup(req: Request, ctx: ReconcileContext<Group>): Promise<Result | void> {
  const group = await ctx.client.get<Group>(GROUPS, undefined, req.name);
  if (!group) return;
  const nameTaken = await holdName(group, ctx);
  if (nameTaken) return nameTaken;
  const members = group.spec.members?.length ?? 0;
  await patchStatus(ctx.client, GROUPS, group, {
    phase: 'Active',
    groupId: openstackId(group.metadata.uid),
    conditions: markReady(group.status?.conditions, group.metadata.generation, 'Defined', `${members} member${members === 1 ? '' : 's'}`),
  }, FIELD_MANAGER);
}
