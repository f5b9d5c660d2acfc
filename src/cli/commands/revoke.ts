// `mtls-oauth revoke TOKEN|-`: RFC 7009 token revocation, authenticated like `token`. 200 means
// revoked (or unknown); 503 means the token may still be valid, and the command fails. --verify
// introspects afterwards and fails (exit 1) if the token is still active.

import type { Command } from 'commander';
import type { Check } from '../../core/check.ts';
import type { Operation } from '../../core/session.ts';
import { addIdpOptions, showOptions } from '../common.ts';
import { describeEndpoint } from '../open-session.ts';
import { renderChecks, secretText } from '../render-token.ts';
import { execute, type Outcome } from '../run.ts';
import { addTokenInput, describeInput, type TokenInputOptions, withTokenInput } from '../token-input.ts';
import type { Ui } from '../ui.ts';

interface RevokeOptions extends TokenInputOptions {
  verify?: boolean;
}

async function run(arg: string | undefined, opts: RevokeOptions, cmd: Command, ui: Ui): Promise<Outcome> {
  const operations: Operation[] = opts.verify ? ['revocation', 'introspection'] : ['revocation'];
  const io = { arg, opts, cmd, ui, command: 'revoke', operations };
  return withTokenInput(io, async ({ session, input, hint }) => {
    const { revokeToken, introspectToken } = await import('../../core/token-endpoint.ts');
    const endpoint = session.endpoint('revocation');
    const spinner = await ui.spinner(`revocation at ${endpoint.url}`);
    const checks: Check[] = [];
    let revoked: Awaited<ReturnType<typeof revokeToken>>;
    let after: Awaited<ReturnType<typeof introspectToken>>['response'] | undefined;
    try {
      revoked = await revokeToken(session.client, endpoint.url, input.token, hint);
      checks.push({
        name: 'revocation',
        status: 'pass',
        detail: `HTTP ${revoked.status}: revoked (or unknown to the IdP)`,
      });
      if (opts.verify) {
        ({ response: after } = await introspectToken(
          session.client,
          session.endpoint('introspection').url,
          input.token,
          hint,
        ));
        checks.push(
          after.active
            ? {
                name: 'revoked',
                status: 'fail',
                detail: 'introspection after revocation says the token is still active',
              }
            : {
                name: 'revoked',
                status: 'pass',
                detail: 'introspection after revocation says active: false',
              },
        );
      }
    } finally {
      spinner.stop();
    }
    const stillActive = after?.active === true;
    return {
      result: {
        status: revoked.status,
        ...(hint ? { token_type_hint: hint } : {}),
        ...(after ? { introspection: after } : {}),
      },
      checks,
      tls: session.http.connections,
      ...(stillActive
        ? {
            error: {
              code: 'STILL_ACTIVE',
              message: 'the IdP accepted the revocation, but the token is still active',
              hint: 'some IdPs revoke asynchronously or only refresh tokens; check the IdP, and retry --verify later',
            },
          }
        : {}),
      human: () => {
        const icon = stillActive ? ui.c.red('✗') : ui.c.green('✓');
        ui.out(
          `${icon} ${ui.c.bold('revoked')} ${describeInput(input)} ${secretText(ui, input.token)} at ${describeEndpoint(endpoint)}`,
        );
        renderChecks(ui, checks);
      },
    };
  });
}

export function registerRevoke(program: Command): void {
  const cmd = addTokenInput(program.command('revoke'), 'revoke')
    .description('revoke a token (RFC 7009); --verify introspects afterwards to prove it')
    .option('--verify', 'introspect afterwards and fail (exit 1) if the token is still active')
    .option('--no-cache', 'do not read the token cache')
    .action(async (token: string | undefined, _opts, c: Command) => {
      await execute('revoke', c, ({ ui }) => run(token, c.opts() as RevokeOptions, c, ui));
    });
  // DPoP proofs go with token requests; these endpoints take client authentication only.
  addIdpOptions(cmd, ['dpop', 'dpopKey', 'scope', 'api', 'authorizationEndpoint']);
  showOptions(cmd, ['--revocation-endpoint', '--introspection-endpoint']);
  cmd.addHelpText(
    'after',
    `
HTTP 200 means revoked, or unknown to the IdP (RFC 7009 §2.2); HTTP 503 means the token was not
revoked and may still be valid: the command fails (exit 4). The token comes from stdin ("-"), the
argument (visible in the process list: avoid), or the cache that \`mtls-oauth token\` fills.

Examples:
  $ mtls-oauth revoke --verify --issuer https://idp.example.com --client-id kong \\
      --cert certs/client.crt --key certs/client.key
  $ mtls-oauth revoke --from-cache refresh --issuer https://idp.example.com --client-id kong \\
      --p12 certs/client.p12
  $ printf %s "$TOKEN" | mtls-oauth revoke - --token-type-hint access_token \\
      --revocation-endpoint https://idp.example.com/oauth2/revoke --client-id kong \\
      --cert certs/client.crt --key certs/client.key
`,
  );
}
