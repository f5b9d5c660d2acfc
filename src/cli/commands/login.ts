// `mtls-oauth login`: the authorization-code flow a person runs in their browser. PKCE, a loopback
// callback, the code exchanged over mTLS, the ID token validated, the access token's certificate
// binding checked, the tokens cached. The flow is src/core/login/ (flow.ts); this file holds the flags, the
// browser, the progress on stderr, Ctrl-C, and the rendering.

import type { Command } from 'commander';
import type { ResolvedSettings } from '../../core/config.ts';
import { MtlsOAuthError, usageError } from '../../core/errors.ts';
import type { AuthorizationUrlInfo, LoginResult } from '../../core/login/index.ts';
import { printable } from '../../core/safe-text.ts';
import { addIdpOptions, settingsFor } from '../common.ts';
import { importEsm } from '../import-esm.ts';
import { abortOnSigint } from '../interrupt.ts';
import { readLine } from '../prompt.ts';
import { printCallLine } from '../render-api.ts';
import {
  claimText,
  formatDuration,
  parsePrint,
  printForShell,
  renderChecks,
  renderJwt,
  timeWithCountdown,
  tokenForJson,
} from '../render-token.ts';
import { execute, type Outcome } from '../run.ts';
import { type Spinner, table, type Ui } from '../ui.ts';

interface LoginOptions {
  prompt?: string;
  param: string[];
  port?: string;
  redirectUri?: string;
  ipv6?: boolean;
  browser: boolean;
  wait: string;
  cache: boolean;
  introspect: boolean;
  print?: string;
  device?: boolean;
  trustedAudience: string[];
  par?: boolean;
  requestObject?: boolean;
  securityProfile?: string;
  paste?: boolean;
}

const DEFAULT_WAIT_SECONDS = 300;

const collect = (value: string, previous: string[]) => [...previous, value];

/** Settings from the IdP flags, environment and profile (--timeout is per request, as everywhere). */
function loginSettings(cmd: Command, ui: Ui): ResolvedSettings {
  return settingsFor(cmd, ui);
}

function parseWait(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value) || !Number.isFinite(n) || n <= 0 || n > 86_400) {
    throw usageError('BAD_TIMEOUT', `--wait "${value}" is not a number of seconds between 0 and 86400`, {
      hint: `how long to wait for the browser to come back, e.g. --wait 120 (default ${DEFAULT_WAIT_SECONDS})`,
    });
  }
  return n;
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value.trim())) {
    throw usageError('BAD_PORT', `--port "${value}" is not a port number`, {
      hint: 'e.g. --port 8765; omit it for an ephemeral port',
    });
  }
  return Number(value);
}

/** A spinner that can step aside for a line on stderr and come back (TTY only; else silent). */
class Progress {
  private spinner?: Spinner;
  private text = '';
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly ui: Ui) {}

  show(text: string): void {
    this.text = text;
    this.pending = this.pending.then(async () => {
      if (this.spinner) this.spinner.text(this.text);
      else this.spinner = await this.ui.spinner(this.text);
    });
  }

  update(text: string): void {
    this.text = text;
    this.spinner?.text(text);
  }

  /** Prints a line on stderr without tearing the spinner. */
  line(text: string): void {
    this.pending = this.pending.then(async () => {
      const running = !!this.spinner;
      this.spinner?.stop();
      this.spinner = undefined;
      this.ui.err(text);
      if (running) this.spinner = await this.ui.spinner(this.text);
    });
  }

  async stop(): Promise<void> {
    await this.pending;
    this.spinner?.stop();
    this.spinner = undefined;
  }
}

/**
 * Opens the system browser (never an embedded one, RFC 8252 §8.12). A failure is only reported:
 * the URL is on stderr already.
 */
async function openBrowser(url: string, report: (line: string) => void): Promise<void> {
  const failed = (why: string) => report(`could not open a browser (${why}): open the URL above yourself`);
  try {
    // `open` hands the URL to the platform's opener as one argument, so on Windows it reaches the
    // browser whole (a bare `cmd /c start` would cut it at the first "&").
    const { default: open } = await importEsm<typeof import('open')>('open');
    const child = await open(url);
    child.once('error', (e) => failed(e.message));
    child.once('exit', (code) => {
      if (code) failed(`the opener exited with status ${code}`);
    });
  } catch (e) {
    failed((e as Error).message);
  }
}

function describeUser(r: LoginResult): string {
  if (!r.user) return r.idToken ? 'an unverified user' : 'a user (no ID token: OAuth 2.0 only)';
  const extra = [r.user.name, r.user.email].filter(Boolean).join(', ');
  return printable(`${r.user.sub}${extra ? ` (${extra})` : ''}`, { oneLine: true });
}

/** A claim of the ID token (from the network) made safe for the terminal. */
const shown = (v: unknown) => (typeof v === 'string' ? printable(v, { oneLine: true }) : undefined);

function renderLogin(ui: Ui, r: LoginResult): void {
  const icon = r.failure ? ui.c.red('✗') : ui.c.green('✓');
  const head = r.failure
    ? `login at ${r.issuer} finished, but a check failed`
    : `logged in at ${r.issuer} as ${describeUser(r)}`;
  ui.out(`${icon} ${ui.c.bold(head)}`);
  const t = r.token;
  const received = (
    [
      ['access', t.access_token],
      ['refresh', t.refresh_token],
      ['id', t.id_token],
    ] as const
  )
    .filter(([, v]) => typeof v === 'string' && v !== '')
    .map(([k]) => `${k} token`);
  const rows: Array<[string, string | undefined]> = [
    ['subject', shown(r.user?.sub)],
    ['name', shown(r.user?.name)],
    ['email', shown(r.user?.email)],
    ['username', shown(r.user?.preferred_username)],
    ['client', `${r.clientId} (${r.authMethod})`],
    [
      'scope',
      r.scope.granted !== undefined
        ? r.scope.granted || '(empty)'
        : `${r.scope.requested} (as requested; the response names none)`,
    ],
    [
      'expires',
      r.expiresAt !== undefined
        ? timeWithCountdown(r.expiresAt, { pastWord: 'expired' })
        : 'unknown (no expires_in)',
    ],
    [
      'auth time',
      typeof r.idToken?.claims?.auth_time === 'number'
        ? claimText('auth_time', r.idToken.claims.auth_time)
        : undefined,
    ],
    ['token endpoint', `${r.tokenEndpoint.url} (${r.tokenEndpoint.via})`],
    ['redirect uri', r.redirectUri],
    ['pushed to', r.par ? `${r.par.endpoint.url} (${r.par.endpoint.via}, ${r.par.reason})` : undefined],
    ['binding', r.binding.detail ?? r.binding.status],
  ];
  if (ui.showSecrets) {
    rows.push(['access token', t.access_token], ['refresh token', t.refresh_token], ['id token', t.id_token]);
  } else {
    rows.push(['tokens', `${received.join(', ')} received (not shown; --show-secrets prints them)`]);
  }
  rows.push(['cached in', r.cachedIn ?? (r.failure ? 'not cached (a check failed)' : 'not cached')]);
  for (const line of table(rows)) ui.out(line);
  renderJwt(ui, 'access token', t.access_token);
  renderJwt(ui, 'id token', t.id_token);
  renderChecks(ui, r.checks);
}

async function run(opts: LoginOptions, cmd: Command, ui: Ui): Promise<Outcome> {
  if (opts.device) {
    const { deviceLogin } = await import('../device-login.ts');
    const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
    const browserFlags = (
      [
        ['port', '--port'],
        ['redirectUri', '--redirect-uri'],
        ['ipv6', '--ipv6'],
        ['paste', '--paste'],
        ['prompt', '--prompt'],
        ['par', '--par'],
        ['requestObject', '--request-object'],
        ['securityProfile', '--security-profile'],
        ['wait', '--wait'],
      ] as const
    )
      .filter(([name]) => given(name))
      .map(([, flag]) => flag);
    return deviceLogin({ ...opts, browserFlags }, loginSettings(cmd, ui), ui);
  }
  const waitSeconds = parseWait(opts.wait);
  const print = parsePrint(ui, opts.print);
  const { callbackSpec, login, missingIssuer } = await import('../../core/login/index.ts');
  const { assertExtraParamsAllowed, parseExtraParams } = await import('../../core/authorization-request.ts');
  const callback = callbackSpec({
    redirectUri: opts.redirectUri,
    port: parsePort(opts.port),
    ipv6: opts.ipv6,
  });
  if (callback.warning) ui.warn(callback.warning);
  const extraParams = parseExtraParams(opts.param);
  assertExtraParamsAllowed(extraParams);
  const { settings, sources } = loginSettings(cmd, ui);
  if (!settings.issuer) throw missingIssuer();
  const securityProfile = opts.securityProfile
    ? (await import('../../core/fapi2.ts')).parseSecurityProfile(opts.securityProfile)
    : undefined;
  // A missing or bad signing key: exit 2 before the listener opens.
  const requestObject = opts.requestObject
    ? await (await import('../../core/request-object.ts')).requestObjectSigner(settings)
    : undefined;

  // Ctrl-C closes the listener or stops the polling (exit 130); a second one leaves at once.
  const interrupt = abortOnSigint();

  const progress = new Progress(ui);
  let ticker: NodeJS.Timeout | undefined;
  const { openSession } = await import('../../core/session.ts');
  let session: Awaited<ReturnType<typeof openSession>> | undefined;
  try {
    session = await openSession({
      settings,
      sources,
      operations: ['token'],
      log: ui.verbose ? (line) => ui.debug(line) : undefined,
      showSecrets: ui.showSecrets,
      warn: (m) => ui.warn(m),
    });
    const cache = opts.cache
      ? new (await import('../../core/token-cache.ts')).TokenCache({ warn: (m) => ui.warn(m) })
      : undefined;

    const onAuthorizationUrl = async (info: AuthorizationUrlInfo) => {
      if (opts.paste) {
        ui.err('Open this URL in a browser (on any machine) to log in:');
        ui.err(info.url);
        ui.err(
          `The browser then goes to ${info.redirectUri}, which will not load: paste that whole address here (within ${formatDuration(waitSeconds)}; Ctrl-C cancels).`,
        );
        return;
      }
      ui.err(
        opts.browser
          ? 'Opening the browser to log in. If it does not open, visit this URL:'
          : 'Open this URL in a browser to log in:',
      );
      ui.err(info.url);
      ui.err(
        `Waiting up to ${formatDuration(waitSeconds)} for the redirect to ${info.redirectUri} (Ctrl-C cancels).`,
      );
      if (opts.browser)
        await openBrowser(info.url, (line) => progress.line(`${ui.e.yellow('warning:')} ${line}`));
      const waiting = () =>
        `waiting for the login in the browser (${formatDuration((info.deadline - Date.now()) / 1000)} left, Ctrl-C cancels)`;
      progress.show(waiting());
      ticker = setInterval(() => progress.update(waiting()), 1000);
      ticker.unref();
    };

    let result: LoginResult;
    try {
      result = await login({
        session,
        scope: settings.scope,
        prompt: opts.prompt,
        extraParams,
        callback,
        timeoutMs: Math.round(waitSeconds * 1000),
        signal: interrupt.signal,
        introspect: opts.introspect,
        trustedAudiences: opts.trustedAudience,
        cache,
        // A reload of the callback tab shows the outcome until this process exits.
        keepCallbackPage: true,
        delivery: {
          par: opts.par,
          profileRequiresPar: securityProfile === 'fapi2',
          requestObject,
        },
        securityProfile,
        ...(opts.paste ? { paste: { readLine: () => readLine('URL: ') } } : {}),
        onAuthorizationUrl,
        onCallbackEvent: (event) => {
          if (event.type === 'accepted') {
            clearInterval(ticker);
            progress.line('Authorization response received.');
            progress.show('finishing the login');
          } else if (event.waiting) {
            progress.line(
              `${ui.e.yellow('ignored')} a request to the callback (HTTP ${event.status}): ${event.reason}; still waiting`,
            );
          }
        },
        onStep: (step, detail) => {
          if (step !== 'discovery') progress.show(`${step}: ${detail}`);
        },
      });
    } finally {
      clearInterval(ticker);
      await progress.stop();
    }

    const r = result;
    return {
      result: {
        issuer: r.issuer,
        client_id: r.clientId,
        auth_method: r.authMethod,
        authorization_endpoint: r.authorizationEndpoint,
        redirect_uri: r.redirectUri,
        token_endpoint: r.tokenEndpoint,
        user: r.user ?? null,
        scope: r.scope,
        obtained_at: r.obtainedAt,
        expires_at: r.expiresAt ?? null,
        token: tokenForJson(ui, r.token),
        id_token: r.idToken ?? null,
        binding: r.binding,
        cached_in: r.cachedIn ?? null,
        rejected_callbacks: r.rejectedCallbacks,
        par: r.par
          ? {
              endpoint: r.par.endpoint,
              request_uri: r.par.requestUri,
              expires_in: r.par.expiresIn,
              reason: r.par.reason,
            }
          : null,
      },
      checks: r.checks,
      tls: session.http.connections,
      ...(r.failure ? { error: r.failure } : {}),
      human: () => {
        if (print) return printForShell(ui, print, r.token, r.checks);
        renderLogin(ui, r);
        printCallLine(ui, settings, !!r.cachedIn);
      },
    };
  } catch (e) {
    if (interrupt.signal.aborted && !(e instanceof MtlsOAuthError && e.kind === 'interrupted')) {
      throw new MtlsOAuthError('interrupted', 'INTERRUPTED', 'interrupted: the login was cancelled', {
        cause: e,
      });
    }
    throw e;
  } finally {
    interrupt.dispose();
    await session?.close();
  }
}

export function registerLogin(program: Command): void {
  const cmd = program
    .command('login')
    .description(
      'log in with the authorization-code flow in the browser (PKCE, loopback callback), exchange the code over mTLS, and check the ID token and the token binding',
    )
    .option('--prompt <PROMPT>', 'prompt parameter: login, consent, select_account or none')
    .option('-p, --param <key=value>', 'extra authorization request parameter (repeatable)', collect, [])
    .option('--port <N>', 'callback port on the loopback address (default: an ephemeral port)')
    .option(
      '--redirect-uri <URL>',
      'the exact redirect URI registered at the IdP, on 127.0.0.1 or [::1] (e.g. http://127.0.0.1:8765/callback), or localhost (warns)',
    )
    .option('--ipv6', 'listen on [::1] instead of 127.0.0.1')
    .option(
      '--par',
      'push the authorization request to the PAR endpoint first (RFC 9126): the browser gets only client_id and request_uri',
    )
    .option(
      '--request-object',
      'send the authorization request as a JWT signed with --signing-key (RFC 9101), alone or pushed with --par',
    )
    .option(
      '--security-profile <NAME>',
      'run the flow a security profile requires and check the IdP meets it: fapi2 (PAR, PKCE S256, iss, a bound token)',
    )
    .option('--no-browser', 'do not open a browser: only print the URL (on stderr, on a line of its own)')
    .option(
      '--paste',
      'no browser on this machine (SSH): print the URL, then read the URL the browser ended on from stdin',
    )
    .option(
      '--device',
      'the device flow (RFC 8628) for a machine without a browser: enter the code shown on another device',
    )
    .option(
      '--wait <SECONDS>',
      'how long to wait for the browser to come back to the callback',
      String(DEFAULT_WAIT_SECONDS),
    )
    .option(
      '--print <WHAT>',
      'for the shell: print only "access-token" (the bare token) or "header" (an Authorization: line), in full',
    )
    .option(
      '--trusted-audience <AUD>',
      'an ID token audience besides the client id that this client trusts (repeatable); any other fails the aud check',
      collect,
      [],
    )
    .option('--no-cache', 'do not write the tokens to the token cache')
    .option('--no-introspect', 'do not introspect an opaque access token to check its binding')
    .action(async (_opts, c: Command) => {
      await execute('login', c, ({ ui }) => run(c.opts() as LoginOptions, c, ui));
    });
  addIdpOptions(cmd);
  for (const o of cmd.options) if (o.long === '--api') o.hidden = false;
  cmd.addHelpText(
    'after',
    `
The scope defaults to "openid". The URL that starts the login is printed on stderr, on a line of
its own (with --no-browser it is only printed). The callback listens on 127.0.0.1 (or [::1]) only,
until one valid response arrives: requests with a wrong or missing state, to other paths or with a
foreign Host header are turned away (and reported) while the wait goes on. The browser's page waits
(a few seconds at most) for the code exchange and the checks, and then tells how the login ended;
reloading it shows that outcome again and accepts no second code.

--wait is that wait for the browser (default ${DEFAULT_WAIT_SECONDS} s); --timeout (MTLS_OAUTH_TIMEOUT) is, as in
every command, the limit for each request to the IdP.

The code is exchanged at the token endpoint (its mTLS alias, where there is one) with the client
certificate, the PKCE verifier and the same redirect_uri. The ID token is validated against the
issuer's JWKS, and the access token's cnf.x5t#S256 is compared with the certificate. Tokens are
shown only with --show-secrets (in --json too, else as a fingerprint: sha256:…(N chars)), or with
--print access-token / --print header (only that on stdout, for the shell). They are cached
(mode 0600) for introspect, revoke and token --grant refresh_token, unless the ID token failed
validation.

With --par (and by default when the IdP sets require_pushed_authorization_requests) the
authorization parameters are POSTed to the pushed_authorization_request_endpoint (its mTLS alias,
where there is one), authenticated like the token endpoint; the browser's URL then carries only
client_id and the request_uri. The IdP's refusal of the pushed request exits 4 with a hint.

--request-object signs the authorization request (RFC 9101) with --signing-key, whose public key
must be registered for the client (jwks or jwks_uri): the browser (or the PAR endpoint) gets only
client_id and the signed request.

--security-profile fapi2 runs the flow the FAPI 2.0 Security Profile requires (PAR, PKCE S256, a
sender-constrained token) and adds fapi2.* checks saying which requirements the IdP met in
practice, each with its clause (docs/fapi2.md); one not met exits 1 (FAPI2_NOT_MET).

--paste is for a terminal with no browser on this machine (SSH): nothing listens; the URL is
opened in a browser anywhere, which ends on the redirect URI (--redirect-uri, else
http://127.0.0.1/callback: the page fails to load), and that address is pasted back on stdin. It is
checked exactly as a callback is (state, iss, the IdP's error response).

--device runs the device authorization grant (RFC 8628) instead: no browser and no callback here;
the user code and the verification URI are printed on stderr, to be entered on any device, and the
token endpoint is polled over mTLS at the IdP's interval (slower when it says slow_down) until the
user approves, declines (access_denied, exit 4) or the code expires (exit 5).

Exit codes: 0 logged in, 1 a check failed (ID token, binding, iss), 2 bad flags or a busy --port,
3 network or TLS, 4 the IdP refused (e.g. access_denied), 5 no callback in time, 130 Ctrl-C.

Examples:
  $ mtls-oauth login --issuer https://idp.example.com --client-id kong \\
      --cert certs/client.crt --key certs/client.key
  $ mtls-oauth login --scope "openid email offline_access" --prompt consent --p12 certs/client.p12 \\
      --issuer https://idp.example.com --client-id kong
  $ mtls-oauth login --redirect-uri http://127.0.0.1:8765/callback -p acr_values=mfa \\
      --issuer https://idp.example.com --client-id kong --cert certs/client.crt --key certs/client.key
  $ mtls-oauth login --no-browser --wait 120 --json --issuer https://idp.example.com \\
      --client-id kong --cert certs/client.crt --key certs/client.key | jq .checks
  $ TOKEN=$(mtls-oauth login --print access-token --profile staging)
  $ mtls-oauth login --par --issuer https://idp.example.com --client-id kong \\
      --cert certs/client.crt --key certs/client.key
  $ mtls-oauth login --request-object --signing-key keys/client.jwk --par --profile staging
  $ mtls-oauth login --security-profile fapi2 --issuer https://idp.example.com --client-id kong \
      --cert certs/client.crt --key certs/client.key
  $ mtls-oauth login --paste --profile staging     # over SSH: open the URL elsewhere, paste where it ended
  $ mtls-oauth login --device --scope "openid offline_access" --profile staging   # over SSH
`,
  );
}
