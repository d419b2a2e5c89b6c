/**
 * Validating admission webhooks, as kube-apiserver calls them: every ValidatingWebhookConfiguration whose rules
 * match a create or update (operation, API group, version, resource) is sent an admission.k8s.io/v1
 * AdmissionReview before anything is stored; one that answers `allowed: false` refuses the request with its
 * status (code and message), one that cannot be reached refuses it too unless its failurePolicy is Ignore.
 * Only `clientConfig.url` is called here (there are no Services to resolve).
 */
import { randomUUID } from 'node:crypto';
import type { UserInfo } from './authn.js';
import { ApiError } from './errors.js';
import type { Registry } from './registry.js';
import type { Resources } from './resources.js';
import type { KObject, ResourceType } from './types.js';

interface Rule {
  operations?: string[];
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  scope?: string;
}

export interface ValidatingWebhook {
  name: string;
  clientConfig?: { url?: string };
  rules?: Rule[];
  failurePolicy?: 'Fail' | 'Ignore';
  timeoutSeconds?: number;
}

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

const has = (list: string[] | undefined, v: string) => !!list && (list.includes('*') || list.includes(v));

/** Whether a webhook's rules take this request (pure). */
export function webhookMatches(w: ValidatingWebhook, op: Operation, t: Pick<ResourceType, 'group' | 'version' | 'resource' | 'namespaced'>, subresource?: string): boolean {
  const resource = subresource ? `${t.resource}/${subresource}` : t.resource;
  return (w.rules ?? []).some((r) => {
    if (!has(r.operations, op) || !has(r.apiGroups, t.group) || !has(r.apiVersions, t.version)) return false;
    if (!(r.resources ?? []).some((x) => x === '*' || x === resource || (subresource && x === `${t.resource}/*`) || (subresource && x === `*/${subresource}`))) return false;
    const scope = r.scope ?? '*';
    return scope === '*' || (scope === 'Namespaced') === t.namespaced;
  });
}

export class Admission {
  constructor(
    private readonly registry: Registry,
    private readonly resources: Resources,
  ) {}

  /** Whether any webhook takes this kind of request (so the dry run that shows it the object is worth making). */
  wanted(op: Operation, t: ResourceType, subresource?: string): boolean {
    return this.webhooks().some((w) => !!w.clientConfig?.url && webhookMatches(w, op, t, subresource));
  }

  private webhooks(): ValidatingWebhook[] {
    const type = this.registry.find('admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations');
    if (!type) return [];
    return this.resources.list(type, undefined, {}).items.flatMap((s) => ((s.obj as unknown as { webhooks?: ValidatingWebhook[] }).webhooks ?? []));
  }

  /** Asks every matching webhook; throws the first refusal. */
  async validate(o: { type: ResourceType; operation: Operation; namespace?: string; name?: string; subresource?: string; object?: KObject; oldObject?: KObject; user: UserInfo; dryRun: boolean }): Promise<void> {
    for (const w of this.webhooks()) {
      if (!w.clientConfig?.url || !webhookMatches(w, o.operation, o.type, o.subresource)) continue;
      const uid = randomUUID();
      const review = {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: {
          uid,
          kind: { group: o.type.group, version: o.type.version, kind: o.type.kind },
          resource: { group: o.type.group, version: o.type.version, resource: o.type.resource },
          ...(o.subresource ? { subResource: o.subresource } : {}),
          name: o.name ?? o.object?.metadata?.name ?? '',
          ...(o.namespace ? { namespace: o.namespace } : {}),
          operation: o.operation,
          userInfo: { username: o.user.username, groups: o.user.groups, ...(o.user.uid ? { uid: o.user.uid } : {}), ...(o.user.extra ? { extra: o.user.extra } : {}) },
          object: o.object ?? null,
          oldObject: o.oldObject ?? null,
          dryRun: o.dryRun,
        },
      };
      let response: { uid?: string; allowed?: boolean; status?: { code?: number; message?: string; reason?: string } } | undefined;
      try {
        const res = await fetch(w.clientConfig.url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(review), signal: AbortSignal.timeout((w.timeoutSeconds ?? 10) * 1000) });
        if (!res.ok) throw new Error(`it answered ${res.status}`);
        response = ((await res.json()) as { response?: typeof response }).response;
        if (!response || response.uid !== uid) throw new Error('its answer is not a response to this review');
      } catch (e) {
        if (w.failurePolicy === 'Ignore') continue;
        throw new ApiError(500, 'InternalError', `Internal error occurred: failed calling webhook "${w.name}": ${(e as Error).message}`);
      }
      if (!response.allowed) {
        const code = response.status?.code ?? 403;
        throw new ApiError(code, response.status?.reason ?? (code === 403 ? 'Forbidden' : 'Invalid'), `admission webhook "${w.name}" denied the request: ${response.status?.message ?? 'no reason given'}`);
      }
    }
  }
}
