// `mtls-oauth completion`: scripts generated from the commander program. The bash script is
// exercised in a real bash with COMP_WORDS/COMP_CWORD set as bash's completion would set them.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';

const work = mkdtempSync(join(tmpdir(), 'mtls-oauth-completion-'));
after(() => rmSync(work, { recursive: true, force: true }));
const SCRIPT = join(work, 'completion.bash');

/** The candidates bash's completion function offers for the words typed (the last one is the cursor's). */
function complete(...words: string[]): string[] {
  const out = execFileSync(
    'bash',
    [
      '-c',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash script, not a template
      'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mtls_oauth; printf "%s\\n" "${COMPREPLY[@]}"',
      'bash',
      SCRIPT,
      'mtls-oauth',
      ...words,
    ],
    { cwd: work, encoding: 'utf8' },
  );
  return out.split('\n').filter((l) => l !== '');
}

/** Whether the shell is installed, to syntax-check its script. */
const has = (shell: string) => spawnSync(shell, ['--version'], { stdio: 'ignore' }).status === 0;

describe('completion bash', () => {
  before(async () => {
    const r = await runCli(['completion', 'bash']);
    assert.equal(r.code, 0, r.stderr);
    writeFileSync(SCRIPT, r.stdout);
    writeFileSync(join(work, 'client.crt'), '');
    writeFileSync(join(work, 'client.key'), '');
  });

  it('offers every command at the first word', () => {
    const all = complete('');
    for (const c of [
      'certs',
      'completion',
      'config',
      'discover',
      'idp',
      'introspect',
      'login',
      'revoke',
      'smoke',
      'tls',
      'token',
    ]) {
      assert.ok(all.includes(c), `${c} missing from ${all.join(' ')}`);
    }
    assert.deepEqual(complete('to'), ['token']);
  });

  it('offers subcommands, and the options of the command typed, global ones included', () => {
    assert.deepEqual(complete('certs', 'i').sort(), ['init', 'inspect', 'issue']);
    assert.deepEqual(complete('certs', 'issue', '--ca-c'), ['--ca-cert']);
    assert.deepEqual(complete('--json', 'token', '--ce'), ['--cert']);
    assert.ok(complete('token', '--').includes('--show-secrets'));
    // An option of another command is not offered.
    assert.deepEqual(complete('discover', '--grant'), []);
  });

  it('skips option values when finding the command, and completes their files or choices', () => {
    assert.deepEqual(complete('token', '--cert', 'client.c'), ['client.crt']);
    assert.deepEqual(complete('tls', '--method', ''), ['GET', 'HEAD']);
    // `--issuer certs` is a value, not the certs command: still the token options.
    assert.deepEqual(complete('token', '--issuer', 'certs', '--client-i'), ['--client-id']);
    // A free-form value gets no candidates.
    assert.deepEqual(complete('token', '--issuer', 'cer'), []);
  });

  it('a shell it does not know is a usage error', async () => {
    const r = await runCli(['completion', 'ksh']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Allowed choices are bash, zsh, fish/);
  });
});

describe('completion zsh and fish', () => {
  for (const shell of ['zsh', 'fish'] as const) {
    it(`${shell}: generated from the same commands${has(shell) ? ', and its syntax checks' : ` (${shell} is not installed: syntax not checked)`}`, async () => {
      const r = await runCli(['completion', shell]);
      assert.equal(r.code, 0, r.stderr);
      for (const word of ['certs', 'issue', 'ca-cert', 'show-secrets'])
        assert.ok(r.stdout.includes(word), word);
      if (has(shell)) {
        const file = join(work, `completion.${shell}`);
        writeFileSync(file, r.stdout);
        const check = spawnSync(shell, ['-n', file], { encoding: 'utf8' });
        assert.equal(check.status, 0, check.stderr);
      }
    });
  }

  it('fish: one condition per command path', async () => {
    const r = await runCli(['completion', 'fish']);
    assert.match(
      r.stdout,
      /complete -c mtls-oauth -n '__fish_seen_subcommand_from certs; and not __fish_seen_subcommand_from init issue inspect p12' -a issue /,
    );
    assert.match(
      r.stdout,
      /-n '__fish_seen_subcommand_from certs; and __fish_seen_subcommand_from issue' -l ca-cert -r -F /,
    );
  });
});
