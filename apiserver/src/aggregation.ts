/**
 * API aggregation, as kube-apiserver's aggregator does it: an APIService (apiregistration.k8s.io/v1) names a
 * group/version and the Service of an extension API server (virt-api serves subresources.kubevirt.io this
 * way); requests under /apis/{group}/{version} are proxied to it over TLS with the requester's identity in
 * X-Remote-User and X-Remote-Group, and the group shows in discovery. The control plane presents its front
 * proxy's client certificate on every such connection, whose CA it publishes in kube-system's
 * extension-apiserver-authentication ConfigMap: the extension server believes those headers only from it.
 *
 * This control plane has no cluster network: it reaches a Service of type ExternalName (host and the
 * APIService's port), which is what a Service pointing outside the cluster is. Any other Service type is
 * 503 ServiceUnavailable saying so. RBAC is decided here before the request is passed on (the aggregator
 * leaves that to the extension server, which asks the API server; the outcome for the user is the same).
 */
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './errors.js';
import type { Registry } from './registry.js';
import type { Resources } from './resources.js';
import type { UserInfo } from './authn.js';
import type { ServingCert } from './tls.js';

interface ApiServiceSpec {
  group?: string;
  version?: string;
  service?: { namespace?: string; name?: string; port?: number } | null;
  caBundle?: string;
  insecureSkipTLSVerify?: boolean;
}

export interface Backend {
  apiService: string;
  host: string;
  port: number;
  ca?: string;
  insecure: boolean;
}

export class Aggregator {
  constructor(
    private readonly registry: Registry,
    private readonly resources: Resources,
    /** The front proxy's client certificate, presented to extension servers. */
    private readonly proxyClient?: ServingCert,
  ) {}

  private apiServices(): Array<{ name: string; spec: ApiServiceSpec }> {
    const type = this.registry.find('apiregistration.k8s.io', 'v1', 'apiservices');
    if (!type) return [];
    return this.resources.list(type, undefined, {}).items.map((s) => ({ name: s.obj.metadata.name!, spec: ((s.obj as unknown as { spec?: ApiServiceSpec }).spec ?? {}) }));
  }

  /** The groups and versions extension servers serve (for /apis). */
  groups(): Array<{ group: string; versions: string[] }> {
    const out = new Map<string, string[]>();
    for (const a of this.apiServices()) if (a.spec.service && a.spec.group && a.spec.version) out.set(a.spec.group, [...(out.get(a.spec.group) ?? []), a.spec.version]);
    return [...out].map(([group, versions]) => ({ group, versions }));
  }

  /** The extension server serving group/version, if an APIService with a Service names one. */
  backendFor(group: string, version: string): Backend | undefined {
    const a = this.apiServices().find((x) => x.spec.group === group && x.spec.version === version && x.spec.service);
    if (!a) return undefined;
    const ref = a.spec.service!;
    const svcType = this.registry.find('', 'v1', 'services')!;
    const svc = ref.name ? this.resources.getStored(svcType, ref.namespace ?? 'default', ref.name)?.obj : undefined;
    const spec = (svc as unknown as { spec?: { type?: string; externalName?: string } } | undefined)?.spec;
    if (!svc) throw new ApiError(503, 'ServiceUnavailable', `the server is currently unable to handle the request: service ${ref.namespace}/${ref.name} of APIService ${a.name} not found`);
    if (spec?.type !== 'ExternalName' || !spec.externalName)
      throw new ApiError(503, 'ServiceUnavailable', `the server is currently unable to handle the request: service ${ref.namespace}/${ref.name} of APIService ${a.name} is not of type ExternalName, the only kind this control plane (which has no cluster network) can reach`);
    return { apiService: a.name, host: spec.externalName, port: ref.port ?? 443, ca: a.spec.caBundle ? Buffer.from(a.spec.caBundle, 'base64').toString('utf8') : undefined, insecure: !!a.spec.insecureSkipTLSVerify };
  }

  /** Passes the request to the extension server and its answer back, streamed both ways. */
  proxy(req: IncomingMessage, res: ServerResponse, b: Backend, user: UserInfo): Promise<void> {
    const headers: Record<string, string | string[]> = { 'X-Remote-User': user.username, 'X-Remote-Group': user.groups };
    for (const h of ['content-type', 'content-length', 'accept', 'user-agent', 'transfer-encoding']) if (req.headers[h]) headers[h] = req.headers[h] as string;
    return new Promise((resolve, reject) => {
      const out = httpsRequest({ host: b.host, port: b.port, method: req.method, path: req.url, headers, ...tlsTo(b, this.proxyClient) }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, Object.fromEntries(Object.entries(answer.headers).filter(([k]) => !['connection', 'keep-alive'].includes(k))) as Record<string, string>);
        answer.pipe(res);
        answer.on('end', resolve);
        answer.on('error', reject);
      });
      out.on('error', (e) => reject(new ApiError(503, 'ServiceUnavailable', `the server is currently unable to handle the request: error trying to reach service of APIService ${b.apiService}: ${e.message}`)));
      req.pipe(out);
    });
  }
}

/** TLS to an extension server: its CA (or none checked, as its APIService says), our front proxy's certificate. */
const tlsTo = (b: Backend, proxyClient: ServingCert | undefined) => ({
  ...(b.ca ? { ca: b.ca } : {}),
  rejectUnauthorized: !b.insecure,
  ...(isIP(b.host) ? {} : { servername: b.host }),
  ...(proxyClient ? { cert: proxyClient.cert, key: proxyClient.key } : {}),
});

/**
 * Passes an upgrade (a WebSocket: virt-api's VNC and serial consoles) to the extension server: the request
 * goes on with the caller's identity instead of their credentials, and from its answer on the two sockets are
 * joined byte for byte.
 */
export function proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, b: Backend, user: UserInfo, proxyClient: ServingCert | undefined, onError: (e: Error) => void): void {
  const out = tlsConnect({ host: b.host, port: b.port, ...tlsTo(b, proxyClient) });
  out.once('error', onError);
  out.once('secureConnect', () => {
    out.removeListener('error', onError);
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!;
      if (!/^(authorization|x-remote-user|x-remote-group)$/i.test(name)) lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
    }
    lines.push(`X-Remote-User: ${user.username}`, ...user.groups.map((g) => `X-Remote-Group: ${g}`));
    out.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length) out.write(head);
    out.pipe(socket);
    socket.pipe(out);
    const close = () => {
      out.destroy();
      socket.destroy();
    };
    out.on('error', close).on('close', close);
    socket.on('error', close).on('close', close);
  });
}

/** A path below an aggregated group/version as RBAC sees it: namespace, resource, name and subresource. */
export function aggregatedAttributes(rest: string[]): { namespace?: string; resource?: string; name?: string; subresource?: string } {
  let r = rest;
  let namespace: string | undefined;
  if (r[0] === 'namespaces' && r.length >= 3) {
    namespace = r[1];
    r = r.slice(2);
  }
  const [resource, name, ...sub] = r;
  return { namespace, resource, name, subresource: sub.length ? sub.join('/') : undefined };
}
