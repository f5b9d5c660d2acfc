// `mtls-oauth certs`: the group; each subcommand lives in its own certs-*.ts file.

import type { Command } from 'commander';
import { registerCertsInit } from './init.ts';
import { registerCertsInspect } from './inspect.ts';
import { registerCertsIssue } from './issue.ts';
import { registerCertsP12 } from './p12.ts';

export function registerCerts(program: Command): void {
  const certs = program
    .command('certs')
    .description('create and inspect the certificates an mTLS OAuth client uses (test CA, client, server)');
  registerCertsInit(certs);
  registerCertsIssue(certs);
  registerCertsInspect(certs);
  registerCertsP12(certs);
  certs.addHelpText(
    'after',
    `
Examples:
  $ mtls-oauth certs init                       # ./certs: ca.crt, ca.key, client.crt, client.key (CN=kong)
  $ mtls-oauth certs issue --ca-cert certs/ca.crt --ca-key certs/ca.key --cn kong-2
  $ mtls-oauth certs inspect certs/client.crt --key certs/client.key
  $ mtls-oauth certs p12 --cert certs/client.crt --key certs/client.key --chain certs/ca.crt
`,
  );
}
