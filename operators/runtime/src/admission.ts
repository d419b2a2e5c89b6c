/**
 * Validating admission webhooks (admission.k8s.io/v1) that the OpenStack APIs serve, so that a kubectl write
 * the API would refuse is refused at once with the API's words: the AdmissionReview plumbing each API shares,
 * who is left to the API's own checks, and the https listener a real kube-apiserver needs.
 */
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SYSTEM_NAMESPACE } from './crd.js';
import type { Router } from './router.js';

export interface AdmissionRequest<T> {
  uid: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  namespace?: string;
  kind?: { group: string; version: string; kind: string };
  userInfo?: { username?: string; groups?: string[]; extra?: Record<string, string[]> };
  object?: T;
  oldObject?: T;
}

/** Why the API would refuse: 403 (over quota, not allowed) or 422 (a reference it cannot use), with its words. */
export interface Refusal {
  code: 400 | 403 | 422;
  message: string;
}

const REASONS: Record<Refusal['code'], string> = { 400: 'BadRequest', 403: 'Forbidden', 422: 'Invalid' };

/** The group Kubernetes puts every service account of Stratus's namespace in: the services' own writes. */
const SERVICES_GROUP = `system:serviceaccounts:${process.env.STRATUS_NAMESPACE ?? SYSTEM_NAMESPACE}`;

/**
 * Whether the writer is left to the API's own checks: admins (system:masters, also the embedded control
 * plane's services) and, on a cluster, the service accounts of Stratus's namespace (the APIs write what they
 * have checked already).
 */
export const exemptFromAdmission = (userInfo: AdmissionRequest<unknown>['userInfo']) => {
  const groups = userInfo?.groups ?? [];
  return groups.includes('system:masters') || groups.includes(SERVICES_GROUP);
};

/** The project a request's token is scoped to, as Keystone's TokenReview put it in extra. */
export const admissionProjectId = (userInfo: AdmissionRequest<unknown>['userInfo']) => userInfo?.extra?.['alpha.kubernetes.io/identity/project/id']?.[0];

/** Serves an AdmissionReview webhook at `path`: `decide` gives the refusal, or nothing to allow. */
export function admissionRoute<A, T>(router: Router<A>, path: string, decide: (r: AdmissionRequest<T>) => Refusal | undefined | Promise<Refusal | undefined>): void {
  router.public('POST', path, async (req) => {
    const request = (req.body as { request?: AdmissionRequest<T> } | undefined)?.request;
    const answer = (response: Record<string, unknown>) => ({ status: 200, body: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: request?.uid ?? '', ...response } } });
    if (!request?.uid || !request.object) return answer({ allowed: false, status: { code: 400, reason: 'BadRequest', message: 'an AdmissionReview with request.uid and request.object is expected' } });
    const refusal = exemptFromAdmission(request.userInfo) ? undefined : await decide(request);
    return answer(refusal ? { allowed: false, status: { code: refusal.code, reason: REASONS[refusal.code], message: refusal.message } } : { allowed: true });
  });
}

export interface AdmissionTls {
  cert: string | Buffer;
  key: string | Buffer;
  host: string;
  port: number;
}

/** The webhook's serving certificate, where the chart mounts it (ADMISSION_TLS_DIR with tls.crt and tls.key). */
export function admissionTlsFromEnv(host: string, env: NodeJS.ProcessEnv = process.env): AdmissionTls | undefined {
  const dir = env.ADMISSION_TLS_DIR;
  if (!dir) return undefined;
  return { cert: readFileSync(join(dir, 'tls.crt')), key: readFileSync(join(dir, 'tls.key')), host, port: Number(env.ADMISSION_PORT ?? 8443) };
}

/**
 * The webhooks over TLS, for a real kube-apiserver: it calls webhooks over https only, trusting the caBundle
 * its ValidatingWebhookConfiguration names (the chart makes both). Only the webhook paths are served there
 * (with `api`'s own request handler); the API itself stays on its port.
 */
export async function serveAdmissionTls(api: Server, paths: string[], tls: AdmissionTls): Promise<{ url: string; close(): Promise<void> }> {
  const handle = api.listeners('request')[0] as (req: IncomingMessage, res: ServerResponse) => void;
  const allowed = new Set(paths);
  const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    if (req.method === 'POST' && allowed.has((req.url ?? '').split('?')[0])) return handle(req, res);
    res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ code: 404, message: 'Only the admission webhooks are served on this port.' }));
  });
  await new Promise<void>((resolve) => server.listen(tls.port, tls.host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://${tls.host}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A running API that also serves its admission webhooks over TLS when given a certificate (see serveAdmissionTls). */
export async function withAdmissionTls<R extends { close(): Promise<void> }>(
  running: R,
  api: Server,
  paths: string[],
  tls: AdmissionTls | undefined,
  log: { info(message: string, meta: object): unknown },
): Promise<R & { admissionUrl?: string }> {
  if (!tls) return running;
  const webhook = await serveAdmissionTls(api, paths, tls);
  log.info('admission webhooks listening', { url: webhook.url, paths });
  return { ...running, admissionUrl: webhook.url, close: () => Promise.all([webhook.close(), running.close()]).then(() => undefined) };
}
