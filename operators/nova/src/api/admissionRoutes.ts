/**
 * The Compute API's validating admission webhook (admission.k8s.io/v1), which the control plane asks before it
 * stores an Instance written with kubectl: the same flavor and quota checks a server create through the
 * Compute API makes, so that what OpenStack would refuse is refused at once, with Nova's words, instead of
 * being accepted and failed later. Admins (system:masters) and the Stratus services themselves (the embedded
 * control plane's system:masters; on a cluster, the service accounts of Stratus's namespace) are left to the
 * API's and the scheduler's checks: the Compute API has made these checks already when it writes. An update is asked about when it changes the flavor (a resize).
 */
import { SYSTEM_NAMESPACE } from '@stratus/runtime';
import { quotaRefusal, type ComputeUsage } from '../quota.js';
import type { Instance } from '../resources.js';
import { canUseFlavor, tenantUsage, type ComputeApiContext, type ComputeAuth, type ComputeRouter } from './context.js';

export const ADMISSION_PATH = '/os-admission/instances';
/** The group Kubernetes puts every service account of Stratus's namespace in: the services' own writes. */
const SERVICES_GROUP = `system:serviceaccounts:${process.env.STRATUS_NAMESPACE ?? SYSTEM_NAMESPACE}`;

interface AdmissionRequest {
  uid: string;
  operation: string;
  namespace?: string;
  userInfo?: { username?: string; groups?: string[]; extra?: Record<string, string[]> };
  object?: Instance;
  oldObject?: Instance;
}

export function admissionRoutes(router: ComputeRouter, api: ComputeApiContext) {
  router.public('POST', ADMISSION_PATH, (req) => {
    const request = (req.body as { request?: AdmissionRequest } | undefined)?.request;
    const answer = (response: Record<string, unknown>) => ({ status: 200, body: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: request?.uid ?? '', ...response } } });
    if (!request?.uid || !request.object) return answer({ allowed: false, status: { code: 400, reason: 'BadRequest', message: 'an AdmissionReview with request.uid and request.object is expected' } });
    const refusal = instanceRefusal(api, request);
    return answer(refusal ? { allowed: false, status: { code: refusal.code, reason: refusal.code === 403 ? 'Forbidden' : 'Invalid', message: refusal.message } } : { allowed: true });
  });
}

/** Why Nova would refuse this Instance write, or nothing (pure but for the caches it reads). */
export function instanceRefusal(api: ComputeApiContext, r: AdmissionRequest): { code: number; message: string } | undefined {
  const groups = r.userInfo?.groups ?? [];
  if (groups.includes('system:masters') || groups.includes(SERVICES_GROUP)) return undefined;
  const inst = r.object!;
  const namespace = r.namespace ?? inst.metadata?.namespace ?? '';
  const projectId = r.userInfo?.extra?.['alpha.kubernetes.io/identity/project/id']?.[0] ?? api.dir.projectIdOf(namespace);
  const old = r.operation === 'UPDATE' ? r.oldObject : undefined;
  if (r.operation !== 'CREATE' && !(old && old.spec.flavor !== inst.spec.flavor)) return undefined;
  const flavor = api.dir.flavors.get(inst.spec.flavor);
  const auth = { admin: false, projectId, tenant: namespace, roles: [], userId: r.userInfo?.username ?? '', expiresAt: 0 } as unknown as ComputeAuth;
  if (!flavor || !canUseFlavor(flavor, auth)) return { code: 422, message: `Instance.compute.stratus.io "${inst.metadata?.name ?? ''}" is invalid: spec.flavor: Flavor ${inst.spec.flavor} could not be found.` };
  const from = old ? api.dir.flavors.get(old.spec.flavor) : undefined;
  const asked: ComputeUsage = old ? { instances: 0, cores: Math.max(0, flavor.spec.vcpus - (from?.spec.vcpus ?? 0)), ramMiB: Math.max(0, flavor.spec.ramMiB - (from?.spec.ramMiB ?? 0)) } : { instances: 1, cores: flavor.spec.vcpus, ramMiB: flavor.spec.ramMiB };
  const refused = quotaRefusal(api.dir.quotaOf(namespace), tenantUsage(api, namespace), asked);
  return refused ? { code: 403, message: `exceeded quota: ${refused}` } : undefined;
}
