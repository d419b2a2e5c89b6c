/**
 * The admission webhook over TLS, for a real kube-apiserver: it calls webhooks over https only, trusting the
 * caBundle its ValidatingWebhookConfiguration names (the chart makes both). Only the webhook's path is served
 * there; the Compute API itself stays on its own port.
 */
import * as https from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADMISSION_PATH } from './admissionRoutes.js';

export interface AdmissionTls {
  cert: string | Buffer;
  key: string | Buffer;
  host: string;
  port: number;
}

/** The paths the webhook answers on (Nova's prefixes before it), as the API server routes them. */
const WEBHOOK_PATHS = new Set(['/v2.1', '/compute/v2.1'].map((p) => p + ADMISSION_PATH));

export async function serveAdmissionTls(api: Server, tls: AdmissionTls): Promise<{ url: string; close(): Promise<void> }> {
  const handle = api.listeners('request')[0] as (req: IncomingMessage, res: ServerResponse) => void;
  const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'POST' && WEBHOOK_PATHS.has(path)) return handle(req, res);
    res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ itemNotFound: { code: 404, message: 'Only the admission webhook is served on this port.' } }));
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
