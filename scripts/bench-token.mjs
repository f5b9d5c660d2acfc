// The `token` section of `npm run bench` (scripts/bench.mjs imports it; it also runs on its own:
// `npm run build && node scripts/bench-token.mjs`).
//
// Against one local test IdP with mtls_endpoint_aliases (test/helpers/idp.ts, in a child process):
//   1. `mtls-oauth token --issuer ISSUER` as a user runs it: discovery (the issuer's well-known
//      document, no client certificate), the client-credentials grant over mTLS at the token
//      endpoint's alias, and the binding check (the test IdP's tokens are opaque: an introspection
//      over mTLS), the token cached. Against `node -e 0`            Goal: within 2.0x of node -e 0.
//      and against the same three requests as three curl invocations. Beside them, the floor: the
//      same three requests from a minimal node:https program (bench-lib.mjs), the least any Node.js
//      process takes for them; when the goal is not met, its ratio to node -e 0 says how far off
//      any Node.js program would be.
//   2. token + introspect + revoke + introspect in one process: the built CLI's
//      `smoke --steps introspect,introspect-after-revoke` with explicit endpoints (no discovery; one
//      TLS handshake), against four curl invocations.           Goal: the sequence beats the curls.
//      Beside it, the floor for the same four requests.
// Medians of whole-process wall times, runs interleaved; the machine is noisy, so read the ratios.

import {
  BIN,
  cliEnv,
  curlForm,
  curlToken,
  floorProgram,
  freshCodeCaches,
  isMain,
  medians,
  ms,
  runsFromEnv,
  startIdpProcess,
  timed,
  tlsArgs,
  withServer,
} from './bench-lib.mjs';

/** "123.4 ms", unpadded: this section aligns its columns itself. */
const fmt = (x) => ms(x, 0);

/** Runs the section; returns the numbers (also printed). */
export function benchToken({ runs = 15, log = console.log } = {}) {
  return withServer(
    'bench-token-',
    (dir) => startIdpProcess(dir, { aliases: true }),
    async (idp, dir) => {
      const f = idp.files;
      const a = idp.aliases;
      const env = cliEnv({ MTLS_OAUTH_CACHE_DIR: dir, XDG_CONFIG_HOME: dir });
      const wellKnown = `${idp.issuer}/.well-known/openid-configuration`;
      const user = [BIN, 'token', '--issuer', idp.issuer, '--client-id', 'kong', ...tlsArgs(f)];
      const sequence = [
        BIN,
        'smoke',
        '--client-id',
        'kong',
        ...tlsArgs(f),
        '--token-endpoint',
        a.token_endpoint,
        '--introspection-endpoint',
        a.introspection_endpoint,
        '--revocation-endpoint',
        a.revocation_endpoint,
        '--steps',
        'introspect,introspect-after-revoke',
      ];
      const curlT = curlToken(f, a.token_endpoint);
      // The user's run as curls: discovery (no certificate), the token, its introspection.
      const threeCurls = () => {
        const d = timed('curl', ['-s', '--fail', '--cacert', f.ca, wellKnown]);
        const t = timed('curl', curlT);
        const token = JSON.parse(t.stdout).access_token;
        const i = timed('curl', curlForm(f, a.introspection_endpoint, token));
        if (!JSON.parse(i.stdout).cnf) throw new Error('curl: the token has no cnf');
        return d.t + t.t + i.t;
      };
      const floor3 = floorProgram(dir, f, {
        discovery: wellKnown,
        token: a.token_endpoint,
        introspection: a.introspection_endpoint,
      });
      const floor4 = floorProgram(dir, f, {
        token: a.token_endpoint,
        introspection: a.introspection_endpoint,
        revocation: a.revocation_endpoint,
      });

      freshCodeCaches(); // the warm-up writes this section's (bench-lib.mjs)
      // Warm-up (disk caches, the IdP's first requests, the CLI's code cache), and checks that the
      // user's run is discovery + token + binding by introspection, and the sequence the four
      // requests on one connection.
      timed('node', ['-e', '0']);
      const u = JSON.parse(timed(process.execPath, [...user, '--json'], { env }).stdout);
      const binding = u.checks.find((c) => c.name === 'binding');
      if (!u.ok || binding?.status !== 'pass' || u.tls.length !== 2) {
        throw new Error(`unexpected token run: ok=${u.ok} ${JSON.stringify(u.checks)}`);
      }
      threeCurls();
      const check = JSON.parse(timed(process.execPath, [...sequence, '--json'], { env }).stdout);
      const plan = check.checks.map((c) => c.name).join(',');
      if (!check.ok || plan !== 'token,introspect,revoke,introspect-after-revoke') {
        throw new Error(`unexpected sequence run: ${plan} ok=${check.ok}`);
      }
      const handshakes = check.tls.length;
      timed(process.execPath, floor3); // throws if it fails
      timed(process.execPath, floor4);

      const r = { nodeE0: [], user: [], curl3: [], floor3: [], seq: [], seqRun: [], floor4: [], curl4: [] };
      const cases = [
        () => r.nodeE0.push(timed(process.execPath, ['-e', '0']).t),
        () => r.user.push(timed(process.execPath, user, { env }).t),
        () => r.curl3.push(threeCurls()),
        () => r.floor3.push(timed(process.execPath, floor3).t),
        () => {
          const s = timed(process.execPath, [...sequence, '--json'], { env });
          r.seq.push(s.t);
          r.seqRun.push(JSON.parse(s.stdout).result.timeMs);
        },
        () => r.floor4.push(timed(process.execPath, floor4).t),
        () => {
          // Four curls: the token, then introspect, revoke, introspect with it.
          const t = timed('curl', curlT);
          const token = JSON.parse(t.stdout).access_token;
          const a1 = timed('curl', curlForm(f, a.introspection_endpoint, token));
          const b = timed('curl', curlForm(f, a.revocation_endpoint, token));
          const c = timed('curl', curlForm(f, a.introspection_endpoint, token));
          if (JSON.parse(c.stdout).active !== false)
            throw new Error('curl: the token is still active after revocation');
          r.curl4.push(t.t + a1.t + b.t + c.t);
        },
      ];
      // Interleaved, the order rotating every round, so that drift and caches hit all alike.
      for (let i = 0; i < runs; i++) for (let k = 0; k < cases.length; k++) cases[(i + k) % cases.length]();
      const m = medians(r);
      const x = (t) => `${(t / m.nodeE0).toFixed(2)}x node -e 0`;
      const row = (label, t, note) =>
        log(`  ${label.padEnd(52)} ${fmt(t).padStart(8)}${note ? `  (${note})` : ''}`);
      log(
        `token (medians of ${runs} interleaved runs, whole processes, one local test IdP with mTLS aliases)`,
      );
      row('node -e 0', m.nodeE0);
      const met = m.user <= 2 * m.nodeE0;
      row(
        'mtls-oauth token --issuer (discovery+token+binding)',
        m.user,
        `${x(m.user)}; goal <= 2.0x: ${met ? 'met' : `NOT met; the floor is ${x(m.floor3)}`}`,
      );
      row('  the floor: a bare node:https program, same 3', m.floor3, x(m.floor3));
      row(
        '  the same three requests as three curls',
        m.curl3,
        `mtls-oauth ${(m.user / m.curl3).toFixed(1)}x them`,
      );
      row(
        'token+introspect+revoke+introspect, mtls-oauth',
        m.seq,
        `smoke --steps; ${handshakes} handshake${handshakes === 1 ? '' : 's'}; the run itself ${fmt(m.seqRun)}`,
      );
      row(
        '  the same as four curl invocations',
        m.curl4,
        `goal: mtls-oauth faster: ${m.seq < m.curl4 ? 'met' : `NOT met; the floor is ${(m.floor4 / m.curl4).toFixed(2)}x them`}`,
      );
      row(
        '  the floor: a bare node:https program, same 4',
        m.floor4,
        `node -e 0 alone is ${(m.nodeE0 / m.curl4).toFixed(2)}x the curls`,
      );
      return { ...m, handshakes };
    },
  );
}

if (isMain(import.meta.url)) await benchToken({ runs: runsFromEnv() });
