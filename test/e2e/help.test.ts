// Every command's --help ends with worked examples; --version prints the package version.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BIN, cleanEnv, runCli } from '../helpers/cli.ts';
import { makeTestPki } from '../helpers/pki.ts';

const work = mkdtempSync(join(tmpdir(), 'mtls-oauth-help-'));
after(() => rmSync(work, { recursive: true, force: true }));
const CA_CERT = join(work, 'ca.crt');
writeFileSync(CA_CERT, (await makeTestPki()).ca.cert);

const COMMANDS = [
  [],
  ['certs'],
  ['certs', 'init'],
  ['certs', 'issue'],
  ['certs', 'inspect'],
  ['certs', 'p12'],
  ['discover'],
  ['tls'],
  ['token'],
  ['introspect'],
  ['revoke'],
  ['login'],
  ['smoke'],
  ['call'],
  ['kong'],
  ['idp'],
  ['config'],
  ['config', 'show'],
  ['completion'],
];

/** No line wider than `width`, but example commands (kept whole so that they can be copied). */
function assertFits(lines: string[], width: number): void {
  let inCommand = false;
  for (const line of lines) {
    const command: boolean = inCommand || /^\s*\$ /.test(line);
    inCommand = command && /\\\s*$/.test(line);
    if (!command) assert.ok(line.length <= width, `wider than ${width}: "${line}"`);
  }
}

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

  // Each command offers only the options that do something for it (a flag that changes nothing
  // would let a user believe it did): these are refused as unknown, and absent from --help.
  const USELESS: Record<string, string[]> = {
    discover: ['--assertion-audience', '--cert', '--client-id', '--dpop', '--scope', '--api'],
    tls: ['--assertion-audience', '--client-id', '--auth', '--scope', '--dpop', '--api'],
    introspect: ['--scope', '--dpop', '--api'],
    revoke: ['--scope', '--dpop', '--api'],
    call: ['--auth', '--scope', '--signing-key', '--assertion-audience'],
    kong: ['--dpop', '--dpop-key'],
  };
  for (const [cmd, flags] of Object.entries(USELESS)) {
    it(`${cmd} offers no ${flags.join(', ')}`, async () => {
      const help = await runCli([cmd, '--help']);
      assert.equal(help.code, 0, help.stderr);
      for (const flag of flags) {
        assert.doesNotMatch(help.stdout, new RegExp(`${flag}\\b`), `${cmd} --help lists ${flag}`);
        const r = await runCli([cmd, flag, 'x']);
        assert.equal(r.code, 2, `${cmd} ${flag}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`unknown option '${flag}'`));
        assert.doesNotMatch(r.stderr, /\n\s+at /);
      }
    });
  }

  // At 40 columns (a terminal's width, or COLUMNS as here) help wraps at spaces: no line is wider,
  // no word narrower than the screen is cut, options become a list; example commands stay whole so that they can be copied.
  for (const cmd of COMMANDS) {
    it(`mtls-oauth ${cmd.join(' ')} --help fits 40 columns without cutting a word`, async () => {
      const wide = await runCli([...cmd, '--help']);
      const narrow = await runCli([...cmd, '--help'], { env: cleanEnv({ COLUMNS: '40' }) });
      assert.equal(narrow.code, 0, narrow.stderr);
      assertFits(narrow.stdout.split('\n'), 40);
      // Nothing lost, and only a word wider than the screen itself is cut.
      assert.equal(narrow.stdout.replace(/\s+/g, ''), wide.stdout.replace(/\s+/g, ''));
      const words = (t: string) => t.split(/\s+/).filter(Boolean);
      const kept = new Set(words(narrow.stdout));
      for (const w of words(wide.stdout)) if (w.length <= 40) assert.ok(kept.has(w), `"${w}" was cut`);
    });
  }

  // Help alone prints a page the build rendered (dist/cli/help-pages.json, src/cli/help-page.ts);
  // the whole CLI (dist/cli/main.cjs, run here without boot) renders it itself. Both must print
  // the same, to a pipe (80 columns) and fitted to any width.
  const MAIN = join(dirname(BIN), '..', 'dist', 'cli', 'main.cjs');
  for (const cmd of COMMANDS) {
    it(`mtls-oauth ${cmd.join(' ')} --help: the page printed alone is what the whole CLI prints`, async () => {
      for (const columns of [undefined, '40', '80', '132']) {
        const env = cleanEnv(columns ? { COLUMNS: columns } : {});
        const alone = await runCli([...cmd, '--help'], { env });
        const whole = await runCli([...cmd, '--help'], { env, script: MAIN });
        assert.equal(alone.code, 0, alone.stderr);
        assert.equal(whole.code, 0, whole.stderr);
        assert.equal(alone.stdout, whole.stdout, `COLUMNS=${columns}`);
        assert.equal(alone.stderr, '');
      }
    });
  }

  it('every page the build rendered is one of the commands tested here, and each is there', () => {
    const { pages } = JSON.parse(readFileSync(join(dirname(MAIN), 'help-pages.json'), 'utf8'));
    assert.deepEqual(Object.keys(pages).sort(), COMMANDS.map((c) => c.join(' ')).sort());
  });

  // At a terminal the width comes from the terminal itself (util-linux `script` gives the run a
  // pseudo-terminal of 50 columns).
  const hasScript = spawnSync('script', ['--version']).status === 0;
  it('at a 50-column terminal, the page and the whole CLI fit it alike', {
    skip: !hasScript && 'no util-linux script',
  }, () => {
    const atTerminal = (runner: string, args: string) =>
      spawnSync('script', ['-qec', `stty cols 50; ${runner} ${args}`, '/dev/null'], {
        env: cleanEnv(),
        encoding: 'utf8',
        timeout: 30_000,
      });
    for (const args of ['--help', 'token --help', 'certs init -h']) {
      const alone = atTerminal(`"${process.execPath}" "${BIN}"`, args);
      const whole = atTerminal(`"${process.execPath}" "${MAIN}"`, args);
      assert.equal(alone.status, 0, alone.stderr);
      const lines = alone.stdout.split('\r\n');
      assert.ok(lines.length > 10, alone.stdout);
      assert.ok(
        lines.some((l) => l.length > 40),
        alone.stdout,
      );
      assertFits(lines, 50);
      assert.equal(alone.stdout, whole.stdout, args);
    }
  });

  it('without its page file (a damaged install) help still works: the whole CLI answers', async () => {
    const copy = join(work, 'no-pages');
    cpSync(join(dirname(BIN), '..', 'bin'), join(copy, 'bin'), { recursive: true });
    cpSync(dirname(MAIN), join(copy, 'dist', 'cli'), {
      recursive: true,
      filter: (src) => !src.endsWith('help-pages.json') && !src.includes('.code-cache'),
    });
    const r = await runCli(['token', '--help'], { script: join(copy, 'bin', 'mtls-oauth') });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, (await runCli(['token', '--help'])).stdout);
    const v = await runCli(['--version'], { script: join(copy, 'bin', 'mtls-oauth') });
    assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  // Anything the pages do not answer goes to the whole CLI, which answers as it always did.
  it('help for an unknown command, or a version asked of a command: the whole CLI answers', async () => {
    const unknown = await runCli(['frobnicate', '--help']);
    const root = await runCli(['--help']);
    assert.equal(unknown.code, 0, unknown.stderr);
    assert.equal(unknown.stdout, root.stdout);
    const version = await runCli(['token', '-V']);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    const arg = await runCli(['discover', 'idp', '--help']);
    assert.equal(arg.code, 0, arg.stderr);
    assert.match(arg.stdout, /^Usage: mtls-oauth discover \[options\] \[ISSUER\]/);
  });

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
    assert.match(r.stderr, /\n\(run with --help for usage\)\n$/);
    const typo = await runCli(['tokn']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /^error: unknown command 'tokn'\n\(Did you mean token\?\)\n/);
  });
});

describe('a reader that goes away (`mtls-oauth ... | head`)', () => {
  /** Runs the CLI with its stdout closed by the reader before it writes; the exit code and stderr. */
  function withClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        env: cleanEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stderr });
      });
    });
  }

  it('--help (written straight to the descriptor): exit 0, nothing on stderr', async () => {
    const r = await withClosedStdout(['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
  });

  it('a command writing through its output stream: exit 0, nothing on stderr', async () => {
    const r = await withClosedStdout(['certs', 'inspect', CA_CERT]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
  });
});
