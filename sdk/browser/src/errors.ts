// Typed errors: every failed call to a Continuum server rejects with one of these.

/** The body of an RFC 9457 problem+json answer, as Continuum sends it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
}

/** The server answered with an error (problem+json): `kind` is the slug of its `type`. */
export class ContinuumError extends Error {
  override readonly name = 'ContinuumError';
  /** `urn:continuum:problem:<kind>` without the prefix, e.g. `invalid-code`, `rate-limited`. */
  readonly kind: string;
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  /** Seconds to wait before retrying, from `Retry-After`, when the server gave one. */
  readonly retryAfter: number | undefined;

  constructor(problem: Problem, retryAfter?: number) {
    super(problem.detail || problem.title);
    this.kind = problem.type.replace(/^urn:continuum:problem:/, '');
    this.status = problem.status;
    this.title = problem.title;
    this.detail = problem.detail;
    this.retryAfter = retryAfter;
  }

  /** The session is missing, expired or revoked: sign in again. */
  get signedOut(): boolean {
    return this.status === 401;
  }
}

/** The server could not be reached (offline, server down, DNS, CORS). */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Builds the error for a failed response, reading its problem+json body when it has one. */
export async function errorFrom(response: Response): Promise<ContinuumError> {
  const retry = Number(response.headers.get('retry-after'));
  const retryAfter = Number.isFinite(retry) && retry > 0 ? retry : undefined;
  let problem: Problem = {
    type: `urn:continuum:problem:http-${response.status}`,
    title: response.statusText,
    status: response.status,
    detail: `the server answered ${response.status}`,
  };
  try {
    const body: unknown = await response.json();
    if (body && typeof body === 'object' && 'type' in body && 'status' in body) {
      problem = { ...problem, ...(body as Partial<Problem>) };
    }
  } catch {
    // Not JSON: keep the generic problem.
  }
  return new ContinuumError(problem, retryAfter);
}
