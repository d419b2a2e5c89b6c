/** Keystone's error bodies: `{"error": {"code", "title", "message"}}` with the matching HTTP status. */
export class IdentityError extends Error {
  constructor(
    readonly code: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
    this.name = 'IdentityError';
  }

  body() {
    return { error: { code: this.code, title: this.title, message: this.message } };
  }
}

export const badRequest = (message: string) => new IdentityError(400, 'Bad Request', message);
export const unauthorized = (message = 'The request you have made requires authentication.') => new IdentityError(401, 'Unauthorized', message);
export const forbidden = (message = 'You are not authorized to perform the requested action.') => new IdentityError(403, 'Forbidden', message);
export const notFound = (what: string, id: string) => new IdentityError(404, 'Not Found', `Could not find ${what}: ${id}.`);
export const conflict = (message: string) => new IdentityError(409, 'Conflict', message);
export const notImplemented = (message: string) => new IdentityError(501, 'Not Implemented', message);
