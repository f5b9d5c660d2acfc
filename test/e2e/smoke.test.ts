// `mtls-oauth smoke` end to end: the built CLI against the real test IdP (aliases on and off), with
// exit codes, the table, --json, --junit (python3's xml.etree as the referee), --expect-fail, an
// unreachable IdP, and settings from flags, the environment and a config profile.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertCleanFailure, assertNoStack, jsonOf, runCli } from '../helpers/cli.ts';
import type { IdpOptions, PkiFiles, TestIdp } from '../helpers/idp.ts';
import { type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';
import { closedPort } from '../helpers/tls-servers.ts';

const STEPS = ['discovery', 'tls', 'token', 'binding', 'introspect', 'revoke', 'introspect-after-revoke'];

/** The test IdP, and runCli's options for a home with no config file or token cache from the developer. */
async function sandbox(
  options: IdpOptions,
): Promise<{ fx: IdpFixture; box: { cwd: string; env: NodeJS.ProcessEnv } }> {
  const fx = await idpFixture({ ...options, prefix: 'smoke-e2e-' });
  return { fx, box: { cwd: fx.home, env: fx.env() } };
}

interface JunitCase {
  name: string;
  time: string;
  failure?: { message: string; text: string };
  skipped?: string;
  systemOut?: string;
}

/** Parses a JUnit file with python3's xml.etree (an independent XML parser): throws on invalid XML. */
function parseJunit(file: string): { suites: number; tests: string; failures: string; cases: JunitCase[] } {
  const script = `
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == 'testsuites', root.tag
suites = root.findall('testsuite')
cases = []
for s in suites:
    for c in s.findall('testcase'):
        f = c.find('failure'); k = c.find('skipped'); o = c.find('system-out')
        cases.append({'name': c.get('name'), 'time': c.get('time'),
          **({'failure': {'message': f.get('message'), 'text': f.text or ''}} if f is not None else {}),
          **({'skipped': k.get('message')} if k is not None else {}),
          **({'systemOut': o.text} if o is not None else {})})
print(json.dumps({'suites': len(suites), 'tests': suites[0].get('tests'), 'failures': suites[0].get('failures'), 'cases': cases}))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }));
}

for (const aliases of [true, false]) {
  describe(`smoke against the test IdP, aliases ${aliases ? 'on' : 'off'}`, () => {
    let fx: IdpFixture;
    let idp: TestIdp;
    let box: { cwd: string; env: NodeJS.ProcessEnv };
    const kong = () => ['smoke', ...fx.args()];
    const intruder = () => ['smoke', ...fx.args('kong', 'other')];

    before(async () => {
      ({ fx, box } = await sandbox({ aliases }));
      idp = fx.idp;
    });
    after(() => fx?.close());

    test('the registered certificate: every step passes, exit 0, a table on stdout', async () => {
      const junit = join(box.cwd, 'ok.xml');
      const r = await runCli([...kong(), '--junit', junit], box);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assertNoStack(r);
      for (const s of STEPS) assert.match(r.stdout, new RegExp(`^  ${s} +✓ pass +[\\d.]+ ms  `, 'm'));
      assert.match(r.stdout, /^ {2}STEP +STATUS +TIME +DETAIL$/m);
      assert.match(r.stdout, /7 steps: 7 passed, in \d+ ms/);
      assert.match(r.stdout, new RegExp(`certificate: ${idp.clients.kong.subjectDn}`));
      if (aliases) assert.match(r.stdout, /token +✓ pass .*\(mtls alias\)/);
      assert.equal(r.stderr, '');
      const x = parseJunit(junit);
      assert.equal(x.suites, 1);
      assert.deepEqual(
        x.cases.map((c) => c.name),
        STEPS,
      );
      assert.equal(x.failures, '0');
      assert.ok(x.cases.every((c) => !c.failure && !c.skipped));
    });

    test('at 40 columns the table becomes a list wrapped at spaces; at 120 it stays a table', async () => {
      const narrow = await runCli(['smoke', ...fx.args('kong', 'other')], {
        ...box,
        env: { ...box.env, COLUMNS: '40' },
      });
      assert.equal(narrow.code, 1, narrow.stdout + narrow.stderr);
      const lines = narrow.stdout.split('\n');
      for (const line of lines) assert.ok(line.length <= 40, `wider than 40: "${line}"`);
      assert.doesNotMatch(narrow.stdout, /STEP +STATUS/);
      // Each step on a line of its own, its detail (and a failure's hint) indented under it.
      const token = lines.findIndex((l) => /^ {2}token +✗ fail +[\d.]+ ms$/.test(l));
      assert.ok(token > 0, narrow.stdout);
      assert.match(lines[token + 1], /^ {6}\S/);
      const wide = await runCli(['smoke', ...fx.args('kong', 'other')], {
        ...box,
        env: { ...box.env, COLUMNS: '120' },
      });
      assert.match(wide.stdout, /^ {2}STEP +STATUS +TIME +DETAIL$/m);
      for (const line of wide.stdout.split('\n')) assert.ok(line.length <= 120, `wider than 120: "${line}"`);
      // Nothing lost: the same words, wrapped differently.
      const words = (t: string) =>
        t
          .replace(/\b[\d.]+ ms\b/g, '')
          .split(/\s+/)
          .filter(Boolean).length;
      assert.ok(Math.abs(words(narrow.stdout) - words(wide.stdout)) <= 4);
    });

    test('--json: one envelope, checks = the steps, tokens shortened, connections in tls', async () => {
      const r = await runCli([...kong(), '--json'], box);
      assert.equal(r.code, 0, r.stderr);
      const j = jsonOf(r);
      assert.equal(j.ok, true);
      assert.equal(j.command, 'smoke');
      assert.deepEqual(
        j.checks.map((c) => [c.name, c.status]),
        STEPS.map((s) => [s, 'pass']),
      );
      const token = j.result.steps.find((s: { name: string }) => s.name === 'token');
      assert.match(token.data.response.access_token, /…\(\d+ chars\)$/);
      assert.equal(token.data.response.token_type, 'Bearer');
      assert.equal(j.result.identity.subject, idp.clients.kong.subjectDn);
      assert.ok(Array.isArray(j.tls) && j.tls.length === 2);
      assert.equal(j.error, undefined);
      // --show-secrets: the whole token (still never in the human table).
      const shown = jsonOf(await runCli([...kong(), '--json', '--show-secrets', '--steps', 'token'], box));
      assert.doesNotMatch(shown.result.steps.at(-1).data.response.access_token, /…/);
    });

    test('an unregistered certificate: exit 1 at the token step, later steps skipped, JUnit failure', async () => {
      const junit = join(box.cwd, 'intruder.xml');
      const r = await runCli([...intruder(), '--junit', junit], box);
      assertCleanFailure(r, 1, /^error: step token failed: .*invalid_client/m);
      assert.match(r.stderr, /^hint: .*CN=intruder/m);
      assert.match(r.stdout, /^ {2}token +✗ fail .*invalid_client/m);
      assert.match(r.stdout, /^ {2}binding +- skip +needs token$/m);
      assert.match(r.stdout, /7 steps: 2 passed, 1 failed, 4 skipped/);
      const x = parseJunit(junit);
      assert.deepEqual(
        x.cases.map((c) => c.name),
        STEPS,
      );
      assert.equal(x.failures, '1');
      const failed = x.cases.filter((c) => c.failure);
      assert.deepEqual(
        failed.map((c) => c.name),
        ['token'],
      );
      assert.match(failed[0].failure!.message, /invalid_client/);
      assert.match(failed[0].failure!.text, /hint: .*tls_client_auth/);
      assert.deepEqual(
        x.cases.filter((c) => c.skipped !== undefined).map((c) => c.name),
        ['binding', 'introspect', 'revoke', 'introspect-after-revoke'],
      );

      const j = jsonOf(await runCli([...intruder(), '--json'], box));
      assert.equal(j.ok, false);
      assert.equal(j.error?.code, 'SMOKE_FAILED');
      const t = j.result.steps.find((s: { name: string }) => s.name === 'token');
      assert.equal(t.error.oauthError, 'invalid_client');
      assert.deepEqual(t.error.response.error, 'invalid_client');
    });

    test('--expect-fail token=invalid_client with that certificate: exit 0', async () => {
      const junit = join(box.cwd, 'expected.xml');
      const r = await runCli([...intruder(), '--expect-fail', 'token=invalid_client', '--junit', junit], box);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^ {2}token +✓ pass .*failed as expected: .*invalid_client/m);
      assert.match(r.stdout, /needs token, which failed as expected/);
      const x = parseJunit(junit);
      assert.equal(x.failures, '0');
      // The wrong expectation fails the run; so does a token that should have been refused.
      const wrong = await runCli([...intruder(), '--expect-fail', 'token=invalid_grant'], box);
      assertCleanFailure(wrong, 1, /expected to fail with invalid_grant, but failed with invalid_client/);
      const accepted = await runCli([...kong(), '--expect-fail', 'token', '--steps', 'token'], box);
      assertCleanFailure(accepted, 1, /expected to fail, but it succeeded/);
    });
  });
}

describe('smoke: plans, reachability, settings', () => {
  let fx: IdpFixture;
  let idp: TestIdp;
  let files: PkiFiles;
  let box: { cwd: string; env: NodeJS.ProcessEnv };
  before(async () => {
    ({ fx, box } = await sandbox({ aliases: true }));
    ({ idp, files } = fx);
  });
  after(() => fx?.close());

  test('--steps runs those steps and the ones they need, in order', async () => {
    const junit = join(box.cwd, 'steps.xml');
    const r = await runCli(['smoke', ...fx.args(), '--steps', 'introspect', '--json', '--junit', junit], box);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      jsonOf(r).checks.map((c) => c.name),
      ['discovery', 'token', 'introspect'],
    );
    assert.deepEqual(
      parseJunit(junit).cases.map((c) => c.name),
      ['discovery', 'token', 'introspect'],
    );
  });

  test('an IdP that cannot be reached: exit 3, the JUnit report still written', async () => {
    const port = await closedPort();
    const junit = join(box.cwd, 'unreachable.xml');
    const args = ['smoke', '--issuer', `https://127.0.0.1:${port}`, '--client-id', 'kong', '--junit', junit];
    const r = await runCli(args, box);
    assertCleanFailure(r, 3, /^error: the IdP could not be reached \(discovery\): .*connection refused/m);
    assert.match(r.stdout, /^ {2}discovery +✗ fail/m);
    const x = parseJunit(junit);
    assert.equal(x.cases.length, 7);
    assert.equal(x.cases[0].failure?.message.includes('connection refused'), true);
    const j = jsonOf(await runCli([...args, '--json'], box));
    assert.equal(j.ok, false);
    assert.equal(j.error?.code, 'CONNECTION_REFUSED');
  });

  test('issuer and certificate from a profile, client id from the environment, a flag over both', async () => {
    const config = join(box.cwd, 'mtls-oauth.json');
    writeFileSync(
      config,
      JSON.stringify({
        profiles: {
          ci: {
            issuer: idp.issuer,
            clientId: 'not-kong',
            cert: 'certs/client.crt',
            key: 'certs/client.key',
            ca: 'certs/ca.crt',
          },
        },
      }),
    );
    // Profile alone: its client id is wrong, so the token step fails.
    const profileOnly = await runCli(['smoke', '--profile', 'ci', '--steps', 'token'], box);
    assertCleanFailure(profileOnly, 1, /invalid_client/);
    // The environment beats the profile.
    const envBox = { ...box, env: { ...box.env, MTLS_OAUTH_CLIENT_ID: 'kong', MTLS_OAUTH_PROFILE: 'ci' } };
    const fromEnv = await runCli(['smoke', '--json'], envBox);
    assert.equal(fromEnv.code, 0, fromEnv.stdout + fromEnv.stderr);
    const j = jsonOf(fromEnv);
    assert.equal(j.result.clientId, 'kong');
    assert.equal(j.result.issuer, idp.issuer);
    assert.ok(j.checks.every((c) => c.status === 'pass'));
    // A flag beats the environment.
    const flagged = await runCli(['smoke', '--client-id', 'nobody', '--steps', 'token'], envBox);
    assertCleanFailure(flagged, 1, /invalid_client/);
    // And the certificate from the environment beats the profile's.
    const otherCert = await runCli(['smoke', '--steps', 'token'], {
      ...envBox,
      env: { ...envBox.env, MTLS_OAUTH_CERT: files.otherCert, MTLS_OAUTH_KEY: files.otherKey },
    });
    assertCleanFailure(otherCert, 1, /CN=intruder/);
    rmSync(config);
  });

  test('the default config file in the user config directory is read', async () => {
    const xdg = join(fx.configDir, 'mtls-oauth');
    mkdirSync(xdg, { recursive: true });
    writeFileSync(
      join(xdg, 'config.json'),
      JSON.stringify({
        defaultProfile: 'local',
        profiles: {
          local: {
            issuer: idp.issuer,
            clientId: 'kong',
            cert: files.clientCert,
            key: files.clientKey,
            ca: files.ca,
          },
        },
      }),
    );
    try {
      const r = await runCli(['smoke', '--steps', 'token', '--json'], box);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(jsonOf(r).result.issuer, idp.issuer);
    } finally {
      rmSync(join(xdg, 'config.json'));
    }
  });

  test('usage errors: exit 2 with a hint, before any request', async () => {
    const seen = idp.requests.length;
    const common = ['smoke', '--issuer', idp.issuer, '--client-id', 'kong'];
    for (const [args, message] of [
      [['--steps', 'token,bogus'], /unknown step "bogus"/],
      [['--expect-fail', 'nope=x'], /unknown step "nope"/],
      [['--grant', 'authorization_code'], /smoke cannot use --grant authorization_code/],
      [['--grant', 'refresh_token'], /needs a refresh token/],
      [['--grant', 'refresh_token', '--refresh-token-env', 'NOT_SET_ANYWHERE'], /NOT_SET_ANYWHERE/],
      [['--grant', 'password', '--username', 'alice'], /MTLS_OAUTH_PASSWORD/],
      [['--refresh-token-env', 'X'], /belongs to --grant refresh_token/],
      [['--junit', box.cwd], /is a directory/],
      [['--cert', join(box.cwd, 'missing.crt'), '--key', files.clientKey], /missing\.crt/],
    ] as Array<[string[], RegExp]>) {
      const r = await runCli([...common, ...args], box);
      assertCleanFailure(r, 2, message);
      assert.match(r.stderr, /^hint: /m, `a hint for ${args.join(' ')}`);
    }
    const noIdp = await runCli(['smoke', '--client-id', 'kong'], box);
    assertCleanFailure(noIdp, 2, /no IdP: pass --issuer/);
    assert.equal(idp.requests.length, seen, 'no request was made');
  });

  test('refresh_token grant from a variable, password grant warns; --help lists the steps', async () => {
    const help = await runCli(['smoke', '--help'], box);
    assert.equal(help.code, 0);
    for (const s of STEPS) assert.match(help.stdout, new RegExp(`^ {2}${s} `, 'm'));
    assert.match(help.stdout, /Examples:/);

    const env = { ...box.env, MTLS_OAUTH_PASSWORD: 'pw' };
    const pw = await runCli(
      [
        'smoke',
        ...fx.args(),
        '--grant',
        'password',
        '--username',
        'alice',
        '--expect-fail',
        'token=unsupported_grant_type',
      ],
      { ...box, env },
    );
    assert.equal(pw.code, 0, pw.stdout + pw.stderr);
    assert.match(pw.stderr, /^warning: the resource owner password credentials grant is deprecated/m);
    const refresh = await runCli(
      ['smoke', ...fx.args(), '--grant', 'refresh_token', '--refresh-token-env', 'RT', '--steps', 'token'],
      { ...box, env: { ...box.env, RT: 'not-a-refresh-token' } },
    );
    assertCleanFailure(refresh, 1, /invalid_grant/);
    assert.doesNotMatch(refresh.stdout + refresh.stderr, /not-a-refresh-token/);
  });
});
