// `mtls-oauth introspect TOKEN|-`: RFC 7662 token introspection, authenticated like `token`, with
// the certificate binding (cnf.x5t#S256) checked against our certificate. `active: false` is an
// answer, not an error; --expect-active / --expect-inactive turn it into the exit code.

import type { Command } from 'commander';
import type { Check } from '../../core/check.ts';
import { usageError } from '../../core/errors.ts';
import type { Operation } from '../../core/session.ts';
import { addIdpOptions, showOptions } from '../common.ts';
import { describeEndpoint } from '../open-session.ts';
import { renderIntrospection } from '../render-token.ts';
import { execute, type Outcome } from '../run.ts';
import { addTokenInput, describeInput, type TokenInputOptions, withTokenInput } from '../token-input.ts';
import type { Ui } from '../ui.ts';

interface IntrospectOptions extends TokenInputOptions {
  expectActive?: boolean;
  expectInactive?: boolean;
}

async function run(arg: string | undefined, opts: IntrospectOptions, cmd: Command, ui: Ui): Promise<Outcome> {
  if (opts.expectActive && opts.expectInactive) {
    throw usageError('EXPECT_BOTH', '--expect-active and --expect-inactive contradict each other');
  }
  const operations: Operation[] = ['introspection'];
  const io = { arg, opts, cmd, ui, command: 'introspect', operations };
  return withTokenInput(io, async ({ session, input, hint }) => {
    const { introspectToken, bindingFromIntrospection } = await import('../../core/token-endpoint.ts');
    const endpoint = session.endpoint('introspection');
    const spinner = await ui.spinner(`introspection at ${endpoint.url}`);
    let response: Awaited<ReturnType<typeof introspectToken>>['response'];
    try {
      ({ response } = await introspectToken(session.client, endpoint.url, input.token, hint));
    } finally {
      spinner.stop();
    }
    const b = bindingFromIntrospection(response, {
      expected: session.identity?.x5tS256,
      idpBinds: session.idpBindsTokens,
    });
    const checks: Check[] = [{ name: b.name, status: b.status, ...(b.detail ? { detail: b.detail } : {}) }];
    if (opts.expectActive || opts.expectInactive) {
      const want = !!opts.expectActive;
      checks.push({
        name: want ? 'expect active' : 'expect inactive',
        status: response.active === want ? 'pass' : 'fail',
        detail: `the IdP says active: ${response.active}`,
      });
    }
    return {
      result: response,
      checks,
      tls: session.http.connections,
      human: () =>
        renderIntrospection(ui, response, {
          checks,
          from: `asked ${describeEndpoint(endpoint)} about ${describeInput(input)}`,
        }),
    };
  });
}

export function registerIntrospect(program: Command): void {
  const cmd = addTokenInput(program.command('introspect'), 'introspect')
    .description('ask the IdP whether a token is active (RFC 7662), and check its certificate binding')
    .option('--expect-active', 'exit 1 unless the token is active')
    .option('--expect-inactive', 'exit 1 unless the token is inactive')
    .option('--no-cache', 'do not read the token cache')
    .action(async (token: string | undefined, _opts, c: Command) => {
      await execute('introspect', c, ({ ui }) => run(token, c.opts() as IntrospectOptions, c, ui));
    });
  // DPoP proofs go with token requests; these endpoints take client authentication only.
  addIdpOptions(cmd, ['dpop', 'dpopKey', 'scope', 'api', 'authorizationEndpoint']);
  showOptions(cmd, ['--introspection-endpoint']);
  cmd.addHelpText(
    'after',
    `
The token comes from stdin with "-", from the argument (visible in the process list: avoid), or from
the token cache that \`mtls-oauth token\` fills (same --issuer / --token-endpoint and --client-id;
a cached token goes only to an endpoint of the issuer it came from).
"active: false" is a normal answer (exit 0) unless --expect-active is given.

Examples:
  $ mtls-oauth introspect --issuer https://idp.example.com --client-id kong \\
      --cert certs/client.crt --key certs/client.key
  $ printf %s "$TOKEN" | mtls-oauth introspect - --issuer https://idp.example.com --client-id kong \\
      --cert certs/client.crt --key certs/client.key --expect-active
  $ mtls-oauth introspect --from-cache refresh --json --issuer https://idp.example.com --client-id kong \\
      --p12 certs/client.p12
`,
  );
}
