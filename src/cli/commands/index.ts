// Every command, registered on the root program. Each module keeps its heavy imports inside its
// action so that `mtls-oauth --help` loads none of them.

import type { Command } from 'commander';
import { registerCall } from './call.ts';
import { registerCerts } from './certs/index.ts';
import { registerCompletion } from './completion.ts';
import { registerConfig } from './config.ts';
import { registerDiscover } from './discover.ts';
import { registerIdp } from './idp.ts';
import { registerIntrospect } from './introspect.ts';
import { registerKong } from './kong.ts';
import { registerLogin } from './login.ts';
import { registerRevoke } from './revoke.ts';
import { registerSmoke } from './smoke.ts';
import { registerTls } from './tls.ts';
import { registerToken } from './token.ts';

/** Every command by name, in the order the root help lists them. */
export const commands: Record<string, (program: Command) => void> = {
  config: registerConfig,
  tls: registerTls,
  discover: registerDiscover,
  token: registerToken,
  introspect: registerIntrospect,
  revoke: registerRevoke,
  smoke: registerSmoke,
  call: registerCall,
  login: registerLogin,
  certs: registerCerts,
  idp: registerIdp,
  kong: registerKong,
  completion: registerCompletion,
};

/**
 * Registers the command `argv` names, or every command when it names none (the root help, `help
 * CMD`, a typo that commander should answer with a suggestion). Building a command's options costs
 * time at every start; a run needs only its own.
 */
export function registerCommands(program: Command, argv: string[]): void {
  // The root options are all flags, so the first word that is not an option is the command.
  const name = argv.find((a) => !a.startsWith('-'));
  const only = name !== undefined && Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (only) only(program);
  else for (const register of Object.values(commands)) register(program);
}
