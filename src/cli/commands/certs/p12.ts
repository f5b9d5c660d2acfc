// `mtls-oauth certs p12`: packs an existing PEM certificate and key (and a chain) into one PKCS#12
// file, or with --extract unpacks a PKCS#12 file into PEM: BASE.crt, BASE.key (0600) and, when it
// holds more certificates, BASE.chain.crt. Nothing existing is replaced without --force.

import type { X509Certificate } from 'node:crypto';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { usageError } from '../../../core/errors.ts';
import type { OutputFile } from '../../../core/files.ts';
import { canPrompt } from '../../prompt.ts';
import type { Context } from '../../run.ts';
import { execute } from '../../run.ts';
import { printFiles, shownPath } from './common.ts';
import { readSecret } from './secrets.ts';

interface P12Flags {
  cert?: string;
  key?: string;
  chain?: string;
  extract?: string;
  out?: string;
  name?: string;
  keyPassphraseEnv?: string;
  p12PasswordEnv?: string;
  force?: boolean;
}

export function registerCertsP12(certs: Command): void {
  const cmd = certs
    .command('p12')
    .description('pack a PEM certificate and key into PKCS#12, or --extract one into PEM files')
    .option('--cert <FILE>', 'the certificate (PEM or DER; a PEM chain after it is packed too)')
    .option('--key <FILE>', 'its private key (PEM or DER; may be encrypted)')
    .option('--chain <FILE>', 'more certificates to pack: intermediates, the CA (PEM)')
    .option('--extract <FILE>', 'unpack this PKCS#12 file into PEM instead')
    .option(
      '--out <PATH>',
      'the .p12 file to write (default: the certificate with .p12); with --extract, the directory (default: beside the .p12)',
    )
    .option(
      '--name <BASE>',
      'with --extract: file names BASE.crt, BASE.key, BASE.chain.crt (default: the .p12 name)',
    )
    .option('--key-passphrase-env <VAR>', "environment variable holding the key's passphrase (else asked)")
    .option(
      '--p12-password-env <VAR>',
      'environment variable holding the PKCS#12 password (else MTLS_OAUTH_P12_PASSWORD, else asked)',
    )
    .option('--force', 'replace existing files (all or nothing)')
    .action(async (flags: P12Flags, command: Command) => {
      await execute('certs p12', command, (ctx) =>
        flags.extract !== undefined ? extract(flags, ctx) : pack(flags, ctx),
      );
    });
  cmd.addHelpText(
    'after',
    `
Packing encrypts with AES-256-CBC and PBKDF2-SHA256 and MACs with HMAC-SHA256, as OpenSSL 3 does;
the key must belong to the certificate. Extracting writes the key unencrypted (mode 0600), like
\`openssl pkcs12 -nodes\`.

Examples:
  $ mtls-oauth certs p12 --cert certs/client.crt --key certs/client.key --chain certs/ca.crt
  $ P12_PASSWORD=s3cret mtls-oauth certs p12 --cert client.crt --key client.key \\
      --out kong.p12 --p12-password-env P12_PASSWORD
  $ mtls-oauth certs p12 --extract kong.p12 --out ./pem     # ./pem/kong.crt, kong.key, kong.chain.crt
`,
  );
}

/** A certificate in the result: its RFC 4514 subject and SHA-256 fingerprint. */
async function summaries(certs: X509Certificate[]) {
  const { certificateNames } = await import('../../../core/pki/der.ts');
  return certs.map((c) => ({ subject: certificateNames(c.raw).subject, sha256: c.fingerprint256 }));
}

const existsHint = 'use --force to replace them, or --out/--name for other files';

/** Refuses to write over one of the command's own inputs. */
function notAnInput(outputs: string[], inputs: Array<string | undefined>): void {
  const ins = inputs.filter((p): p is string => p !== undefined).map((p) => resolve(p));
  for (const out of outputs) {
    if (ins.includes(resolve(out))) {
      throw usageError('OUTPUT_IS_INPUT', `${out} is also an input; refusing to replace it`, {
        hint: 'choose another --out (or --name)',
      });
    }
  }
}

async function pack(flags: P12Flags, { ui }: Context) {
  if (flags.cert === undefined || flags.key === undefined) {
    throw usageError('BAD_ARGUMENTS', 'certs p12 needs --cert and --key (or --extract FILE.p12)', {
      hint: 'mtls-oauth certs p12 --cert certs/client.crt --key certs/client.key',
    });
  }
  if (flags.name !== undefined) {
    throw usageError('BAD_ARGUMENTS', '--name names the files --extract writes; to name the .p12 use --out', {
      hint: 'mtls-oauth certs p12 --cert client.crt --key client.key --out kong.p12',
    });
  }
  const [{ checkOutputs, isEncryptedKey, readInputFile, writeFilesAtomicAsync }, pem, { buildP12 }] =
    await Promise.all([
      import('./engine.ts'),
      import('../../../core/pki/pem.ts'),
      import('../../../core/pki/p12/index.ts'),
    ]);
  const out = flags.out ?? join(dirname(flags.cert), `${basename(flags.cert, extname(flags.cert))}.p12`);
  notAnInput([out], [flags.cert, flags.key, flags.chain]);
  const force = !!flags.force;
  checkOutputs([out], { force, existsHint });

  const certs = pem.readCertificates(readInputFile(flags.cert, 'certificate'), flags.cert, {
    ifKey: 'the key goes to --key; --cert takes the certificate',
  });
  if (flags.chain !== undefined) {
    const seen = new Set(certs.map((c) => c.fingerprint256));
    for (const c of pem.readCertificates(readInputFile(flags.chain, 'chain'), flags.chain, {
      what: 'chain',
    })) {
      if (!seen.has(c.fingerprint256)) certs.push(c);
      seen.add(c.fingerprint256);
    }
  }
  const keyData = readInputFile(flags.key, 'key');
  const passphrase =
    isEncryptedKey(keyData) || flags.keyPassphraseEnv !== undefined
      ? await readSecret({
          envVar: flags.keyPassphraseEnv,
          envOption: '--key-passphrase-env',
          fallbackEnv: 'MTLS_OAUTH_KEY_PASSPHRASE',
          what: `passphrase for ${flags.key}`,
        })
      : undefined;
  const key = pem.loadPrivateKey(keyData, flags.key, passphrase, {
    ifCertificate: 'the certificate goes to --cert; --key takes its private key',
  });
  const leaf = certs[0]!;
  if (!pem.keyMatchesCertificate(key, leaf)) {
    throw usageError('KEY_MISMATCH', `${flags.key} is not the private key of ${flags.cert}`, {
      hint: 'pair the certificate with the key it was issued for (`mtls-oauth certs inspect CERT --key KEY` checks)',
    });
  }
  const password = await readSecret({
    envVar: flags.p12PasswordEnv,
    envOption: '--p12-password-env',
    fallbackEnv: 'MTLS_OAUTH_P12_PASSWORD',
    what: `password for ${shownPath(out)}`,
    confirm: true,
    nonEmpty: true,
  });
  const friendlyName = basename(out, extname(out));
  const files: OutputFile[] = [
    { path: out, data: buildP12(key, certs, { password, friendlyName }), mode: 0o600 },
  ];
  await writeFilesAtomicAsync(files, { force, existsHint });
  return {
    result: { file: out, certificates: await summaries(certs) },
    human: () => {
      ui.out(
        `Packed ${certs.length} certificate${certs.length === 1 ? '' : 's'} and the private key into PKCS#12`,
      );
      printFiles(ui, [{ path: out, note: 'certificate + key + chain, password-protected (0600)' }]);
      ui.out(`Use it: --p12 ${shownPath(out)} (password in MTLS_OAUTH_P12_PASSWORD, or asked)`);
    },
  };
}

async function extract(flags: P12Flags, { ui }: Context) {
  const file = flags.extract!;
  if (flags.cert !== undefined || flags.key !== undefined || flags.chain !== undefined) {
    throw usageError(
      'BAD_ARGUMENTS',
      '--extract unpacks a PKCS#12 file; --cert, --key and --chain are for packing',
      {
        hint: 'mtls-oauth certs p12 --extract kong.p12 --out ./pem',
      },
    );
  }
  const [
    { checkOutputs, readInputFile, writeFilesAtomicAsync },
    { readP12 },
    { derToPem },
    { privateKeyPem },
  ] = await Promise.all([
    import('./engine.ts'),
    import('../../../core/pki/p12/index.ts'),
    import('../../../core/pki/certificate.ts'),
    import('../../../core/pki/keys.ts'),
  ]);
  const base = flags.name ?? basename(file, extname(file));
  if (!/^[A-Za-z0-9._-]+$/.test(base) || base.startsWith('.')) {
    throw usageError('BAD_NAME', `--name must be a plain file name base, got "${base}"`, {
      hint: 'letters, digits, dot, dash and underscore; for another directory use --out',
    });
  }
  const dir = flags.out ?? dirname(file);
  const paths = {
    cert: join(dir, `${base}.crt`),
    key: join(dir, `${base}.key`),
    chain: join(dir, `${base}.chain.crt`),
  };
  notAnInput(Object.values(paths), [file]);
  const force = !!flags.force;
  const data = readInputFile(file, 'PKCS#12 file');

  const source = {
    envVar: flags.p12PasswordEnv,
    envOption: '--p12-password-env',
    fallbackEnv: 'MTLS_OAUTH_P12_PASSWORD',
    what: `password for ${file}`,
  };
  let contents: ReturnType<typeof readP12>;
  if (flags.p12PasswordEnv !== undefined || process.env.MTLS_OAUTH_P12_PASSWORD !== undefined) {
    contents = readP12(data, await readSecret(source), file);
  } else {
    try {
      contents = readP12(data, undefined, file);
    } catch (e) {
      // Protected by a password we were not given: ask, when there is someone to ask.
      if ((e as { code?: string }).code !== 'P12_PASSWORD_REQUIRED' || !canPrompt()) throw e;
      contents = readP12(data, await readSecret(source), file);
    }
  }
  const [leaf, ...chain] = contents.certificates;
  if (!leaf || !contents.key) {
    throw usageError('BAD_P12', `${file} holds no ${leaf ? 'private key' : 'certificate'}`, {
      hint: 'a client PKCS#12 file holds a certificate and its key: `mtls-oauth certs inspect FILE` shows what it has',
    });
  }
  const files: OutputFile[] = [
    { path: paths.cert, data: derToPem(leaf.raw), mode: 0o644 },
    { path: paths.key, data: privateKeyPem(contents.key), mode: 0o600 },
    ...(chain.length
      ? [{ path: paths.chain, data: chain.map((c) => derToPem(c.raw)).join(''), mode: 0o644 }]
      : []),
  ];
  checkOutputs(
    files.map((f) => f.path),
    { force, existsHint },
  );
  await writeFilesAtomicAsync(files, { force, existsHint });
  const certificates = await summaries(contents.certificates);
  return {
    result: {
      files: { cert: paths.cert, key: paths.key, ...(chain.length ? { chain: paths.chain } : {}) },
      certificates,
    },
    human: () => {
      ui.out(`Extracted ${file}`);
      printFiles(ui, [
        { path: paths.cert, note: `the certificate (${certificates[0]?.subject})` },
        { path: paths.key, note: 'its private key, unencrypted (0600)' },
        ...(chain.length
          ? [{ path: paths.chain, note: `${chain.length} more certificate(s): the chain` }]
          : []),
      ]);
      ui.out(`Use them: --cert ${shownPath(paths.cert)} --key ${shownPath(paths.key)}`);
    },
  };
}
