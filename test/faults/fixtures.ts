// Shared set-up for the fault tests: a test PKI written to a temporary directory (the server
// certificate for the bad servers, a client certificate and key, the CA to trust), and the flags
// each command needs to reach a URL.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv } from '../helpers/cli.ts';
import { makeTestPki } from '../helpers/pki.ts';

export async function faultPki() {
  const pki = await makeTestPki();
  const dir = mkdtempSync(join(tmpdir(), 'mtls-oauth-faults-'));
  const put = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text, { mode: 0o600 });
    return f;
  };
  const files = {
    ca: put('ca.crt', pki.ca.cert),
    cert: put('client.crt', pki.client.cert),
    key: put('client.key', pki.client.key),
  };
  return {
    ...pki,
    dir,
    files,
    /** HOME, config and cache inside the temporary directory: nothing of the developer's is read or written. */
    env: (extra: NodeJS.ProcessEnv = {}) =>
      cleanEnv({
        HOME: dir,
        XDG_CONFIG_HOME: join(dir, 'config'),
        MTLS_OAUTH_CACHE_DIR: join(dir, 'cache'),
        ...extra,
      }),
    /** The arguments of `discover`, `token` and `tls` for a server at `base` (https://127.0.0.1:PORT). */
    args: (command: 'discover' | 'token' | 'tls', base: string): string[] => {
      switch (command) {
        case 'discover':
          return ['discover', base, '--ca', files.ca];
        case 'token':
          return [
            'token',
            '--token-endpoint',
            `${base}/token`,
            '--client-id',
            'kong',
            '--cert',
            files.cert,
            '--key',
            files.key,
            '--ca',
            files.ca,
            '--no-cache',
          ];
        case 'tls':
          return ['tls', `${base}/token`, '--cert', files.cert, '--key', files.key, '--ca', files.ca];
      }
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
export type FaultPki = Awaited<ReturnType<typeof faultPki>>;

/** Escapes a string for a RegExp. */
export const re = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
