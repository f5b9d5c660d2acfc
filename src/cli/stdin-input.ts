// Secrets and values read from stdin ("-") or given as flags (which the process list shows).

import { usageError } from '../core/errors.ts';
import type { Ui } from './ui.ts';

/** All of stdin as text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The flag whose value is "-" (read from stdin), if any, among `flags` (flag name → value): stdin
 * holds one value per run, so two such flags are a usage error.
 */
export function stdinFlag(flags: Record<string, string | undefined>): string | undefined {
  const dashed = Object.keys(flags).filter((f) => flags[f] === '-');
  if (dashed.length > 1) {
    throw usageError(
      'BAD_ARGUMENTS',
      `${dashed.join(' and ')} all read stdin ("-"), and stdin holds one value per run`,
      {
        hint: `pipe one of them (${dashed[0]} -) and give the other as an argument (which warns about the process list)`,
      },
    );
  }
  return dashed[0];
}

/**
 * A secret from a flag (--refresh-token, --code, --code-verifier): "-" reads it from stdin (`read`
 * turns the text into the value); any other value is used but warns, since the process list shows
 * every argument to every user of the machine.
 */
export async function secretFromFlag(
  ui: Ui,
  o: { flag: string; value: string | undefined; what: string; read?: (text: string) => string },
): Promise<string | undefined> {
  if (o.value === undefined) return undefined;
  if (o.value === '-') {
    if (process.stdin.isTTY) ui.err(`reading ${o.what} from stdin (end with Ctrl-D)`);
    return (o.read ?? ((text) => bareValue(text, o.what)))(await readStdin());
  }
  ui.warn(
    `${o.what} given as an argument (${o.flag}) is visible to every user of this machine in the process list; use ${o.flag} - and pipe it in`,
  );
  return o.value;
}

/** One value from stdin: the text without surrounding white space, not empty, one word. */
function bareValue(text: string, what: string): string {
  const value = text.trim();
  if (!value)
    throw usageError('MISSING_GRANT_INPUT', `stdin is empty: expected ${what}`, { hint: `pipe ${what} in` });
  if (/\s/.test(value)) {
    throw usageError('MISSING_GRANT_INPUT', `stdin holds more than one word; expected ${what} alone`, {
      hint: `pipe only ${what}`,
    });
  }
  return value;
}
