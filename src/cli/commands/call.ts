// `mtls-oauth call URL`: a curl-like request to a protected API with the certificate-bound access
// token (RFC 8705 §3): Authorization: Bearer over a connection that presents the same client
// certificate. --no-cert and --as OTHER.crt send the same token without it or with another one: with
// --expect-status 401 they prove that the API refuses a stolen token.
//
// Where the cached token may go: to the URL given as the argument, or to the configured API
// (--api, MTLS_OAUTH_API, profile "api"; a config file from the current directory is announced on
// stderr with the keys it set). The issuer-origin rule of introspect and revoke (token-origin.ts)
// does not apply: the API is another origin by design. See docs/call.md.

import type { Command } from 'commander';
import type { Check } from '../../core/check.ts';
import { usageError } from '../../core/errors.ts';
import type { HttpClient } from '../../core/transport/http-client.ts';
import type { ClientIdentity } from '../../core/transport/identity.ts';
import { addIdpOptions, IDENTITY_SETTINGS, settingsFor, showOptions } from '../common.ts';
import { openCache } from '../open-session.ts';
import type { Context, Outcome } from '../run.ts';
import { execute } from '../run.ts';
import { readStdin, secretFromFlag, stdinFlag } from '../stdin-input.ts';
import {
  describeInput,
  resolveToken,
  type TokenInput,
  tokenFromText,
  warnAboutCachedEntry,
} from '../token-input.ts';
import type { Ui } from '../ui.ts';

interface CallOptions {
  request?: string;
  header: string[];
  data?: string;
  token?: string;
  expectStatus?: string;
  /** false with --no-cert */
  cert?: string | false;
  as?: string;
  /** false with --no-cache */
  cache: boolean;
}

/** The URL: the argument (a path is taken relative to the configured API), else the configured API. */
export function apiUrl(arg: string | undefined, api: string | undefined): string {
  let url = arg ?? api;
  if (arg?.startsWith('/') && api) url = new URL(arg, api).href;
  if (!url) {
    throw usageError('NO_API', 'no URL to call', {
      hint: 'give it: mtls-oauth call https://api.example.com/orders, or configure --api URL (MTLS_OAUTH_API, profile "api")',
    });
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw usageError('BAD_URL', `"${url}" is not a URL`, { hint: 'give an absolute https:// URL' });
  }
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) {
    throw usageError('BAD_URL', `${url}: a bearer token goes only over https:// (http:// on loopback)`, {
      hint: 'a token sent in clear text can be read and replayed by anyone on the path',
    });
  }
  return u.href;
}

/** --as FILE: the certificate presented instead of ours (PEM with --key, or PKCS#12). */
function presentAs(settings: Record<string, unknown>, file: string): void {
  if (/\.(p12|pfx)$/i.test(file)) {
    settings.p12 = file;
    delete settings.cert;
    delete settings.key;
  } else {
    settings.cert = file;
    delete settings.p12;
  }
}

async function requestBody(data: string | undefined): Promise<string | undefined> {
  if (data === undefined) return undefined;
  if (data === '-') return readStdin();
  if (data.startsWith('@')) {
    const { readInputFile } = await import('../../core/files.ts');
    return readInputFile(data.slice(1), 'the request body (-d @FILE)', 'check the path after "@"').toString(
      'utf8',
    );
  }
  return data;
}

async function run(
  arg: string | undefined,
  opts: CallOptions,
  cmd: Command,
  { ui }: Context,
): Promise<Outcome> {
  const noCert = opts.cert === false;
  if (noCert && opts.as) {
    throw usageError('BAD_ARGUMENTS', '--no-cert and --as contradict each other', {
      hint: 'one negative proof per run: --no-cert (no certificate) or --as OTHER.crt --key OTHER.key',
    });
  }
  stdinFlag({ '--token': opts.token, '-d': opts.data });
  const { parseExpectStatus, parseHeaders, parseMethod, callApi, callBinding, dpopBinding } = await import(
    '../../core/api-call.ts'
  );
  const expect = opts.expectStatus !== undefined ? parseExpectStatus(opts.expectStatus) : undefined;
  const headers = parseHeaders(opts.header);
  const method = opts.request !== undefined ? parseMethod(opts.request) : undefined;

  // --no-cert: no identity at all (commander folds --cert FILE and --no-cert into one value).
  const { settings, sources } = settingsFor(cmd, ui, { omit: noCert ? IDENTITY_SETTINGS : [] });
  if (noCert) for (const k of IDENTITY_SETTINGS) delete settings[k];
  if (opts.as) presentAs(settings, opts.as);
  const url = apiUrl(arg, settings.api);
  const body = await requestBody(opts.data);
  if (body !== undefined && !Object.keys(headers).includes('content-type')) {
    headers['content-type'] = /^\s*[[{]/.test(body)
      ? 'application/json'
      : 'application/x-www-form-urlencoded';
  }

  const log = ui.verbose ? (line: string) => ui.debug(line) : undefined;
  const negative = noCert
    ? 'without a client certificate'
    : opts.as
      ? `with another certificate (${opts.as})`
      : undefined;
  let input: TokenInput;
  let http: HttpClient;
  let identity: ClientIdentity | undefined;
  let close: () => Promise<void>;
  const fromFlag = await secretFromFlag(ui, {
    flag: '--token',
    value: opts.token,
    what: 'the access token',
    read: (text) => tokenFromText(text, 'access').token,
  });
  if (fromFlag !== undefined) {
    const [{ loadClientIdentity }, { HttpClient }, { httpClientFor }] = await Promise.all([
      import('../../core/transport/identity.ts'),
      import('../../core/transport/http-client.ts'),
      import('../../core/session.ts'),
    ]);
    identity = await loadClientIdentity(settings);
    http = httpClientFor(HttpClient, settings, identity, {
      log,
      showSecrets: ui.showSecrets,
      warn: (m) => ui.warn(m),
    });
    close = () => http.close();
    input = { token: fromFlag, source: opts.token === '-' ? 'stdin' : 'argument', kind: 'access' };
  } else {
    if (!settings.clientId && !opts.cache) {
      throw usageError(
        'NO_TOKEN',
        'no token: give it with --token - (stdin); --no-cache leaves no other source',
      );
    }
    const { openSession } = await import('../../core/session.ts');
    const session = await openSession({
      settings,
      sources,
      forCache: true,
      operations: [],
      log,
      showSecrets: ui.showSecrets,
      warn: (m) => ui.warn(m),
    });
    close = () => session.close();
    try {
      const cache = await openCache(ui, opts.cache);
      // sendTo []: the API is not an endpoint of the issuer; the rule for it is above (apiUrl's sources).
      input = await resolveToken({ session, sendTo: [], cache, ui, command: 'call' });
    } catch (e) {
      await close();
      throw e;
    }
    if (!negative && input.entry) warnAboutCachedEntry(ui, input.entry, session, 'access');
    http = session.http;
    identity = session.identity;
  }

  let dpop: import('../../core/dpop.ts').DpopSigner | undefined;
  try {
    dpop = await dpopSignerForCall(ui, settings, input);
  } catch (e) {
    await close();
    throw e;
  }

  try {
    const withClientCert = !noCert && !!identity;
    if (!noCert && !identity) {
      ui.warn(
        'no client certificate configured (--cert/--key or --p12): the token goes without one, and an API that enforces the binding refuses it',
      );
    }
    const spinner = await ui.spinner(`${method ?? (body !== undefined ? 'POST' : 'GET')} ${url}`);
    let res: Awaited<ReturnType<typeof callApi>>;
    try {
      res = await callApi(http, { url, method, headers, body, token: input.token, withClientCert, dpop });
    } finally {
      spinner.stop();
    }
    const binding = callBinding(input.token, {
      cachedX5t: input.entry?.x5t_s256,
      presented: withClientCert ? identity?.x5tS256 : undefined,
    });
    const dpopSide = dpopBinding(input.token, { cachedJkt: input.entry?.dpop_jkt, proofKey: dpop?.jkt });
    if (dpopSide) binding.dpop = dpopSide;
    const checks: Check[] = [];
    if (expect) {
      checks.push({
        name: 'expect status',
        status: expect.test(res.status) ? 'pass' : 'fail',
        detail: `expected ${expect.text}, the API answered ${res.status}`,
      });
    }
    const failed = checks.some((c) => c.status === 'fail');
    const { apiResult, renderApiResponse } = await import('../render-api.ts');
    return {
      result: apiResult(ui, res, {
        token: input.token,
        binding,
        negative,
        as: opts.as,
        source: input.source,
      }),
      checks,
      tls: http.connections,
      ...(failed
        ? {
            error: {
              code: 'API_STATUS' as const,
              message: `the API answered HTTP ${res.status}, expected ${expect?.text}`,
              hint: negative
                ? 'a 2xx here means the API accepted a certificate-bound token without its certificate: it does not enforce RFC 8705 §3'
                : 'run with -v for the TLS story and the exchange',
            },
          }
        : {}),
      human: () =>
        renderApiResponse(ui, res, {
          token: input.token,
          tokenFrom: describeInput(input),
          binding,
          negative,
          checks,
          connections: http.connections,
        }),
    };
  } finally {
    await close();
  }
}

/**
 * The key to prove possession with (RFC 9449 §7): --dpop-key, else the key the cache kept with a
 * token it was made for, else (--dpop) a key of this run's own. A token bound to a key that is not
 * at hand cannot be used: DPOP_KEY_MISSING. A proof by a key that is not the token's one is a
 * negative proof, said so.
 */
async function dpopSignerForCall(
  ui: Ui,
  settings: import('../../core/config.ts').Settings,
  input: TokenInput,
): Promise<import('../../core/dpop.ts').DpopSigner | undefined> {
  const [{ createDpopSigner, jktOf }, { jwtClaims }] = await Promise.all([
    import('../../core/dpop.ts'),
    import('../../core/binding.ts'),
  ]);
  const boundTo = jktOf(jwtClaims(input.token)) ?? input.entry?.dpop_jkt;
  if (settings.dpopKey) {
    const { dpopSignerFor } = await import('../../core/session.ts');
    const signer = (await dpopSignerFor({ dpopKey: settings.dpopKey }))!;
    if (boundTo && boundTo !== signer.jkt) {
      ui.warn(
        `the token is bound to another DPoP key (cnf.jkt ${boundTo}) than ${settings.dpopKey} (${signer.jkt}): an API that enforces RFC 9449 must refuse this proof`,
      );
    }
    return signer;
  }
  if (input.entry?.dpop_key && (!boundTo || boundTo === input.entry.dpop_jkt)) {
    return createDpopSigner(Buffer.from(JSON.stringify(input.entry.dpop_key)), 'the cached DPoP key');
  }
  if (boundTo) {
    throw usageError(
      'DPOP_KEY_MISSING',
      `the token is bound to a DPoP key (cnf.jkt ${boundTo}) that is not at hand`,
      {
        hint: 'give the key it was requested with: --dpop-key FILE (a key made for one run is kept in the token cache only with the token it was made for)',
      },
    );
  }
  if (settings.dpop) {
    ui.warn("the token is not bound to a DPoP key: a proof of this run's own key proves nothing to the API");
    return createDpopSigner();
  }
  return undefined;
}

export function registerCall(program: Command): void {
  const cmd = program
    .command('call')
    .description(
      'call a protected API with the certificate-bound token, over a connection that presents the certificate',
    )
    .argument('[URL]', 'the API URL (a path is relative to --api; default: --api)')
    .option('-X, --request <METHOD>', 'HTTP method (default GET, POST with -d)')
    .option(
      '-H, --header <LINE>',
      "a request header 'Name: value' (repeatable)",
      (v: string, prev: string[]) => [...prev, v],
      [],
    )
    .option('-d, --data <DATA>', 'request body: text, @FILE, or - for stdin')
    .option('--token <TOKEN>', 'the access token: "-" reads it from stdin (default: the cached one)')
    .option('--expect-status <N>', 'exit 1 unless the API answers this status (200) or class (2xx, 4xx)')
    .option('--no-cert', 'send the token without a client certificate (negative proof)')
    .option('--as <FILE>', 'present this certificate instead (PEM with --key, or .p12) (negative proof)')
    .option('--no-cache', 'do not read the token cache')
    .action(async (url: string | undefined, _opts, c: Command) => {
      await execute('call', c, (ctx) => run(url, c.opts() as CallOptions, c, ctx));
    });
  // call authenticates no client at the IdP: it sends a token it already has.
  addIdpOptions(cmd, [
    'auth',
    'scope',
    'signingKey',
    'assertionAudience',
    'clientSecret',
    'introspectionEndpoint',
    'revocationEndpoint',
    'authorizationEndpoint',
  ]);
  showOptions(cmd, ['--api']);
  cmd.addHelpText(
    'after',
    `
The token is the one \`mtls-oauth token\` or \`login\` cached for the same --issuer and --client-id,
or "--token -" from stdin. It goes as Authorization: Bearer to the URL given here or configured as
the API (--api, MTLS_OAUTH_API, profile "api"): the API is another origin than the IdP by design,
so the rule that keeps cached tokens at their issuer (introspect, revoke) does not apply here. A
config file from the current directory that sets "api" is announced on stderr. Only https:// (http://
on loopback) is accepted. See docs/call.md.

Shown: the status, headers and body (JSON pretty-printed, claim times as dates, control characters
escaped), the token's cnf.x5t#S256 beside the certificate presented, a WWW-Authenticate error
explained (RFC 6750), and with -v the TLS story of the connection. The token itself only with
--show-secrets. Exit: 0 for any answer, 1 when --expect-status differs, 2 bad input, 3 network/TLS.

Examples:
  $ mtls-oauth token && mtls-oauth call https://api.example.com/orders --expect-status 2xx
  $ mtls-oauth call https://api.example.com/orders --no-cert --expect-status 401
  $ mtls-oauth call https://api.example.com/orders --as other.crt --key other.key --expect-status 401
  $ mtls-oauth call /orders -X POST -H 'Content-Type: application/json' -d @order.json --api https://api.example.com
  $ mtls-oauth token --print access-token | mtls-oauth call https://api.example.com/ --token -
`,
  );
}
