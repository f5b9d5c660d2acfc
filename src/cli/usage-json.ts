// `--json` promises one JSON document on stdout, usage errors included: commander's own errors
// (an unknown option or command, a missing or extra argument) become the envelope every command
// prints for a failure, with a code from the one error list.

import type { Command } from 'commander';
import type { Envelope } from './run.ts';

/** Whether the command line asks for --json (before a `--`, which ends the options). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** The command path named on the command line ("token", "certs init"), as far as it is known. */
export function commandPath(program: Command, argv: readonly string[]): string {
  const names: string[] = [];
  let at: Command = program;
  for (const arg of argv) {
    if (arg === '--') break;
    if (arg.startsWith('-')) continue;
    const sub = at.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!sub) break;
    names.push(sub.name());
    at = sub;
  }
  return names.join(' ') || program.name();
}

/** The failure envelope for a commander usage error (its message without commander's "error: "). */
export function usageEnvelope(command: string, message: string): Envelope {
  return {
    ok: false,
    command,
    checks: [],
    error: {
      code: 'BAD_USAGE',
      message: message.replace(/^error:\s*/, '').trim(),
      hint: `run mtls-oauth ${command === 'mtls-oauth' ? '' : `${command} `}--help for usage`,
    },
  };
}
