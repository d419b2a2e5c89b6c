/** KubeVirt's and CDI's kinds as the driver and the stand-in address them, and their subresource API. */
import type { ResourceRef } from '@stratus/runtime';

export const VIRTUAL_MACHINES: ResourceRef = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachines', namespaced: true };
export const VIRTUAL_MACHINE_INSTANCES: ResourceRef = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstances', namespaced: true };
export const DATA_VOLUMES: ResourceRef = { group: 'cdi.kubevirt.io', version: 'v1beta1', plural: 'datavolumes', namespaced: true };
export const VIRTUAL_MACHINE_SNAPSHOTS: ResourceRef = { group: 'snapshot.kubevirt.io', version: 'v1beta1', plural: 'virtualmachinesnapshots', namespaced: true };
export const VIRTUAL_MACHINE_EXPORTS: ResourceRef = { group: 'export.kubevirt.io', version: 'v1', plural: 'virtualmachineexports', namespaced: true };
export const SECRETS: ResourceRef = { group: '', version: 'v1', plural: 'secrets', namespaced: true };
export const PERSISTENT_VOLUMES: ResourceRef = { group: '', version: 'v1', plural: 'persistentvolumes', namespaced: false };
export const PERSISTENT_VOLUME_CLAIMS: ResourceRef = { group: '', version: 'v1', plural: 'persistentvolumeclaims', namespaced: true };

/** virt-api's actions (subresources.kubevirt.io/v1), each a PUT on the VM or the VMI (addvolume and removevolume with a body). */
export type VmAction = 'restart' | 'start' | 'stop' | 'addvolume' | 'removevolume';
export type VmiAction = 'pause' | 'unpause' | 'softreboot';
export const SUBRESOURCE_GROUP = 'subresources.kubevirt.io';

export const vmActionPath = (namespace: string, name: string, action: VmAction) => `/apis/${SUBRESOURCE_GROUP}/v1/namespaces/${encodeURIComponent(namespace)}/virtualmachines/${encodeURIComponent(name)}/${action}`;
export const vmiActionPath = (namespace: string, name: string, action: VmiAction) => `/apis/${SUBRESOURCE_GROUP}/v1/namespaces/${encodeURIComponent(namespace)}/virtualmachineinstances/${encodeURIComponent(name)}/${action}`;
/** The VMI's display: a WebSocket (GET, subprotocol plain.kubevirt.io). */
export const vmiVncPath = (namespace: string, name: string) => `/apis/${SUBRESOURCE_GROUP}/v1/namespaces/${encodeURIComponent(namespace)}/virtualmachineinstances/${encodeURIComponent(name)}/vnc`;
