/** Cinder's error bodies: `{"<fault>": {"code", "message"}}`, the fault named by the HTTP status as Cinder names it. */
const FAULTS: Record<number, string> = { 400: 'badRequest', 401: 'unauthorized', 403: 'forbidden', 404: 'itemNotFound', 405: 'badMethod', 409: 'conflictingRequest', 413: 'overLimit', 415: 'badMediaType', 500: 'computeFault', 501: 'notImplemented', 503: 'serviceUnavailable' };

export class CinderError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'CinderError';
  }

  body() {
    return { [FAULTS[this.status] ?? 'computeFault']: { code: this.status, message: this.message } };
  }
}

export const badRequest = (message: string) => new CinderError(400, message);
export const invalidInput = (message: string) => new CinderError(400, `Invalid input received: ${message}`);
export const unauthorized = () => new CinderError(401, 'The request you have made requires authentication.');
export const forbidden = (message = 'Policy doesn\'t allow this operation to be performed.') => new CinderError(403, message);
export const notFound = (message: string) => new CinderError(404, message);
export const conflict = (message: string) => new CinderError(409, message);
export const overLimit = (message: string) => new CinderError(413, message);
export const unavailable = (message: string) => new CinderError(503, message);
