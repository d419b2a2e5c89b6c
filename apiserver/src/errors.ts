/** Kubernetes API errors as values: each carries the HTTP code and the Status body clients parse. */

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** The subject of an error: which object of which kind it concerns. */
export interface ErrorSubject {
  group: string;
  /** Plural resource name, as Kubernetes names it in NotFound/AlreadyExists messages. */
  resource: string;
  kind?: string;
  name?: string;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The metav1.Status body for this error. */
  toStatus(): Record<string, unknown> {
    const status: Record<string, unknown> = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status.details = this.details;
    return status;
  }
}

const qualified = (s: ErrorSubject) => (s.group ? `${s.resource}.${s.group}` : s.resource);

export const notFound = (s: ErrorSubject) =>
  new ApiError(404, 'NotFound', `${qualified(s)} "${s.name ?? ''}" not found`, {
    name: s.name,
    group: s.group,
    kind: s.resource,
  });

export const alreadyExists = (s: ErrorSubject) =>
  new ApiError(409, 'AlreadyExists', `${qualified(s)} "${s.name ?? ''}" already exists`, {
    name: s.name,
    group: s.group,
    kind: s.resource,
  });

export const conflict = (s: ErrorSubject, why: string) =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(s)} "${s.name ?? ''}": ${why}`, {
    name: s.name,
    group: s.group,
    kind: s.resource,
  });

export const applyConflict = (s: ErrorSubject, causes: StatusCause[]) =>
  new ApiError(
    409,
    'Conflict',
    `Apply failed with ${causes.length} conflict${causes.length === 1 ? '' : 's'}: ${causes.map((c) => c.message).join('; ')}`,
    { name: s.name, group: s.group, kind: s.resource, causes },
  );

/** 422 Invalid, naming every failing field, as `kubectl` prints it. */
export const invalid = (s: ErrorSubject, causes: StatusCause[]) => {
  const kind = s.kind ?? s.resource;
  const what = s.group ? `${kind}.${s.group}` : kind;
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const summary = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${what} "${s.name ?? ''}" is invalid: ${summary}`, {
    name: s.name,
    group: s.group,
    kind,
    causes,
  });
};

export const badRequest = (message: string, causes?: StatusCause[]) =>
  new ApiError(400, 'BadRequest', message, causes ? { causes } : undefined);

export const methodNotAllowed = (message: string) => new ApiError(405, 'MethodNotAllowed', message);

export const unauthorized = () => new ApiError(401, 'Unauthorized', 'Unauthorized');

export const tooLarge = (limit: number) =>
  new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);

/** Kubernetes serves custom resources no strategic merge patch (their schemas carry no patch strategies). */
export const strategicPatchUnsupported = () =>
  new ApiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');

export const unsupportedMediaType = (type: string) =>
  new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/merge-patch+json, application/json-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got ${type})`);

export const gone = (message: string) => new ApiError(410, 'Expired', message);

export const internal = (err: unknown) =>
  new ApiError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);

export const isApiError = (e: unknown): e is ApiError => e instanceof ApiError;
