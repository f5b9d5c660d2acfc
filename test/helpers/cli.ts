// Runs the built CLI as a user would: `bin/mtls-oauth` in a child process.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/mtls-oauth', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /** The script to run instead of bin/mtls-oauth (e.g. dist/cli/main.cjs, the CLI without boot). */
  script?: string;
  cwd?: string;
  input?: string;
  /** Leave stdin open for the test to write to (the child comes with onStderr); default: `input`, then end. */
  keepStdinOpen?: boolean;
  timeoutMs?: number;
  /** Called with the child and the stderr text so far, e.g. to read a URL it prints. */
  onStderr?: (chunk: string, child: import('node:child_process').ChildProcess) => void;
}

/** Environment for the CLI under test: no colours, no stray MTLS_OAUTH_* from the developer's shell. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // COLUMNS would make human output wrap (src/cli/wrap.ts): tests that want it set it themselves.
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('MTLS_OAUTH_') && k !== 'COLUMNS') env[k] = v;
  return { ...env, NO_COLOR: '1', ...extra };
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [opts.script ?? BIN, ...args], {
      cwd: opts.cwd,
      env: opts.env ?? cleanEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
      opts.onStderr?.(d, child);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (!opts.keepStdinOpen) child.stdin.end(opts.input ?? '');
  });
}

/** A failure a user caused: the documented exit code, a message, a hint, no stack trace. */
export function assertCleanFailure(r: CliResult, code: number, message: RegExp): void {
  assert.equal(r.code, code, `exit code; stderr was:\n${r.stderr}`);
  assert.match(r.stderr, message);
  assertNoStack(r);
}

export function assertNoStack(r: CliResult): void {
  for (const out of [r.stdout, r.stderr]) {
    assert.doesNotMatch(out, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
    assert.doesNotMatch(out, /node:internal|Error: .*\n\s+at /, 'no stack trace');
  }
}

/** A `login --json` that succeeded after its callback turned one request away for `reason`. */
export function assertLoginAfterOneTurnedAway(r: CliResult, reason: RegExp): void {
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, reason);
  const j = jsonOf(r);
  assert.equal(j.ok, true);
  assert.equal(j.result.rejected_callbacks, 1);
  assert.equal(j.checks.find((c) => c.name === 'state')?.status, 'pass');
}

/** Parses the one JSON document --json prints on stdout. */
export function jsonOf(r: CliResult): {
  ok: boolean;
  command: string;
  result?: any;
  checks: Array<{ name: string; status: string; detail?: string }>;
  tls?: any;
  error?: { code: string; message: string; hint?: string; details?: any };
} {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new assert.AssertionError({
      message: `stdout is not one JSON document:\n${r.stdout}\nstderr:\n${r.stderr}`,
    });
  }
}
