// `--json` promises exactly one JSON document on stdout: usage errors that commander detects (an
// unknown option or command, missing or extra arguments) print the failure envelope too, exit 2.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertNoStack, cleanEnv, jsonOf, runCli } from '../helpers/cli.ts';

describe('--json on usage errors (built CLI)', () => {
  const cases: Array<[string[], string, RegExp]> = [
    [['token', '--json', '--bogus'], 'token', /unknown option '--bogus'/],
    [['--json', 'tokn'], 'mtls-oauth', /unknown command 'tokn'.*Did you mean token\?/s],
    [['introspect', '--json', 'a', 'b'], 'introspect', /too many arguments for 'introspect'/],
    [['certs', 'inspect', '--json'], 'certs inspect', /missing required argument 'FILE'/],
    [['login', '--json', '--port'], 'login', /option '--port <N>' argument missing/],
  ];
  for (const [args, command, message] of cases) {
    test(`${args.join(' ')}: one envelope, BAD_USAGE, exit 2`, async () => {
      const r = await runCli(args, { env: cleanEnv() });
      assert.equal(r.code, 2, r.stderr);
      assertNoStack(r);
      const doc = jsonOf(r);
      assert.equal(doc.ok, false);
      assert.equal(doc.command, command);
      assert.equal(doc.error?.code, 'BAD_USAGE');
      assert.match(doc.error?.message ?? '', message);
      assert.match(doc.error?.hint ?? '', /--help for usage/);
      // The human message stays on stderr for a person watching.
      assert.match(r.stderr, /^error: /);
    });
  }

  test('without --json (or with it after --), stdout stays empty', async () => {
    for (const args of [
      ['token', '--bogus'],
      ['introspect', 'x', 'y', '--', '--json'],
    ]) {
      const r = await runCli(args, { env: cleanEnv() });
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
    }
  });
});
