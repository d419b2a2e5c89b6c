/**
 * A small REST client over the kubeconfig's connection (TLS, token) for what the generated client-node
 * APIs cannot do generically: any kind's /status subresource, merge patches and server-side apply.
 */
import * as https from 'node:https';
import * as http from 'node:http';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';

export interface ResourceRef {
  group: string;
  version: string;
  /** Plural resource name, e.g. `widgets`. */
  plural: string;
  namespaced: boolean;
}

export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly status?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export const isNotFound = (e: unknown) => e instanceof KubeApiError && e.code === 404;
/** For a `.catch` on a delete or a release: gone already is what was wanted; any other failure goes on. */
export const ignoreNotFound = (e: unknown): void => {
  if (!isNotFound(e)) throw e;
};
export const isConflict = (e: unknown) => e instanceof KubeApiError && e.code === 409;

export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

export function resourcePath(r: ResourceRef, namespace?: string, name?: string, subresource?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${r.plural}${name ? `/${encodeURIComponent(name)}` : ''}${subresource ? `/${subresource}` : ''}`;
}

/** Connections one client keeps to the API server at most (client-go multiplexes over one HTTP/2 connection). */
export const MAX_CONNECTIONS = 64;

export class KubeClient {
  private readonly agent: https.Agent | http.Agent;

  constructor(readonly kc: KubeConfig) {
    const server = kc.getCurrentCluster()?.server ?? '';
    // At most MAX_CONNECTIONS connections: a burst of requests waits for one in the pool instead of opening a
    // TLS connection each, which overflowed the API server's accept queue (connections reset) under load.
    const options = { keepAlive: true, maxSockets: MAX_CONNECTIONS };
    this.agent = server.startsWith('https') ? new https.Agent(options) : new http.Agent(options);
  }

  async request<T = any>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    const url = new URL(path, cluster.server);
    const opts: https.RequestOptions = { method, headers: { Accept: 'application/json' }, agent: this.agent };
    await this.kc.applyToHTTPSOptions(opts);
    // client-node puts a new Agent in the options on every call, which means a new TLS handshake per request
    // (60% of a busy operator's CPU, measured). Its CA, client certificate and token stay in the options;
    // our keep-alive agent pools connections keyed by exactly those.
    opts.agent = this.agent;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) Object.assign(opts.headers!, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) });
    const lib = url.protocol === 'https:' ? https : http;
    const send = (retried: boolean) => new Promise<T>((resolve, reject) => {
      const req = lib.request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const parsed = text ? safeJson(text) : undefined;
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) return resolve(parsed as T);
          const status = (parsed ?? {}) as Record<string, any>;
          reject(new KubeApiError(code, status.reason ?? 'Unknown', `${method} ${path}: ${status.message ?? text ?? code}`, status));
        });
        res.on('error', reject);
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        // A kept-alive connection the server closed for idleness just as this request went out on it: the server
        // never read the request, so it is sent again on a new connection, once (Node's documented pattern).
        if (req.reusedSocket && e.code === 'ECONNRESET' && !retried) resolve(send(true));
        else reject(e);
      });
      req.end(payload);
    });
    return send(false);
  }

  /** The object, or undefined when it does not exist. */
  async get<T extends KubernetesObject>(r: ResourceRef, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', resourcePath(r, namespace, name));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  list<T extends KubernetesObject>(r: ResourceRef, namespace?: string, labelSelector?: string): Promise<{ items: T[]; metadata: { resourceVersion?: string } }> {
    const q = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : '';
    return this.request('GET', resourcePath(r, namespace) + q);
  }

  create<T extends KubernetesObject>(r: ResourceRef, obj: T, fieldManager: string): Promise<T> {
    return this.request('POST', `${resourcePath(r, obj.metadata?.namespace)}?fieldManager=${encodeURIComponent(fieldManager)}`, obj);
  }

  replace<T extends KubernetesObject>(r: ResourceRef, obj: T, fieldManager: string, subresource?: string): Promise<T> {
    return this.request('PUT', `${resourcePath(r, obj.metadata?.namespace, obj.metadata!.name, subresource)}?fieldManager=${encodeURIComponent(fieldManager)}`, obj);
  }

  patch<T extends KubernetesObject>(r: ResourceRef, namespace: string | undefined, name: string, patch: unknown, fieldManager: string, contentType = MERGE_PATCH, subresource?: string): Promise<T> {
    return this.request('PATCH', `${resourcePath(r, namespace, name, subresource)}?fieldManager=${encodeURIComponent(fieldManager)}`, patch, contentType);
  }

  /** Creates `desired`, or replaces `current` with it, carrying current's resourceVersion so a concurrent change makes this a 409. */
  createOrReplace<T extends KubernetesObject>(r: ResourceRef, current: KubernetesObject | undefined, desired: T, fieldManager: string): Promise<T> {
    if (!current) return this.create(r, desired, fieldManager);
    return this.replace(r, { ...desired, metadata: { ...desired.metadata, resourceVersion: current.metadata?.resourceVersion } }, fieldManager);
  }

  /**
   * Merge-patches an object, creating it as `created` when it is not there yet (a settings ConfigMap's first
   * write); of two first writes at once, the one that loses the create patches what the other made.
   */
  async patchOrCreate<T extends KubernetesObject>(r: ResourceRef, created: T, patch: unknown, fieldManager: string): Promise<T> {
    const write = () => this.patch<T>(r, created.metadata?.namespace, created.metadata!.name!, patch, fieldManager, MERGE_PATCH);
    try {
      return await write();
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    try {
      return await this.create(r, created, fieldManager);
    } catch (e) {
      if (isConflict(e)) return write();
      throw e;
    }
  }

  /** Server-side apply, taking ownership of the fields it sets (as `kubectl apply --server-side --force-conflicts`). */
  apply<T extends KubernetesObject>(r: ResourceRef, obj: T, fieldManager: string): Promise<T> {
    const path = resourcePath(r, obj.metadata?.namespace, obj.metadata!.name);
    return this.request('PATCH', `${path}?fieldManager=${encodeURIComponent(fieldManager)}&force=true`, obj, APPLY_PATCH);
  }

  async delete(r: ResourceRef, namespace: string | undefined, name: string, propagationPolicy = 'Background'): Promise<void> {
    try {
      await this.request('DELETE', resourcePath(r, namespace, name), { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}
