// Human rendering of tokens and introspection responses, shared by token, introspect, revoke, login
// and smoke. Secrets are redacted (redact.ts: tokens as a fingerprint) unless --show-secrets; times are ISO 8601 UTC with a
// countdown. Nothing here is used under --json (the envelope carries the responses as received).
// Values from the network (claims, response members) are untrusted: oneLine() (core/safe-text.ts) keeps them from
// driving the terminal.

import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { Check } from '../core/check.ts';
import { usageError } from '../core/errors.ts';
import { isSecretName, redactJson, redactValue } from '../core/redact.ts';
import { printable } from '../core/safe-text.ts';

/** Untrusted text on one line (claims, response members). */
const oneLine = (text: string) => printable(text, { oneLine: true });

import { describeEndpoint, type Session } from '../core/session.ts';
import { type Outcome, printChecks } from './run.ts';
import { table, type Ui } from './ui.ts';

/** `2026-11-27T22:27:07Z` for seconds since the epoch. */
export function isoTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `1h 2m 3s`, `59s`, `2d 3h` (the two largest units). */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const parts: Array<[number, string]> = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor((s % 86_400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first < 0) return '0s';
  return parts
    .slice(first, first + 2)
    .filter(([n], i) => i === 0 || n > 0)
    .map(([n, u]) => `${n}${u}`)
    .join(' ');
}

/** `2026-11-27T22:27:07Z (in 9m 59s)` or `(expired 3m ago)` / `(3m ago)` for past times. */
export function timeWithCountdown(epochSeconds: number, o: { now?: number; pastWord?: string } = {}): string {
  const now = o.now ?? Date.now() / 1000;
  const delta = epochSeconds - now;
  const rel =
    delta >= 0
      ? `in ${formatDuration(delta)}`
      : `${o.pastWord ? `${o.pastWord} ` : ''}${formatDuration(-delta)} ago`;
  return `${isoTime(epochSeconds)} (${rel})`;
}

/** A secret (by default a token) as the user may see it: in full with --show-secrets, else redacted. */
export function secretText(
  ui: Pick<Ui, 'showSecrets'>,
  value: string | undefined,
  name = 'token',
): string | undefined {
  if (value === undefined) return undefined;
  return ui.showSecrets ? value : redactValue(name, value);
}

/** A token response for --json: as received with --show-secrets, else its secrets redacted. */
export function tokenForJson<T>(ui: Pick<Ui, 'showSecrets'>, token: T): T {
  return ui.showSecrets ? token : (redactJson(token) as T);
}

/** What --print writes for the shell: the bare access token, or an Authorization header line. */
export const PRINT_CHOICES = ['access-token', 'header'] as const;
export type PrintChoice = (typeof PRINT_CHOICES)[number];

/** Checks --print's value (and that --json is not given with it). */
export function parsePrint(ui: Pick<Ui, 'json'>, value: string | undefined): PrintChoice | undefined {
  if (value === undefined) return undefined;
  if (!(PRINT_CHOICES as readonly string[]).includes(value)) {
    throw usageError('BAD_PRINT', `--print must be ${PRINT_CHOICES.join(' or ')}, got "${value}"`, {
      hint: 'TOKEN=$(mtls-oauth token --print access-token ...), or curl -H "$(mtls-oauth token --print header ...)" URL',
    });
  }
  if (ui.json) {
    throw usageError('BAD_ARGUMENTS', '--print and --json both choose what stdout carries: give one', {
      hint: '--print for the shell, --json (with --show-secrets for the tokens in full) for programs',
    });
  }
  return value as PrintChoice;
}

/**
 * --print: stdout carries only the access token (or `Authorization: Bearer TOKEN`) and a newline,
 * in full: the user asked for it. Checks that did not pass go to stderr.
 */
export function printForShell(
  ui: Ui,
  what: PrintChoice,
  token: { access_token: string; token_type?: string },
  checks: Check[] = [],
): void {
  const scheme = /^dpop$/i.test(token.token_type ?? '') ? 'DPoP' : 'Bearer';
  ui.writeStdout(
    `${what === 'header' ? `Authorization: ${scheme} ${token.access_token}` : token.access_token}\n`,
  );
  for (const c of checks) {
    if (c.status === 'fail') ui.err(`${ui.e.red('✗')} ${c.name}${c.detail ? `: ${c.detail}` : ''}`);
    else if (c.status === 'warn') ui.warn(`${c.name}${c.detail ? `: ${c.detail}` : ''}`);
  }
}

/** The checks under a heading (nothing when there are none). */
export function renderChecks(ui: Ui, checks: Check[]): void {
  if (!checks.length) return;
  ui.out('checks');
  printChecks(ui, checks);
}

export interface TokenView {
  /** The token response as received. */
  token: {
    access_token: string;
    token_type?: string;
    expires_in?: number;
    scope?: string;
    refresh_token?: string;
    id_token?: string;
    [k: string]: unknown;
  };
  /** When the response arrived (seconds since the epoch; default now). */
  obtainedAt?: number;
  /** The scope that was requested, to show when the response has none (RFC 6749 §5.1: same as requested). */
  requestedScope?: string;
  /** e.g. "https://idp/token (mtls alias)" */
  from?: string;
  clientId?: string;
  authMethod?: string;
  checks?: Check[];
  /** Where the tokens were cached, if they were. */
  cachedIn?: string;
}

const KNOWN = new Set(['access_token', 'token_type', 'expires_in', 'scope', 'refresh_token', 'id_token']);

/** The token response for a person: type, scopes, expiry with countdown, tokens redacted, checks. */
export function renderToken(ui: Ui, v: TokenView): void {
  const t = v.token;
  const obtained = v.obtainedAt ?? Math.floor(Date.now() / 1000);
  const failed = (v.checks ?? []).some((c) => c.status === 'fail');
  const icon = failed ? ui.c.red('✗') : ui.c.green('✓');
  const who = v.clientId ? ` for ${v.clientId}${v.authMethod ? ` (${v.authMethod})` : ''}` : '';
  ui.out(`${icon} ${ui.c.bold('token')}${who}${v.from ? ` from ${v.from}` : ''}`);
  const scope =
    t.scope !== undefined
      ? t.scope || '(empty)'
      : v.requestedScope
        ? `${v.requestedScope} (as requested; the response names none)`
        : '(the response names none)';
  const rows: Array<[string, string | undefined]> = [
    ['token type', t.token_type === undefined ? undefined : oneLine(String(t.token_type))],
    ['scope', oneLine(scope)],
    [
      'expires',
      typeof t.expires_in === 'number'
        ? timeWithCountdown(obtained + t.expires_in, { pastWord: 'expired' })
        : 'unknown (no expires_in)',
    ],
    ['access token', secretText(ui, t.access_token)],
    ['refresh token', secretText(ui, t.refresh_token)],
    ['id token', secretText(ui, t.id_token)],
  ];
  for (const [k, value] of Object.entries(t)) {
    if (KNOWN.has(k) || value === undefined) continue;
    rows.push([
      oneLine(k),
      typeof value === 'string' && isSecretName(k) ? secretText(ui, value, k) : claimText(k, value),
    ]);
  }
  if (v.cachedIn) rows.push(['cached in', v.cachedIn]);
  for (const line of table(rows)) ui.out(line);
  renderJwt(ui, 'access token', t.access_token);
  renderJwt(ui, 'id token', t.id_token);
  renderChecks(ui, v.checks ?? []);
}

const TIME_CLAIMS = new Set(['exp', 'iat', 'nbf', 'auth_time']);

/** One claim value for a person: times as ISO dates with a countdown, cnf spelled out, objects as JSON. */
export function claimText(name: string, value: unknown, now?: number): string {
  if (TIME_CLAIMS.has(name) && typeof value === 'number') {
    return timeWithCountdown(value, { now, pastWord: name === 'exp' ? 'expired' : undefined });
  }
  if (name === 'cnf' && value && typeof value === 'object') {
    return oneLine(
      Object.entries(value)
        .map(([k, v]) => `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(', '),
    );
  }
  if (typeof value === 'string') return oneLine(value);
  return oneLine(JSON.stringify(value));
}

/** The header and claims of a compact JWS, decoded for display only; undefined for an opaque token. */
export function decodeForDisplay(
  token: string | undefined,
): { header: Record<string, unknown>; claims: Record<string, unknown> } | undefined {
  if (typeof token !== 'string' || token.split('.').length !== 3) return undefined;
  try {
    return { header: { ...decodeProtectedHeader(token) }, claims: { ...decodeJwt(token) } };
  } catch {
    return undefined;
  }
}

/**
 * A JWT the output shows (JWT access token, ID token): its header on one row and each claim on its
 * own, times as dates; never its signature, and nothing verified here (login verifies the ID token
 * in core/id-token.ts). Claims are not secrets; whether the token is printed stays redact.ts's call.
 * Nothing for an opaque token.
 */
export function renderJwt(ui: Ui, label: string, token: string | undefined, now?: number): void {
  const jwt = decodeForDisplay(token);
  if (!jwt) return;
  ui.out(`${label} ${ui.c.dim('(JWT decoded for display, not verified; signature not shown)')}`);
  const header = Object.entries(jwt.header)
    .map(([k, v]) => `${oneLine(k)} ${claimText(k, v, now)}`)
    .join(', ');
  const claims = Object.entries(jwt.claims)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]): [string, string] => [oneLine(k), claimText(k, v, now)]);
  for (const line of table([['header', header], ...claims])) ui.out(line);
}

/** An introspection response (RFC 7662) for a person: active, then every claim, then the checks. */
export function renderIntrospection(
  ui: Ui,
  response: { active: boolean; [k: string]: unknown },
  o: { checks?: Check[]; from?: string; now?: number } = {},
): void {
  const head = response.active
    ? `${ui.c.green('active')}: the IdP says the token is valid`
    : `${ui.c.yellow('inactive')}: the IdP says the token is not active (expired, revoked, unknown, or not this client's to ask about)`;
  ui.out(head);
  if (o.from) ui.out(ui.c.dim(`  ${o.from}`));
  const rows: Array<[string, string | undefined]> = [];
  for (const [k, value] of Object.entries(response)) {
    if (k === 'active' || value === undefined) continue;
    rows.push([
      oneLine(k),
      typeof value === 'string' && isSecretName(k) ? secretText(ui, value, k) : claimText(k, value, o.now),
    ]);
  }
  for (const line of table(rows)) ui.out(line);
  renderChecks(ui, o.checks ?? []);
}

/**
 * The outcome of a command that obtained a token (token, login --device): the token for --json
 * (shortened unless --show-secrets), the checks, and the human form (or just the token, --print).
 */
export function tokenOutcome(
  ui: Ui,
  session: Session,
  v: Omit<TokenView, 'from' | 'clientId' | 'authMethod'> & {
    checks: Check[];
    print?: PrintChoice;
    /** Printed after the token (not with --print). */
    after?: () => void;
  },
): Outcome {
  const { print, after, ...view } = v;
  return {
    result: tokenForJson(ui, v.token),
    checks: v.checks,
    tls: session.http.connections,
    human: () => {
      if (print) return printForShell(ui, print, v.token, v.checks);
      renderToken(ui, {
        ...view,
        from: describeEndpoint(session.endpoint('token')),
        clientId: session.credentials.clientId,
        authMethod: session.credentials.method,
      });
      after?.();
    },
  };
}
