// The command tree: the root program, its global options and the commands `argv` needs. main.ts
// parses a run with it; the build renders every help page with it (render-help-pages.ts).

import { Command, Option, type OutputConfiguration } from 'commander';
import { registerCommands } from './commands/index.ts';
import { commanderOutput } from './stdio.ts';

declare const __VERSION__: string | undefined;

export async function createProgram(
  argv: string[],
  output: OutputConfiguration = commanderOutput(),
): Promise<Command> {
  const program = new Command('mtls-oauth')
    .description('Test OAuth 2.0 / OpenID Connect flows with mutual-TLS client authentication (RFC 8705).')
    .version(typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev', '-V, --version')
    .option('--json', 'print exactly one JSON document on stdout (for scripts and CI)')
    .option('-v, --verbose', 'show each request, response and TLS connection on stderr (secrets redacted)')
    .option('--show-secrets', 'print tokens and other secrets in full')
    .option('--no-color', 'plain output (also: NO_COLOR=1)')
    .addOption(new Option('--debug', 'show stack traces for unexpected errors').hideHelp())
    .showHelpAfterError('(run with --help for usage)')
    // commander never wraps: wrap.ts fits help to the screen when it is written (stdio.ts), so a
    // help page is the same text whatever the width, and can be rendered once, at build time.
    .configureHelp({ helpWidth: Number.POSITIVE_INFINITY })
    .configureOutput(output)
    .exitOverride();

  await registerCommands(program, argv);

  program.addHelpText(
    'after',
    `
Exit codes:
  0 success   1 a check failed   2 usage or bad input   3 network or TLS failure
  4 the IdP answered with an OAuth error   5 timed out   130 interrupted

Examples:
  $ mtls-oauth certs init                        # a test CA and a CN=kong client certificate in ./certs
  $ mtls-oauth discover https://idp.example.com  # what the IdP supports for mTLS
  $ mtls-oauth token --issuer https://idp.example.com --client-id kong \\
      --cert certs/client.crt --key certs/client.key
`,
  );
  return program;
}
