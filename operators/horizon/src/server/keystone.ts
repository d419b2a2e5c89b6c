/** The Identity API calls the dashboard makes for its users: sign in, change project, sign out, the catalog. */

export class KeystoneRefused extends Error {
  constructor(readonly status: number, message: string, readonly body?: unknown) {
    super(message);
  }
}

export interface Catalog {
  endpoints: Map<string, string>;
}

export interface ProjectRef {
  id: string;
  name: string;
}

export class KeystoneClient {
  constructor(private readonly identityUrl: string, private readonly endpointInterface = 'public') {}

  private async call(method: string, path: string, o: { token?: string; subject?: string; body?: unknown } = {}): Promise<{ res: Response; json: any }> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (o.token) headers['X-Auth-Token'] = o.token;
    if (o.subject) headers['X-Subject-Token'] = o.subject;
    if (o.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${this.identityUrl}${path}`, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body), signal: AbortSignal.timeout(30_000) }).catch((e: Error) => {
      throw new KeystoneRefused(503, `The Keystone service is temporarily unavailable: ${e.message}`);
    });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) throw new KeystoneRefused(res.status, json?.error?.message ?? `Keystone answered ${res.status}`, json);
    return { res, json };
  }

  /** A token for a user's password, scoped to the project if one is given (else as Keystone scopes it). */
  async passwordToken(user: { name: string; domain: string; password: string }, projectId?: string): Promise<{ token: string; body: any }> {
    const auth = { identity: { methods: ['password'], password: { user: { name: user.name, domain: { name: user.domain }, password: user.password } } }, ...(projectId ? { scope: { project: { id: projectId } } } : {}) };
    const { res, json } = await this.call('POST', '/auth/tokens', { body: { auth } });
    return { token: res.headers.get('x-subject-token') ?? '', body: json };
  }

  /** A new token for the same user scoped to another project. */
  async rescope(token: string, projectId: string): Promise<{ token: string; body: any }> {
    const { res, json } = await this.call('POST', '/auth/tokens', { body: { auth: { identity: { methods: ['token'], token: { id: token } }, scope: { project: { id: projectId } } } } });
    return { token: res.headers.get('x-subject-token') ?? '', body: json };
  }

  /** A user's own password change (no token: the original password is the proof). */
  async changePassword(userId: string, originalPassword: string, password: string): Promise<void> {
    await this.call('POST', `/users/${encodeURIComponent(userId)}/password`, { body: { user: { original_password: originalPassword, password } } });
  }

  /** The projects the token's user may scope to. */
  async projects(token: string): Promise<ProjectRef[]> {
    const { json } = await this.call('GET', '/auth/projects', { token });
    return (json.projects ?? []).map((p: ProjectRef) => ({ id: p.id, name: p.name })).sort((a: ProjectRef, b: ProjectRef) => a.name.localeCompare(b.name));
  }

  /** Revokes a token (as `openstack token revoke`); one already gone is fine. */
  async revoke(token: string): Promise<void> {
    await this.call('DELETE', '/auth/tokens', { token, subject: token }).catch((e) => {
      if (!(e instanceof KeystoneRefused && (e.status === 404 || e.status === 401))) throw e;
    });
  }

  /** The catalog's endpoints of the configured interface, by service type. */
  async catalog(token: string): Promise<Catalog> {
    const { json } = await this.call('GET', '/auth/catalog', { token });
    const endpoints = new Map<string, string>();
    for (const svc of json.catalog ?? []) {
      const ep = (svc.endpoints ?? []).find((e: { interface: string }) => e.interface === this.endpointInterface) ?? svc.endpoints?.[0];
      if (ep) endpoints.set(svc.type, String(ep.url).replace(/\/+$/, ''));
    }
    return { endpoints };
  }
}
