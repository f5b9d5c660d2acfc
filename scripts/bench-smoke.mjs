// The `smoke` section of `npm run bench` (scripts/bench.mjs imports it; it also runs on its own:
// `npm run build && node scripts/bench-smoke.mjs`).
//
// Against one local test IdP with mtls_endpoint_aliases (test/helpers/idp.ts, in a child process):
//   - `mtls-oauth smoke --steps introspect-after-revoke,introspect`: discovery, token, introspect,
//     revoke, introspect again (five requests) in one process, against the same five requests made
//     by five curl invocations (discovery without a certificate, the rest with it, at the aliases).
//                          Goal: smoke within 1.2x of the five curls' wall time (their sum).
//     Beside them, the floor: the same five requests from a minimal node:https program
//     (bench-lib.mjs), the least any Node.js process takes for them.
//   - the full `mtls-oauth smoke` (all seven steps: also the TLS probe and the binding check),
//     against the same five curls, for scale.
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

/** Runs the section; returns the medians (also printed). */
export function benchSmoke({ runs = 15, log = console.log } = {}) {
  return withServer(
    'bench-smoke-',
    (dir) => startIdpProcess(dir, { aliases: true }),
    (idp, dir) => {
      const f = idp.files;
      const a = idp.aliases;
      const env = cliEnv({ MTLS_OAUTH_CACHE_DIR: dir, XDG_CONFIG_HOME: dir });
      const common = [BIN, 'smoke', '--issuer', idp.issuer, '--client-id', 'kong', ...tlsArgs(f)];
      const five = [...common, '--steps', 'introspect,introspect-after-revoke'];
      const full = common;
      const fiveCurls = () => {
        const d = timed('curl', [
          '-s',
          '--fail',
          '--cacert',
          f.ca,
          `${idp.issuer}/.well-known/openid-configuration`,
        ]);
        const t = timed('curl', curlToken(f, a.token_endpoint));
        const token = JSON.parse(t.stdout).access_token;
        const i1 = timed('curl', curlForm(f, a.introspection_endpoint, token));
        const r = timed('curl', curlForm(f, a.revocation_endpoint, token));
        const i2 = timed('curl', curlForm(f, a.introspection_endpoint, token));
        if (JSON.parse(i1.stdout).active !== true || JSON.parse(i2.stdout).active !== false) {
          throw new Error('curl: unexpected introspection answers');
        }
        return d.t + t.t + i1.t + r.t + i2.t;
      };

      // The floor: the same five requests from a bare node:https program (bench-lib.mjs).
      const floor = floorProgram(dir, f, {
        discovery: `${idp.issuer}/.well-known/openid-configuration`,
        token: a.token_endpoint,
        introspection: a.introspection_endpoint,
        revocation: a.revocation_endpoint,
      });

      freshCodeCaches(); // the warm-up writes this section's (bench-lib.mjs)
      // Warm-up: disk caches, the IdP's first requests; and a check that both runs pass.
      timed(process.execPath, ['-e', '0']);
      const check = JSON.parse(timed(process.execPath, [...five, '--json'], { env }).stdout);
      if (
        check.checks.map((c) => c.name).join(',') !==
        'discovery,token,introspect,revoke,introspect-after-revoke'
      ) {
        throw new Error(`unexpected plan: ${check.checks.map((c) => c.name)}`);
      }
      const handshakes = check.tls.length;
      timed(process.execPath, full, { env });
      timed(process.execPath, floor); // throws if it fails
      fiveCurls();

      const r = { nodeE0: [], five: [], fiveRun: [], fiveSteps: [], full: [], curls: [], floor: [] };
      for (let i = 0; i < runs; i++) {
        r.nodeE0.push(timed(process.execPath, ['-e', '0']).t);
        // --json costs nothing measurable and tells how much of the wall time the run itself took.
        const f = timed(process.execPath, [...five, '--json'], { env });
        const inner = JSON.parse(f.stdout).result;
        r.five.push(f.t);
        r.fiveRun.push(inner.timeMs);
        r.fiveSteps.push(inner.steps.reduce((t, s) => t + s.timeMs, 0));
        r.full.push(timed(process.execPath, full, { env }).t);
        r.curls.push(fiveCurls());
        r.floor.push(timed(process.execPath, floor).t);
      }
      const m = medians(r);
      log(
        `smoke (medians of ${runs} interleaved runs, whole processes, one local test IdP with mTLS aliases)`,
      );
      log(`  node -e 0                                         ${ms(m.nodeE0)}`);
      log(
        `  smoke: discovery, token, introspect, revoke, introspect ${ms(m.five)}  (${handshakes} handshakes: one per host)`,
      );
      log(
        `    of which the run (certificate, transport, steps) ${ms(m.fiveRun)}, the five steps ${ms(m.fiveSteps)}; the rest is Node starting and loading the CLI`,
      );
      log(`  the same five requests as five curl invocations   ${ms(m.curls)}`);
      log(
        `    the floor: a bare node:https program, same 5     ${ms(m.floor)}  (${m.floor < m.curls ? 'faster' : 'slower'} than the five curls; node -e 0 alone is ${(m.nodeE0 / m.curls).toFixed(2)}x them)`,
      );
      log(`  smoke, all 7 steps (+ TLS probe, binding check)   ${ms(m.full)}`);
      const goalMet = m.five <= 1.2 * m.curls;
      log(
        `  goal: smoke within 1.2x of five curls: ${goalMet ? 'met' : 'NOT met'} (${(m.five / m.curls).toFixed(2)}x; all 7 steps: ${(m.full / m.curls).toFixed(2)}x; the floor: ${(m.floor / m.curls).toFixed(2)}x)`,
      );
      return { ...m, handshakes };
    },
  );
}

if (isMain(import.meta.url)) await benchSmoke({ runs: runsFromEnv() });
