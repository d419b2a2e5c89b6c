/** Neutron: tenant networks on OVN. */
export * from './kinds.js';
export * from './resources.js';
export * from './ipam.js';
export * from './operator.js';
export type { OvnMechanism as OvnMechanismHandle } from './ovn/mechanism.js';
export * from './ovn/daemons.js';
export * from './ovn/hostSwitch.js';
export { OvsdbClient, OvsdbError } from './ovsdb/client.js';
export { startNetworkingApi, EXTENSIONS, type NetworkingApi, type NetworkingApiOptions } from './api/server.js';
export { NETWORKING_ADMISSION_PATH } from './api/admissionRoutes.js';
export * from './routers.js';
export * from './floatingIPs.js';
export { ruleIdOf, defaultRules } from './securityGroups.js';
export { ensureDefaultSecurityGroup } from './reconcilers.js';
export { changeSecurityGroupRules, dropRulesNaming } from './groupRules.js';
