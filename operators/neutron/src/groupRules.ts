/** Changes to a security group's rules, for every API that makes them (the Networking API, Nova's proxy). */
import { MERGE_PATCH, isConflict, type KubeClient } from '@stratus/runtime';
import { SECURITY_GROUPS, type SecurityGroup, type SecurityGroupRule } from './resources.js';

/**
 * Writes the group's rules as `change` makes them from its current ones, under its resourceVersion: a
 * concurrent change makes it read the group again and decide anew (a few times, then the conflict is thrown).
 */
export async function changeSecurityGroupRules(client: KubeClient, group: SecurityGroup, change: (rules: SecurityGroupRule[]) => SecurityGroupRule[], fieldManager: string): Promise<SecurityGroup> {
  for (let attempt = 0; ; attempt++) {
    const current = (await client.get<SecurityGroup>(SECURITY_GROUPS, group.metadata.namespace, group.metadata.name)) ?? group;
    try {
      return await client.patch<SecurityGroup>(SECURITY_GROUPS, group.metadata.namespace, group.metadata.name, { metadata: { resourceVersion: current.metadata.resourceVersion }, spec: { rules: change(current.spec.rules ?? []) } }, fieldManager, MERGE_PATCH);
    } catch (e) {
      if (!isConflict(e) || attempt >= 5) throw e;
    }
  }
}
