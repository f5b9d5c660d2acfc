// Every failure the tool reports is an MtlsOAuthError: a stable machine-readable `code`, a
// sentence for a person, and a hint that says what to do next. The `kind` decides the exit code
// in the CLI layer; the core never exits.

export type ErrorKind =
  | 'usage' // bad flags or input the user gave (exit 2)
  | 'network' // DNS, TCP, TLS, HTTP transport (exit 3)
  | 'oauth' // the IdP answered with an OAuth error (exit 4)
  | 'timeout' // exit 5
  | 'check' // a verification the user asked for failed (exit 1)
  | 'interrupted' // exit 130
  | 'internal'; // a bug: exit 1 with a request to report it

export interface ErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Structured facts for --json and for hints (status, response, tls record, ...). */
  details?: Record<string, unknown>;
}

export class MtlsOAuthError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;

  constructor(kind: ErrorKind, code: string, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MtlsOAuthError';
    this.kind = kind;
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }
}

export const usageError = (code: string, message: string, options?: ErrorOptions) =>
  new MtlsOAuthError('usage', code, message, options);

export function isMtlsOAuthError(e: unknown): e is MtlsOAuthError {
  return e instanceof MtlsOAuthError;
}

/** The code Node or OpenSSL attached to an error, if any. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string'
    ? e.code
    : undefined;
}

/** Why a file could not be read, in a few words ("no such file", "permission denied", ...). */
export function whyUnreadable(e: unknown): string {
  switch (errnoCode(e)) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return (e as Error)?.message ?? String(e);
  }
}
