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

/**
 * Before a group is deleted through an OpenStack API: the rules of the namespace's other groups that let its
 * members in (remote_group_id) go with it, as Neutron's database deletes them with their remote group. (A
 * kubectl delete leaves them, and the groups naming a gone group say so in their status.)
 */
export async function dropRulesNaming(client: KubeClient, group: SecurityGroup, fieldManager: string): Promise<void> {
  const { namespace, name } = group.metadata;
  const naming = (await client.list<SecurityGroup>(SECURITY_GROUPS, namespace)).items.filter((g) => g.metadata.name !== name && (g.spec.rules ?? []).some((r) => r.remoteGroup === name));
  for (const g of naming) await changeSecurityGroupRules(client, g, (rules) => rules.filter((r) => r.remoteGroup !== name), fieldManager);
}
