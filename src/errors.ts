/**
 * The one catalogue of smokemesh's stable error codes (in logs, CLI output and every API
 * answer's `code`). A message always says where (file:line:column and field, the parameter,
 * the agent) and what to do. docs/errors.md lists them for users.
 */
export const ERROR_CODES = {
  SMOKEMESH_E_CONFIG: 'a config file (or a command-line override of it) is invalid',
  SMOKEMESH_E_AUTH: 'authentication failed: admin token, read token or agent signature',
  SMOKEMESH_E_PROBE: 'a probe could not run (a missing program, bad parameters)',
  SMOKEMESH_E_STORE: 'the history database cannot be opened, read or written',
  SMOKEMESH_E_UNAVAILABLE: 'the server cannot commit right now (disk full, locked file, I/O error); retry later, nothing was acknowledged',
  SMOKEMESH_E_PAYLOAD: 'a request body (agent rounds, heartbeat, API body) is malformed or out of bounds',
  SMOKEMESH_E_PARAM: 'a parameter of an API request is invalid (a query parameter, a task\'s parameters or agent choice)',
  SMOKEMESH_E_NOT_FOUND: 'no such target, route, silence or other object',
  SMOKEMESH_E_NOTIFY: 'a notification channel failed or is misconfigured',
  SMOKEMESH_E_POLICY: 'a diagnostic task was refused: its host is outside the task policy, or tasks are disabled',
  SMOKEMESH_E_USAGE: 'a command was called wrongly',
  SMOKEMESH_E_RELEASE: 'a release bundle or its signature is invalid, or an upgrade or rollout was refused',
  SMOKEMESH_E_CLUSTER: 'the cluster\'s coordination database (PostgreSQL) cannot be reached or refused a change',
  SMOKEMESH_E_INTERNAL: 'a bug: the server failed unexpectedly (the log has the stack)',
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The HTTP status of an API answer for an error of this code that carries none of its own
 * (docs/errors.md's third column): what the server could not do is 5xx, what the caller
 * asked wrongly 4xx (codes not listed: 400).
 */
const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  SMOKEMESH_E_AUTH: 401,
  SMOKEMESH_E_STORE: 500,
  SMOKEMESH_E_UNAVAILABLE: 503,
  SMOKEMESH_E_NOT_FOUND: 404,
  SMOKEMESH_E_POLICY: 403,
  SMOKEMESH_E_CLUSTER: 503,
  SMOKEMESH_E_INTERNAL: 500,
};

/** The HTTP status for an error of `code` that carries none of its own. */
export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[code] ?? 400;
}

/** The body of every error answer of the HTTP APIs. */
export function errorBody(code: ErrorCode, error: string): { code: ErrorCode; error: string } {
  return { code, error };
}

export class SmokemeshError extends Error {
  /**
   * Words from outside that explain the error but must not be stored or shown through the
   * API (a remote's response body, a hook's stderr): only the server log gets them, at debug.
   */
  readonly detail?: string;
  constructor(readonly code: ErrorCode, message: string, options?: { cause?: unknown; detail?: string }) {
    super(message, options);
    this.name = 'SmokemeshError';
    if (options?.detail !== undefined) this.detail = options.detail;
  }
}

/**
 * SMOKEMESH_E_UNAVAILABLE: storage cannot commit right now and nothing was committed; the caller
 * keeps what it wanted stored and tries again, at the earliest after `retryAfterMs`.
 */
export class UnavailableError extends SmokemeshError {
  constructor(message: string, readonly retryAfterMs: number, options?: { cause?: unknown }) {
    super('SMOKEMESH_E_UNAVAILABLE', message, options);
    this.name = 'UnavailableError';
  }
}

/** Whether `e` says "retry later, nothing was committed" (a coded error, from this process or in an API answer). */
export function isUnavailable(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === 'SMOKEMESH_E_UNAVAILABLE';
}

/** One problem found in a config file, located as precisely as the parser allows. */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** Field path such as targets.children.Local.children.lo4.pings */
  path: string;
  message: string;
}

export class ConfigError extends SmokemeshError {
  constructor(readonly issues: ConfigIssue[]) {
    super('SMOKEMESH_E_CONFIG', issues.map(formatIssue).join('\n'));
  }
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.column}: ${i.path ? i.path + ': ' : ''}${i.message}`;
}
