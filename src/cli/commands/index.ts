// Every command, registered on the root program. Each module keeps its heavy imports inside its
// action so that `mtls-oauth --help` loads none of them.

import type { Command } from 'commander';

/** Adds a command (its options, help and action) to the program. */
export type Register = (program: Command) => void;

/**
 * Every command by name, in the order the root help lists them. Each loads its module when a run
 * needs it: initialising a command's module (and what it imports) costs time at every start, and a
 * run needs only its own.
 */
export const commands: Record<string, () => Promise<Register>> = {
  config: () => import('./config.ts').then((m) => m.registerConfig),
  tls: () => import('./tls.ts').then((m) => m.registerTls),
  discover: () => import('./discover.ts').then((m) => m.registerDiscover),
  token: () => import('./token.ts').then((m) => m.registerToken),
  introspect: () => import('./introspect.ts').then((m) => m.registerIntrospect),
  revoke: () => import('./revoke.ts').then((m) => m.registerRevoke),
  smoke: () => import('./smoke.ts').then((m) => m.registerSmoke),
  call: () => import('./call.ts').then((m) => m.registerCall),
  login: () => import('./login.ts').then((m) => m.registerLogin),
  certs: () => import('./certs/index.ts').then((m) => m.registerCerts),
  idp: () => import('./idp.ts').then((m) => m.registerIdp),
  kong: () => import('./kong.ts').then((m) => m.registerKong),
  completion: () => import('./completion.ts').then((m) => m.registerCompletion),
};

/**
 * Registers the command `argv` names, or every command when it names none (the root help, `help
 * CMD`, a typo that commander should answer with a suggestion). Building a command's options costs
 * time at every start; a run needs only its own.
 */
export async function registerCommands(program: Command, argv: string[]): Promise<void> {
  // The root options are all flags, so the first word that is not an option is the command.
  const name = argv.find((a) => !a.startsWith('-'));
  const only = name !== undefined && Object.hasOwn(commands, name) ? commands[name] : undefined;
  const registers = await Promise.all(only ? [only()] : Object.values(commands).map((load) => load()));
  for (const register of registers) register(program);
}
