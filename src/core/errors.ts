// Every failure the tool reports is an MtlsOAuthError: a stable machine-readable `code`, a
// sentence for a person, and a hint that says what to do next. The `kind` decides the exit code
// in the CLI layer; the core never exits.

import { type CodeOfKind, ERROR_CODES, type ErrorCode, type ErrorKind, type KindOf } from './error-codes.ts';

export type { CodeOfKind, ErrorCode, ErrorKind } from './error-codes.ts';

export interface ErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Structured facts for --json and for hints (status, response, tls record, ...). */
  details?: Record<string, unknown>;
}

class MtlsOAuthErrorClass extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;

  constructor(kind: ErrorKind, code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MtlsOAuthError';
    // The table decides (the constructor's type already makes `kind` agree with it).
    this.kind = ERROR_CODES[code]?.kind ?? kind;
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }
}

export interface MtlsOAuthErrorConstructor {
  /** `kind` must be the kind ERROR_CODES gives `code`: TypeScript rejects an unlisted code or another kind. */
  new <C extends ErrorCode>(
    kind: KindOf<C>,
    code: C,
    message: string,
    options?: ErrorOptions,
  ): MtlsOAuthError;
  readonly prototype: MtlsOAuthError;
}

export type MtlsOAuthError = MtlsOAuthErrorClass;
export const MtlsOAuthError = MtlsOAuthErrorClass as MtlsOAuthErrorConstructor;

export const usageError = (code: CodeOfKind<'usage'>, message: string, options?: ErrorOptions) =>
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
