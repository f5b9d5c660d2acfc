// `mtls-oauth certs` end to end: the built CLI in a child process, its files, modes, output and
// exit codes — and every bad input refused with one clear line, exit 2, and nothing written.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  assertCleanFailure,
  assertNoStack,
  BIN,
  type CliResult,
  cleanEnv,
  jsonOf,
  runCli,
} from '../helpers/cli.ts';
import { binForNobody, isRoot, NOBODY, removeNobodyCopy } from '../helpers/unprivileged.ts';

const root = mkdtempSync(join(tmpdir(), 'mtls-oauth-certs-e2e-'));
chmodSync(root, 0o755); // the unprivileged run below must reach into it
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(root, `d${n++}`);
  mkdirSync(d, { mode: 0o755 });
  return d;
};
const run = (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) =>
  runCli(args, { cwd, env: cleanEnv(env), timeoutMs: 60_000 });
const openssl = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  execFileSync('openssl', args, { encoding: 'utf8', stdio: 'pipe', env: { ...process.env, ...env } });
const mode = (p: string) => statSync(p).mode & 0o777;
const x5tByOpenssl = (cert: string) =>
  execFileSync('openssl', ['dgst', '-sha256', '-binary'], {
    input: execFileSync('openssl', ['x509', '-in', cert, '-outform', 'DER']),
  })
    .toString('base64')
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** Every entry under a directory: type, mode and content hash (or link target). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out[r] = `link -> ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${(st.mode & 0o777).toString(8)}`;
        walk(p, r);
      } else
        out[r] =
          `file ${(st.mode & 0o777).toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(dir, '');
  return out;
}

/** Exit 2, "error: …" and a hint on stderr and nothing else, no stack trace, nothing on stdout. */
function assertRefused(r: CliResult, message: RegExp): void {
  assertCleanFailure(r, 2, message);
  const lines = r.stderr.trim().split('\n');
  assert.match(lines[0], /^error: /, r.stderr);
  assert.ok(
    lines.length <= 2 && (lines.length === 1 || lines[1].startsWith('hint: ')),
    `one clear line:\n${r.stderr}`,
  );
  assert.equal(r.stdout, '');
}

/** Runs a refused command and checks that `dir` is exactly as it was. */
async function refusedWithoutChange(
  dir: string,
  args: string[],
  message: RegExp,
  env: NodeJS.ProcessEnv = {},
) {
  const before = snapshot(dir);
  const r = await run(args, dir, env);
  assertRefused(r, message);
  assert.deepEqual(snapshot(dir), before, `nothing written or changed by: ${args.join(' ')}`);
  return r;
}

describe('certs init', () => {
  it('writes the CA, the client and its JWKS, keys 0600 whatever the umask; openssl agrees with every number shown', async () => {
    const dir = fresh();
    const old = process.umask(0o000); // inherited by the child: modes must not depend on it
    let r: CliResult;
    try {
      r = await run(['certs', 'init', '--san', 'dns:kong.example.com', '--san', 'ip:127.0.0.1'], dir);
    } finally {
      process.umask(old);
    }
    assert.equal(r.code, 0, r.stderr);
    assertNoStack(r);
    const certs = join(dir, 'certs');
    assert.deepEqual(readdirSync(certs).sort(), [
      'ca.crt',
      'ca.key',
      'client.crt',
      'client.jwks.json',
      'client.key',
    ]);
    assert.equal(mode(join(certs, 'ca.key')), 0o600);
    assert.equal(mode(join(certs, 'client.key')), 0o600);
    assert.equal(mode(join(certs, 'ca.crt')), 0o644);
    assert.equal(mode(join(certs, 'client.crt')), 0o644);

    const ca = join(certs, 'ca.crt');
    const client = join(certs, 'client.crt');
    assert.match(openssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', ca, client]), /: OK/);
    const out = r.stdout;
    assert.match(out, /Created a test CA and a client certificate for CN=kong in certs\//);
    assert.match(out, /^ {2}tls_client_auth_subject_dn {2}CN=kong$/m);
    assert.match(out, /SANs\s+dns:kong\.example\.com, ip:127\.0\.0\.1/);
    assert.match(out, /certs\/ca\.crt .*give it to the IdP/);
    assert.match(out, /certs\/client\.crt .*gateway/);
    assert.match(out, /certs\/client\.jwks\.json .*self_signed_tls_client_auth/);
    assert.match(out, /mtls-oauth token .*--client-id kong/);
    const x5t = /x5t#S256\s+(\S+)/.exec(out)?.[1];
    assert.equal(
      x5t,
      x5tByOpenssl(client),
      'the printed x5t#S256 is openssl dgst -sha256 of the DER, base64url',
    );
    const fp = openssl(['x509', '-in', client, '-noout', '-fingerprint', '-sha256'])
      .trim()
      .replace(/^.*=/, '');
    assert.ok(out.includes(fp), 'the SHA-256 fingerprint as openssl prints it');

    const jwks = JSON.parse(readFileSync(join(certs, 'client.jwks.json'), 'utf8'));
    assert.equal(jwks.keys[0].kid, x5t);
    assert.equal(jwks.keys[0].x5c[0], new X509Certificate(readFileSync(client)).raw.toString('base64'));
  });

  it('--json: one envelope on stdout with the registration values', async () => {
    const dir = fresh();
    const r = await run(
      ['certs', 'init', '--json', '--subject', 'CN=kong,O=Example\\, Inc.,C=US', '--days', '30'],
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    const env = jsonOf(r);
    assert.equal(env.ok, true);
    assert.equal(env.command, 'certs init');
    assert.equal(env.result.registration.tls_client_auth_subject_dn, 'CN=kong,O=Example\\, Inc.,C=US');
    assert.equal(env.result.client.subject, 'CN=kong,O=Example\\, Inc.,C=US');
    assert.equal(env.result.client.validity.daysLeft, 30);
    assert.equal(env.result.client.x5tS256, x5tByOpenssl(join(dir, 'certs/client.crt')));
    assert.equal(env.result.registration.jwks.keys[0].kid, env.result.client.x5tS256);
    assert.equal(env.result.files.clientKey, 'certs/client.key');
    const subject = openssl([
      'x509',
      '-in',
      join(dir, 'certs/client.crt'),
      '-noout',
      '-subject',
      '-nameopt',
      'RFC2253',
    ]);
    assert.equal(subject.trim(), `subject=${env.result.client.subject}`);
  });

  it('rsa-4096 (slow: once), with a .p12 whose password comes from an environment variable', async () => {
    const dir = fresh();
    const r = await run(
      ['certs', 'init', '--key-type', 'rsa-4096', '--p12', '--p12-password-env', 'MY_P12_PW', '--out', 'out'],
      dir,
      { MY_P12_PW: 'p12 secret' },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('p12 secret'), 'the password is never printed');
    const out = join(dir, 'out');
    assert.equal(mode(join(out, 'client.p12')), 0o600);
    assert.match(
      openssl([
        'verify',
        '-x509_strict',
        '-purpose',
        'sslclient',
        '-CAfile',
        join(out, 'ca.crt'),
        join(out, 'client.crt'),
      ]),
      /OK/,
    );
    assert.match(
      openssl(['x509', '-in', join(out, 'client.crt'), '-noout', '-text']),
      /Public-Key: \(4096 bit\)/,
    );
    const info = execFileSync(
      'openssl',
      ['pkcs12', '-info', '-in', join(out, 'client.p12'), '-passin', 'env:PW', '-nokeys'],
      {
        env: { ...process.env, PW: 'p12 secret' },
        encoding: 'utf8',
        stdio: 'pipe',
      },
    );
    assert.match(info, /subject=CN = kong/);
    // And our own inspector opens it with the same variable.
    const i = await run(
      ['certs', 'inspect', 'out/client.p12', '--password-env', 'MY_P12_PW', '--json'],
      dir,
      {
        MY_P12_PW: 'p12 secret',
      },
    );
    assert.equal(i.code, 0, i.stderr);
    assert.equal(jsonOf(i).result.key.matches, true);
    assert.equal(jsonOf(i).result.certificates[0].publicKey.description, 'RSA 4096');
  });

  it('replaces everything with --force, and nothing without it', async () => {
    const dir = fresh();
    assert.equal((await run(['certs', 'init'], dir)).code, 0);
    const r = await refusedWithoutChange(dir, ['certs', 'init'], /already exist; nothing was written/);
    assert.match(r.stderr, /hint: use --force/);
    const before = readFileSync(join(dir, 'certs/ca.crt'), 'utf8');
    const again = await run(['certs', 'init', '--force'], dir);
    assert.equal(again.code, 0, again.stderr);
    assert.notEqual(readFileSync(join(dir, 'certs/ca.crt'), 'utf8'), before);
    assert.equal(mode(join(dir, 'certs/client.key')), 0o600);
    assert.deepEqual(readdirSync(join(dir, 'certs')).sort(), [
      'ca.crt',
      'ca.key',
      'client.crt',
      'client.jwks.json',
      'client.key',
    ]);
  });
});

describe('certs init: bad input is refused, exit 2, nothing written', () => {
  it('a symbolic link at an output path (even with --force)', async () => {
    const dir = fresh();
    mkdirSync(join(dir, 'certs'));
    writeFileSync(join(dir, 'precious'), 'do not touch');
    symlinkSync(join(dir, 'precious'), join(dir, 'certs/client.key'));
    await refusedWithoutChange(dir, ['certs', 'init'], /certs\/client\.key is a symbolic link/);
    await refusedWithoutChange(
      dir,
      ['certs', 'init', '--force'],
      /certs\/client\.key is a symbolic link; refusing/,
    );
    assert.equal(readFileSync(join(dir, 'precious'), 'utf8'), 'do not touch');
  });

  it('an --out that cannot be a directory', async () => {
    const dir = fresh();
    writeFileSync(join(dir, 'afile'), 'x');
    await refusedWithoutChange(
      dir,
      ['certs', 'init', '--out', 'afile'],
      /cannot write .*afile.* is not a directory/,
    );
    await refusedWithoutChange(dir, ['certs', 'init', '--out', 'afile/sub'], /afile is not a directory/);
  });

  it('an --out the user may not write to', async (t) => {
    const dir = fresh();
    const ro = join(dir, 'ro');
    mkdirSync(ro, { mode: 0o555 });
    chmodSync(ro, 0o555);
    // root may write anywhere: run the CLI as nobody then (from a copy nobody can read, if needed).
    const asRoot = isRoot();
    const as = asRoot ? { uid: NOBODY, gid: NOBODY } : {};
    const bin = asRoot ? binForNobody() : BIN;
    t.after(removeNobodyCopy);
    const spawnCli = (args: string[]) =>
      new Promise<CliResult>((resolve, reject) => {
        const child = spawn(process.execPath, [bin, ...args], {
          cwd: dir,
          env: cleanEnv({ HOME: dir }),
          ...as,
        });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d) => {
          stdout += d;
        });
        child.stderr.setEncoding('utf8').on('data', (d) => {
          stderr += d;
        });
        child.on('error', reject);
        child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
      });
    const before = snapshot(dir);
    const r = await spawnCli(['certs', 'init', '--out', ro]);
    assertRefused(r, /cannot write .*ro.*: permission denied/);
    assert.deepEqual(snapshot(dir), before);
  });

  it('bad --san, unknown --key-type, bad --subject and --days', async () => {
    const dir = fresh();
    await refusedWithoutChange(dir, ['certs', 'init', '--san', 'foo:bar'], /unknown SAN type "foo"/);
    await refusedWithoutChange(dir, ['certs', 'init', '--san', 'dns:'], /"dns:" is not TYPE:VALUE/);
    await refusedWithoutChange(
      dir,
      ['certs', 'init', '--san', 'ip:999.1.1.1'],
      /"999\.1\.1\.1" is not an IP address/,
    );
    await refusedWithoutChange(dir, ['certs', 'init', '--san', 'dns:a b'], /"a b" is not a DNS name/);
    await refusedWithoutChange(
      dir,
      ['certs', 'init', '--key-type', 'dsa-1024'],
      /unknown key type "dsa-1024"/,
    );
    await refusedWithoutChange(dir, ['certs', 'init', '--subject', 'kong'], /is not TYPE=value/);
    await refusedWithoutChange(
      dir,
      ['certs', 'init', '--cn', 'a', '--subject', 'CN=b'],
      /--cn or --subject, not both/,
    );
    await refusedWithoutChange(dir, ['certs', 'init', '--days', 'ten'], /--days must be a whole number/);
  });

  it('--p12 without a password source and no terminal, or with an unset variable', async () => {
    const dir = fresh();
    await refusedWithoutChange(dir, ['certs', 'init', '--p12'], /no terminal to ask it on/);
    await refusedWithoutChange(
      dir,
      ['certs', 'init', '--p12', '--p12-password-env', 'NOPE_NOT_SET'],
      /NOPE_NOT_SET .* is not set/,
    );
    await refusedWithoutChange(dir, ['certs', 'init', '--p12', '--p12-password-env', 'EMPTY'], /is empty/, {
      EMPTY: '',
    });
  });
});

describe('certs issue', () => {
  let dir: string;
  let encKey: string;
  before(async () => {
    dir = fresh();
    const r = await run(['certs', 'init', '--key-type', 'ec-p384'], dir);
    assert.equal(r.code, 0, r.stderr);
    encKey = join(dir, 'ca-enc.key');
    execFileSync(
      'openssl',
      [
        'pkcs8',
        '-topk8',
        '-v2',
        'aes-256-cbc',
        '-in',
        join(dir, 'certs/ca.key'),
        '-out',
        encKey,
        '-passout',
        'env:CAPW',
      ],
      {
        env: { ...process.env, CAPW: 'ca passphrase' },
      },
    );
  });
  const ca = ['--ca-cert', 'certs/ca.crt', '--ca-key', 'certs/ca.key'];

  it('issues another client certificate that openssl verifies', async () => {
    const r = await run(['certs', 'issue', ...ca, '--cn', 'kong-2', '--key-type', 'ed25519'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(mode(join(dir, 'certs/kong-2.key')), 0o600);
    assert.ok(readdirSync(join(dir, 'certs')).includes('kong-2.jwks.json'));
    assert.match(
      openssl([
        'verify',
        '-x509_strict',
        '-purpose',
        'sslclient',
        '-CAfile',
        join(dir, 'certs/ca.crt'),
        join(dir, 'certs/kong-2.crt'),
      ]),
      /OK/,
    );
    assert.match(r.stdout, /Issued a client certificate for CN=kong-2/);
  });

  it('issues a server certificate for the SANs given', async () => {
    const r = await run(
      [
        'certs',
        'issue',
        ...ca,
        '--server',
        '--cn',
        'localhost',
        '--san',
        'dns:localhost,ip:127.0.0.1',
        '--json',
      ],
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    const env = jsonOf(r);
    assert.deepEqual(env.result.certificate.sans, ['dns:localhost', 'ip:127.0.0.1']);
    assert.deepEqual(env.result.certificate.extendedKeyUsage.usages, ['serverAuth']);
    assert.match(
      openssl([
        'verify',
        '-x509_strict',
        '-purpose',
        'sslserver',
        '-verify_hostname',
        'localhost',
        '-CAfile',
        join(dir, 'certs/ca.crt'),
        join(dir, 'certs/localhost.crt'),
      ]),
      /OK/,
    );
  });

  it('takes an encrypted CA key with the passphrase from --ca-key-passphrase-env', async () => {
    const r = await run(
      [
        'certs',
        'issue',
        '--ca-cert',
        'certs/ca.crt',
        '--ca-key',
        encKey,
        '--ca-key-passphrase-env',
        'CAPW',
        '--cn',
        'kong-3',
        '--out',
        'k3',
      ],
      dir,
      { CAPW: 'ca passphrase' },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('ca passphrase') && !r.stderr.includes('ca passphrase'));
    assert.match(
      openssl([
        'verify',
        '-purpose',
        'sslclient',
        '-CAfile',
        join(dir, 'certs/ca.crt'),
        join(dir, 'k3/kong-3.crt'),
      ]),
      /OK/,
    );
  });

  it('refuses a wrong CA passphrase, a mismatched CA key, a non-CA certificate, corrupt PEM', async () => {
    await refusedWithoutChange(
      dir,
      [
        'certs',
        'issue',
        '--ca-cert',
        'certs/ca.crt',
        '--ca-key',
        encKey,
        '--ca-key-passphrase-env',
        'CAPW',
        '--cn',
        'x',
      ],
      /^error: wrong passphrase for .*ca-enc\.key$/m,
      { CAPW: 'wrong' },
    );
    await refusedWithoutChange(
      dir,
      ['certs', 'issue', '--ca-cert', 'certs/ca.crt', '--ca-key', encKey, '--cn', 'x'],
      /there is no terminal to ask it on/,
    );
    await refusedWithoutChange(
      dir,
      ['certs', 'issue', '--ca-cert', 'certs/ca.crt', '--ca-key', 'certs/client.key', '--cn', 'x'],
      /certs\/client\.key is not the private key of certs\/ca\.crt/,
    );
    await refusedWithoutChange(
      dir,
      ['certs', 'issue', '--ca-cert', 'certs/client.crt', '--ca-key', 'certs/client.key', '--cn', 'x'],
      /certs\/client\.crt is not a CA certificate/,
    );
    const pem = readFileSync(join(dir, 'certs/ca.crt'), 'utf8');
    writeFileSync(join(dir, 'truncated.crt'), pem.slice(0, pem.length / 2));
    await refusedWithoutChange(
      dir,
      ['certs', 'issue', '--ca-cert', 'truncated.crt', '--ca-key', 'certs/ca.key', '--cn', 'x'],
      /truncated\.crt is not a valid PEM file: the CERTIFICATE block has no END line/,
    );
    await refusedWithoutChange(
      dir,
      ['certs', 'issue', ...ca, '--cn', 'x', '--key-type', 'rsa-1024'],
      /unknown key type/,
    );
    await refusedWithoutChange(dir, ['certs', 'issue', ...ca, '--cn', 'ca'], /is the CA's own file/);
    await refusedWithoutChange(
      dir,
      ['certs', 'issue', ...ca, '--cn', 'kong-2'],
      /kong-2\.crt.* already exist/,
    );
  });
});

describe('certs inspect', () => {
  let dir: string;
  before(async () => {
    dir = fresh();
    const r = await run(['certs', 'init', '--p12', '--p12-password-env', 'PW'], dir, { PW: 'right' });
    assert.equal(r.code, 0, r.stderr);
  });

  it('shows a certificate the way step does, and the checks', async () => {
    const r = await run(['certs', 'inspect', 'certs/client.crt', '--key', 'certs/client.key'], dir);
    assert.equal(r.code, 0, r.stderr);
    for (const re of [
      /^certs\/client\.crt: PEM, one certificate$/m,
      /Subject\s+CN=kong$/m,
      /Issuer\s+CN=mtls-oauth test CA \w+,O=mtls-oauth/,
      /Ext\. key usage\s+clientAuth/,
      /Basic constraints\s+CA:FALSE \(critical\)/,
      /x5t#S256\s+\S{43}$/m,
      /✓ key: the private key in certs\/client\.key belongs/,
    ]) {
      assert.match(r.stdout, re);
    }
  });

  it('--json gives all of it; a chain is checked link by link', async () => {
    const chain =
      readFileSync(join(dir, 'certs/client.crt'), 'utf8') + readFileSync(join(dir, 'certs/ca.crt'), 'utf8');
    writeFileSync(join(dir, 'chain.pem'), chain);
    const r = await run(['certs', 'inspect', 'chain.pem', '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
    const env = jsonOf(r);
    assert.equal(env.result.certificates.length, 2);
    assert.deepEqual(env.result.chain, [{ index: 0, issuerMatchesNext: true, signedByNext: true }]);
    assert.ok(env.checks.some((c) => c.name === 'chain 1→2' && c.status === 'pass'));
    assert.equal(env.result.certificates[0].x5tS256, x5tByOpenssl(join(dir, 'certs/client.crt')));
    assert.deepEqual(env.result.roles, ['end-entity', 'root CA']);
  });

  it('a reversed chain: each certificate labelled by what it is, and the order called wrong', async () => {
    const reversed =
      readFileSync(join(dir, 'certs/ca.crt'), 'utf8') + readFileSync(join(dir, 'certs/client.crt'), 'utf8');
    writeFileSync(join(dir, 'reversed.pem'), reversed);
    const r = await run(['certs', 'inspect', 'reversed.pem'], dir);
    assert.match(r.stdout, /^Certificate 1 of 2 \(root CA\)$/m);
    assert.match(r.stdout, /^Certificate 2 of 2 \(end-entity\)$/m);
    assert.match(r.stdout, /! order: the order is wrong: #1 is a root CA .* the chain is in reverse order/);
    assert.doesNotMatch(r.stdout, /\((leaf|intermediate)\)/);
  });

  it('exits 1 when --key does not belong to the certificate', async () => {
    const r = await run(['certs', 'inspect', 'certs/client.crt', '--key', 'certs/ca.key'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error: the private key in certs\/ca\.key does not belong to this certificate/);
    assertNoStack(r);
  });

  it('refuses a wrong p12 password, corrupt PEM and a missing file with exit 2', async () => {
    await refusedWithoutChange(
      dir,
      ['certs', 'inspect', 'certs/client.p12', '--password-env', 'PW'],
      /^error: wrong password for certs\/client\.p12/m,
      { PW: 'wrong' },
    );
    await refusedWithoutChange(
      dir,
      ['certs', 'inspect', 'certs/client.p12'],
      /certs\/client\.p12 is protected by a password, and no password was given/,
    );
    const r = await run(['certs', 'inspect', 'certs/client.p12', '--password-env', 'PW', '--json'], dir, {
      PW: 'right',
    });
    assert.equal(jsonOf(r).result.format, 'pkcs12');
    writeFileSync(join(dir, 'bad.pem'), '-----BEGIN CERTIFICATE-----\nMIIB$$$\n-----END CERTIFICATE-----\n');
    await refusedWithoutChange(
      dir,
      ['certs', 'inspect', 'bad.pem'],
      /bad\.pem is not a valid PEM file: the CERTIFICATE block is not valid base64/,
    );
    await refusedWithoutChange(
      dir,
      ['certs', 'inspect', 'nope.crt'],
      /cannot read file nope\.crt: no such file/,
    );
    const j = await run(['certs', 'inspect', 'bad.pem', '--json'], dir);
    assert.equal(j.code, 2);
    assert.equal(jsonOf(j).error?.code, 'CORRUPT_PEM');
  });
});

describe('certs help', () => {
  for (const sub of ['init', 'issue', 'inspect']) {
    it(`certs ${sub} --help ends with examples`, async () => {
      const r = await run(['certs', sub, '--help'], root);
      assert.equal(r.code, 0);
      const examples = r.stdout.slice(r.stdout.lastIndexOf('Examples:\n'));
      assert.match(examples, /^Examples:\n( {2}\$ .*mtls-oauth certs .+\n| {6}.+\n)+\s*$/, r.stdout);
    });
  }
});
