/** Glance's error bodies (webob's JSON): `{"message", "code": "404 Not Found", "title"}` with the HTTP status. */
export class GlanceError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
    this.name = 'GlanceError';
  }

  body() {
    return { message: this.message, code: `${this.status} ${this.title}`, title: this.title };
  }
}

export const badRequest = (message: string) => new GlanceError(400, 'Bad Request', message);
export const unauthorized = (message = 'The request you have made requires authentication.') => new GlanceError(401, 'Unauthorized', message);
export const forbidden = (message = 'You are not authorized to complete this action.') => new GlanceError(403, 'Forbidden', message);
export const notFound = (message: string) => new GlanceError(404, 'Not Found', message);
export const noImage = (id: string) => notFound(`No image found with ID ${id}`);
export const conflict = (message: string) => new GlanceError(409, 'Conflict', message);
export const tooLarge = (message: string) => new GlanceError(413, 'Request Entity Too Large', message);
export const unsupportedMediaType = (message: string) => new GlanceError(415, 'Unsupported Media Type', message);
