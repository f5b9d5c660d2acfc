import { EXIT } from './exit-codes.ts';
import { createProgram } from './program.ts';
import { writeFd } from './stdio.ts';
import { commandPath, usageEnvelope, wantsJson } from './usage-json.ts';

// No top-level await: the CLI bundle is CommonJS (dist/cli/main.cjs), for V8's code cache.
createProgram(process.argv.slice(2)).then((program) =>
  program.parseAsync(process.argv).catch((e: unknown) => {
    // commander throws on --help/--version (exit 0) and on usage errors (already printed).
    const err = e as { code?: string; exitCode?: number };
    if (
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      err.code === 'commander.help'
    ) {
      process.exitCode = EXIT.ok;
    } else if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
      const argv = process.argv.slice(2);
      if (wantsJson(argv)) {
        const env = usageEnvelope(commandPath(program, argv), (e as Error).message);
        writeFd(1, `${JSON.stringify(env, null, 2)}\n`);
      }
      process.exitCode = EXIT.usage;
    } else {
      throw e;
    }
  }),
);
