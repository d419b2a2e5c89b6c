/** Nova's error bodies: `{"itemNotFound": {"code": 404, "message": "…"}}`, the key named by the status. */

const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

export class NovaError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'NovaError';
  }

  body(): Record<string, { code: number; message: string }> {
    return { [FAULT_NAMES[this.status] ?? 'computeFault']: { code: this.status, message: this.message } };
  }
}

export const badRequest = (message: string) => new NovaError(400, message);
export const forbidden = (message = 'Policy does not allow this action to be performed.') => new NovaError(403, message);
export const notFound = (message: string) => new NovaError(404, message);
export const conflict = (message: string) => new NovaError(409, message);
export const notAcceptable = (message: string) => new NovaError(406, message);
export const noServer = (id: string) => notFound(`Instance ${id} could not be found.`);

/** keystonemiddleware answers a missing or bad token before Nova sees the call, in Keystone's error shape. */
export class Unauthenticated extends Error {
  body() {
    return { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } };
  }
}

/** Nova's 409 for an action the server's state does not allow. */
export const invalidState = (action: string, id: string, vmState: string) => conflict(`Cannot '${action}' instance ${id} while it is in vm_state ${vmState}`);

/** A whole-number query parameter (limit, minRam, …), or Nova's 400 naming it; undefined when absent. */
export function wholeQuery(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!/^\d{1,10}$/.test(v)) throw badRequest(`${name} param must be a non-negative integer`);
  return Number(v);
}
