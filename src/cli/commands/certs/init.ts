// `mtls-oauth certs init`: a test CA and a client certificate it signed, ready to register at an
// IdP for tls_client_auth (or self_signed_tls_client_auth), written safely into one directory.

import { join } from 'node:path';
import { type Command, Option } from 'commander';
import type { OutputFile } from '../../../core/files.ts';
import { execute } from '../../run.ts';
import { table } from '../../ui.ts';
import { collect, exampleClientId, printFiles, shownPath, summaryRows, withoutPem } from './common.ts';
import { readSecret } from './secrets.ts';

interface InitFlags {
  out: string;
  cn?: string;
  subject?: string;
  caSubject?: string;
  keyType: string;
  days?: string;
  san?: string[];
  p12?: boolean;
  p12PasswordEnv?: string;
  force?: boolean;
}

export function registerCertsInit(certs: Command): void {
  const cmd = certs
    .command('init')
    .description('create a test CA and a client certificate signed by it (default subject CN=kong)')
    .option('--out <DIR>', 'directory for the files', './certs')
    .option('--cn <NAME>', "the client's common name (default kong)")
    .option('--subject <DN>', 'the whole client subject as RFC 4514: "CN=kong,O=Example,C=US"')
    .option('--ca-subject <DN>', 'the CA subject (default: CN=mtls-oauth test CA <random>,O=mtls-oauth)')
    .addOption(
      new Option(
        '--key-type <TYPE>',
        'key type for both keys: ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096, ed25519',
      ).default('ec-p256'),
    )
    .option('--days <N>', 'validity of the client certificate in days (default 365; the CA gets 10 years)')
    .option(
      '--san <LIST>',
      'subject alternative names: dns:NAME,uri:URI,ip:ADDR,email:ADDR (repeatable)',
      collect,
    )
    .option(
      '--p12',
      'also write client.p12 (certificate, key and CA; password from --p12-password-env or a prompt)',
    )
    .option('--p12-password-env <VAR>', 'environment variable holding the .p12 password')
    .option('--force', 'replace existing files (all or nothing)')
    .action(async (flags: InitFlags, command: Command) => {
      await execute('certs init', command, (ctx) => init(flags, ctx));
    });
  cmd.addHelpText(
    'after',
    `
Files (in --out): ca.crt, ca.key, client.crt, client.key (keys mode 0600), client.jwks.json
(the certificate as a JWKS with x5c, for self_signed_tls_client_auth), and client.p12 with --p12.
Nothing is overwritten without --force, and a failure leaves no partial files.

Examples:
  $ mtls-oauth certs init                                   # ./certs, CN=kong, EC P-256
  $ mtls-oauth certs init --cn gateway --san dns:gw.example.com --days 30
  $ mtls-oauth certs init --subject "CN=kong,O=Example,C=US" --key-type rsa-2048 --out ./kong-certs
  $ P12_PASSWORD=s3cret mtls-oauth certs init --p12 --p12-password-env P12_PASSWORD
  $ mtls-oauth certs init --json | jq -r .result.registration.tls_client_auth_subject_dn
`,
  );
}

async function init(flags: InitFlags, ctx: import('../../run.ts').Context) {
  const { ui } = ctx;
  const {
    certificateJwks,
    checkOutputs,
    createTestPki,
    parseDays,
    parseDn,
    parseKeyType,
    parseSans,
    subjectFrom,
    writeFilesAtomicAsync,
  } = await import('./engine.ts');

  // Every input is checked before any key is made or any file is touched.
  const keyType = parseKeyType(flags.keyType);
  const subject = subjectFrom(flags, 'kong');
  const caSubject = flags.caSubject !== undefined ? parseDn(flags.caSubject) : undefined;
  const sans = parseSans(flags.san);
  const days = parseDays(flags.days);
  const out = flags.out;
  const paths = {
    caCert: join(out, 'ca.crt'),
    caKey: join(out, 'ca.key'),
    clientCert: join(out, 'client.crt'),
    clientKey: join(out, 'client.key'),
    jwks: join(out, 'client.jwks.json'),
    ...(flags.p12 ? { p12: join(out, 'client.p12') } : {}),
  };
  const force = !!flags.force;
  const existsHint = 'use --force to replace them, or --out DIR for another directory';
  checkOutputs(Object.values(paths), { force, existsHint });
  if (flags.p12PasswordEnv !== undefined && !flags.p12) {
    ui.warn('--p12-password-env has no effect without --p12');
  }
  const p12Password = flags.p12
    ? await readSecret({
        envVar: flags.p12PasswordEnv,
        envOption: '--p12-password-env',
        fallbackEnv: 'MTLS_OAUTH_P12_PASSWORD',
        what: `password for ${shownPath(paths.p12 as string)}`,
        confirm: true,
        nonEmpty: true,
      })
    : undefined;

  const spinner = await ui.spinner(`Generating two ${keyType} keys…`);
  let pki: Awaited<ReturnType<typeof createTestPki>>;
  try {
    pki = await createTestPki({ subject, caSubject, keyType, days, sans });
  } finally {
    spinner.stop();
  }
  const jwks = certificateJwks(pki.client.certificate);
  const files: OutputFile[] = [
    { path: paths.caCert, data: pki.ca.pem, mode: 0o644 },
    { path: paths.caKey, data: pki.ca.keyPem, mode: 0o600 },
    { path: paths.clientCert, data: pki.client.pem, mode: 0o644 },
    { path: paths.clientKey, data: pki.client.keyPem, mode: 0o600 },
    { path: paths.jwks, data: `${JSON.stringify(jwks, null, 2)}\n`, mode: 0o644 },
  ];
  if (paths.p12 && p12Password !== undefined) {
    const { buildP12 } = await import('../../../core/pki/p12/index.ts');
    const der = buildP12(pki.client.privateKey, [pki.client.certificate, pki.ca.certificate], {
      password: p12Password,
      friendlyName: exampleClientId(pki.client.info),
    });
    files.push({ path: paths.p12, data: der, mode: 0o600 });
  }
  await writeFilesAtomicAsync(files, {
    force,
    existsHint,
  });

  const client = pki.client.info;
  const dnsSans = client.sans.filter((s) => s.startsWith('dns:')).map((s) => s.slice(4));
  const result = {
    directory: out,
    keyType,
    files: Object.fromEntries(Object.entries(paths)),
    ca: withoutPem(pki.ca.info),
    client: withoutPem(client),
    registration: {
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: client.subject,
      ...(dnsSans.length ? { tls_client_auth_san_dns: dnsSans[0] } : {}),
      jwks,
    },
  };

  return {
    result,
    human: () => {
      const id = exampleClientId(client);
      ui.out(
        `Created a test CA and a client certificate for ${ui.c.bold(client.subject)} in ${shownPath(out)}/`,
      );
      ui.out();
      printFiles(ui, [
        { path: paths.caCert, note: 'the test CA: give it to the IdP to trust client certificates' },
        { path: paths.caKey, note: "the CA's private key (0600): keep it; `certs issue` signs more with it" },
        { path: paths.clientCert, note: 'the client certificate  ┐ give both to the gateway' },
        { path: paths.clientKey, note: 'its private key (0600)   ┘ (Kong, Envoy, NGINX)' },
        ...(paths.p12
          ? [{ path: paths.p12, note: 'certificate + key + CA in one PKCS#12 file (0600)' }]
          : []),
        { path: paths.jwks, note: 'the certificate as a JWKS (x5c), for self_signed_tls_client_auth' },
      ]);
      ui.out();
      ui.out('The client certificate');
      for (const line of table(summaryRows(client))) ui.out(line);
      ui.out();
      ui.out('Register the client at the IdP with');
      for (const line of table([
        ['token_endpoint_auth_method', 'tls_client_auth'],
        ['tls_client_auth_subject_dn', client.subject],
      ]))
        ui.out(line);
      if (dnsSans.length) ui.out(`  (or tls_client_auth_san_dns ${dnsSans[0]} instead of the subject DN)`);
      ui.out(`  (or self_signed_tls_client_auth, with the jwks in ${shownPath(paths.jwks)})`);
      ui.out();
      ui.out('Then try it:');
      ui.out(
        `  mtls-oauth token --issuer https://idp.example.com --client-id ${id} \\\n      --cert ${shownPath(paths.clientCert)} --key ${shownPath(paths.clientKey)}`,
      );
    },
  };
}
