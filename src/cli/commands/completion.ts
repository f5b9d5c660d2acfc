// `mtls-oauth completion bash|zsh|fish`: prints a completion script generated from the program.

import { Argument, type Command } from 'commander';
import { execute } from '../run.ts';

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish), generated from the commands')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .action(async (shell: 'bash' | 'zsh' | 'fish', _opts, c: Command) => {
      await execute('completion', c, async ({ ui }) => {
        const { commands } = await import('./index.ts');
        const { completionScript } = await import('../completion.ts');
        // A run registers only its own command (index.ts): complete the tree for the script.
        for (const [name, load] of Object.entries(commands)) {
          if (!program.commands.some((cmd) => cmd.name() === name)) (await load())(program);
        }
        const script = completionScript(program, shell);
        return { result: { shell, script }, human: () => ui.writeStdout(script) };
      });
    })
    .addHelpText(
      'after',
      `
Examples:
  $ source <(mtls-oauth completion bash)           # in ~/.bashrc
  $ source <(mtls-oauth completion zsh)            # in ~/.zshrc
  $ mtls-oauth completion fish > ~/.config/fish/completions/mtls-oauth.fish
`,
    );
}
