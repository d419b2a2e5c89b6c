/**
 * The page's calls: the dashboard's own session and Kubernetes views, and the OpenStack APIs through the
 * dashboard (which adds the user's token). Every write carries the CSRF token; an API's refusal is shown with
 * the message the API gave.
 */
export const BASE = '/dashboard';
let csrf = '';
export const setCsrf = (t: string) => (csrf = t);

export interface Session {
  user: { id: string; name?: string };
  project?: { id: string; name: string };
  projects: Array<{ id: string; name: string }>;
  roles: string[];
  admin: boolean;
  expiresAt: string;
  csrfToken: string;
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The message an OpenStack API put in its error body, whatever the service's shape. */
export function messageOf(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, any>;
    if (body.error?.message) return String(body.error.message);
    if (body.NeutronError?.message) return String(body.NeutronError.message);
    for (const v of Object.values(body)) if (v && typeof v === 'object' && 'message' in v) return String((v as { message: unknown }).message);
    if (body.message) return String(body.message);
  } catch {
    // Glance answers some errors as text or HTML: show its words without the markup.
  }
  const plain = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return plain || `The request failed (${status}).`;
}

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const h: Record<string, string> = { Accept: 'application/json', ...headers };
  if (method !== 'GET' && method !== 'HEAD') h['X-CSRF-Token'] = csrf;
  if (body !== undefined) h['Content-Type'] = h['Content-Type'] ?? 'application/json';
  const res = await fetch(url, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), credentials: 'same-origin' });
  // The session's own calls answer for themselves (a wrong password is not the end of the session).
  if (res.status === 401 && !/\/api\/session(\/|$)/.test(url)) window.dispatchEvent(new Event('stratus:signed-out'));
  if (!res.ok) throw new ApiError(res.status, messageOf(res.status, await res.text()));
  return res;
}

const json = async <T>(res: Response): Promise<T> => (res.status === 204 || res.headers.get('content-length') === '0' ? (undefined as T) : ((await res.json()) as T));

/** An OpenStack API call: `os('compute', 'GET', '/servers/detail')`. */
export async function os<T = any>(service: string, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
  return json<T>(await call(method, `${BASE}/api/os/${service}${path}`, body, headers));
}

/** A GET that answers undefined for a 404 (the object is gone or not the user's to see). */
export async function osMaybe<T = any>(service: string, path: string, headers?: Record<string, string>): Promise<T | undefined> {
  try {
    return await os<T>(service, 'GET', path, undefined, headers);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return undefined;
    throw e;
  }
}

export const session = {
  get: async () => json<Session>(await call('GET', `${BASE}/api/session`)),
  signIn: async (username: string, password: string, domain: string) => json<Session>(await call('POST', `${BASE}/api/session`, { username, password, domain })),
  switchProject: async (projectId: string) => json<Session>(await call('PUT', `${BASE}/api/session`, { projectId })),
  signOut: async () => void (await call('DELETE', `${BASE}/api/session`)),
  /** The user's own password change; the session ends with it. */
  changePassword: async (originalPassword: string, password: string) => void (await call('POST', `${BASE}/api/session/password`, { originalPassword, password })),
};

export const kube = {
  yaml: async (kind: string, id: string) => (await call('GET', `${BASE}/api/yaml/${kind}/${encodeURIComponent(id)}`, undefined, { Accept: 'application/yaml' })).text(),
  events: async (kind: string, id: string) => (await json<{ events: KubeEvent[] }>(await call('GET', `${BASE}/api/events/${kind}/${encodeURIComponent(id)}`))).events,
};

export interface KubeEvent {
  type: string;
  reason: string;
  message: string;
  count: number;
  source?: string;
  lastSeen?: string;
}

/** Uploads a file as an image's data, streamed, telling progress as the browser sends it. */
export function uploadImageData(imageId: string, file: Blob, onProgress: (sent: number, total: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `${BASE}/api/os/image/v2/images/${encodeURIComponent(imageId)}/file`);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.setRequestHeader('X-CSRF-Token', csrf);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => (xhr.status < 300 ? resolve() : reject(new ApiError(xhr.status, messageOf(xhr.status, xhr.responseText))));
    xhr.onerror = () => reject(new ApiError(0, 'The upload was cut off.'));
    xhr.send(file);
  });
}
