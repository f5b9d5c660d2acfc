// `mtls-oauth certs inspect FILE [--key F]`: a certificate, a chain or a PKCS#12 file shown the
// way `step certificate inspect` shows it — and what would make it fail as a client certificate.

import type { Command } from 'commander';
import type { CertificateInfo } from '../../../core/pki/parse.ts';
import { canPrompt } from '../../prompt.ts';
import { execute, printChecks } from '../../run.ts';
import { table, type Ui } from '../../ui.ts';
import { validityText } from './common.ts';
import { readSecret } from './secrets.ts';

interface InspectFlags {
  key?: string;
  keyPassphraseEnv?: string;
  passwordEnv?: string;
}

export function registerCertsInspect(certs: Command): void {
  const cmd = certs
    .command('inspect')
    .description('show a certificate, a chain or a PKCS#12 file, and warn about what breaks mTLS')
    .argument('<FILE>', 'PEM (one certificate or a chain), DER, or PKCS#12 (.p12/.pfx)')
    .option('--key <FILE>', 'check that this private key belongs to the (first) certificate')
    .option(
      '--key-passphrase-env <VAR>',
      "environment variable holding the --key file's passphrase (else asked)",
    )
    .option('--password-env <VAR>', 'environment variable holding the PKCS#12 password (else asked)')
    .action(async (file: string, flags: InspectFlags, command: Command) => {
      await execute('certs inspect', command, (ctx) => inspect(file, flags, ctx));
    });
  cmd.addHelpText(
    'after',
    `
Exit status: 0 when readable (warnings included), 1 when --key does not match, 2 for unreadable
input or a wrong password.

Examples:
  $ mtls-oauth certs inspect certs/client.crt
  $ mtls-oauth certs inspect certs/client.crt --key certs/client.key
  $ mtls-oauth certs inspect chain.pem --json | jq '.result.certificates[].subject'
  $ P12_PASSWORD=s3cret mtls-oauth certs inspect client.p12 --password-env P12_PASSWORD
`,
  );
}

async function inspect(file: string, flags: InspectFlags, ctx: import('../../run.ts').Context) {
  const { ui } = ctx;
  const [{ inspectCertificates }, { isEncryptedKey, readInputFile }] = await Promise.all([
    import('../../../core/pki/inspect.ts'),
    import('./engine.ts'),
  ]);

  const data = readInputFile(file, 'file');
  let password: string | undefined;
  if (flags.passwordEnv !== undefined) {
    password = await readSecret({
      envVar: flags.passwordEnv,
      envOption: '--password-env',
      what: `password for ${file}`,
    });
  } else if (process.env.MTLS_OAUTH_P12_PASSWORD !== undefined) {
    password = process.env.MTLS_OAUTH_P12_PASSWORD;
  }
  let key: { data: Buffer; source: string; passphrase?: string } | undefined;
  if (flags.key !== undefined) {
    const keyData = readInputFile(flags.key, 'key');
    key = { data: keyData, source: flags.key };
    if (isEncryptedKey(keyData) || flags.keyPassphraseEnv !== undefined) {
      key.passphrase = await readSecret({
        envVar: flags.keyPassphraseEnv,
        envOption: '--key-passphrase-env',
        fallbackEnv: 'MTLS_OAUTH_KEY_PASSPHRASE',
        what: `passphrase for ${flags.key}`,
      });
    }
  }

  let report: ReturnType<typeof inspectCertificates>;
  try {
    report = inspectCertificates({ data, source: file, password, key });
  } catch (e) {
    // A PKCS#12 file with a password we were not given: ask, when there is someone to ask.
    if ((e as { code?: string }).code !== 'P12_PASSWORD_REQUIRED' || !canPrompt()) throw e;
    password = await readSecret({ envOption: '--password-env', what: `password for ${file}` });
    report = inspectCertificates({ data, source: file, password, key });
  }

  const keyCheck = report.checks.find((c) => c.name === 'key' && c.status === 'fail');
  return {
    result: report,
    checks: report.checks,
    ...(keyCheck
      ? {
          error: {
            code: 'KEY_MISMATCH' as const,
            message: keyCheck.detail ?? 'the key does not belong to the certificate',
            hint: 'pair each certificate with the key it was issued for',
          },
        }
      : {}),
    human: () => render(ui, report),
  };
}

function certificateRows(c: CertificateInfo): Array<[string, string | undefined]> {
  const crit = (critical: boolean) => (critical ? ' (critical)' : '');
  const bc = c.basicConstraints;
  return [
    ['Subject', c.subject || '(empty)'],
    ['Issuer', `${c.issuer}${c.selfSigned ? ' (self-signed)' : ''}`],
    ['Serial', c.serial],
    ['Validity', validityText(c)],
    ['Key', c.publicKey.description],
    ['Signature', `${c.signatureAlgorithm}${c.weakSignature ? ' (WEAK)' : ''}`],
    ['SANs', c.sans.length ? c.sans.join(', ') : undefined],
    [
      'Key usage',
      c.keyUsage ? `${c.keyUsage.usages.join(', ') || '(none)'}${crit(c.keyUsage.critical)}` : undefined,
    ],
    [
      'Ext. key usage',
      c.extendedKeyUsage
        ? `${c.extendedKeyUsage.usages.join(', ')}${crit(c.extendedKeyUsage.critical)}`
        : undefined,
    ],
    [
      'Basic constraints',
      bc
        ? `CA:${bc.ca ? 'TRUE' : 'FALSE'}${bc.pathLen !== undefined ? `, pathlen:${bc.pathLen}` : ''}${crit(bc.critical)}`
        : undefined,
    ],
    ['Subject key ID', c.subjectKeyId],
    ['Authority key ID', c.authorityKeyId],
    ['Other extensions', c.otherExtensions.length ? c.otherExtensions.join(', ') : undefined],
    ['SHA-256', c.sha256Fingerprint],
    ['x5t#S256', c.x5tS256],
  ];
}

function render(ui: Ui, report: import('../../../core/pki/inspect.ts').InspectReport): void {
  const n = report.certificates.length;
  const what =
    report.format === 'pkcs12'
      ? `PKCS#12, ${n} certificate${n === 1 ? '' : 's'}${report.pkcs12?.hasKey ? ' and a private key' : ''}`
      : `${report.format.toUpperCase()}, ${n === 1 ? 'one certificate' : `a chain of ${n} certificates`}`;
  ui.out(`${ui.c.bold(report.source)}: ${what}`);
  if (report.pkcs12) {
    ui.out(
      ui.c.dim(
        `  encryption ${report.pkcs12.encryption.join('; ') || 'none'}; MAC ${report.pkcs12.mac}${report.pkcs12.friendlyName ? `; name "${report.pkcs12.friendlyName}"` : ''}`,
      ),
    );
  }
  report.certificates.forEach((c, i) => {
    ui.out();
    if (n > 1) {
      ui.out(ui.c.bold(`Certificate ${i + 1} of ${n} (${report.roles[i]})`));
    }
    for (const line of table(certificateRows(c))) ui.out(line);
  });
  ui.out();
  ui.out(
    report.checks.some((c) => c.status !== 'pass')
      ? 'As a client certificate:'
      : 'As a client certificate: fine',
  );
  printChecks(ui, report.checks);
}
