// `mtls-oauth token`: one token request (client_credentials, refresh_token, authorization_code or
// password) with client authentication over mTLS, the response validated, the certificate binding
// checked, and the tokens cached for introspect, revoke and the refresh grant.

import type { Command } from 'commander';
import type { Check } from '../../core/check.ts';
import { usageError } from '../../core/errors.ts';
import type { IssuedTokenChecks } from '../../core/issued-token.ts';
import { addIdpOptions, parseParams, showOptions } from '../common.ts';
import type { ExtensionGrantOptions } from '../grant-input.ts';
import { canPrompt, promptHidden } from '../prompt.ts';
import { printCallLine } from '../render-api.ts';
import { parsePrint, tokenOutcome } from '../render-token.ts';
import { execute, type Outcome } from '../run.ts';
import type { Ui } from '../ui.ts';

interface TokenOptions extends ExtensionGrantOptions {
  grant: string;
  resource?: string;
  audience?: string;
  param: string[];
  code?: string;
  codeVerifier?: string;
  redirectUri?: string;
  username?: string;
  refreshToken?: string;
  print?: string;
  cache: boolean;
  introspect: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** The password grant's password, typed at the terminal (never a flag: the process list shows it). */
async function askPassword(username: string | undefined): Promise<string> {
  if (!canPrompt()) {
    throw usageError('NO_PASSWORD', 'the password grant needs a password and there is no terminal to ask', {
      hint: 'set MTLS_OAUTH_PASSWORD (never pass a password as a flag: the process list shows it)',
    });
  }
  return promptHidden(`Password for ${username ?? '?'}: `);
}

async function run(opts: TokenOptions, cmd: Command, ui: Ui): Promise<Outcome> {
  const [
    { GRANT_TYPES, grantNamed, grantParams, tokenRequest, exchangeCheck },
    { checkIssuedToken, cacheIssuedToken },
    { openCache, openSessionFor },
    { secretFromFlag, stdinFlag },
    { tokenFromText, warnAboutCachedEntry, checkCachedTarget },
    { checkExtensionFlags, extensionGrantInput },
  ] = await Promise.all([
    import('../../core/token-endpoint.ts'),
    import('../../core/issued-token.ts'),
    import('../open-session.ts'),
    import('../stdin-input.ts'),
    import('../token-input.ts'),
    import('../grant-input.ts'),
  ]);

  const grant = grantNamed(opts.grant);
  if (!grant) {
    throw usageError('UNKNOWN_GRANT', `unknown grant "${opts.grant}"`, {
      hint: `use one of: ${GRANT_TYPES.join(', ')}`,
    });
  }
  const extra = parseParams(opts.param);
  const print = parsePrint(ui, opts.print);
  if (grant !== 'authorization_code' && (opts.code || opts.codeVerifier || opts.redirectUri)) {
    throw usageError(
      'GRANT_OPTION',
      '--code, --code-verifier and --redirect-uri belong to --grant authorization_code',
    );
  }
  if (grant !== 'password' && opts.username) {
    throw usageError('GRANT_OPTION', '--username belongs to --grant password');
  }
  if (grant !== 'refresh_token' && opts.refreshToken) {
    throw usageError('GRANT_OPTION', '--refresh-token belongs to --grant refresh_token');
  }
  checkExtensionFlags(grant, opts);
  stdinFlag({
    '--refresh-token': opts.refreshToken,
    '--code': opts.code,
    '--code-verifier': opts.codeVerifier,
    '--subject-token': opts.subjectToken,
    '--actor-token': opts.actorToken,
    '--assertion': opts.assertion,
  });
  if (grant === 'password') {
    ui.warn(
      'the resource owner password credentials grant is deprecated: RFC 9700 (OAuth 2.0 Security BCP) §2.4 says it MUST NOT be used. It is supported here because gateways such as Kong still offer it',
    );
  }

  const session = await openSessionFor(cmd, ui, ['token'], opts.cache);
  try {
    const cache = await openCache(ui, opts.cache);
    const key = session.cacheKey();
    const previous = cache && key ? cache.get(key) : undefined;

    let refreshToken = await secretFromFlag(ui, {
      flag: '--refresh-token',
      value: opts.refreshToken,
      what: 'a refresh token',
      read: (text) => tokenFromText(text, 'refresh').token,
    });
    if (grant === 'refresh_token' && !refreshToken) {
      if (previous?.refresh_token) {
        checkCachedTarget(previous, session, ['token'], 'refresh');
        refreshToken = previous.refresh_token;
        warnAboutCachedEntry(ui, previous, session, 'refresh');
      } else if (!cache) {
        throw usageError(
          'NO_REFRESH_TOKEN',
          '--grant refresh_token needs a refresh token and --no-cache leaves none',
          {
            hint: 'pass --refresh-token - and pipe it in',
          },
        );
      } else {
        throw usageError(
          'NO_REFRESH_TOKEN',
          `no cached refresh token for ${session.credentials.clientId} (${cache.file})`,
          {
            hint: 'get one first (token --grant authorization_code with scope offline_access, or login), or pass --refresh-token - and pipe it in',
          },
        );
      }
    }
    let password: string | undefined;
    if (grant === 'password') {
      password = process.env.MTLS_OAUTH_PASSWORD || (await askPassword(opts.username));
    }

    const params = grantParams({
      grant,
      scope: session.settings.scope,
      resource: opts.resource,
      audience: opts.audience,
      refreshToken,
      code: await secretFromFlag(ui, { flag: '--code', value: opts.code, what: 'an authorization code' }),
      codeVerifier: await secretFromFlag(ui, {
        flag: '--code-verifier',
        value: opts.codeVerifier,
        what: 'a PKCE code verifier',
      }),
      redirectUri: opts.redirectUri,
      username: opts.username,
      password,
      ...(await extensionGrantInput(ui, opts, { entry: previous, session, cacheOff: !cache })),
      extra,
    });

    const endpoint = session.endpoint('token');
    const spinner = await ui.spinner(`token request to ${endpoint.url}`);
    let result: Awaited<ReturnType<typeof tokenRequest>>;
    let issued: IssuedTokenChecks;
    try {
      result = await tokenRequest(session.client, endpoint.url, params);
      issued = await checkIssuedToken(session, result.token, {
        introspect: opts.introspect,
        onNotSent: (m) => ui.warn(m),
      });
    } finally {
      spinner.stop();
    }
    const obtainedAt = Math.floor(Date.now() / 1000);
    const checks: Check[] = [...issued.checks, ...result.checks];
    if (grant === 'token-exchange') checks.push(exchangeCheck(result.token, params.requested_token_type));
    const cachedIn = await cacheIssuedToken(cache, session, result.token, {
      grantType: grant,
      now: obtainedAt,
    });

    return tokenOutcome(ui, session, {
      token: result.token,
      obtainedAt,
      requestedScope: session.settings.scope,
      checks,
      cachedIn,
      print,
      after: () => printCallLine(ui, session.settings, !!cachedIn),
    });
  } finally {
    await session.close();
  }
}

export function registerToken(program: Command): void {
  const cmd = program
    .command('token')
    .description(
      'get a token from the token endpoint with client authentication over mTLS, and check its certificate binding',
    )
    .option(
      '--grant <TYPE>',
      'client_credentials | refresh_token | authorization_code | password | token-exchange | jwt-bearer',
      'client_credentials',
    )
    .option('--resource <URI>', 'resource indicator (RFC 8707)')
    .option('--audience <AUD>', 'audience parameter (Auth0, Okta, ...)')
    .option('-p, --param <key=value>', 'extra request parameter (repeatable)', collect, [])
    .option('--code <CODE|->', 'authorization_code: the code from the redirect; "-" reads it from stdin')
    .option(
      '--code-verifier <VERIFIER|->',
      'authorization_code: the PKCE code verifier; "-" reads it from stdin',
    )
    .option('--redirect-uri <URI>', 'authorization_code: the redirect_uri of the authorization request')
    .option(
      '--username <NAME>',
      'password: the user (the password comes from MTLS_OAUTH_PASSWORD or a prompt)',
    )
    .option('--refresh-token <TOKEN|->', 'refresh_token: "-" reads it from stdin (default: the cached one)')
    .option(
      '--subject-token <TOKEN|-|cache>',
      'token-exchange: the token to exchange; "-" reads it from stdin, "cache" takes the cached access token',
    )
    .option(
      '--subject-token-type <TYPE>',
      'token-exchange: access_token (default), refresh_token, id_token, jwt, saml2 or a URN',
    )
    .option('--actor-token <TOKEN|-|cache>', "token-exchange: the acting party's token (delegation)")
    .option('--actor-token-type <TYPE>', 'token-exchange: the type of --actor-token (required with it)')
    .option('--requested-token-type <TYPE>', 'token-exchange: the type of token wanted back')
    .option('--assertion <JWT|->', 'jwt-bearer: the signed JWT assertion; "-" reads it from stdin')
    .option(
      '--print <WHAT>',
      'for the shell: print only "access-token" (the bare token) or "header" (an Authorization: line), in full',
    )
    .option('--no-cache', 'neither read nor write the token cache')
    .option('--no-introspect', 'do not introspect an opaque access token to check its binding')
    .action(async (_opts, c: Command) => {
      await execute('token', c, ({ ui }) => run(c.opts() as TokenOptions, c, ui));
    });
  addIdpOptions(cmd);
  showOptions(cmd, ['--token-endpoint', '--introspection-endpoint', '--api']);
  cmd.addHelpText(
    'after',
    `
The access token is checked against the certificate used: "binding" passes when its cnf.x5t#S256
(in a JWT access token, or from introspection of an opaque one) is our certificate's thumbprint,
fails (exit 1) when it is another's, and warns when the IdP says it binds tokens but this one is not.
Tokens are cached (mode 0600) in $MTLS_OAUTH_CACHE_DIR, else $XDG_CONFIG_HOME/mtls-oauth or
~/.config/mtls-oauth, per --issuer (or --token-endpoint) and --client-id, for introspect, revoke
and --grant refresh_token. The password grant is deprecated (RFC 9700 §2.4) and warns.
--grant token-exchange (RFC 8693) trades --subject-token for a new token (check "issued_token_type"
says what came back); --grant jwt-bearer (RFC 7523) trades a signed --assertion for one. Either way
the client authenticates with its certificate and the new token's binding is checked.
Secrets come from the environment: MTLS_OAUTH_CLIENT_SECRET (client_secret_basic / _post),
MTLS_OAUTH_PASSWORD (password grant), MTLS_OAUTH_KEY_PASSPHRASE, MTLS_OAUTH_P12_PASSWORD.
--refresh-token, --code, --code-verifier, --subject-token, --actor-token and --assertion take "-"
to read the value from stdin (one of them per run); a value given as an argument works but warns, as the process list shows it to every user.

--dpop (or MTLS_OAUTH_DPOP=1, or --dpop-key FILE) adds a DPoP proof (RFC 9449) to the token
request, of a key made for the run (ES256) or the one given; a use_dpop_nonce answer is retried once
with the server's nonce. The "dpop" check passes when token_type is DPoP and cnf.jkt (in the JWT,
or from introspection) is our key's thumbprint.

Tokens are shown as a fingerprint, sha256:3f2a9c1b…(812 chars) (the start of the SHA-256 of the
token, as \`printf %s "$TOKEN" | sha256sum\` prints it), also in --json, unless --show-secrets.
--print access-token writes only the access token to stdout, --print header only an
"Authorization: Bearer …" line: for the shell, without --json and jq.

Examples:
  $ mtls-oauth token --issuer https://idp.example.com --client-id kong \\
      --cert certs/client.crt --key certs/client.key --scope api:read
  $ TOKEN=$(mtls-oauth token --print access-token --issuer https://idp.example.com --client-id kong \\
      --p12 certs/client.p12)
  $ curl -H "$(mtls-oauth token --print header --profile staging)" https://api.example.com/orders
  $ mtls-oauth token --grant refresh_token --issuer https://idp.example.com --client-id kong \\
      --cert certs/client.crt --key certs/client.key
  $ printf %s "$CODE" | mtls-oauth token --grant authorization_code --code - --code-verifier "$VERIFIER" \\
      --redirect-uri http://127.0.0.1:8765/callback --issuer https://idp.example.com --client-id kong \\
      --cert certs/client.crt --key certs/client.key
  $ MTLS_OAUTH_PASSWORD=... mtls-oauth token --grant password --username alice \\
      --token-endpoint https://kong.example.com/oauth2/token --client-id kong --p12 certs/client.p12
  $ mtls-oauth token --grant token-exchange --subject-token cache --audience https://orders.example.com \\
      --profile staging
  $ printf %s "$USER_TOKEN" | mtls-oauth token --grant token-exchange --subject-token - \\
      --requested-token-type access_token --profile staging
  $ printf %s "$JWT" | mtls-oauth token --grant jwt-bearer --assertion - --profile staging
  $ mtls-oauth token --dpop --issuer https://idp.example.com --client-id kong --p12 certs/client.p12
  $ mtls-oauth token --json --show-secrets --issuer https://idp.example.com --client-id kong \\
      --p12 certs/client.p12 | jq -r .result.refresh_token
`,
  );
}
