/** Neutron's error bodies: `{"NeutronError": {"type", "message", "detail"}}` with the HTTP status. */
export class NeutronError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'NeutronError';
  }

  body() {
    return { NeutronError: { type: this.type, message: this.message, detail: '' } };
  }
}

export const badRequest = (message: string) => new NeutronError(400, 'HTTPBadRequest', message);
export const invalidInput = (message: string) => new NeutronError(400, 'InvalidInput', `Invalid input for operation: ${message}`);
export const unauthorized = () => new NeutronError(401, 'HTTPUnauthorized', 'The request you have made requires authentication.');
export const forbidden = (message: string) => new NeutronError(403, 'HTTPForbidden', message);
export const notFound = (type: string, message: string) => new NeutronError(404, type, message);
export const conflict = (type: string, message: string) => new NeutronError(409, type, message);
export const unavailable = (message: string) => new NeutronError(503, 'ServiceUnavailable', message);
