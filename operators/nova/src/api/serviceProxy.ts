/**
 * Calls to another service's API on the caller's behalf, as Nova's proxies make them (cinderclient, neutronclient):
 * with the caller's own token, at the endpoint the caller's catalog names, so that service's checks, quota and
 * policies apply. Its refusals come back as Nova's errors with its message.
 */
import type { ApiResponse } from '@stratus/runtime';
import type { ComputeApiContext, ComputeRequest, ComputeRouter } from './context.js';
import { NovaError } from './errors.js';

/** Route registration for Nova's proxies, which are gone from microversion 2.36 (404, as Nova: a client asks the service). */
export const proxyRoutes =
  (router: ComputeRouter) =>
  (method: string, path: string, handler: (req: ComputeRequest) => Promise<ApiResponse>): void => {
    router.on(method, path, (req) => {
      if (req.auth!.version.atLeast('2.36')) throw new NovaError(404, 'The resource could not be found.');
      return handler(req as ComputeRequest);
    });
  };

/** A trailing slash names an empty ID, which is no object (Nova: 404), not the collection. */
export function emptyIdNotFound(router: ComputeRouter, paths: string[], methods = ['GET', 'PUT', 'DELETE']): void {
  for (const path of paths)
    for (const method of methods)
      router.on(method, path, () => {
        throw new NovaError(404, 'The resource could not be found.');
      });
}

export interface ProxiedService {
  /** The catalog types the service is registered under, in order of preference. */
  types: string[];
  /** Said in errors: "the block storage service". */
  name: string;
  /** Put between the endpoint and the path (Neutron's catalog URL has no version: `/v2.0`). */
  prefix?: string;
}

export const BLOCK_STORAGE: ProxiedService = { types: ['block-storage', 'volumev3'], name: 'block storage' };
export const NETWORKING: ProxiedService = { types: ['network'], name: 'networking', prefix: '/v2.0' };

/** One call; a refusal is a NovaError of the service's status (a 5xx as Nova's 500) and message. */
export async function callService<T>(api: ComputeApiContext, req: ComputeRequest, service: ProxiedService, method: string, path: string, body?: unknown): Promise<T> {
  const token = String(req.headers['x-auth-token'] ?? '');
  const base = await api.catalog.endpoint(token, req.auth.projectId ?? '', service.types);
  const res = await fetch(`${base}${service.prefix ?? ''}${path}`, {
    method,
    headers: { 'X-Auth-Token': token, 'X-OpenStack-Request-ID': req.requestId, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  }).catch((e: Error) => {
    throw new NovaError(503, `The ${service.name} service is temporarily unavailable (${base}: ${e.message}).`);
  });
  const text = await res.text();
  let json: Record<string, any> = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    // Not JSON: the status alone says what happened.
  }
  if (!res.ok) {
    // Cinder's and Nova's bodies: {"itemNotFound": {"message": …}}; Neutron's: {"NeutronError": {"message": …}}.
    const fault = Object.values(json)[0] as { message?: string } | undefined;
    api.log.info('a proxied call was refused', { service: service.name, method, path, status: res.status, user: req.auth.userId });
    throw new NovaError(res.status >= 500 ? 500 : res.status, fault?.message ?? `The ${service.name} service answered ${res.status}.`);
  }
  return json as T;
}
