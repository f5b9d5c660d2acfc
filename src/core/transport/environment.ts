// Environment variables that would change how TLS is verified, and what the tool does about them.
//
// NODE_TLS_REJECT_UNAUTHORIZED=0 turns off certificate verification for every TLS connection Node
// makes with default options. This tool verifies each connection itself (connector.ts: the chain and
// the host name, checked after the handshake whatever the variable says; `--insecure` is the only,
// per-run, way to skip that), so the variable has no effect on it. It is removed from this process's
// environment all the same, so that nothing else in the process honours it, and Node's own warning
// ("... makes TLS connections and HTTPS requests insecure") is not printed: it would be untrue here.

/** The warning for a NODE_TLS_REJECT_UNAUTHORIZED=0 in `env` (which loses the variable), if any. */
export function neutralizeInsecureTlsEnvironment(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env.NODE_TLS_REJECT_UNAUTHORIZED;
  if (value === undefined) return undefined;
  delete env.NODE_TLS_REJECT_UNAUTHORIZED;
  if (value !== '0') return undefined;
  return 'NODE_TLS_REJECT_UNAUTHORIZED=0 is set in the environment and ignored: mtls-oauth verifies every server certificate itself (use --insecure to skip that for one run, for testing only)';
}
