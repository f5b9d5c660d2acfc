// The one place a command's outcome becomes output and an exit code.

import type { Command } from 'commander';
import type { Check, CheckStatus } from '../core/check.ts';
import { recordsOf } from '../core/diagnosis/causes.ts';
import { type ErrorCode, isMtlsOAuthError, MtlsOAuthError } from '../core/errors.ts';
import { neutralizeInsecureTlsEnvironment } from '../core/transport/environment.ts';
import { printDoctor } from './doctor.ts';
import { EXIT, exitCodeForKind } from './exit-codes.ts';
import { type GlobalOptions, Ui } from './ui.ts';

export interface Outcome {
  /** The operation's result; IdP responses as received. */
  result?: unknown;
  checks?: Check[];
  /** Diagnostics of the connections made. */
  tls?: unknown;
  /** Prints the human form (not called under --json). */
  human?: () => void;
  /** Overrides the exit code derived from the checks. */
  exitCode?: number;
  /** The error to report when the outcome is a failure without an exception (a failed check). */
  error?: { code: ErrorCode; message: string; hint?: string };
  /**
   * The command printed its output itself as it ran (`idp`: its one ready document, then it served
   * until interrupted): only the exit code is left to set.
   */
  printed?: boolean;
}

export interface Context {
  ui: Ui;
  globals: GlobalOptions;
  command: string;
}

export interface Envelope {
  ok: boolean;
  command: string;
  result?: unknown;
  checks?: Check[];
  tls?: unknown;
  error?: { code: string; message: string; hint?: string; details?: unknown };
}

function checkIcon(ui: Ui, s: CheckStatus): string {
  return { pass: ui.c.green('✓'), fail: ui.c.red('✗'), warn: ui.c.yellow('!'), skip: ui.c.dim('-') }[s];
}

/** Human rendering of a list of checks. */
export function printChecks(ui: Ui, checks: Check[]): void {
  for (const ch of checks) {
    ui.out(`  ${checkIcon(ui, ch.status)} ${ch.name}${ch.detail ? `: ${ch.detail}` : ''}`);
  }
}

/** Runs a command body, renders its outcome or error, and sets process.exitCode (never exits). */
export async function execute(command: string, cmd: Command, body: (ctx: Context) => Promise<Outcome>) {
  const globals = cmd.optsWithGlobals() as GlobalOptions;
  const ui = new Ui(globals);
  await ui.init();
  const tlsEnvWarning = neutralizeInsecureTlsEnvironment();
  if (tlsEnvWarning) ui.warn(tlsEnvWarning);
  try {
    const outcome = await body({ ui, globals, command });
    const failed = (outcome.checks ?? []).filter((c) => c.status === 'fail');
    const exitCode = outcome.exitCode ?? (failed.length > 0 ? EXIT.checkFailed : EXIT.ok);
    const ok = exitCode === EXIT.ok;
    if (outcome.printed) {
      // nothing more to print
    } else if (ui.json) {
      const env: Envelope = { ok, command, result: outcome.result, checks: outcome.checks ?? [] };
      if (outcome.tls !== undefined) env.tls = outcome.tls;
      if (!ok) {
        env.error = outcome.error ?? {
          code: 'CHECK_FAILED',
          message: failed.map((c) => `${c.name}: ${c.detail ?? 'failed'}`).join('; ') || 'a check failed',
        };
      }
      ui.writeStdout(`${JSON.stringify(env, null, 2)}\n`);
    } else {
      outcome.human?.();
      if (!ok && outcome.error) {
        ui.err(`${ui.e.red('error:')} ${outcome.error.message}`);
        if (outcome.error.hint) ui.err(`${ui.e.dim('hint:')} ${outcome.error.hint}`);
        if (ui.verbose)
          printDoctor(ui, outcome.error, { records: recordsOf(outcome.tls), result: outcome.result });
      }
    }
    process.exitCode = exitCode;
  } catch (e) {
    reportError(ui, command, e);
  }
}

/** A failure that involved the network: -v shows its requests, handshakes and ranked causes. */
function hasMoreToShow(err: MtlsOAuthError, tls: unknown): boolean {
  return ['network', 'oauth', 'timeout'].includes(err.kind) || (err.kind === 'check' && tls !== undefined);
}

export function reportError(ui: Ui, command: string, e: unknown): void {
  const err = isMtlsOAuthError(e)
    ? e
    : new MtlsOAuthError('internal', 'INTERNAL', `unexpected error: ${(e as Error)?.message ?? String(e)}`, {
        hint: 'this is a bug in mtls-oauth; run again with --debug and report the stack trace',
        cause: e,
      });
  const { tls, ...details } = err.details ?? {};
  if (ui.json) {
    const env: Envelope = {
      ok: false,
      command,
      checks: (details.checks as Check[] | undefined) ?? [],
      error: {
        code: err.code,
        message: err.message,
        ...(err.hint ? { hint: err.hint } : {}),
        ...(Object.keys(details).length ? { details } : {}),
      },
    };
    if (tls !== undefined) env.tls = tls;
    ui.writeStdout(`${JSON.stringify(env, null, 2)}\n`);
  } else {
    ui.err(`${ui.e.red('error:')} ${err.message}`);
    if (err.hint) ui.err(`${ui.e.dim('hint:')} ${err.hint}`);
    if (ui.verbose && err.kind !== 'internal') printDoctor(ui, err, { records: recordsOf(tls) });
    else if (hasMoreToShow(err, tls)) {
      ui.err(
        `${ui.e.dim('more:')} run again with -v to see each request, the TLS handshake and the likely causes`,
      );
    }
  }
  if (ui.opts.debug) ui.err((err.kind === 'internal' ? (err.cause as Error) : err)?.stack ?? String(e));
  process.exitCode = exitCodeForKind(err.kind);
}
