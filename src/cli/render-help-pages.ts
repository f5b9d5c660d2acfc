// Every help page and the version, rendered by the build (scripts/build.mjs) into
// dist/cli/help-pages.json, so that a run that only asks for help or the version prints a page
// (help-page.ts) instead of loading the CLI and building its command tree.
//
// Each page is made the way a run makes it: the program built for that command's argv, parsed
// with --help, its output captured. commander does not wrap (program.ts), so the text does not
// depend on a width; it is fitted to the screen when printed, as the whole CLI fits it.

import type { Command } from 'commander';
import { createProgram } from './program.ts';

export interface HelpPages {
  version: string;
  /** Help text by command path ('' for the root, 'certs init' for a subcommand). */
  pages: Record<string, string>;
}

/** The help page of the command at `path`, exactly as `mtls-oauth ...path --help` writes it. */
async function renderPage(path: string[]): Promise<string> {
  let out = '';
  const program = await createProgram(path, {
    writeOut: (text) => {
      out += text;
    },
    writeErr: (text) => {
      throw new Error(`help for "${path.join(' ')}" wrote to stderr: ${text}`);
    },
    getOutHasColors: () => false,
    getErrHasColors: () => false,
  });
  try {
    program.parse(['node', 'mtls-oauth', ...path, '--help']);
  } catch (e) {
    if ((e as { code?: string }).code !== 'commander.helpDisplayed') throw e;
  }
  return out;
}

/** The path of every command under `cmd` (not commander's implicit `help`). */
function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    return [path, ...commandPaths(sub, path)];
  });
}

export async function renderHelpPages(): Promise<HelpPages> {
  const root = await createProgram([]);
  const pages: Record<string, string> = {};
  for (const path of [[], ...commandPaths(root)]) pages[path.join(' ')] = await renderPage(path);
  return { version: root.version() ?? '', pages };
}
