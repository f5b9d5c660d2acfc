// Work bounded by the attacker, through the built CLI (docs/security.md "Work bounded by the
// attacker"): a PKCS#12 file whose MAC or encryption names 2^40 iterations, given to `certs
// inspect` and as `--p12` (where OpenSSL would otherwise grind through it), and input files of
// unbounded size. Each is refused fast with FILE_LIMIT (exit 2), naming the limit. runCli kills a
// run after 20 s: a hang fails the test instead of stalling it.
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertCleanFailure, runCli } from '../helpers/cli.ts';
import { hostileP12, TWO_TO_THE_40 } from '../helpers/hostile-p12.ts';
import { type FaultPki, faultPki } from './fixtures.ts';

describe('files cannot make a command work for ever', () => {
  let pki: FaultPki;
  let bigMac: string;
  let bigEncryption: string;
  before(async () => {
    pki = await faultPki();
    bigMac = join(pki.dir, 'big-mac.p12');
    writeFileSync(bigMac, hostileP12({ macIterations: TWO_TO_THE_40 }));
    bigEncryption = join(pki.dir, 'big-encryption.p12');
    writeFileSync(bigEncryption, hostileP12({ encryptionIterations: TWO_TO_THE_40 }));
  });
  after(() => pki?.remove());

  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runCli(args, { env: pki.env(env), cwd: pki.dir, timeoutMs: 20_000 });
  const token = [
    'token',
    '--token-endpoint',
    'https://127.0.0.1:9/token',
    '--client-id',
    'kong',
    '--no-cache',
  ];

  test('certs inspect: a MAC of 2^40 iterations is refused, the limit named', async () => {
    const r = await run(['certs', 'inspect', bigMac, '--password-env', 'PW'], { PW: 'pw' });
    assertCleanFailure(
      r,
      2,
      /error: .*big-mac\.p12: the iteration count of the MAC is 1,099,511,627,776, over the limit of 1,000,000/,
    );
  });

  test('--p12 with a MAC of 2^40 iterations: refused before OpenSSL sees it, nothing sent', async () => {
    const r = await run([...token, '--p12', bigMac], { MTLS_OAUTH_P12_PASSWORD: 'pw' });
    assertCleanFailure(
      r,
      2,
      /the PKCS#12 file .*big-mac\.p12: the iteration count of the MAC is .* over the limit/,
    );
  });

  test('--p12 with no MAC and an encryption of 2^40 iterations, with or without a password', async () => {
    for (const env of [{ MTLS_OAUTH_P12_PASSWORD: 'pw' }, {}]) {
      const r = await run([...token, '--p12', bigEncryption], env);
      assertCleanFailure(
        r,
        2,
        /the iteration count of the encryption \(PBES2 .*\) is .* over the limit of 1,000,000/,
      );
    }
  });

  test('an input file without end (/dev/zero) or larger than 4 MiB is refused, not read whole', async () => {
    const zero = await run([...token, '--cert', '/dev/zero', '--key', pki.files.key]);
    assertCleanFailure(zero, 2, /\/dev\/zero: its size is over the limit of 4,194,304 bytes/);
    const huge = join(pki.dir, 'huge.crt');
    writeFileSync(huge, pki.ca.cert);
    truncateSync(huge, 5 * 1024 * 1024);
    const ca = await run(['discover', 'https://127.0.0.1:9', '--ca', huge]);
    assertCleanFailure(ca, 2, /huge\.crt: its size is over the limit of 4,194,304 bytes/);
    const inspect = await run(['certs', 'inspect', huge]);
    assertCleanFailure(inspect, 2, /FILE_LIMIT|over the limit/);
  });

  test('a PEM file of more than 2,000 blocks is refused, the limit named', async () => {
    const many = join(pki.dir, 'many.pem');
    writeFileSync(many, pki.ca.cert.repeat(2001));
    const r = await run(['certs', 'inspect', many]);
    assertCleanFailure(r, 2, /many\.pem: the number of PEM blocks is over the limit of 2,000/);
  });
});
