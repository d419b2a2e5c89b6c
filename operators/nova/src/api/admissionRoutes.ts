/**
 * The Compute API's validating admission webhook (admission.k8s.io/v1), which the control plane asks before it
 * stores an Instance written with kubectl: the same flavor, image and quota checks a server create through the
 * Compute API makes, so that what OpenStack would refuse is refused at once, with Nova's words, instead of
 * being accepted and failed later. An update is asked about when it changes the flavor (a resize). Admins and
 * Stratus's own services are left to the API's and the scheduler's checks (exemptFromAdmission).
 */
import { admissionProjectId, type AdmissionDecider, type AdmissionRequest, type Refusal } from '@stratus/runtime';
import { canSee } from '@stratus/glance';
import { quotaRefusal, type ComputeUsage } from '../quota.js';
import type { Instance } from '../resources.js';
import { canUseFlavor, tenantUsage, type ComputeApiContext, type ComputeAuth } from './context.js';

export const ADMISSION_PATH = '/os-admission/instances';

/** The webhook, by the path it is served at on the admission listener. */
export const admissionWebhooks = (api: ComputeApiContext): Record<string, AdmissionDecider<Instance>> => ({ [`/v2.1${ADMISSION_PATH}`]: (r) => instanceRefusal(api, r) });

/** Why Nova would refuse this Instance write, or nothing (pure but for the caches it reads). */
export function instanceRefusal(api: ComputeApiContext, r: AdmissionRequest<Instance>): Refusal | undefined {
  const inst = r.object!;
  const namespace = r.namespace ?? inst.metadata?.namespace ?? '';
  const projectId = admissionProjectId(r.userInfo) ?? api.dir.projectIdOf(namespace);
  const old = r.operation === 'UPDATE' ? r.oldObject : undefined;
  if (r.operation !== 'CREATE' && !(old && old.spec.flavor !== inst.spec.flavor)) return undefined;
  const flavor = api.dir.flavors.get(inst.spec.flavor);
  const auth = { admin: false, projectId, tenant: namespace, roles: [], userId: r.userInfo?.username ?? '', expiresAt: 0 } as unknown as ComputeAuth;
  if (!flavor || !canUseFlavor(flavor, auth)) return { code: 422, message: `Instance.compute.stratus.io "${inst.metadata?.name ?? ''}" is invalid: spec.flavor: Flavor ${inst.spec.flavor} could not be found.` };
  // Another project's image it may not use (private, or shared with others), in Nova's words, which never tell
  // that it exists. An image not there (yet) is let through: applied in one go with its Image, the Instance may
  // arrive before Nova's cache has seen the Image, and the agent waits for it.
  const imageRef = r.operation === 'CREATE' ? inst.spec.image : undefined;
  if (imageRef?.name) {
    const image = api.dir.images.get(imageRef.name, imageRef.namespace ?? namespace);
    if (image && !canSee(image, { tenant: namespace, admin: false }))
      return { code: 422, message: `Instance.compute.stratus.io "${inst.metadata?.name ?? ''}" is invalid: spec.image: Image ${imageRef.namespace ? `${imageRef.namespace}/` : ''}${imageRef.name} could not be found.` };
  }
  const from = old ? api.dir.flavors.get(old.spec.flavor) : undefined;
  const asked: ComputeUsage = old ? { instances: 0, cores: Math.max(0, flavor.spec.vcpus - (from?.spec.vcpus ?? 0)), ramMiB: Math.max(0, flavor.spec.ramMiB - (from?.spec.ramMiB ?? 0)) } : { instances: 1, cores: flavor.spec.vcpus, ramMiB: flavor.spec.ramMiB };
  const refused = quotaRefusal(api.dir.quotaOf(namespace), tenantUsage(api, namespace), asked);
  return refused ? { code: 403, message: `exceeded quota: ${refused}` } : undefined;
}
