// Getting the token that introspect, revoke and token's grants work on: from the argument, stdin
// ("-") or the token cache, sent only where it may go.

import type { Command } from 'commander';
import { MtlsOAuthError, usageError } from '../core/errors.ts';
import { isRedacted } from '../core/redact.ts';
import type { Operation, Session } from '../core/session.ts';
import type { CachedTokens, TokenCache } from '../core/token-cache.ts';
import { assertCachedTokenTarget } from '../core/token-origin.ts';
import { openCache, openSessionFor } from './open-session.ts';
import { readStdin } from './stdin-input.ts';
import type { Ui } from './ui.ts';

/** "the cached access token", "the token from stdin", "the token given as an argument" */
export function describeInput(i: { source: TokenSource; kind?: TokenKind }): string {
  const kind = i.kind ? `${i.kind} token` : 'token';
  switch (i.source) {
    case 'cache':
      return `the cached ${kind}`;
    case 'stdin':
      return `the ${kind} from stdin`;
    default:
      return `the ${kind} given as an argument`;
  }
}

export type TokenKind = 'access' | 'refresh';
export type TokenSource = 'argument' | 'stdin' | 'cache';

export interface TokenInput {
  token: string;
  source: TokenSource;
  /** access_token / refresh_token when known from the source (cache, or JSON on stdin) */
  kind?: TokenKind;
  /** the cache entry, when the token came from the cache */
  entry?: CachedTokens;
}

/**
 * The token from stdin: a bare token, or a JSON token response / `mtls-oauth token --json` envelope
 * (its access_token, or refresh_token with `kind: 'refresh'`).
 */
export function tokenFromText(
  text: string,
  kind: TokenKind | undefined,
): { token: string; kind?: TokenKind } {
  const trimmed = text.trim();
  if (!trimmed) {
    throw usageError('NO_TOKEN', 'no token on stdin', {
      hint: 'pipe the token in: `printf %s "$TOKEN" | mtls-oauth introspect -`, or leave out "-" to use the cached token',
    });
  }
  if (trimmed.startsWith('{')) {
    try {
      const doc = JSON.parse(trimmed) as Record<string, unknown>;
      const body = (doc.result && typeof doc.result === 'object' ? doc.result : doc) as Record<
        string,
        unknown
      >;
      const want = kind === 'refresh' ? 'refresh_token' : 'access_token';
      const value = body[want];
      if (typeof value === 'string' && isRedacted(value)) {
        throw usageError('NO_TOKEN', `stdin holds the ${want} redacted (${value}), not the token`, {
          hint: '`mtls-oauth token --json` shows tokens only with --show-secrets; pipe `mtls-oauth token --print access-token` instead',
        });
      }
      if (typeof value === 'string') return { token: value, kind: kind ?? 'access' };
    } catch (e) {
      if (e instanceof MtlsOAuthError) throw e;
    }
    throw usageError('NO_TOKEN', 'stdin holds JSON without the token', {
      hint: 'pipe a bare token (`mtls-oauth token --print access-token`), a token response, or the output of `mtls-oauth token --json --show-secrets`',
    });
  }
  if (/\s/.test(trimmed)) {
    throw usageError('NO_TOKEN', 'stdin holds more than one word; expected a single token', {
      hint: 'pipe only the token',
    });
  }
  return { token: trimmed, ...(kind ? { kind } : {}) };
}

/**
 * The token to introspect or revoke: the argument (with a warning: argv is visible in the process
 * list), "-" for stdin, or else the cache (--from-cache access|refresh; default the access token),
 * which only goes to the endpoints of `sendTo` if they belong to the issuer it came from.
 */
export async function resolveToken(o: {
  arg?: string;
  fromCache?: string;
  session: Session;
  sendTo: Operation[];
  cache?: TokenCache;
  ui: Ui;
  command: string;
}): Promise<TokenInput> {
  let kind: TokenKind | undefined;
  if (o.fromCache !== undefined) {
    if (o.fromCache !== 'access' && o.fromCache !== 'refresh') {
      throw usageError('BAD_FROM_CACHE', `--from-cache must be "access" or "refresh", got "${o.fromCache}"`);
    }
    kind = o.fromCache;
    if (o.arg !== undefined) {
      throw usageError('TOKEN_TWICE', `give either a token argument or --from-cache, not both`, {
        hint: `mtls-oauth ${o.command} --from-cache ${kind}`,
      });
    }
  }
  if (o.arg === '-') {
    if (process.stdin.isTTY) o.ui.err('reading the token from stdin (end with Ctrl-D)');
    return { ...tokenFromText(await readStdin(), undefined), source: 'stdin' };
  }
  if (o.arg !== undefined) {
    o.ui.warn(
      `a token given as an argument is visible to every user of this machine in the process list; pipe it in with "-" (\`... | mtls-oauth ${o.command} -\`) or let the cache provide it`,
    );
    if (!o.arg.trim()) throw usageError('NO_TOKEN', 'the token argument is empty');
    return { token: o.arg.trim(), source: 'argument' };
  }
  kind ??= 'access';
  if (!o.cache) {
    throw usageError(
      'NO_TOKEN',
      `no token: give it as "-" (stdin) or an argument; --no-cache leaves no other source`,
      {
        hint: `printf %s "$TOKEN" | mtls-oauth ${o.command} -`,
      },
    );
  }
  const key = o.session.cacheKey();
  if (!key) {
    throw usageError('NO_TOKEN', 'no token given, and no issuer or token endpoint to find a cached one', {
      hint: `pass the same --issuer (or --token-endpoint) and --client-id as to \`mtls-oauth token\`, or pipe the token: ... | mtls-oauth ${o.command} -`,
    });
  }
  const entry = o.cache.get(key);
  const token = kind === 'refresh' ? entry?.refresh_token : entry?.access_token;
  if (!entry || !token) {
    throw usageError(
      'NO_CACHED_TOKEN',
      `no cached ${kind} token for ${o.session.credentials.clientId} at ${o.session.issuer ?? key.split(' ')[0]}${entry ? '' : ` (in ${o.cache.file})`}`,
      {
        hint:
          kind === 'refresh'
            ? 'a refresh token comes from the authorization_code grant with scope offline_access (or `mtls-oauth login`); or pipe one in with "-"'
            : `run \`mtls-oauth token\` first with the same --issuer and --client-id, or pipe the token in: ... | mtls-oauth ${o.command} -`,
      },
    );
  }
  checkCachedTarget(entry, o.session, o.sendTo, kind);
  warnAboutCachedEntry(o.ui, entry, o.session, kind);
  return { token, source: 'cache', kind, entry };
}

/** A usage error unless every endpoint of `ops` belongs to the issuer the cached token came from. */
export function checkCachedTarget(
  entry: CachedTokens,
  session: Session,
  ops: Operation[],
  kind: TokenKind,
): void {
  for (const op of ops) {
    assertCachedTokenTarget(entry, session.endpoint(op), {
      what: `${kind} token`,
      issuer: session.issuer,
      metadata: session.metadata,
    });
  }
}

/** The flags introspect and revoke share (see addTokenInput). */
export interface TokenInputOptions {
  tokenTypeHint?: string;
  fromCache?: string;
  /** false with --no-cache */
  cache: boolean;
}

/**
 * The token argument and the --token-type-hint and --from-cache flags of introspect and revoke;
 * `verb` says what the command does with the cached token. (--no-cache is the command's to add, last.)
 */
export function addTokenInput(cmd: Command, verb: string): Command {
  return cmd
    .argument('[TOKEN]', 'the token, or "-" to read it from stdin (default: the cached access token)')
    .option('--token-type-hint <access_token|refresh_token>', 'tell the IdP what kind of token it is')
    .option('--from-cache <access|refresh>', `${verb} the cached access or refresh token`);
}

/** What withTokenInput hands its function. */
export interface TokenRun {
  session: Session;
  input: TokenInput;
  /** token_type_hint to send: --token-type-hint, else the kind the token's source told */
  hint?: string;
}

/**
 * The plumbing of introspect and revoke: checks --token-type-hint, opens the session for
 * `operations`, finds the token (resolveToken: argument, stdin or the cache unless --no-cache) and
 * its token_type_hint, runs `fn`, and closes the session whatever happens.
 */
export async function withTokenInput<T>(
  o: {
    arg?: string;
    opts: TokenInputOptions;
    cmd: Command;
    ui: Ui;
    command: string;
    operations: Operation[];
  },
  fn: (run: TokenRun) => Promise<T>,
): Promise<T> {
  checkTypeHint(o.opts.tokenTypeHint);
  // The cache is read only when no token is given.
  const session = await openSessionFor(o.cmd, o.ui, o.operations, o.opts.cache && o.arg === undefined);
  try {
    const cache = await openCache(o.ui, o.opts.cache);
    const input = await resolveToken({
      arg: o.arg,
      fromCache: o.opts.fromCache,
      session,
      sendTo: o.operations,
      cache,
      ui: o.ui,
      command: o.command,
    });
    const hint = o.opts.tokenTypeHint ?? (input.kind ? `${input.kind}_token` : undefined);
    return await fn({ session, input, hint });
  } finally {
    await session.close();
  }
}

/** Warnings about a cached entry: expired access token, obtained with another certificate. */
export function warnAboutCachedEntry(ui: Ui, entry: CachedTokens, session: Session, kind: TokenKind): void {
  const now = Math.floor(Date.now() / 1000);
  if (kind === 'access' && entry.expires_at !== undefined && entry.expires_at <= now) {
    ui.warn(`the cached access token expired ${new Date(entry.expires_at * 1000).toISOString()}`);
  }
  const ours = session.identity?.x5tS256;
  if (entry.x5t_s256 && entry.x5t_s256 !== ours) {
    ui.warn(
      `the cached ${kind} token was obtained with another client certificate (x5t#S256 ${entry.x5t_s256}${ours ? `; this run uses ${ours}` : '; this run uses none'}): a certificate-bound token works only with that certificate`,
    );
  }
}

const HINTS = ['access_token', 'refresh_token'];

/** --token-type-hint: access_token or refresh_token (RFC 7009 §2.1, RFC 7662 §2.1). */
export function checkTypeHint(hint: string | undefined): void {
  if (hint !== undefined && !HINTS.includes(hint)) {
    throw usageError(
      'BAD_TOKEN_TYPE_HINT',
      `--token-type-hint "${hint}" is not access_token or refresh_token`,
      {
        hint: 'RFC 7009 and RFC 7662 define access_token and refresh_token (IdPs may ignore the hint)',
      },
    );
  }
}
