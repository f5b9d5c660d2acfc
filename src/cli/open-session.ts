// Opening a session and the token cache from a command's flags. Heavy modules are imported inside
// the functions.

import type { Command } from 'commander';
import type { Operation, Session } from '../core/session.ts';
import type { TokenCache } from '../core/token-cache.ts';
import { settingsFor } from './common.ts';
import type { Ui } from './ui.ts';

/**
 * Opens a session for the command's flags; warnings go to stderr, requests to the -v log. `forCache`:
 * the command uses the token cache (whose key needs the token endpoint).
 */
export async function openSessionFor(
  cmd: Command,
  ui: Ui,
  operations: Operation[],
  forCache = false,
): Promise<Session> {
  const { settings, sources } = settingsFor(cmd, ui);
  const { openSession } = await import('../core/session.ts');
  return openSession({
    settings,
    sources,
    forCache,
    operations,
    log: ui.verbose ? (line) => ui.debug(line) : undefined,
    showSecrets: ui.showSecrets,
    warn: (m) => ui.warn(m),
  });
}

/** The token cache, or undefined with --no-cache. */
export async function openCache(ui: Ui, enabled: boolean): Promise<TokenCache | undefined> {
  if (!enabled) return undefined;
  const { TokenCache } = await import('../core/token-cache.ts');
  return new TokenCache({ warn: (m) => ui.warn(m) });
}

export { describeEndpoint } from '../core/session.ts';
