/** An instance's NICs as its spec names them: the Ports it has (the agent makes those it asks a network for). */
import { DEFAULT_SECURITY_GROUP } from '@stratus/neutron';
import type { Instance } from './resources.js';

/** Nova's device owner for a server's ports. */
export const NIC_OWNER = 'compute:nova';

/** The name of the Port made for the instance's NIC number `i`. */
export const madePortName = (inst: Instance, i: number) => `${inst.metadata.name}-nic${i}`;

/** The security groups the instance's NICs are in: none named is its project's default group, as Nova's. */
export const instanceSecurityGroups = (inst: Instance): string[] => inst.spec.securityGroups ?? [DEFAULT_SECURITY_GROUP];

/** The Port object names the instance's spec.networks stand for, in order. */
export const wantedPortNames = (inst: Instance) => (inst.spec.networks ?? []).map((want, i) => want.port ?? madePortName(inst, i));
