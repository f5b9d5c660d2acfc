// The test IdP (idp.ts) with what a test around it needs: its PEM files in a temporary home, the
// CLI's environment pointing into that home, the arguments and Settings of a client, and one
// close() for all of it.
//
//   const fx = await idpFixture({ aliases: true });
//   t.after(fx.close);          // or after(() => fx.close()) around a describe
//   await fx.run(['token', ...fx.args()]);                       // the built CLI, as kong
//   await openSession({ settings: fx.settings('intruder', 'other') });   // in-process
//
// Layout of fx.home: certs/ (the PEM files), config/ (XDG_CONFIG_HOME), cache/ (the token cache).
// cliHome() is that home alone; serverFixture() puts a small non-IdP https server beside it.

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Settings } from '../../src/core/config.ts';
import { newKeyPairSync } from '../../src/core/pki/keys.ts';
import { cacheKey } from '../../src/core/token-cache.ts';
import { type CliResult, cleanEnv, runCli } from './cli.ts';
import {
  type ClientMetadata,
  type IdpOptions,
  type IdpPki,
  type PkiFiles,
  rfc4514Subject,
  startIdp,
  type TestIdp,
  writePkiFiles,
} from './idp.ts';
import { makeTestPki } from './pki.ts';
import { type Running, startHttpsServer } from './tls-servers.ts';

/**
 * A temporary home for runs of the built CLI: HOME and working directory, with config/
 * (XDG_CONFIG_HOME) and cache/ (MTLS_OAUTH_CACHE_DIR) in it, so that no config file or token cache
 * of the developer's is read.
 */
export interface CliHome {
  /** The folder, removed by remove(). */
  home: string;
  /** `<home>/config`: XDG_CONFIG_HOME of the runs. */
  configDir: string;
  /** `<home>/cache`: MTLS_OAUTH_CACHE_DIR of the runs. */
  cacheDir: string;
  /** cleanEnv() with HOME, XDG_CONFIG_HOME and MTLS_OAUTH_CACHE_DIR in `home`, then `extra`. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** The built CLI in `home` with env(opts.env), `opts.input` on stdin. */
  run(args: string[], opts?: { env?: NodeJS.ProcessEnv; input?: string }): Promise<CliResult>;
  remove(): void;
}

export function cliHome(prefix = 'mtls-oauth-home-'): CliHome {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const configDir = join(home, 'config');
  const cacheDir = join(home, 'cache');
  const env = (extra: NodeJS.ProcessEnv = {}) =>
    cleanEnv({ HOME: home, XDG_CONFIG_HOME: configDir, MTLS_OAUTH_CACHE_DIR: cacheDir, ...extra });
  return {
    home,
    configDir,
    cacheDir,
    env,
    run: (args, opts = {}) => runCli(args, { env: env(opts.env), cwd: home, input: opts.input }),
    remove: () => rmSync(home, { recursive: true, force: true }),
  };
}

export interface ServerFixture extends CliHome {
  server: Running;
  /** The server's CA certificate, in `<home>/ca.crt` (for `--ca`). */
  ca: string;
  /** Closes the server and removes `home`. */
  close(): Promise<void>;
}

/**
 * A local https server that is not an IdP (makeTestPki's server certificate, no client certificate
 * asked for) answering every request with `respond` once its body is read, its CA written into a
 * cliHome to run the CLI in.
 */
export async function serverFixture(
  respond: (req: IncomingMessage, res: ServerResponse) => void,
  prefix?: string,
): Promise<ServerFixture> {
  const pki = await makeTestPki();
  const server = await startHttpsServer({
    cert: pki.server.cert,
    key: pki.server.key,
    handler: (req, res) => {
      req.resume();
      req.on('end', () => respond(req, res));
    },
  });
  const cli = cliHome(prefix);
  const ca = join(cli.home, 'ca.crt');
  writeFileSync(ca, pki.ca.cert);
  return {
    ...cli,
    server,
    ca,
    close: async () => {
      await server.close();
      cli.remove();
    },
  };
}

/** Which certificate of the IdP's PKI a client presents (see IdpPki). */
export type Identity = 'client' | 'other' | 'selfSigned' | 'foreign';

export interface IdpFixture extends Omit<CliHome, 'remove'> {
  idp: TestIdp;
  /** The PEM files, in `<home>/certs`. */
  files: PkiFiles;
  /** `--cert F --key F --ca F` for that identity (default: `client`, registered for kong). */
  tlsArgs(who?: Identity): string[];
  /** `--issuer URL --client-id ID` and tlsArgs(who): a client as the CLI is told of it. */
  args(clientId?: string, who?: Identity): string[];
  /** The same as Settings, for in-process sessions. */
  settings(clientId?: string, who?: Identity): Settings;
  /** Closes the IdP and removes `home`. */
  close(): Promise<void>;
}

/** Starts the test IdP (startIdp options) and lays out its files; `prefix` names the temp folder. */
export async function idpFixture(options: IdpOptions & { prefix?: string } = {}): Promise<IdpFixture> {
  const { prefix = 'mtls-oauth-idp-', ...idpOptions } = options;
  const idp = await startIdp(idpOptions);
  const { remove, ...cli } = cliHome(prefix);
  const close = async () => {
    await idp.close();
    remove();
  };
  let files: PkiFiles;
  try {
    files = writePkiFiles(idp.pki, join(cli.home, 'certs'));
  } catch (e) {
    await close();
    throw e;
  }
  const identity = (who: Identity) => ({
    cert: files[`${who}Cert`],
    key: files[`${who}Key`],
    ca: files.ca,
  });
  const tlsArgs = (who: Identity = 'client') => {
    const { cert, key, ca } = identity(who);
    return ['--cert', cert, '--key', key, '--ca', ca];
  };
  return {
    ...cli,
    idp,
    files,
    tlsArgs,
    args: (clientId = 'kong', who: Identity = 'client') => [
      '--issuer',
      idp.issuer,
      '--client-id',
      clientId,
      ...tlsArgs(who),
    ],
    settings: (clientId = 'kong', who: Identity = 'client') => ({
      issuer: idp.issuer,
      clientId,
      ...identity(who),
    }),
    close,
  };
}

/**
 * The `intruder` client: tls_client_auth registered for the `other` certificate (same CA as kong's,
 * another subject), so that its tokens are bound to a certificate that is not kong's.
 */
export function intruderClient(pki: IdpPki): ClientMetadata {
  return {
    client_id: 'intruder',
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_auth_subject_dn: rfc4514Subject(pki.other.x509),
    tls_client_certificate_bound_access_tokens: true,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  };
}

/**
 * The `jwt-client` client: private_key_jwt with a fresh EC P-256 key, whose private half is written
 * (PEM, 0600) to `signingKeyFile` for --signing-key / Settings.signingKey.
 */
export function jwtClient(signingKeyFile: string): ClientMetadata {
  const signer = newKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(signingKeyFile, signer.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return {
    client_id: 'jwt-client',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [{ ...signer.publicKey.export({ format: 'jwk' }), use: 'sig', alg: 'ES256' }] },
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'api:read',
  };
}

/**
 * An authorization code for `kong` (scope openid offline_access api:read, PKCE S256, consent
 * prompted), from the IdP's dev login and consent forms, for `redirectUri`.
 */
export async function authorizationCode(
  idp: TestIdp,
  redirectUri: string,
): Promise<{ code: string; verifier: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const u = new URL(idp.endpoints.authorization);
  u.search = new URLSearchParams({
    client_id: 'kong',
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid offline_access api:read',
    state: 's',
    nonce: 'n',
    prompt: 'consent',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const code = new URL(await idp.authorize(u.href)).searchParams.get('code')!;
  return { code, verifier };
}

/**
 * The token cache entry (in `<cacheDir>/tokens.json`) of a client of the test IdP, found by its key
 * (issuer, plain token endpoint, client_id), as `token`, `login` and `introspect` compute it.
 */
export function cachedEntry(cacheDir: string, idp: TestIdp, clientId = 'kong'): any {
  const doc = JSON.parse(readFileSync(join(cacheDir, 'tokens.json'), 'utf8'));
  return doc.entries[cacheKey({ issuer: idp.issuer, tokenEndpoint: idp.endpoints.token, clientId })];
}

/**
 * `--grant authorization_code --code C --code-verifier V --redirect-uri U` for `mtls-oauth token`,
 * with a fresh code for `kong` (authorizationCode).
 */
export async function authorizationCodeGrantArgs(
  idp: TestIdp,
  redirectUri = 'http://127.0.0.1:49154/callback',
): Promise<string[]> {
  const { code, verifier } = await authorizationCode(idp, redirectUri);
  return [
    '--grant',
    'authorization_code',
    '--code',
    code,
    '--code-verifier',
    verifier,
    '--redirect-uri',
    redirectUri,
  ];
}
