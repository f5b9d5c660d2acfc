// Every command, registered on the root program. Each module keeps its heavy imports inside its
// action so that `mtls-oauth --help` loads none of them.

import type { Command } from 'commander';
import { registerCerts } from './certs.ts';
import { registerConfig } from './config.ts';
import { registerDiscover } from './discover.ts';
import { registerIntrospect } from './introspect.ts';
import { registerLogin } from './login.ts';
import { registerRevoke } from './revoke.ts';
import { registerSmoke } from './smoke.ts';
import { registerTls } from './tls.ts';
import { registerToken } from './token.ts';

export const commands: Array<(program: Command) => void> = [
  registerConfig,
  registerTls,
  registerDiscover,
  registerToken,
  registerIntrospect,
  registerRevoke,
  registerSmoke,
  registerLogin,
  registerCerts,
];
