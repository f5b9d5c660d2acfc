// Every command's --help ends with worked examples; --version prints the package version.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';

const COMMANDS = [
  [],
  ['certs'],
  ['certs', 'init'],
  ['certs', 'issue'],
  ['certs', 'inspect'],
  ['discover'],
  ['tls'],
  ['token'],
  ['introspect'],
  ['revoke'],
  ['login'],
  ['smoke'],
  ['config'],
  ['config', 'show'],
];

describe('help and version', () => {
  for (const cmd of COMMANDS) {
    it(`mtls-oauth ${cmd.join(' ')} --help ends with examples`, async () => {
      const r = await runCli([...cmd, '--help']);
      assert.equal(r.code, 0, r.stderr);
      const examples = r.stdout.lastIndexOf('\nExamples:\n');
      assert.ok(examples > 0, `no Examples section:\n${r.stdout}`);
      assert.match(r.stdout.slice(examples), /\$ mtls-oauth /);
    });
  }

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const r = await runCli(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), version);
  });

  it('an unknown command is a usage error (exit 2)', async () => {
    const r = await runCli(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
  });
});
