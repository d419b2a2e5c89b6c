/**
 * Nova's instance actions as Kubernetes Events on the Instance (reason ServerAction, labelled with its UID,
 * annotated with the request, who asked, and the generation the action wrote): the API records what users
 * ask; the node agent records what it does on another service's word (an online extend, as Nova records
 * Cinder's volume-extended event). Read back by the API's os-instance-actions.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { now } from '@stratus/runtime';
import type { Instance } from './resources.js';

export const ACTION_REASON = 'ServerAction';
export const INSTANCE_LABEL = 'compute.stratus.io/instance-uid';
export const REQUEST = 'compute.stratus.io/request-id';
export const USER = 'compute.stratus.io/user-id';
export const PROJECT = 'compute.stratus.io/project-id';
export const GENERATION = 'compute.stratus.io/generation';

/** Who asked for an action, and the request's ID (req-<uuid>). */
export interface ActionRequest {
  requestId: string;
  userId: string;
  userName?: string;
  projectId: string;
}

/** The Event recording that `action` was asked of the instance, by `component` (its field manager). */
export function actionEventBody(inst: Instance, action: string, who: ActionRequest, component: string): KubernetesObject {
  const at = now();
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      name: `${inst.metadata.name}.${who.requestId.slice(4, 16)}`,
      namespace: inst.metadata.namespace,
      labels: { [INSTANCE_LABEL]: inst.metadata.uid! },
      annotations: { [REQUEST]: who.requestId, [USER]: who.userId, [PROJECT]: who.projectId, [GENERATION]: String(inst.metadata.generation ?? 1) },
    },
    involvedObject: { apiVersion: inst.apiVersion, kind: 'Instance', name: inst.metadata.name, namespace: inst.metadata.namespace, uid: inst.metadata.uid },
    type: 'Normal',
    reason: ACTION_REASON,
    action,
    message: `${action} asked by ${who.userName ?? who.userId ?? component} (${who.requestId})`,
    source: { component },
    reportingComponent: component,
    firstTimestamp: at,
    lastTimestamp: at,
    count: 1,
  } as KubernetesObject;
}

/** The name of the one event Nova shows in an action (compute_<action>_instance; some have their own). */
export const actionEventName = (action: string) => (action === 'extend_volume' ? 'compute_extend_volume' : `compute_${action}_instance`);
