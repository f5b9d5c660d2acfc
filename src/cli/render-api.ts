// An API's answer (call, smoke's api steps) for a person and for --json. Everything in it came from
// the network: control characters are escaped before it reaches a terminal, and our token (or any
// token-shaped text) is redacted unless --show-secrets.

import { type ApiResponse, type CallBinding, explainBearerError as explain } from '../core/api-call.ts';
import type { Check } from '../core/check.ts';
import type { Settings } from '../core/config.ts';
import { redactJson, redactResponseText, redactText, redactValue } from '../core/redact.ts';
import { printable } from '../core/safe-text.ts';
import type { ConnectionRecord } from '../core/transport/diagnostics.ts';
import { shellWord } from './commands/idp.ts';
import { renderConnection } from './render-tls.ts';
import { claimText, renderChecks, secretText } from './render-token.ts';
import { table, type Ui } from './ui.ts';

const TIME_CLAIMS = new Set(['exp', 'iat', 'nbf', 'auth_time']);

/** Claims holding times, anywhere in a JSON value: `exp` → its date (path: a.b.exp). */
function timeClaims(value: unknown, path = ''): Array<[string, number]> {
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const here = path ? `${path}.${k}` : k;
    if (TIME_CLAIMS.has(k) && typeof v === 'number') return [[here, v] as [string, number]];
    return typeof v === 'object' ? timeClaims(v, here) : [];
  });
}

interface Shown {
  headers: Record<string, string>;
  /** JSON as parsed, or the text */
  body: unknown;
}

/** Headers and body as they may be shown: secrets redacted (our token wherever it appears) unless --show-secrets. */
function shown(ui: Pick<Ui, 'showSecrets'>, res: ApiResponse, token: string): Shown {
  if (ui.showSecrets) return { headers: res.headers, body: res.json ?? res.text };
  const headers = Object.fromEntries(
    Object.entries(res.headers).map(([k, v]) => [k, redactText(redactValue(k, v), [token])]),
  );
  const body =
    res.json !== undefined
      ? JSON.parse(redactText(JSON.stringify(redactJson(res.json)), [token]))
      : redactResponseText(res.text, { contentType: res.headers['content-type'], known: [token] });
  return { headers, body };
}

/** The `result` of call --json (and of smoke's api steps). */
export function apiResult(
  ui: Pick<Ui, 'showSecrets'>,
  res: ApiResponse,
  o: { token: string; binding: CallBinding; negative?: string; as?: string; source?: string },
) {
  const s = shown(ui, res, o.token);
  const error = res.challenge?.params.error;
  return {
    request: {
      method: res.method,
      url: res.url,
      certificate: o.binding.presented,
      ...(o.as ? { as: o.as } : {}),
      ...(o.negative ? { negativeProof: o.negative } : {}),
      token: secretText(ui, o.token),
      ...(o.source ? { tokenSource: o.source } : {}),
    },
    status: res.status,
    headers: s.headers,
    body: s.body,
    binding: o.binding,
    ...(res.dpopNonceRetry ? { dpopNonceRetry: true } : {}),
    ...(res.challenge
      ? {
          challenge: {
            scheme: res.challenge.scheme,
            ...res.challenge.params,
            ...(explain(error) ? { explanation: explain(error) } : {}),
          },
        }
      : {}),
  };
}

/** The API's answer for a person: status, the request, the binding, headers, body, a refusal explained, the TLS story. */
export function renderApiResponse(
  ui: Ui,
  res: ApiResponse,
  o: {
    token: string;
    tokenFrom: string;
    binding: CallBinding;
    negative?: string;
    checks: Check[];
    connections: ConnectionRecord[];
  },
): void {
  const c = ui.c;
  const s = shown(ui, res, o.token);
  const ok = res.status >= 200 && res.status < 300;
  const status = `HTTP ${res.status}`;
  ui.out(
    `${ok ? c.green(status) : res.status >= 400 ? c.red(status) : c.yellow(status)}  ${res.method} ${printable(res.url, { oneLine: true })}`,
  );
  const b = o.binding;
  const sent = b.presented
    ? `with the client certificate x5t#S256 ${b.presented}`
    : 'without a client certificate';
  ui.out(
    `  ${o.tokenFrom} ${secretText(ui, o.token)}, ${o.negative ?? sent}${o.negative && b.presented ? ` (x5t#S256 ${b.presented})` : ''}`,
  );

  ui.out('binding');
  const boundFrom =
    b.tokenSource === 'jwt cnf' ? "the JWT's cnf" : 'the certificate it was obtained with, per the cache';
  const rows: Array<[string, string | undefined]> = [
    [
      'token bound to',
      b.token
        ? `x5t#S256 ${b.token} (${boundFrom})`
        : 'unknown (an opaque token from outside the cache: introspect it to see its cnf)',
    ],
    ['certificate sent', b.presented ? `x5t#S256 ${b.presented}` : 'none'],
  ];
  const d = b.dpop;
  if (d) {
    rows.push(
      ['DPoP key bound to', d.boundTo ? `jkt ${d.boundTo}` : 'none (the token is not DPoP-bound)'],
      [
        'DPoP proof by',
        d.proofKey
          ? `jkt ${d.proofKey}${res.dpopNonceRetry ? ', sent again with the nonce the API asked for' : ''}`
          : 'none (sent as Bearer)',
      ],
    );
  }
  for (const line of table(rows)) ui.out(line);
  if (d?.match === true)
    ui.out(`  ${c.green('=')} the proof is by the token's key: an API that enforces RFC 9449 accepts it`);
  else if (d?.boundTo) {
    const refused = res.status === 401 || res.status === 403;
    ui.out(
      `  ${c.yellow('≠')} ${d.proofKey ? "the proof is not by the token's key" : 'no proof of the key the token is bound to'}: an API that enforces RFC 9449 must refuse it${
        refused
          ? ` — ${c.green('and it did')}`
          : ok
            ? ` — ${c.red('it did NOT: the API does not check DPoP')}`
            : ''
      }`,
    );
  }
  if (b.match === true)
    ui.out(`  ${c.green('=')} the same certificate: an API that enforces RFC 8705 §3 accepts it`);
  else if (b.match === false) {
    const refused = res.status === 401 || res.status === 403;
    ui.out(
      `  ${c.yellow('≠')} not the certificate the token is bound to: an API that enforces RFC 8705 §3 must refuse it${
        refused
          ? ` — ${c.green('and it did')}`
          : ok
            ? ` — ${c.red('it did NOT: the API does not enforce the binding')}`
            : ''
      }`,
    );
  }

  ui.out('headers');
  for (const [k, v] of Object.entries(s.headers))
    ui.out(`  ${printable(k, { oneLine: true })}: ${printable(v, { oneLine: true })}`);
  const text = typeof s.body === 'string' ? s.body : JSON.stringify(s.body, null, 2);
  if (text) {
    ui.out('body');
    for (const line of printable(text).split('\n')) ui.out(`  ${line}`);
    const times = timeClaims(s.body);
    if (times.length) {
      ui.out('times in the body');
      for (const line of table(times.map(([k, v]) => [k, claimText(k.split('.').pop()!, v)]))) ui.out(line);
    }
  }
  if (res.challenge) {
    const p = res.challenge.params;
    ui.out(
      `${c.yellow('refused')}: WWW-Authenticate ${printable(res.headers['www-authenticate'] ?? '', { oneLine: true })}`,
    );
    if (p.error)
      ui.out(
        `  ${printable(p.error, { oneLine: true })}: ${explain(p.error) ?? 'an error code RFC 6750 does not define'}`,
      );
    else ui.out('  no error code: the request carried no credentials the API recognised (RFC 6750 §3.1)');
    if (p.error_description) ui.out(`  the API says: ${printable(p.error_description, { oneLine: true })}`);
  }
  // The API's connection, not discovery's: the TLS story of the request shown.
  const u = new URL(res.url);
  const target = `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
  const conns = o.connections.filter((r) => r.target === target);
  if (conns.length) {
    ui.out('connection');
    for (const r of conns) for (const line of renderConnection(r, c, '  ')) ui.out(line);
  }
  renderChecks(ui, o.checks);
}

/**
 * The ready-to-run `call` line after token and login, when an API is configured: the same issuer,
 * client and certificate, so that it finds the token just cached (none of them is a secret).
 */
export function callLine(settings: Settings): string | undefined {
  if (!settings.api) return undefined;
  const words = ['mtls-oauth', 'call', settings.api];
  const add = (flag: string, v: string | undefined) => {
    if (v !== undefined) words.push(flag, v);
  };
  add('--issuer', settings.issuer);
  if (!settings.issuer) add('--token-endpoint', settings.tokenEndpoint);
  add('--client-id', settings.clientId);
  add('--p12', settings.p12);
  add('--cert', settings.cert);
  add('--key', settings.key);
  add('--ca', settings.ca);
  return words.map(shellWord).join(' ');
}

/** Prints callLine (human output only) under "next:". */
export function printCallLine(ui: Ui, settings: Settings, cached: boolean): void {
  const line = callLine(settings);
  if (!line) return;
  ui.out(
    `next: ${line}${cached ? '' : ui.c.dim('  # --token - with the token on stdin: it was not cached')}`,
  );
}
