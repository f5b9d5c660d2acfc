// A run that only prints help or the version: the page the build rendered
// (render-help-pages.ts), fitted to the screen, without loading the CLI. About as fast as Node
// starts.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HelpPages } from './render-help-pages.ts';
import { writeFd, writeHelp } from './stdio.ts';

/**
 * A run whose arguments are `--help`, `-h`, `--version` or `-V` and at most the names of a command
 * and a subcommand. Any other flag (or value) may be an error to report: the whole CLI decides.
 */
export function printsOnly(argv: string[]): boolean {
  const flags = argv.filter((a) => a.startsWith('-'));
  const words = argv.filter((a) => !a.startsWith('-'));
  return (
    flags.length === 1 &&
    ['--help', '-h', '--version', '-V'].includes(flags[0]) &&
    words.length <= 2 &&
    words.every((w) => /^[a-z][a-z0-9-]{0,19}$/.test(w))
  );
}

/**
 * Prints the help page or version `argv` asks for, from `dir`/help-pages.json. False (nothing
 * printed) when there is no such page (an unknown command, a version asked of a command, a missing
 * file): the whole CLI then answers, as it would have.
 */
export function printHelpPage(argv: string[], dir: string): boolean {
  if (!printsOnly(argv)) return false;
  let help: HelpPages;
  try {
    help = JSON.parse(readFileSync(join(dir, 'help-pages.json'), 'utf8'));
  } catch {
    return false;
  }
  const words = argv.filter((a) => !a.startsWith('-'));
  const version = argv.includes('--version') || argv.includes('-V');
  if (version) {
    if (words.length > 0 || !help.version) return false;
    writeFd(1, `${help.version}\n`);
    return true;
  }
  const page = help.pages[words.join(' ')];
  if (typeof page !== 'string') return false;
  writeHelp(page);
  return true;
}
