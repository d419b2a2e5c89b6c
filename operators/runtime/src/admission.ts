/**
 * Validating admission webhooks (admission.k8s.io/v1) that the OpenStack APIs serve, so that a kubectl write
 * the API would refuse is refused at once with the API's words: the AdmissionReview plumbing each API shares,
 * who is left to the API's own checks, and the listener of their own they are served on (never the API's
 * port, which the gateway makes public: a webhook's answers speak of other projects' usage and images).
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { releaseNamespace } from './crd.js';
import { readJsonBody } from './router.js';

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
const SERVICES_GROUP = `system:serviceaccounts:${releaseNamespace()}`;

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

/** One webhook's decision: the refusal, or nothing to allow. */
export type AdmissionDecider<T> = (r: AdmissionRequest<T>) => Refusal | undefined | Promise<Refusal | undefined>;

/** The answer to an AdmissionReview body, as `decide` rules (exempt writers allowed). */
async function review(body: unknown, decide: AdmissionDecider<unknown>): Promise<Record<string, unknown>> {
  const request = (body as { request?: AdmissionRequest<unknown> } | undefined)?.request;
  const answer = (response: Record<string, unknown>) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: request?.uid ?? '', ...response } });
  if (!request?.uid || !request.object) return answer({ allowed: false, status: { code: 400, reason: 'BadRequest', message: 'an AdmissionReview with request.uid and request.object is expected' } });
  const refusal = exemptFromAdmission(request.userInfo) ? undefined : await decide(request);
  return answer(refusal ? { allowed: false, status: { code: refusal.code, reason: REASONS[refusal.code], message: refusal.message } } : { allowed: true });
}

/**
 * Where an API's webhooks listen: a port of their own, never the API's, so that only the control plane (told
 * this address) asks them; on a cluster with the chart's certificate (kube-apiserver calls webhooks over https
 * only, trusting the caBundle its ValidatingWebhookConfiguration names).
 */
export interface AdmissionListener {
  host: string;
  port: number;
  cert?: string | Buffer;
  key?: string | Buffer;
}

/** ADMISSION_PORT (and, on a cluster, ADMISSION_TLS_DIR with tls.crt and tls.key, where the chart mounts them). */
export function admissionListenerFromEnv(host: string, env: NodeJS.ProcessEnv = process.env): AdmissionListener | undefined {
  const dir = env.ADMISSION_TLS_DIR;
  if (!env.ADMISSION_PORT && !dir) return undefined;
  return { host, port: Number(env.ADMISSION_PORT ?? 8443), ...(dir ? { cert: readFileSync(join(dir, 'tls.crt')), key: readFileSync(join(dir, 'tls.key')) } : {}) };
}

const MAX_REVIEW_BYTES = 3 * 1024 * 1024;
const sendJson = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
};

/** Serves the webhooks (path → decision) on their own listener; every other request is 404. */
export async function serveAdmission(webhooks: Record<string, AdmissionDecider<any>>, listener: AdmissionListener): Promise<{ url: string; close(): Promise<void> }> {
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const decide = req.method === 'POST' ? webhooks[(req.url ?? '').split('?')[0]] : undefined;
    if (!decide) return sendJson(res, 404, { code: 404, message: 'Only the admission webhooks are served on this port.' });
    const bad = (message: string) => Object.assign(new Error(message), { status: 400 });
    readJsonBody(req, MAX_REVIEW_BYTES, { tooLarge: () => bad('the AdmissionReview is too large'), malformed: () => bad('the AdmissionReview is not JSON') })
      .then((body) => review(body, decide))
      .then(
        (answer) => sendJson(res, 200, answer),
        (e: Error & { status?: number }) => sendJson(res, e.status ?? 500, { code: e.status ?? 500, message: e.message }),
      );
  };
  const server = listener.cert ? https.createServer({ cert: listener.cert, key: listener.key }, handle) : http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(listener.port, listener.host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${listener.cert ? 'https' : 'http'}://${listener.host}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A running API that also serves its admission webhooks, when given where (see serveAdmission). */
export async function withAdmission<R extends { close(): Promise<void> }>(
  running: R,
  webhooks: Record<string, AdmissionDecider<any>>,
  listener: AdmissionListener | undefined,
  log: { info(message: string, meta: object): unknown },
): Promise<R & { admissionUrl?: string }> {
  if (!listener) return running;
  const served = await serveAdmission(webhooks, listener);
  log.info('admission webhooks listening', { url: served.url, paths: Object.keys(webhooks) });
  return { ...running, admissionUrl: served.url, close: () => Promise.all([served.close(), running.close()]).then(() => undefined) };
}
