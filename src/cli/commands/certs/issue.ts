// `mtls-oauth certs issue`: another client certificate (or, with --server, a server certificate)
// from an existing CA — the one `certs init` made, or the user's own.

import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { usageError } from '../../../core/errors.ts';
import type { OutputFile } from '../../../core/files.ts';
import { execute } from '../../run.ts';
import { table } from '../../ui.ts';
import { collect, exampleClientId, printFiles, shownPath, summaryRows, withoutPem } from './common.ts';
import { readSecret } from './secrets.ts';

interface IssueFlags {
  caCert: string;
  caKey: string;
  caKeyPassphraseEnv?: string;
  cn?: string;
  subject?: string;
  server?: boolean;
  san?: string[];
  out: string;
  name?: string;
  keyType: string;
  days?: string;
  p12?: boolean;
  p12PasswordEnv?: string;
  force?: boolean;
}

export function registerCertsIssue(certs: Command): void {
  const cmd = certs
    .command('issue')
    .description('issue a client (or --server) certificate from an existing CA')
    .requiredOption('--ca-cert <FILE>', 'the CA certificate (PEM or DER), e.g. certs/ca.crt')
    .requiredOption('--ca-key <FILE>', "the CA's private key (PEM; may be encrypted)")
    .option(
      '--ca-key-passphrase-env <VAR>',
      "environment variable holding the CA key's passphrase (else asked)",
    )
    .option('--cn <NAME>', 'common name of the new certificate')
    .option('--subject <DN>', 'the whole subject as RFC 4514: "CN=kong,O=Example,C=US"')
    .option('--server', 'a server certificate (serverAuth) instead of a client certificate (clientAuth)')
    .option(
      '--san <LIST>',
      'subject alternative names: dns:NAME,uri:URI,ip:ADDR,email:ADDR (repeatable)',
      collect,
    )
    .option('--out <DIR>', 'directory for the files', './certs')
    .option('--name <BASE>', 'file names BASE.crt, BASE.key, ... (default: from the CN)')
    .addOption(
      new Option('--key-type <TYPE>', 'ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096, ed25519').default(
        'ec-p256',
      ),
    )
    .option('--days <N>', 'validity in days (default 365, never beyond the CA)')
    .option('--p12', 'also write BASE.p12 (password from --p12-password-env or a prompt)')
    .option('--p12-password-env <VAR>', 'environment variable holding the .p12 password')
    .option('--force', 'replace existing files (all or nothing)')
    .action(async (flags: IssueFlags, command: Command) => {
      await execute('certs issue', command, (ctx) => issue(flags, ctx));
    });
  cmd.addHelpText(
    'after',
    `
Writes BASE.crt and BASE.key (0600), plus BASE.jwks.json for a client and BASE.p12 with --p12.
A server certificate without --san gets its CN as a DNS name (or IP address).

Examples:
  $ mtls-oauth certs issue --ca-cert certs/ca.crt --ca-key certs/ca.key --cn kong-2
  $ mtls-oauth certs issue --ca-cert certs/ca.crt --ca-key certs/ca.key --server \\
      --cn localhost --san dns:localhost,ip:127.0.0.1
  $ CA_PASS=... mtls-oauth certs issue --ca-cert corp-ca.pem --ca-key corp-ca.key \\
      --ca-key-passphrase-env CA_PASS --subject "CN=kong,O=Example" --name kong --out ./out
`,
  );
}

async function issue(flags: IssueFlags, ctx: import('../../run.ts').Context) {
  const { ui } = ctx;
  const {
    baseNameFor,
    certificateJwks,
    checkOutputs,
    issueCertificate,
    loadCa,
    parseDays,
    parseKeyType,
    parseSans,
    readInputFile,
    subjectFrom,
    writeFilesAtomicAsync,
  } = await import('./engine.ts');

  const profile = flags.server ? 'server' : 'client';
  const keyType = parseKeyType(flags.keyType);
  const subject = subjectFrom(flags);
  const sans = parseSans(flags.san);
  const days = parseDays(flags.days);
  const base = flags.name ?? baseNameFor(subject, profile);
  if (!/^[A-Za-z0-9._-]+$/.test(base) || base.startsWith('.')) {
    throw usageError('BAD_NAME', `--name must be a plain file name base, got "${base}"`, {
      hint: 'letters, digits, dot, dash and underscore; for another directory use --out',
    });
  }
  const paths = {
    cert: join(flags.out, `${base}.crt`),
    key: join(flags.out, `${base}.key`),
    ...(profile === 'client' ? { jwks: join(flags.out, `${base}.jwks.json`) } : {}),
    ...(flags.p12 ? { p12: join(flags.out, `${base}.p12`) } : {}),
  };
  const caFiles = [resolve(flags.caCert), resolve(flags.caKey)];
  for (const p of Object.values(paths)) {
    if (caFiles.includes(resolve(p))) {
      throw usageError('OUTPUT_IS_CA', `${p} is the CA's own file; refusing to replace it`, {
        hint: 'choose another --name or --out',
      });
    }
  }
  const force = !!flags.force;
  const existsHint = 'use --force to replace them, or --name/--out for other files';
  checkOutputs(Object.values(paths), { force, existsHint });

  const certData = readInputFile(flags.caCert, 'CA certificate');
  const keyData = readInputFile(flags.caKey, 'CA key');
  const caInput = { cert: certData, certSource: flags.caCert, key: keyData, keySource: flags.caKey };
  const passphraseSource = {
    envVar: flags.caKeyPassphraseEnv,
    envOption: '--ca-key-passphrase-env',
    what: `passphrase for ${flags.caKey}`,
  };
  let ca: ReturnType<typeof loadCa>;
  if (flags.caKeyPassphraseEnv !== undefined) {
    ca = loadCa({ ...caInput, passphrase: await readSecret(passphraseSource) });
  } else {
    try {
      ca = loadCa(caInput);
    } catch (e) {
      if ((e as { code?: string }).code !== 'KEY_PASSPHRASE_REQUIRED') throw e;
      ca = loadCa({ ...caInput, passphrase: await readSecret(passphraseSource) });
    }
  }

  const p12Password =
    paths.p12 !== undefined
      ? await readSecret({
          envVar: flags.p12PasswordEnv,
          envOption: '--p12-password-env',
          fallbackEnv: 'MTLS_OAUTH_P12_PASSWORD',
          what: `password for ${shownPath(paths.p12)}`,
          confirm: true,
          nonEmpty: true,
        })
      : undefined;

  const made = await issueCertificate(ca, { subject, profile, keyType, days, sans });
  const files: OutputFile[] = [
    { path: paths.cert, data: made.pem, mode: 0o644 },
    { path: paths.key, data: made.keyPem, mode: 0o600 },
  ];
  let jwks: unknown;
  if (paths.jwks) {
    jwks = certificateJwks(made.certificate);
    files.push({ path: paths.jwks, data: `${JSON.stringify(jwks, null, 2)}\n`, mode: 0o644 });
  }
  if (paths.p12 && p12Password !== undefined) {
    const { buildP12 } = await import('../../../core/pki/p12/index.ts');
    const der = buildP12(made.privateKey, [made.certificate, ca.certificate], {
      password: p12Password,
      friendlyName: base,
    });
    files.push({ path: paths.p12, data: der, mode: 0o600 });
  }
  await writeFilesAtomicAsync(files, {
    force,
    existsHint,
  });
  for (const w of made.warnings) ui.warn(w);

  const info = made.info;
  return {
    result: {
      profile,
      keyType,
      files: paths,
      issuer: withoutPem(ca.info),
      certificate: withoutPem(info),
      ...(profile === 'client'
        ? {
            registration: {
              token_endpoint_auth_method: 'tls_client_auth',
              tls_client_auth_subject_dn: info.subject,
              jwks,
            },
          }
        : {}),
      warnings: made.warnings,
    },
    human: () => {
      ui.out(`Issued a ${profile} certificate for ${ui.c.bold(info.subject)}, signed by ${ca.info.subject}`);
      ui.out();
      printFiles(ui, [
        { path: paths.cert, note: `the ${profile} certificate` },
        { path: paths.key, note: 'its private key (0600)' },
        ...(paths.p12
          ? [{ path: paths.p12, note: 'certificate + key + CA in one PKCS#12 file (0600)' }]
          : []),
        ...(paths.jwks
          ? [{ path: paths.jwks, note: 'the certificate as a JWKS (x5c), for self_signed_tls_client_auth' }]
          : []),
      ]);
      ui.out();
      for (const line of table(summaryRows(info))) ui.out(line);
      ui.out();
      if (profile === 'client') {
        ui.out(`Register it at the IdP with tls_client_auth_subject_dn ${info.subject}`);
        ui.out(
          `Try it: mtls-oauth token --issuer https://idp.example.com --client-id ${exampleClientId(info)} --cert ${shownPath(paths.cert)} --key ${shownPath(paths.key)}`,
        );
      } else {
        ui.out(`Clients that trust ${shownPath(flags.caCert)} accept it for ${info.sans.join(', ')}.`);
      }
    },
  };
}
